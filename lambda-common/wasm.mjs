// Loads a wasm-pack package of edge-shim and configures it with the baked config.

import { readFileSync } from 'node:fs';

import { configJson } from './config.mjs';

/**
 * Import the wasm-pack package in directory `dirUrl` (a `file:` URL ending in `/`) and
 * call `configure()` once. The entry file comes from the package's own package.json, so
 * this works for both CommonJS (`--target nodejs`) and ES module output.
 */
export async function loadShim(dirUrl) {
  return (await loadConfiguredShim(dirUrl)).shim;
}

/**
 * `loadShim`, also returning the core's effective config (every default filled in), so
 * handlers read limits from the core instead of repeating its defaults.
 */
export async function loadConfiguredShim(dirUrl) {
  const meta = JSON.parse(readFileSync(new URL('package.json', dirUrl), 'utf8'));
  const entry = meta.main ?? meta.module;
  if (typeof entry !== 'string') throw new Error(`no entry point in ${dirUrl}package.json`);
  const mod = await import(new URL(entry, dirUrl).href);
  const shim = typeof mod.configure === 'function' ? mod : mod.default;
  const config = shim.configure(configJson);
  return { shim, config };
}
