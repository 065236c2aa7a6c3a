// The benchmark's own logic (bench/), without its peers: header readers, SSIM, ratios and
// targets from a made-up report, and a --quick run of our wasm core alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ourPackageEntry } from '../bench/adapters/ours.mjs';
import { expectedDims, readImageInfo } from '../bench/lib/imageinfo.mjs';
import { luma, psnr, ssim } from '../bench/lib/quality.mjs';
import { costPerMillion, ratio, renderConsole, renderMarkdown, targetsCheck, uploadRatio } from '../bench/lib/report.mjs';
import { TASKS, taskQuery } from '../bench/lib/specs.mjs';

const corpus = fileURLToPath(new URL('../../shared/corpus/', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));

test('header reader: JPEG size and EXIF orientation give the upright size', () => {
  const hato = readImageInfo(fs.readFileSync(path.join(corpus, 'photos/hato.jpg')));
  assert.deepEqual([hato.format, hato.uprightWidth, hato.uprightHeight, hato.orientation], ['jpeg', 3082, 2048, 1]);
  const l6 = readImageInfo(fs.readFileSync(path.join(corpus, 'exif-orientation/Landscape_6.jpg')));
  assert.deepEqual([l6.width, l6.height, l6.orientation, l6.uprightWidth, l6.uprightHeight], [1200, 1800, 6, 1800, 1200]);
  // Orientation 0 is invalid and means "as stored".
  const l0 = readImageInfo(fs.readFileSync(path.join(corpus, 'exif-orientation/Landscape_0.jpg')));
  assert.equal(l0.orientation, 1);
  assert.equal(readImageInfo(Buffer.from('not an image')), null);
});

test('header reader: WebP (VP8, VP8L, VP8X) and AVIF sizes', () => {
  const riff = (chunk, payload) => {
    const body = Buffer.concat([Buffer.from('WEBP'), Buffer.from(chunk), Buffer.alloc(4), payload]);
    return Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), body]);
  };
  // VP8: frame tag (3), start code (3), 14-bit width and height (little endian).
  const vp8 = Buffer.from([0, 0, 0, 0x9d, 0x01, 0x2a, 0x58, 0x02, 0x90, 0x01]);
  assert.deepEqual(pick(readImageInfo(riff('VP8 ', vp8))), ['webp', 600, 400]);
  // VP8L: signature, then (w-1) | (h-1) << 14 in 28 bits.
  const bits = (599 | (399 << 14)) >>> 0;
  const vp8l = Buffer.from([0x2f, bits & 255, (bits >> 8) & 255, (bits >> 16) & 255, (bits >>> 24) & 255]);
  assert.deepEqual(pick(readImageInfo(riff('VP8L', vp8l))), ['webp', 600, 400]);
  const vp8x = Buffer.from([0, 0, 0, 0, 0x57, 0x02, 0, 0x8f, 0x01, 0]);
  assert.deepEqual(pick(readImageInfo(riff('VP8X', vp8x))), ['webp', 600, 400]);

  const box = (type, ...children) => {
    const body = Buffer.concat(children);
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + body.length);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, body]);
  };
  const ispe = Buffer.alloc(12);
  ispe.writeUInt32BE(600, 4);
  ispe.writeUInt32BE(400, 8);
  const avif = Buffer.concat([
    box('ftyp', Buffer.from('avif\0\0\0\0mif1avif')),
    box('meta', Buffer.alloc(4), box('hdlr', Buffer.alloc(20)), box('iprp', box('ipco', box('ispe', ispe)))),
  ]);
  assert.deepEqual(pick(readImageInfo(avif)), ['avif', 600, 400]);
});

test('expected output sizes follow sharp: cover = the box, inside never enlarges', () => {
  assert.deepEqual(expectedDims(TASKS.T1, 3082, 2048), { width: 150, height: 150 });
  assert.deepEqual(expectedDims(TASKS.T2, 3082, 2048), { width: 600, height: 399 });
  assert.deepEqual(expectedDims(TASKS.T3, 1280, 1024), { width: 1200, height: 960 });
  assert.deepEqual(expectedDims(TASKS.T3, 800, 600), { width: 800, height: 600 });
  assert.equal(taskQuery(TASKS.T2), 'w=600&h=600&fit=inside&fm=webp&q=80');
});

test('SSIM is 1 for identical images and falls with noise and with a different picture', () => {
  const w = 64;
  const h = 48;
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7 + ((i / 3 / w) | 0) * 13) & 255;
  const noisy = rgb.map((v, i) => Math.max(0, Math.min(255, v + ((i * 2654435761) % 17) - 8)));
  const flipped = new Uint8Array(rgb.length);
  for (let y = 0; y < h; y++) flipped.set(rgb.subarray(y * w * 3, (y + 1) * w * 3), (h - 1 - y) * w * 3);
  const a = luma(rgb, w, h);
  assert.equal(ssim(a, a, w, h), 1);
  const sNoisy = ssim(a, luma(noisy, w, h), w, h);
  const sFlipped = ssim(a, luma(flipped, w, h), w, h);
  assert.ok(sNoisy < 1 && sNoisy > 0.5, `noisy ${sNoisy}`);
  assert.ok(sFlipped < sNoisy, `flipped ${sFlipped} vs noisy ${sNoisy}`);
  assert.equal(psnr(rgb, rgb), Infinity);
  assert.ok(psnr(rgb, noisy) > 20 && psnr(rgb, noisy) < 60);
});

/** A made-up two-input report: ours 1.2x / 2x sharp on T1, T4 never faster than a peer. */
function fakeReport() {
  const inputs = [
    { name: 'a.jpg', width: 3000, height: 2000, orientation: 1 },
    { name: 'b.jpg', width: 2000, height: 3000, orientation: 6 },
  ];
  const cell = (task, input, median, bytes, ssimValue, extra = {}) => ({
    task,
    input,
    status: 'ok',
    wall: [median],
    cpu: [median],
    median,
    min: median,
    cpuMedian: median,
    bytes,
    dims: { width: 150, height: 150 },
    expected: { width: 150, height: 150 },
    dimsCheck: 'ok',
    quality: { ssim: ssimValue, psnr: 35 },
    contentOk: true,
    ...extra,
  });
  const lib = (id, cells) => ({ lib: id, info: { version: '1', engine: 'e', threads: 't', settings: 's' }, cells, matrixWallS: 1, othersCores: 0 });
  return {
    meta: { startedAt: '2026-01-01T00:00:00Z', nproc: 2, cpuModel: 'cpu', memGiB: 1, os: 'os', arch: 'x64', node: 'v20', v8: '11', uvThreadpool: '4', loadBefore: [0.1, 0, 0], loadAfter: [0.1, 0, 0] },
    settings: { warmup: 2, runs: 7, coldRuns: 5, quick: false, argv: [] },
    inputs,
    tasks: ['T1', 'T4'],
    libs: [
      lib('ours', [cell('T1', 'a.jpg', 12, 1000, 0.98), cell('T1', 'b.jpg', 40, 1050, 0.97), cell('T4', 'a.jpg', 900, 500, 0.95), cell('T4', 'b.jpg', 900, 500, 0.95)]),
      lib('sharp-c1', [cell('T1', 'a.jpg', 10, 1000, 0.98), cell('T1', 'b.jpg', 20, 1000, 0.97), cell('T4', 'a.jpg', 600, 500, 0.95), cell('T4', 'b.jpg', 600, 500, 0.95)]),
      lib('photon', [
        cell('T1', 'a.jpg', 100, 1300, 0.9),
        cell('T1', 'b.jpg', 100, 1300, 0.1, { contentOk: false }),
        { task: 'T4', input: 'a.jpg', status: 'unsupported', reason: 'no AVIF encoder' },
        { task: 'T4', input: 'b.jpg', status: 'unsupported', reason: 'no AVIF encoder' },
      ]),
      lib('jsquash', [cell('T1', 'a.jpg', 50, 1000, 0.96), cell('T1', 'b.jpg', 50, 1000, 0.96), cell('T4', 'a.jpg', 800, 600, 0.94), cell('T4', 'b.jpg', 2000, 600, 0.94)]),
    ],
    coldstart: { input: 'a.jpg', runs: 15, node: { 'v20.0.0': { emptyNodeMs: 60, libs: { ours: { medianMs: 150, minMs: 140, importInitMs: 20, firstOpMs: 70 }, 'sharp-c1': { medianMs: 190, minMs: 180, importInitMs: 70, firstOpMs: 46 } } } } },
    rss: { input: 'a.jpg', inputWidth: 3000, inputHeight: 2000, libs: { ours: { bareMB: 43, afterInitMB: 50, after1MB: 120, after5MB: 125 } } },
    qualityNote: null,
  };
}

test('ratios are geomeans over inputs, flagged when an output failed the checks', () => {
  const r = fakeReport();
  const wall = (c) => c.median;
  assert.ok(Math.abs(ratio(r, 'ours', 'T1', wall).value - Math.sqrt(1.2 * 2)) < 1e-9);
  assert.equal(ratio(r, 'photon', 'T1', wall).badDims, true);
  assert.ok(Number.isNaN(ratio(r, 'photon', 'T4', wall).value));
  assert.ok(Number.isNaN(ratio(r, 'nobody', 'T1', wall).value));
});

test('targets check: ratio limits, wasm peers cell by cell, cold start, RSS, bytes, quality', () => {
  const tc = targetsCheck(fakeReport());
  assert.equal(tc.available, true);
  const row = (prefix) => {
    const found = tc.rows.find((x) => x.target.startsWith(prefix));
    assert.ok(found, `no row "${prefix}" in ${tc.rows.map((x) => x.target).join('; ')}`);
    return found;
  };
  // sqrt(1.2 * 2.0) = 1.549: over the 1.2x limit.
  assert.deepEqual([row('T1 wall').value, row('T1 wall').pass], ['1.55x', false]);
  assert.deepEqual([row('T4 wall').value, row('T4 wall').pass], ['1.50x', false]);
  assert.deepEqual([row('T1 faster').value, row('T1 faster').pass], ['4/4 cells', true]);
  // photon cannot do T4 (nothing to beat); jsquash is faster on a.jpg.
  assert.deepEqual([row('T4 faster').value, row('T4 faster').pass], ['1/2 cells', false]);
  assert.match(row('T4 faster').note, /jsquash\/a\.jpg/);
  assert.equal(row('cold start').pass, true);
  assert.equal(row('peak RSS').pass, true);
  assert.equal(row('T1 bytes').pass, true);
  assert.equal(row('T1 quality').pass, true);

  const md = renderMarkdown(fakeReport());
  assert.match(md, /## Targets \(ours\)/);
  assert.match(md, /\| T1 wall ≤ 1\.2x sharp-c1 \| 1\.55x \| ❌ miss/);
  assert.match(md, /\| T4 wall ≤ 0\.8x sharp-c1 \| 1\.50x \| ❌ miss/);
  assert.match(md, /`photon` T1 b\.jpg: another picture/);
  assert.match(renderConsole(fakeReport()), /photon\s+7\.07x‡/);

  // Cold starts under two Node binaries (--cold-node): one target row and one table each.
  const twoNodes = fakeReport();
  const under22 = { emptyNodeMs: 30, libs: { ours: { medianMs: 120, minMs: 110, importInitMs: 15, firstOpMs: 60 }, 'sharp-c1': { medianMs: 110, minMs: 100, importInitMs: 60, firstOpMs: 40 } } };
  twoNodes.coldstart.node['v22.0.0'] = under22;
  const rows2 = targetsCheck(twoNodes).rows.filter((x) => x.target.startsWith('cold start'));
  assert.deepEqual(
    rows2.map((x) => [x.target, x.value, x.pass]),
    [
      ["cold start ≤ sharp-c1's (node v20.0.0)", '150 ms vs 190 ms', true],
      ["cold start ≤ sharp-c1's (node v22.0.0)", '120 ms vs 110 ms', false],
    ],
  );
  const md2 = renderMarkdown(twoNodes);
  assert.match(md2, /\*\*Node v22\.0\.0\.\*\* An empty node process takes \*\*30/);
  assert.match(md2, /median of 15 rounds/);

  const kept = '<!-- notes:start -->\nT4 is fine.\n<!-- notes:end -->';
  assert.ok(renderMarkdown(fakeReport(), kept).includes(kept));

  const noBaseline = fakeReport();
  noBaseline.libs = noBaseline.libs.filter((l) => l.lib !== 'sharp-c1');
  assert.equal(targetsCheck(noBaseline).available, false);
  assert.match(renderConsole(noBaseline), /ours \(abs\)/);
});

test('cost per 1 M images at Lambda@Edge prices; upload pipeline and --compare sections', () => {
  // 350 ms at 1.5 GB: 0.525 GB-s x $0.00005001 + $0.0000006 per request.
  assert.ok(Math.abs(costPerMillion(350) - (0.6 + 1e6 * 0.525 * 0.00005001)) < 1e-6);
  // Billed per started millisecond.
  assert.equal(costPerMillion(10.2), costPerMillion(11));

  const r = fakeReport();
  const up = (median) => ({ status: 'ok', input: 'a.jpg', variants: ['thumbnail', 'medium', 'large', 'compressed'], median, min: median, cpuMedian: median, wall: [median], cpu: [median], outputs: [{ width: 150, height: 150, format: 'jpeg', bytes: 5000 }], note: 'n' });
  r.libs.find((l) => l.lib === 'ours').upload = up(300);
  r.libs.find((l) => l.lib === 'sharp-c1').upload = up(100);
  assert.equal(uploadRatio(r, 'ours').value, 3);
  const row = targetsCheck(r).rows.find((x) => x.target.startsWith('upload pipeline'));
  assert.deepEqual([row.value, row.pass], ['3.00x', false]);
  // The compared build: same cells as ours, twice as slow.
  const ours = r.libs.find((l) => l.lib === 'ours');
  r.libs.push({ ...ours, lib: 'ours@main', cells: ours.cells.map((c) => ({ ...c, median: c.median * 2, cpuMedian: c.cpuMedian * 2 })), upload: up(600) });
  const md = renderMarkdown(r);
  assert.match(md, /## Upload pipeline/);
  assert.match(md, /## Cost per task \(Lambda@Edge\)/);
  assert.match(md, /\| T1 \| [^|]+ \| [^|]+ GB-s \| \$[\d.]+ \|/);
  assert.match(md, /## Compare: `ours` \(this tree\) vs `ours@main`/);
  assert.match(md, /\| T1 \| 0\.50x \| 0\.50x \| 1\.00x \|/);
  assert.match(md, /Upload pipeline: 300 ms vs 600 ms \(0\.50x\)/);
});

test('scripts/bench --quick on our wasm core alone produces the report', (t) => {
  if (!ourPackageEntry()) {
    t.skip('edge-shim/pkg is not built (scripts/build builds it; scripts/test runs that first)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-test-'));
  try {
    const out = path.join(dir, 'results.md');
    // run.mjs directly: scripts/bench would install the peers first.
    const r = spawnSync(
      process.execPath,
      [path.join(repo, 'bench/run.mjs'), '--quick', '--only', 'ours', '--inputs', 'exif-orientation/Landscape_6.jpg',
        '--tasks', 'T1,T2', '--passes', '2', '--no-coldstart', '--no-rss', '--no-upload', '--out', out],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const md = fs.readFileSync(out, 'utf8');
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8'));
    const ours = report.libs.find((l) => l.lib === 'ours');
    assert.equal(ours.fatal, undefined);
    assert.deepEqual(ours.cells.map((c) => [c.task, c.status, c.dimsCheck, c.format]), [
      ['T1', 'ok', 'ok', 'jpeg'],
      ['T2', 'ok', 'ok', 'webp'],
    ]);
    // Three timed runs in two passes (2 + 1), pooled, the median taken over the pool.
    assert.equal(report.settings.passes, 2);
    for (const c of ours.cells) {
      assert.equal(c.wall.length, 3);
      assert.equal(c.median, [...c.wall].sort((a, b) => a - b)[1]);
    }
    assert.match(md, /in 2 passes over the libraries/);
    assert.match(md, /## T2: medium/);
    assert.match(md, /Landscape_6\.jpg<br>1800x1200 \| \*\*[\d.]+\*\* \/ [\d.]+ ms<br>[\d.]+ KB 600x400 ✓/);
    assert.match(r.stdout, /Ratio to sharp-c1/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function pick(info) {
  return info && [info.format, info.width, info.height];
}

test('bench/profile.mjs splits our time into pipeline stages', (t) => {
  if (!ourPackageEntry()) {
    t.skip('edge-shim/pkg is not built (scripts/build builds it; scripts/test runs that first)');
    return;
  }
  const r = spawnSync(process.execPath, [path.join(repo, 'bench/profile.mjs'), '--tasks', 'T1', '--runs', '3'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  // A JPEG thumbnail is mostly JPEG decoding; the stage must be recognised by name.
  assert.match(r.stdout, /T1 thumbnail.*ms\/run/);
  assert.match(r.stdout, /^ {2}decode\s+[\d.]+ ms\s+[\d.]+%$/m);
  assert.match(r.stdout, /\[decode\] jpeg_decoder::/);
});
