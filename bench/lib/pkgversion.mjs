// Installed version of a bench dependency, read from its package.json on disk (some
// packages do not export `./package.json`).
import fs from 'node:fs';

export function packageVersion(name) {
  const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  } catch {
    return 'not installed';
  }
}
