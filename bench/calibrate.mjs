#!/usr/bin/env node
// Scores rendered files against the benchmark's quality reference, next to sharp-c1's
// output of the same task: for calibrating encoder settings (quality mapping, speed,
// shrink-on-load) natively before a wasm build.
//
//   node bench/calibrate.mjs T4 DIR
//
// DIR holds files from `cargo run --release -p edge-core --example render`, named
// `<input file name>.<anything>`; the input is looked up in the benchmark's default
// inputs. Prints, per setting (the part after the input name), bytes / sharp's bytes
// (geomean) and mean SSIM beside sharp's.
import fs from 'node:fs';
import path from 'node:path';

import { create as createSharp } from './adapters/sharp.mjs';
import { QualityJudge } from './lib/quality.mjs';
import { CORPUS_DIR, DEFAULT_INPUTS, TASKS } from './lib/specs.mjs';

const [taskId, dir] = process.argv.slice(2);
const spec = TASKS[taskId];
if (!spec || !dir) {
  console.error('usage: node bench/calibrate.mjs T1|T2|T3|T4 DIR');
  process.exit(2);
}
const { default: sharp } = await import('sharp');
const judge = new QualityJudge(sharp);
const baseline = await createSharp({ concurrency: 1 });
const inputs = new Map(DEFAULT_INPUTS.map((rel) => [path.basename(rel), path.join(CORPUS_DIR, rel)]));

const bySetting = new Map();
const sharpScore = new Map();
for (const file of fs.readdirSync(dir).sort()) {
  const name = [...inputs.keys()].find((n) => file.startsWith(`${n}.`));
  if (!name) continue;
  const setting = file.slice(name.length + 1);
  if (!sharpScore.has(name)) {
    const out = await baseline.transform(fs.readFileSync(inputs.get(name)), spec);
    sharpScore.set(name, { bytes: out.length, ...(await judge.judge(inputs.get(name), spec, out)) });
  }
  const bytes = fs.readFileSync(path.join(dir, file));
  const score = await judge.judge(inputs.get(name), spec, bytes);
  if (!bySetting.has(setting)) bySetting.set(setting, []);
  bySetting.get(setting).push({ name, bytes: bytes.length, ssim: score.ssim, sharp: sharpScore.get(name) });
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const geomean = (xs) => Math.exp(mean(xs.map(Math.log)));
console.log('setting\tbytes/sharp\tssim\tsharp ssim\tdelta\tper input (bytes ratio, ssim)');
for (const [setting, rows] of bySetting) {
  const ratio = geomean(rows.map((r) => r.bytes / r.sharp.bytes));
  const ours = mean(rows.map((r) => r.ssim));
  const theirs = mean(rows.map((r) => r.sharp.ssim));
  const detail = rows.map((r) => `${r.name} ${(r.bytes / r.sharp.bytes).toFixed(2)} ${r.ssim.toFixed(4)}/${r.sharp.ssim.toFixed(4)}`).join('; ');
  console.log(`${setting}\t${ratio.toFixed(3)}\t${ours.toFixed(4)}\t${theirs.toFixed(4)}\t${(ours - theirs).toFixed(4)}\t${detail}`);
}
