// scripts/load: see the usage in scripts/load. Everything runs on 127.0.0.1.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ListObjectsV2Command } from '@aws-sdk/client-s3';

import { startDev } from '../../dev/server.mjs';
import { setLogSink } from '../../lambda-common/log.mjs';
import { loadShim } from '../../lambda-common/wasm.mjs';

// A new connection per request: no keep-alive reuse racing the server's idle timeout.
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

const USAGE = 'usage: scripts/load [--requests N] [--concurrency C] [--burst N] [--soak N] [--json]';
const opts = { requests: 10_000, concurrency: 50, burst: 200, soak: 10_000, json: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 1) {
  const name = argv[i].replace(/^--/, '');
  if (name === 'json') opts.json = true;
  else if (name in opts && /^\d+$/.test(argv[i + 1] ?? '')) opts[name] = Number(argv[++i]);
  else {
    console.error(`scripts/load: bad argument ${argv[i]}\n${USAGE}`);
    process.exit(2);
  }
}

const corpus = new URL('../../../shared/corpus/', import.meta.url);
const PHOTOS = ['hato.jpg', 'HMD_Nokia_8.3_5G.jpg', 'GreenMeadow_progressive.jpg', 'progressive_3.jpg', 'concert_grayscale.jpg', 'xmp_test_adobergb.jpg', 'Channel_digital_image_CMYK_color.jpg', 'dog_exif_extended_xmp_icc.jpg'];
const WIDTHS = [160, 320, 480, 640, 960];
const FORMATS = [
  ['fm=auto', 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8'],
  ['fm=auto', 'image/webp,*/*'],
  ['fm=jpeg', '*/*'],
  ['', '*/*'],
];

const report = (line) => {
  if (!opts.json) console.log(line);
};
const log = { lines: 0, notJson: 0 };
setLogSink((line) => {
  log.lines += 1;
  try {
    if (!JSON.parse(line)._aws) log.notJson += 1;
  } catch {
    log.notJson += 1;
  }
});

const originals = mkdtempSync(join(tmpdir(), 'load-originals-'));
for (const name of PHOTOS) symlinkSync(new URL(`photos/${name}`, corpus).pathname, join(originals, name));
let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
const rssTimer = setInterval(sampleRss, 200);

const dev = await startDev({ port: 0, originals, quiet: true, log: () => {} });
const failures = [];
const summary = { options: opts };
try {
  // 1. The mixed run.
  const mix = [];
  for (const photo of PHOTOS) for (const w of WIDTHS) for (const [fm, accept] of FORMATS) mix.push({ path: `/${photo}?w=${w}${fm ? `&${fm}` : ''}`, accept });
  const first = await run(opts.requests, opts.concurrency, (i) => mix[(i * 7919) % mix.length]);
  summary.mixed = first;
  report(`mixed: ${first.requests} requests, ${opts.concurrency} concurrent, ${mix.length} variants: ${first.throughput} req/s, p50 ${first.p50} ms, p95 ${first.p95} ms, p99 ${first.p99} ms, statuses ${JSON.stringify(first.statuses)}, errors ${JSON.stringify(first.errors)}`);
  if (Object.keys(first.errors).length) failures.push(`mixed run errors: ${JSON.stringify(first.errors)}`);

  // 2. One new variant, all at once.
  const variant = { path: '/hato.jpg?w=777&fm=webp', accept: '*/*' };
  const burst = await run(opts.burst, opts.burst, () => variant, true);
  const listed = await dev.s3.client.send(new ListObjectsV2Command({ Bucket: dev.bucket, Prefix: '_derived/hato.jpg/w_777' }));
  const stored = listed.Contents?.length ?? 0;
  summary.burst = { ...burst, bodies: burst.bodies.size, stored };
  delete summary.burst.bodiesSet;
  report(`burst: ${burst.requests} concurrent for one new variant: ${burst.bodies.size} distinct bodies, ${stored} stored object(s), p50 ${burst.p50} ms, p99 ${burst.p99} ms, statuses ${JSON.stringify(burst.statuses)}`);
  if (burst.bodies.size !== 1 || stored !== 1 || burst.statuses['200'] !== burst.requests) failures.push('burst: responses differ or not one stored object');
} finally {
  await dev.stop();
  rmSync(originals, { recursive: true, force: true });
}

// 3. Soak: one warm instance, many transforms.
const shim = await loadShim(new URL('../../edge-shim/pkg/', import.meta.url));
const inputs = ['photos/progressive_3.jpg', 'photos/concert_grayscale.jpg', 'pngsuite/basn6a08.png', 'formats/lossy_alpha1.webp'].map((f) => readFileSync(new URL(f, corpus)));
const queries = ['w=120', 'w=200&fm=webp', 'w=64&fm=png', 'w=150&h=150&fit=cover&fm=jpeg'];
const samples = [];
const soakStarted = performance.now();
for (let i = 0; i < opts.soak; i += 1) {
  shim.transform(inputs[i % inputs.length], queries[(i >> 2) % queries.length], 'image/webp');
  if (i % Math.max(1, Math.floor(opts.soak / 20)) === 0 || i === opts.soak - 1) {
    sampleRss();
    samples.push({ i, rss: process.memoryUsage().rss, wasm: shim.wasmMemoryBytes() });
  }
}
const soakMs = performance.now() - soakStarted;
// Flat: after the first tenth (warm-up), neither grows by more than 16 MiB.
const warm = samples[Math.min(2, samples.length - 1)];
const last = samples.at(-1);
const mib = (b) => Math.round((b / 1048576) * 10) / 10;
summary.soak = {
  transforms: opts.soak,
  perSecond: Math.round((opts.soak / soakMs) * 1000),
  rssMiB: { warm: mib(warm.rss), end: mib(last.rss) },
  wasmMiB: { warm: mib(warm.wasm), end: mib(last.wasm) },
  traps: shim.stats().traps,
};
report(`soak: ${opts.soak} transforms in one instance, ${summary.soak.perSecond}/s; RSS ${summary.soak.rssMiB.warm} -> ${summary.soak.rssMiB.end} MiB, wasm memory ${summary.soak.wasmMiB.warm} -> ${summary.soak.wasmMiB.end} MiB`);
if (last.wasm - warm.wasm > 16 << 20 || last.rss - warm.rss > 64 << 20) failures.push('soak: memory grew');
clearInterval(rssTimer);

summary.peakRssMiB = mib(Math.max(peakRss, process.resourceUsage().maxRSS * 1024));
summary.logLines = log;
if (log.notJson) failures.push(`${log.notJson} log lines were not EMF JSON`);
summary.failures = failures;
report(`peak RSS ${summary.peakRssMiB} MiB; ${log.lines} handler log lines, ${log.notJson} not EMF`);
if (opts.json) console.log(JSON.stringify(summary));
for (const f of failures) console.error(`scripts/load: FAIL ${f}`);
process.exit(failures.length ? 1 : 0);

/** `count` GETs, `concurrency` at a time; `pick(i)` gives `{ path, accept }`. */
async function run(count, concurrency, pick, keepBodies = false) {
  const latencies = [];
  const statuses = {};
  const errors = {};
  const bodies = new Set();
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const { path, accept } = pick(next++);
      const t = performance.now();
      const res = await get(dev.url.replace(/\/$/, '') + path, accept).catch((err) => ({ status: 0, body: Buffer.from(JSON.stringify({ code: `connection_${err.code ?? err.message}` })) }));
      latencies.push(performance.now() - t);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status >= 400 || res.status === 0) {
        let code = `http_${res.status}`;
        try {
          code = JSON.parse(res.body).code ?? code;
        } catch {}
        errors[code] = (errors[code] ?? 0) + 1;
      }
      if (keepBodies) bodies.add(createHash('sha256').update(res.body).digest('hex'));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const pct = (p) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0);
  return { requests: count, seconds: Math.round(elapsed / 100) / 10, throughput: Math.round((count / elapsed) * 10000) / 10, p50: pct(50), p95: pct(95), p99: pct(99), statuses, errors, bodies };
}

function get(url, accept) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept }, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
