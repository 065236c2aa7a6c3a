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

test("this Node's V8 reads the section under the package's flag: the hinted function is optimised uncalled", () => {
  const { bytes } = addCompilationHints(tinyModule(), ['demo::seven']);
  const script = `
    const m = new WebAssembly.Module(Uint8Array.from(${JSON.stringify([...bytes])}));
    const { seven, nine } = new WebAssembly.Instance(m).exports;
    await new Promise((r) => setTimeout(r, 300));
    console.log('results', seven(), nine());`;
  const out = node(['--experimental-wasm-compilation-hints', '--trace-wasm-compilation-times'], script);
  assert.match(out, /results 7 9/);
  // Function 0 compiled by TurboFan (from the hint); function 1 only by Liftoff, at its call.
  assert.match(out, /#0 using TurboFan/);
  assert.doesNotMatch(out, /#1 using TurboFan/);
  const plain = node(['--trace-wasm-compilation-times'], script);
  assert.doesNotMatch(plain, /#0 using TurboFan/, 'without the flag V8 skips the section');
  // A hint count that does not match the functions fails the module under the flag:
  // V8 parses what the build writes, it does not just skip it.
  const bad = Uint8Array.from(bytes);
  const at = sections(bad).find((s) => s.name === SECTION_NAME).end - 3;
  bad[at] = 3;
  const r = spawnSync(
    process.execPath,
    ['--experimental-wasm-compilation-hints', '--input-type=module', '-e', `new WebAssembly.Module(Uint8Array.from(${JSON.stringify([...bad])}))`],
    { encoding: 'utf8' },
  );
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /compilation hint/);
});

test('edge-shim/pkg marks exactly the listed functions; pkg-request has no hints', () => {
  const bytes = pkgWasm('pkg');
  const { imported, declared, names, sections: all } = functionTable(bytes);
  const hints = all.filter((s) => s.name === SECTION_NAME);
  assert.equal(hints.length, 1);
  const order = all.map((s) => s.name ?? s.id);
  assert.ok(order.indexOf(3) < order.indexOf(SECTION_NAME) && order.indexOf(SECTION_NAME) < order.indexOf(10));
  const marks = bytes.subarray(hints[0].end - declared, hints[0].end);
  const marked = new Set();
  for (let i = 0; i < declared; i++) {
    assert.ok(marks[i] === 0 || marks[i] === EAGER_TOP_TIER, `function ${imported + i}: hint byte ${marks[i]}`);
    if (marks[i]) marked.add(sourceName(names.get(imported + i)));
  }
  assert.deepEqual([...marked].sort(), [...EAGER_TOP_TIER_FUNCTIONS].sort());
  assert.ok(!sections(pkgWasm('pkg-request')).some((s) => s.name === SECTION_NAME));
});

test('loading edge-shim/pkg starts TurboFan on the hinted functions before any is called', async () => {
  const bytes = pkgWasm('pkg');
  const { imported, declared, sections: all } = functionTable(bytes);
  const hints = all.find((s) => s.name === SECTION_NAME);
  const marks = bytes.subarray(hints.end - declared, hints.end);
  const wanted = new Set([...marks.keys()].filter((i) => marks[i]).map((i) => imported + i));
  assert.ok(wanted.size >= EAGER_TOP_TIER_FUNCTIONS.length);
  // The glue sets the flags itself; only the trace is added here. Nothing is called:
  // the child idles until every hinted function has been reported, or 60 s pass.
  const glue = new URL('../edge-shim/pkg/edge_shim.js', import.meta.url).pathname;
  const script = `require(${JSON.stringify(glue)}); setTimeout(() => {}, 60000);`;
  const child = spawn(process.execPath, ['--trace-wasm-compilation-times', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const optimised = new Set();
  let text = '';
  const exited = new Promise((resolve) => child.on('exit', resolve));
  for await (const chunk of child.stdout) {
    text += chunk;
    for (const m of text.matchAll(/#(\d+) using TurboFan/g)) optimised.add(Number(m[1]));
    if ([...wanted].every((i) => optimised.has(i))) break;
  }
  child.kill();
  await exited;
  for (const index of wanted) assert.ok(optimised.has(index), `function ${index} was not compiled by TurboFan`);
});
