// The compilation-hints section scripts/build writes into edge-shim/pkg
// (scripts/lib/wasm-hints.mjs): well formed, read by this Node's V8 under the package's
// flag, and marking exactly the functions lambda-common/v8-flags.mjs lists.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { EAGER_TOP_TIER_FUNCTIONS } from '../lambda-common/v8-flags.mjs';
import {
  EAGER_TOP_TIER,
  SECTION_NAME,
  addCompilationHints,
  functionTable,
  readCompilationHints,
  sections,
  sourceName,
} from '../scripts/lib/wasm-hints.mjs';

const pkgWasm = (pkg) => readFileSync(new URL(`../edge-shim/${pkg}/edge_shim_bg.wasm`, import.meta.url));

function section(id, body) {
  assert.ok(body.length < 128);
  return [id, body.length, ...body];
}
const str = (s) => [s.length, ...Buffer.from(s)];

/** Two exported functions returning 7 and 9, named `demo::seven::h…` and `nine`. */
function tinyModule() {
  const body = (n) => [4, 0, 0x41, n, 0x0b]; // no locals, i32.const n, end
  const nameMap = [2, 0, ...str('demo::seven::h0123456789abcdef'), 1, ...str('nine')];
  return Uint8Array.from([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 0, 1, 0x7f]),
    ...section(3, [2, 0, 0]),
    ...section(7, [2, ...str('seven'), 0, 0, ...str('nine'), 0, 1]),
    ...section(10, [2, ...body(7), ...body(9)]),
    ...section(0, [...str('name'), 1, nameMap.length, ...nameMap]),
  ]);
}

/** Runs `script` (ES module) in a fresh Node with `flags`; returns stdout. */
function node(flags, script) {
  const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/**
 * Runs `script` (CommonJS) in a fresh Node with `flags` and V8's compile trace, idle after it,
 * until every function index in `wanted` is reported compiled by TurboFan (or 60 s).
 */
async function traceUntil(script, wanted, flags = []) {
  const child = spawn(process.execPath, [...flags, '--trace-wasm-compilation-times', '-e', `${script} setTimeout(() => {}, 60000);`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const seen = new Set();
  let text = '';
  for await (const chunk of child.stdout) {
    text += chunk;
    for (const m of text.matchAll(/#(\d+) using TurboFan/g)) seen.add(Number(m[1]));
    if (wanted.every((i) => seen.has(i))) break;
  }
  child.kill();
  await exited;
  return { text, seen };
}

test('names are matched as in the source: no symbol hash, no crate disambiguator', () => {
  assert.equal(sourceName('jpeg_decoder::huffman::HuffmanDecoder::decode::hc3d7014c50c969ff'), 'jpeg_decoder::huffman::HuffmanDecoder::decode');
  assert.equal(sourceName('<dlmalloc[e24a27700634d609]::dlmalloc::Dlmalloc<A>>::malloc'), '<dlmalloc::dlmalloc::Dlmalloc<A>>::malloc');
  assert.equal(sourceName('ITransform_SSE2'), 'ITransform_SSE2');
});

test('the section marks the named functions, sits before the code section, and keeps the module valid', () => {
  const input = tinyModule();
  assert.ok(WebAssembly.validate(input));
  const { bytes, hinted } = addCompilationHints(input, ['demo::seven']);
  assert.deepEqual(hinted, [{ index: 0, name: 'demo::seven' }]);
  assert.ok(WebAssembly.validate(bytes));
  const ids = sections(bytes).map((s) => s.name ?? s.id);
  assert.deepEqual(ids, [1, 3, 7, SECTION_NAME, 10, 'name']);
  const hints = sections(bytes).find((s) => s.name === SECTION_NAME);
  assert.deepEqual([...bytes.subarray(hints.end - 3, hints.end)], [2, EAGER_TOP_TIER, 0]);
  // Written again over itself: one section, same bytes.
  assert.deepEqual(addCompilationHints(bytes, ['demo::seven']).bytes, bytes);
  assert.throws(() => addCompilationHints(input, ['demo::seven', 'demo::eight']), /no function named demo::eight/);
});

test("this Node's V8 reads the section under the package's flag: the hinted function is optimised uncalled", async () => {
  const { bytes } = addCompilationHints(tinyModule(), ['demo::seven']);
  const compile = (b) => `new WebAssembly.Module(Uint8Array.from(${JSON.stringify([...b])}))`;
  const run = `const { seven, nine } = new WebAssembly.Instance(${compile(bytes)}).exports; console.log(seven(), nine());`;
  assert.equal(node(['--experimental-wasm-compilation-hints'], run).trim(), '7 9');
  // Nothing called: function 0 is compiled by TurboFan (its hint), function 1 never.
  const { text, seen } = await traceUntil(`${compile(bytes)};`, [0], ['--experimental-wasm-compilation-hints']);
  assert.ok(seen.has(0), text);
  assert.ok(!seen.has(1));
  // A hint count that does not match the functions fails the module under the flag, and
  // only under it: V8 parses what the build writes, it does not skip it.
  const bad = Uint8Array.from(bytes);
  bad[sections(bad).find((s) => s.name === SECTION_NAME).end - 3] = 3;
  const strict = spawnSync(process.execPath, ['--experimental-wasm-compilation-hints', '-e', compile(bad)], { encoding: 'utf8' });
  assert.notEqual(strict.status, 0);
  assert.match(strict.stderr, /compilation hint/);
  assert.equal(spawnSync(process.execPath, ['-e', compile(bad)]).status, 0, 'without the flag the section is skipped');
});

test('edge-shim/pkg marks exactly the listed functions; pkg-request has no hints', () => {
  const bytes = pkgWasm('pkg');
  const { names, sections: all } = functionTable(bytes);
  assert.equal(all.filter((s) => s.name === SECTION_NAME).length, 1);
  const order = all.map((s) => s.name ?? s.id);
  assert.ok(order.indexOf(3) < order.indexOf(SECTION_NAME) && order.indexOf(SECTION_NAME) < order.indexOf(10));
  const marked = new Set();
  for (const [index, hint] of readCompilationHints(bytes)) {
    assert.equal(hint, EAGER_TOP_TIER, `function ${index}: hint byte ${hint}`);
    marked.add(sourceName(names.get(index)));
  }
  assert.deepEqual([...marked].sort(), [...EAGER_TOP_TIER_FUNCTIONS].sort());
  assert.equal(readCompilationHints(pkgWasm('pkg-request')).size, 0);
});

test('loading edge-shim/pkg starts TurboFan on the hinted functions before any is called', async () => {
  const wanted = [...readCompilationHints(pkgWasm('pkg')).keys()];
  assert.ok(wanted.length >= EAGER_TOP_TIER_FUNCTIONS.length);
  // The glue sets the flags itself; only the trace is added here. Nothing is called.
  const glue = new URL('../edge-shim/pkg/edge_shim.js', import.meta.url).pathname;
  const { seen: optimised } = await traceUntil(`require(${JSON.stringify(glue)});`, wanted);
  for (const index of wanted) assert.ok(optimised.has(index), `function ${index} was not compiled by TurboFan`);
});
