#!/usr/bin/env node
// Benchmark of this project's wasm core side by side with sharp, wasm-vips, jSquash and
// photon. Usually started by `scripts/bench` (which installs the peers and builds the
// wasm first). Each library runs its whole matrix in its own process, one after another,
// in `--passes` rounds (the timed runs split between them, the warm-ups repeated), so a
// slow spell of the machine falls on several libraries rather than on one.
//
//   node bench/run.mjs [--quick] [--only lib1,lib2] [--tasks T1,T2] [--inputs a.jpg,b.jpg]
//                      [--runs N] [--warmup N] [--passes N] [--out FILE.md] [--no-coldstart] [--no-rss]
//                      [--no-quality] [--no-upload] [--keep-outputs] [--cold-node NODE]...
// --cold-node: also run the cold starts under that Node binary (e.g. Node 22, the
// runtime the functions deploy on); repeatable.
// `scripts/bench --compare REF` builds REF's wasm and runs it as library `ours@REF`
// (environment BENCH_COMPARE_PKG / BENCH_COMPARE_REF, read by lib/specs.mjs).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { expectedDims, readImageInfo } from './lib/imageinfo.mjs';
import { renderConsole, renderMarkdown } from './lib/report.mjs';
import { BASELINE, BENCH_DIR, CORPUS_DIR, DEFAULT_INPUTS, LIBRARIES, TASKS, UPLOAD } from './lib/specs.mjs';
import { median, min } from './lib/stats.mjs';

const QUICK_INPUTS = DEFAULT_INPUTS.slice(0, 3);
const WORKER_TIMEOUT_MS = 30 * 60 * 1000;
// Below this SSIM an output shows another picture (rotated, flipped, wrong colours).
const CONTENT_SSIM_FLOOR = 0.5;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    tasks: { type: 'string' },
    inputs: { type: 'string' },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    passes: { type: 'string' },
    out: { type: 'string' },
    'no-coldstart': { type: 'boolean', default: false },
    'cold-node': { type: 'string', multiple: true },
    'no-rss': { type: 'boolean', default: false },
    'no-quality': { type: 'boolean', default: false },
    'no-upload': { type: 'boolean', default: false },
    'keep-outputs': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  const head = fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 9);
  console.log(head.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const libIds = args.only ? list(args.only) : Object.keys(LIBRARIES).filter((id) => !id.startsWith('ours@'));
// The compared build runs right after this tree's.
const compareId = Object.keys(LIBRARIES).find((id) => id.startsWith('ours@'));
if (compareId && libIds.includes('ours') && !libIds.includes(compareId)) libIds.splice(libIds.indexOf('ours') + 1, 0, compareId);
const taskIds = args.tasks ? list(args.tasks).map((t) => t.toUpperCase()) : Object.keys(TASKS);
for (const id of libIds) if (!LIBRARIES[id]) fail(`unknown library "${id}"; known: ${Object.keys(LIBRARIES).join(', ')}`);
for (const id of taskIds) if (!TASKS[id]) fail(`unknown task "${id}"; known: ${Object.keys(TASKS).join(', ')}`);

const warmup = Number(args.warmup ?? (args.quick ? 1 : 2));
const runs = Number(args.runs ?? (args.quick ? 3 : 7));
// Identical warm code measured 0.84-0.96x of itself per task in one one-pass run (ours
// vs ours@REF, 2026-12-01), and 0.89-1.06x with two passes: each library's matrix met a
// different machine.
const passes = Math.max(1, Math.min(runs, Number(args.passes ?? (args.quick ? 1 : 2))));
// Cold starts vary by tens of ms from one process to the next: many interleaved rounds.
const coldRuns = args.quick ? 3 : 15;
const outFile = path.resolve(args.out ?? path.join(BENCH_DIR, 'results.md'));

const inputs = (args.inputs ? list(args.inputs) : args.quick ? QUICK_INPUTS : DEFAULT_INPUTS).map((rel) => {
  const p = path.isAbsolute(rel) ? rel : path.join(CORPUS_DIR, rel);
  if (!fs.existsSync(p)) fail(`input not found: ${p}`);
  const info = readImageInfo(fs.readFileSync(p));
  if (!info) fail(`cannot read the header of ${p}`);
  return {
    name: path.basename(p),
    rel: path.relative(CORPUS_DIR, p),
    path: p,
    bytes: fs.statSync(p).size,
    width: info.uprightWidth,
    height: info.uprightHeight,
    orientation: info.orientation,
  };
});

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-bench-'));
const report = {
  meta: machineInfo(),
  settings: { warmup, runs, passes, coldRuns, quick: args.quick, argv: process.argv.slice(2) },
  inputs,
  tasks: taskIds,
  libs: [],
  coldstart: null,
  rss: null,
  qualityNote: null,
};

try {
  log(`bench: ${libIds.join(', ')} | ${taskIds.join(', ')} | ${inputs.length} inputs | ${warmup} warm-up + ${runs} runs in ${passes} passes`);
  log(`load average before: ${report.meta.loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  const byPass = [];
  for (let pass = 0; pass < passes; pass++) {
    // Runs split as evenly as they go: 7 in 2 passes are 4 + 3.
    const runsThisPass = Math.floor(runs / passes) + (pass < runs % passes ? 1 : 0);
    const results = [];
    for (const lib of libIds) results.push(await runMatrix(lib, runsThisPass, pass));
    byPass.push(results);
  }
  report.libs.push(...libIds.map((_, i) => mergePasses(byPass.map((results) => results[i]))));
  checkDims();
  if (!args['no-quality']) await judgeQuality();
  if (!args['no-coldstart']) report.coldstart = await coldStarts();
  if (!args['no-rss']) report.rss = peakRss();
  report.meta.loadAfter = os.loadavg();
  report.meta.finishedAt = new Date().toISOString();

  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, renderMarkdown(report, previousNotes(outFile)));
  fs.writeFileSync(outFile.replace(/\.md$/, '') + '.json', JSON.stringify(stripForJson(report), null, 1));
  console.log(renderConsole(report));
  log(`wrote ${path.relative(process.cwd(), outFile)}`);
} finally {
  if (args['keep-outputs']) log(`outputs kept in ${outDir}`);
  else fs.rmSync(outDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------

function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(2);
}

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

function machineInfo() {
  const cpus = os.cpus();
  let osName = `${os.type()} ${os.release()}`;
  try {
    const rel = fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)"?/m);
    if (rel) osName = `${rel[1]} (kernel ${os.release()})`;
  } catch {
    // not Linux: keep the generic name
  }
  return {
    startedAt: new Date().toISOString(),
    nproc: os.availableParallelism?.() ?? cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    memGiB: os.totalmem() / 2 ** 30,
    os: osName,
    arch: process.arch,
    node: process.version,
    v8: process.versions.v8,
    uvThreadpool: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
    loadBefore: os.loadavg(),
  };
}

/** Busy CPU seconds of the whole machine so far (all cores), from /proc/stat. */
function machineBusySeconds() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0);
    return busy / clockTicks();
  } catch {
    return NaN;
  }
}

function clockTicks() {
  // A property, not a module-level `let`: this runs before such a declaration would be
  // reached (the top-level code above awaits first).
  if (!clockTicks.value) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clockTicks.value = Number(r.stdout) || 100;
  }
  return clockTicks.value;
}

function runMatrix(lib, runsThisPass, pass) {
  log(`[${lib}] matrix${passes > 1 ? `, pass ${pass + 1} of ${passes}` : ''}`);
  const resultFile = path.join(outDir, `${lib}.${pass}.result.json`);
  const upload = args['no-upload'] ? null : { input: path.join(CORPUS_DIR, UPLOAD.input), variants: UPLOAD.variants };
  const job = { lib, tasks: taskIds, inputs: inputs.map(({ name, path: p }) => ({ name, path: p })), warmup, runs: runsThisPass, outDir, resultFile, upload };
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(BENCH_DIR, 'lib/worker.mjs'), JSON.stringify(job)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const wallS = (performance.now() - t0) / 1000;
      const busyS = machineBusySeconds() - busy0;
      let res;
      try {
        res = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
      } catch {
        res = { lib, cells: [], fatal: `worker exited (${signal ?? `code ${code}`}) without a result` };
      }
      res.matrixWallS = wallS;
      // What else used the CPU meanwhile (other processes), in cores: a noise indicator.
      res.othersCores = Math.max(0, (busyS - res.processCpuMs / 1000) / wallS);
      if (res.fatal) log(`[${lib}] ${res.fatal}`);
      resolve(res);
    });
  });
}

/**
 * One library's passes as one result: the timed runs of each cell (and of the upload
 * pipeline) pooled, a cell failed if it failed in any pass; medians over the pool.
 */
function mergePasses(results) {
  const [first] = results;
  const matrixWallS = results.reduce((sum, r) => sum + r.matrixWallS, 0);
  const othersCoreSeconds = results.reduce((sum, r) => sum + (r.othersCores ?? 0) * r.matrixWallS, 0);
  // The first cell (or upload) not ok in some pass stands for all; else the runs pooled.
  const pool = (items) => {
    if (items.some((x) => x?.status !== 'ok')) {
      return items.find((x) => x && x.status !== 'ok') ?? { status: 'error', reason: 'missing from a pass' };
    }
    const wall = items.flatMap((x) => x.wall);
    const cpu = items.flatMap((x) => x.cpu);
    return { ...items.at(-1), wall, cpu, median: median(wall), min: min(wall), cpuMedian: median(cpu) };
  };
  return {
    ...first,
    fatal: results.find((r) => r.fatal)?.fatal,
    matrixWallS,
    othersCores: matrixWallS > 0 ? othersCoreSeconds / matrixWallS : 0,
    // Every pass runs the same matrix in the same order (bench/lib/worker.mjs).
    cells: (first.cells ?? []).map((_, i) => pool(results.map((r) => r.cells?.[i]))),
    ...(first.upload && { upload: pool(results.map((r) => r.upload)) }),
  };
}

function checkDims() {
  for (const lib of report.libs) {
    for (const cell of lib.cells) {
      if (cell.status !== 'ok') continue;
      const input = inputs.find((i) => i.name === cell.input);
      const exp = expectedDims(TASKS[cell.task], input.width, input.height);
      const got = readImageInfo(fs.readFileSync(cell.outFile));
      cell.expected = exp;
      cell.format = got?.format ?? null;
      cell.dims = got ? { width: got.width, height: got.height } : null;
      if (!got) cell.dimsCheck = 'unreadable';
      else if (got.format !== TASKS[cell.task].format) cell.dimsCheck = `wrong format (${got.format})`;
      else if (Math.abs(got.width - exp.width) <= 1 && Math.abs(got.height - exp.height) <= 1) cell.dimsCheck = 'ok';
      else if (Math.abs(got.width - exp.height) <= 1 && Math.abs(got.height - exp.width) <= 1) cell.dimsCheck = 'rotated';
      else cell.dimsCheck = `wrong size`;
    }
  }
}

async function judgeQuality() {
  let sharp;
  try {
    ({ default: sharp } = await import('sharp'));
  } catch {
    report.qualityNote = 'not measured: sharp (a bench dependency) is not installed, and decoding the outputs needs it';
    log(`quality: ${report.qualityNote}`);
    return;
  }
  log('quality: SSIM against sharp lanczos3 references');
  sharp.cache(false);
  const { QualityJudge } = await import('./lib/quality.mjs');
  const judge = new QualityJudge(sharp);
  for (const lib of report.libs) {
    for (const cell of lib.cells) {
      if (cell.status !== 'ok') continue;
      const input = inputs.find((i) => i.name === cell.input);
      try {
        cell.quality = await judge.judge(input.path, TASKS[cell.task], fs.readFileSync(cell.outFile));
        // A different picture (wrong orientation, broken colours) rather than a worse one.
        cell.contentOk = cell.quality.ssim >= CONTENT_SSIM_FLOOR;
      } catch (e) {
        cell.quality = { error: String(e.message).slice(0, 200) };
      }
    }
  }
}

function spawnTimed(argv, node = process.execPath) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(node, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5 * 60 * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, code, stdout, stderr });
    });
  });
}

async function coldStarts() {
  const input = inputs.find((i) => i.name === 'hato.jpg') ?? inputs[0];
  const out = { input: input.name, runs: coldRuns, node: {} };
  // This Node, then each --cold-node binary (e.g. Node 22, the deployed runtime).
  for (const node of [process.execPath, ...(args['cold-node'] ?? [])]) {
    const version = nodeVersion(node);
    out.node[version] = await coldStartsWith(node, version, input);
  }
  return out;
}

/**
 * Cold starts under one Node binary. The libraries take turns, one fresh process each
 * per round, so a slow spell of the machine falls on all of them alike.
 */
async function coldStartsWith(node, version, input) {
  const script = path.join(BENCH_DIR, 'lib/coldstart.mjs');
  const empty = path.join(BENCH_DIR, 'lib/empty.mjs');
  log(`cold start (node ${version}): ${coldRuns} rounds of fresh processes, one T2 on ${input.name}`);
  const libs = report.libs.filter((l) => !l.fatal).map((l) => l.lib);
  // One unmeasured run each warms the OS file cache.
  await spawnTimed([empty], node);
  for (const lib of libs) await spawnTimed([script, lib, input.path], node);
  const emptyRuns = [];
  const walls = Object.fromEntries(libs.map((l) => [l, []]));
  const splits = Object.fromEntries(libs.map((l) => [l, []]));
  const errors = {};
  for (let i = 0; i < coldRuns; i++) {
    emptyRuns.push((await spawnTimed([empty], node)).ms);
    for (const lib of libs) {
      if (errors[lib]) continue;
      const r = await spawnTimed([script, lib, input.path], node);
      if (r.code !== 0) {
        errors[lib] = (r.stderr.trim().split('\n').pop() || `exit ${r.code}`).slice(0, 200);
        continue;
      }
      walls[lib].push(r.ms);
      splits[lib].push(JSON.parse(r.stdout.trim().split('\n').pop()));
    }
  }
  const result = { emptyNodeMs: median(emptyRuns), libs: {} };
  for (const lib of libs) {
    result.libs[lib] = errors[lib]
      ? { error: errors[lib] }
      : {
          medianMs: median(walls[lib]),
          minMs: min(walls[lib]),
          importInitMs: median(splits[lib].map((s) => s.importInitMs)),
          firstOpMs: median(splits[lib].map((s) => s.firstOpMs)),
        };
    log(`  ${lib}: ${errors[lib] ?? `${median(walls[lib]).toFixed(0)} ms`}`);
  }
  return result;
}

function nodeVersion(node) {
  if (node === process.execPath) return process.version;
  const r = spawnSync(node, ['-p', 'process.version'], { encoding: 'utf8' });
  if (r.status !== 0) fail(`--cold-node ${node}: cannot run it`);
  return r.stdout.trim();
}

function peakRss() {
  // The largest input by pixels: the worst case for memory.
  const input = [...inputs].sort((a, b) => b.width * b.height - a.width * a.height)[0];
  log(`peak RSS: T3 on ${input.name} in a fresh process per library`);
  const out = { input: input.name, inputWidth: input.width, inputHeight: input.height, libs: {} };
  for (const lib of report.libs) {
    if (lib.fatal) continue;
    const r = spawnSync(process.execPath, [path.join(BENCH_DIR, 'lib/peakrss.mjs'), lib.lib, input.path], {
      encoding: 'utf8',
      timeout: 5 * 60 * 1000,
    });
    out.libs[lib.lib] =
      r.status === 0
        ? JSON.parse(r.stdout.trim().split('\n').pop())
        : { error: (r.stderr?.trim().split('\n').pop() || `exit ${r.status}`).slice(0, 200) };
    log(`  ${lib.lib}: ${out.libs[lib.lib].after1MB?.toFixed(0) ?? out.libs[lib.lib].error} MB`);
  }
  return out;
}

/** The hand-written notes block of an earlier report, kept across runs. */
function previousNotes(file) {
  try {
    return fs.readFileSync(file, 'utf8').match(/<!-- notes:start -->[\s\S]*?<!-- notes:end -->/)?.[0] ?? null;
  } catch {
    return null;
  }
}

/** The JSON twin of the report, without machine-specific paths. */
function stripForJson(r) {
  return {
    ...r,
    inputs: r.inputs.map(({ path: _absolute, ...i }) => i),
    libs: r.libs.map((l) => ({ ...l, cells: l.cells.map(({ outFile: _tmp, ...c }) => c) })),
    baseline: BASELINE,
  };
}
