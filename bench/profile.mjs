#!/usr/bin/env node
// Where our wasm core spends its time, measured in the wasm itself: runs each task on
// one input under V8's sampling profiler (node:inspector, in-process) and sums the self
// time of the wasm functions by pipeline stage (names come from the wasm name section).
//
//   node bench/profile.mjs [--tasks T1,T2] [--input photos/hato.jpg] [--runs 20] [--top 8]
//
// Stages are recognised by crate/function name: decode (jpeg-decoder, png, image-rs),
// colour (moxcms), resize (edge_core::resize), orient, encode (jpeg-encoder, libwebp's
// C functions, rav1e/ravif), alloc (dlmalloc, memcpy/memset), libm calls, JS glue, other.
// Each task also prints the core's own stage times (`timings` of transform: header,
// decode, colour, resize, orient, compose, encode), read from the pipeline's job.
import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { CORPUS_DIR, TASKS, loadAdapter } from './lib/specs.mjs';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: 'T1,T2,T3,T4' },
    input: { type: 'string', default: 'photos/hato.jpg' },
    runs: { type: 'string' },
    top: { type: 'string', default: '8' },
  },
});

/** [stage, test on the function name] — first match wins. */
const STAGES = [
  ['decode', (n) => /^(jpeg_decoder|zune_|png::|image::|image_webp|gif::|weezl|fdeflate|miniz_oxide|edge_core::decode|edge_core::sniff)/.test(n)],
  ['colour', (n) => /^(moxcms|edge_core::colour)/.test(n)],
  ['resize', (n) => /^(edge_core::resize|resize::)/.test(n)],
  ['orient', (n) => /^edge_core::orient/.test(n)],
  ['encode', (n) => /^(jpeg_encoder|rav1e|ravif|avif_serialize|v_frame|edge_core::encode|png::encoder)/.test(n)],
  ['alloc/copy', (n) => /(dlmalloc|__rdl_|__rust_(alloc|dealloc|realloc)|^memcpy|^memset|^memmove|alloc::raw_vec|core::ptr::drop_in_place)/.test(n)],
  // Float helpers that are calls, not instructions, in wasm (e.g. f32::round).
  ['libm', (n, wasm) => wasm && /^(round|floor|ceil|trunc|exp|pow|log|log2|sqrt|cbrt|fmod)f?$/.test(n)],
  // libwebp is the only C code in the module: plain C names, no `::`.
  ['encode', (n, wasm) => wasm && !n.includes('::') && !/^(<|__|wasm-function)/.test(n)],
  ['pipeline/other wasm', (n, wasm) => wasm],
  ['JS glue + runtime', () => true],
];

const input = path.isAbsolute(args.input) ? args.input : path.join(CORPUS_DIR, args.input);
const bytes = new Uint8Array(fs.readFileSync(input));
const adapter = await loadAdapter('ours');
const session = new inspector.Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 }); // µs

console.log(`profile of our wasm core on ${path.basename(input)} (self time by stage, per run)`);
for (const taskId of args.tasks.split(',')) {
  const spec = TASKS[taskId.trim().toUpperCase()];
  if (!spec) throw new Error(`unknown task ${taskId}`);
  const runs = Number(args.runs ?? (spec.format === 'avif' ? 5 : 20));
  // Warm-up: compile and tier up before sampling.
  for (let i = 0; i < 2; i++) adapter.transform(bytes, spec);
  await session.post('Profiler.start');
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) adapter.transform(bytes, spec);
  const wallPerRun = (performance.now() - t0) / runs;
  const { profile } = await session.post('Profiler.stop');
  const { byStage, byFunction, total } = summarise(profile);
  const perRun = (us) => us / 1000 / runs;
  console.log(`\n${spec.id} ${spec.title}: ${wallPerRun.toFixed(1)} ms/run wall (${runs} runs)`);
  for (const [stage, us] of [...byStage].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${stage.padEnd(20)} ${perRun(us).toFixed(1).padStart(7)} ms  ${((100 * us) / total).toFixed(1).padStart(5)}%`);
  }
  // The core's own clock around each pipeline step (the job context's timings): the
  // same stage names as the origin's server-timing and examples/stages.rs.
  const stageRuns = Array.from({ length: Math.min(runs, 9) }, () => adapter.stages(bytes, spec));
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const stageText = Object.keys(stageRuns[0])
    .map((stage) => `${stage} ${median(stageRuns.map((r) => r[stage] ?? 0)).toFixed(1)}`)
    .join(', ');
  console.log(`  core stages (median ms, its own clock): ${stageText}`);
  console.log('  top functions:');
  for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top))) {
    console.log(`    ${perRun(us).toFixed(2).padStart(7)} ms  ${shorten(name)}`);
  }
}
session.disconnect();
process.exit(0);

function summarise(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + profile.timeDeltas[i]));
  const byStage = new Map();
  const byFunction = new Map();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url } = nodes.get(id).callFrame;
    if (functionName === '(idle)') continue;
    const wasm = /\.wasm|wasm:\/\//.test(url);
    const name = functionName || '(anonymous)';
    const stage = STAGES.find(([, test]) => test(name, wasm))[0];
    byStage.set(stage, (byStage.get(stage) ?? 0) + us);
    byFunction.set(`[${stage}] ${name}`, (byFunction.get(`[${stage}] ${name}`) ?? 0) + us);
    total += us;
  }
  return { byStage, byFunction, total };
}

/** Drops Rust's hash suffix and long generic paths. */
function shorten(name) {
  return name.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, '').slice(0, 140);
}
