// The V8 flags the handlers set at load (lambda-common/v8-flags.mjs) and the package glue
// sets for itself (scripts/build) must exist in this
// Node's V8: setFlagsFromString ignores a misspelt or removed flag without a word.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { ORIGIN_V8_FLAGS, PACKAGE_V8_FLAGS, VIEWER_V8_FLAGS } from '../lambda-common/v8-flags.mjs';

/** The flags the package glue sets before compiling its module (scripts/build adds them). */
function packageFlags(pkg) {
  const glue = readFileSync(new URL(`../edge-shim/${pkg}/edge_shim.js`, import.meta.url), 'utf8');
  return [...glue.matchAll(/^require\('v8'\)\.setFlagsFromString\('([^']+)'\);$/gm)].map((m) => m[1]);
}

test('every handler and package V8 flag is one this V8 knows, as its positive or --no- form', () => {
  const options = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout;
  const known = new Set([...options.matchAll(/^\s+--([a-z0-9-]+) \(/gm)].map((m) => m[1]));
  assert.ok(known.size > 100, 'parsed the --v8-options listing');
  for (const pkg of ['pkg', 'pkg-request']) assert.deepEqual(packageFlags(pkg), PACKAGE_V8_FLAGS, pkg);
  assert.deepEqual(PACKAGE_V8_FLAGS, ['--wasm-lazy-validation', '--experimental-wasm-compilation-hints']);
  for (const flag of [...VIEWER_V8_FLAGS, ...ORIGIN_V8_FLAGS, ...packageFlags('pkg')]) {
    const name = flag.replace(/^--(no-)?/, '').split('=')[0];
    assert.ok(known.has(name), `${flag} is not a V8 flag here`);
  }
  assert.ok(!known.has('no-such-wasm-flag'));
  // Both handlers share processes in scripts/dev and the tests: no flag that would slow
  // the origin's images (Liftoff-only code is 1.9x slower there).
  for (const flags of [VIEWER_V8_FLAGS, ORIGIN_V8_FLAGS]) assert.ok(!flags.includes('--liftoff-only'));
});

test('a handler process with the flags set still runs the wasm core', () => {
  const script = `
    import { applyV8Flags, VIEWER_V8_FLAGS } from './lambda-common/v8-flags.mjs';
    applyV8Flags(VIEWER_V8_FLAGS);
    const { loadShim } = await import('./lambda-common/wasm.mjs');
    const shim = await loadShim(new URL('./edge-shim/pkg-request/', import.meta.url));
    const r = shim.viewerRequest('/photos/cat.jpg', 'w=600&fm=webp', 'image/webp');
    console.log(r.action);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'rewrite');
});

test('with validation left to each first compile, the module still validates whole', () => {
  // This file's process has not loaded the package: full validation, no flag set.
  for (const pkg of ['pkg', 'pkg-request']) {
    const bytes = readFileSync(new URL(`../edge-shim/${pkg}/edge_shim_bg.wasm`, import.meta.url));
    assert.ok(WebAssembly.validate(bytes), `${pkg} is a valid module`);
  }
});
