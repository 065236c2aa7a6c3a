// One library's whole matrix, in its own process (spawned by bench/run.mjs), so that
// libraries cannot share caches, threads or memory growth.
//
//   node bench/lib/worker.mjs '<json job>'
//   job = { lib, tasks: ["T1"...], inputs: [{ name, path }], warmup, runs, outDir, resultFile }
//
// Per cell: `warmup` untimed runs, then `runs` timed ones (wall: performance.now(); CPU:
// process.cpuUsage() delta, all threads of the process). The last output is written to
// outDir for the parent's dimension and quality checks.
import fs from 'node:fs';
import path from 'node:path';

import { TASKS, loadAdapter } from './specs.mjs';

const job = JSON.parse(process.argv[2]);
const result = { lib: job.lib, cells: [], startedAt: Date.now() };
const wallStart = performance.now();
const cpuStart = process.cpuUsage();

function writeResult() {
  const cpu = process.cpuUsage(cpuStart);
  result.processCpuMs = (cpu.user + cpu.system) / 1000;
  result.processWallMs = performance.now() - wallStart;
  fs.writeFileSync(job.resultFile, JSON.stringify(result));
}

let adapter;
try {
  adapter = await loadAdapter(job.lib);
} catch (e) {
  result.fatal = `could not load: ${e.message}`;
  writeResult();
  process.exit(0);
}
result.info = {
  version: adapter.version,
  engine: adapter.engine,
  threads: adapter.threads,
  settings: adapter.settings,
};

for (const taskId of job.tasks) {
  const spec = TASKS[taskId];
  for (const input of job.inputs) {
    const cell = { task: taskId, input: input.name };
    result.cells.push(cell);
    const supported = adapter.supports(spec);
    if (supported !== true) {
      cell.status = 'unsupported';
      cell.reason = supported;
      continue;
    }
    cell.caveat = adapter.caveat?.(spec) ?? null;
    const bytes = new Uint8Array(fs.readFileSync(input.path));
    try {
      let out;
      for (let i = 0; i < job.warmup; i++) out = await adapter.transform(bytes, spec);
      const wall = [];
      const cpu = [];
      for (let i = 0; i < job.runs; i++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        out = await adapter.transform(bytes, spec);
        const t1 = performance.now();
        const c = process.cpuUsage(c0);
        wall.push(t1 - t0);
        cpu.push((c.user + c.system) / 1000);
      }
      const file = path.join(job.outDir, `${job.lib}__${taskId}__${input.name}.${spec.format}`);
      fs.writeFileSync(file, out);
      Object.assign(cell, { status: 'ok', wall, cpu, bytes: out.length, outFile: file });
    } catch (e) {
      cell.status = 'error';
      cell.reason = String(e?.message ?? e).slice(0, 300);
    }
    process.stderr.write(
      `  ${job.lib} ${taskId} ${input.name}: ${
        cell.status === 'ok' ? `${median(cell.wall).toFixed(1)} ms, ${cell.bytes} B` : `${cell.status} (${cell.reason})`
      }\n`,
    );
  }
}

if (job.upload && adapter.transformMany) {
  const up = { input: path.basename(job.upload.input), variants: job.upload.variants.map((v) => v.name) };
  result.upload = up;
  try {
    const bytes = new Uint8Array(fs.readFileSync(job.upload.input));
    let out;
    for (let i = 0; i < job.warmup; i++) out = await adapter.transformMany(bytes, job.upload.variants);
    const wall = [];
    const cpu = [];
    for (let i = 0; i < job.runs; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      out = await adapter.transformMany(bytes, job.upload.variants);
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    Object.assign(up, {
      status: 'ok',
      wall,
      cpu,
      median: median(wall),
      min: Math.min(...wall),
      cpuMedian: median(cpu),
      note: out.note,
      outputs: out.outputs.map((o) => ({ width: o.width, height: o.height, format: o.format, bytes: o.body.length })),
    });
  } catch (e) {
    Object.assign(up, { status: 'error', reason: String(e?.message ?? e).slice(0, 300) });
  }
  process.stderr.write(`  ${job.lib} upload pipeline: ${up.status === 'ok' ? `${up.median.toFixed(1)} ms` : up.reason}\n`);
}

await adapter.close?.();
writeResult();
// Some peers (wasm-vips' pthread workers) keep the event loop alive.
process.exit(0);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
