// scripts/transform (the wasm core as the Lambda runs it) over the shared corpus,
// driven by its MANIFEST.tsv: valid images come out at the right size in every output
// format, EXIF orientation is applied, and broken, hostile or non-image inputs exit 1
// with the documented status and code. Output sizes are read from the header bytes,
// not by decoding with the wasm under test.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { imageSize } from './lib/image-size.mjs';

const transformScript = fileURLToPath(new URL('../scripts/transform', import.meta.url));
const corpusDir = fileURLToPath(new URL('../../shared/corpus/', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'transform-test-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

const FORMATS = ['jpeg', 'png', 'webp', 'avif'];
const ALPHA_CAPABLE = new Set(['png', 'webp', 'avif']);

let outputs = 0;
/** Runs scripts/transform; resolves to { code, stdout, stderr, output }. */
function transform(input, query, accept) {
  const output = join(outDir, `out-${outputs++}`);
  const args = [input, query, output, ...(accept === undefined ? [] : [accept])];
  return new Promise((resolve) => {
    execFile(transformScript, args, { encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 'killed') : 0, stdout, stderr, output });
    });
  });
}

/** Success: one JSON line on stdout that matches the file written. */
async function expectImage(input, query, accept) {
  const r = await transform(input, query, accept);
  assert.equal(r.code, 0, `exit code for ${query}; stderr: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line on stdout: ${r.stdout}`);
  const report = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(report).sort(), ['bytes', 'format', 'height', 'width']);
  const body = readFileSync(r.output);
  rmSync(r.output);
  assert.equal(report.bytes, body.length);
  const header = imageSize(body);
  assert.ok(header, `output of ${query} has a readable image header`);
  assert.equal(header.format, report.format, 'reported format is the written one');
  assert.equal(header.width, report.width, 'reported width is the written one');
  assert.equal(header.height, report.height, 'reported height is the written one');
  return { ...report, alpha: header.alpha };
}

/** Failure: exit 1, nothing on stdout, no OUTPUT, one JSON line {status, code, message}. */
async function expectError(input, query, accept) {
  const r = await transform(input, query, accept);
  assert.equal(r.code, 1, `exit code for ${query}; stdout: ${r.stdout}`);
  assert.equal(r.stdout, '');
  assert.equal(existsSync(r.output), false, 'no output file on failure');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line on stderr: ${r.stderr}`);
  const error = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'status']);
  assert.ok(Number.isInteger(error.status), 'numeric status');
  assert.equal(typeof error.code, 'string');
  assert.ok(typeof error.message === 'string' && error.message.length > 0, 'a message');
  return error;
}

// ---------------------------------------------------------------------------------
// The manifest: one row per file, classified by what it says the file is.

function readManifest() {
  const [head, ...rows] = readFileSync(join(corpusDir, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const names = head.split('\t');
  return rows.map((line) => {
    const cells = line.split('\t');
    const row = Object.fromEntries(names.map((n, i) => [n, cells[i] ?? '']));
    return classify(row);
  });
}

function classify(row) {
  const format = row.format;
  const what = row['what it tests'];
  const size = /^(\d+)x(\d+)$/.exec(row['width x height'].trim());
  const entry = { file: row.file, path: join(corpusDir, row.file), format, what };
  // SVG inputs render now (tests/media.test.mjs); they were 415 before SVG support.
  if (/^SVG/.test(format)) return { ...entry, kind: 'svg' };
  if (/NOT AN IMAGE|EMPTY/i.test(what)) {
    return { ...entry, kind: 'error', statuses: [[415, 'unsupported_format']] };
  }
  if (/LARGE-DIMENSION|DECOMPRESSION-BOMB/i.test(what)) {
    return { ...entry, kind: 'error', statuses: [[413, 'limit_exceeded']] };
  }
  if (/TRUNCATED/i.test(what)) {
    // A truncated file may also decode to a partial image.
    return { ...entry, kind: 'error-or-image', statuses: [[422, 'corrupt_image']], size };
  }
  const broken = /CORRUPT|FUZZER|must be rejected|^malformed|malformed (JPEG|PNG|GIF|WebP|AVIF|image|file)/i;
  if (broken.test(what) || /DECODE FAILS|UnidentifiedImageError|OSError/.test(format)) {
    // A damaged signature may read as "not an image" (415) or as a damaged one (422).
    const statuses = /^(data|ASCII)/.test(format)
      ? [[415, 'unsupported_format'], [422, 'corrupt_image']]
      : [[422, 'corrupt_image']];
    // Damage inside the entropy-coded data can still decode (to garbage pixels).
    if (/CORRUPT entropy|broken data/i.test(what)) return { ...entry, kind: 'error-or-image', statuses, size };
    return { ...entry, kind: 'error', statuses };
  }
  assert.ok(size, `${row.file}: manifest gives a pixel size`);
  let [width, height] = [Number(size[1]), Number(size[2])];
  // EXIF orientations 5-8 (and AVIF irot/imir described as one) swap the axes.
  const orientation = /orientation (\d)/i.exec(format);
  if (orientation && Number(orientation[1]) >= 5 && Number(orientation[1]) <= 8) [width, height] = [height, width];
  return {
    ...entry,
    kind: 'image',
    width,
    height,
    alpha: /RGBA|LA;|\bP;.*tRNS|tRNS|alpha/i.test(`${format} ${what}`),
  };
}

const manifest = readManifest();

/** Size of `w=W` (fit inside, no enlargement) for an oriented w×h input. */
function insideSize(w, h, W) {
  if (W >= w) return [w, h];
  return [W, Math.max(1, Math.round((h * W) / w))];
}

function assertSize(got, [w, h], what) {
  // The derived side may round either way.
  assert.ok(
    Math.abs(got.width - w) <= 1 && Math.abs(got.height - h) <= 1,
    `${what}: got ${got.width}x${got.height}, expected ${w}x${h} (±1)`,
  );
}

// ---------------------------------------------------------------------------------

describe('valid images: right size in every output format', { concurrency: 2 }, () => {
  let turn = 0;
  for (const entry of manifest.filter((e) => e.kind.startsWith('image'))) {
    // Every file through every format would take minutes; rotate formats instead
    // (each file gets two, every format is covered many times over).
    const insideFormat = FORMATS[turn % 4];
    const coverFormat = FORMATS[(turn + 1) % 4];
    turn += 1;
    test(`${entry.file} (${entry.width}x${entry.height}) → ${insideFormat}, ${coverFormat}`, async (t) => {
      const W = Math.max(1, Math.min(160, Math.floor(entry.width / 2)));
      const inside = await expectImage(entry.path, `w=${W}&fm=${insideFormat}`);
      assert.equal(inside.format, insideFormat);
      assertSize(inside, insideSize(entry.width, entry.height, W), `w=${W}`);
      if (!ALPHA_CAPABLE.has(insideFormat)) assert.ok(!inside.alpha, 'JPEG output has no alpha');

      // cover: exactly the box when the box fits inside the image.
      const bw = Math.min(48, entry.width);
      const bh = Math.min(40, entry.height);
      const cover = await expectImage(entry.path, `w=${bw}&h=${bh}&fit=cover&pos=north&fm=${coverFormat}`);
      assert.equal(cover.format, coverFormat);
      assert.deepEqual([cover.width, cover.height], [bw, bh], 'cover fills the box exactly');
    });
  }
});

describe('EXIF orientation', { concurrency: 2 }, () => {
  // The orientation set: the same 1800x1200 landscape stored with each EXIF value
  // (as 1200x1800 pixels for 5-8); classify() swapped those back.
  const oriented = manifest.filter(
    (e) => e.kind === 'image' && /EXIF orientation \d/.test(e.format) && e.width === 1800 && e.height === 1200,
  );
  test('the corpus has the orientation set', () => assert.ok(oriented.length >= 9, `${oriented.length} files`));
  for (const entry of oriented) {
    test(`${entry.file} displays as a 1800x1200-shaped landscape`, async () => {
      const out = await expectImage(entry.path, 'w=300&fm=jpeg');
      assert.deepEqual([out.width, out.height], [300, 200]);
      const h = await expectImage(entry.path, 'h=120&fm=webp');
      assert.deepEqual([h.width, h.height], [180, 120]);
    });
  }
});

describe('formats, fit and negotiation on one photo', { concurrency: 2 }, () => {
  const photo = manifest.find((e) => e.kind === 'image' && /^JPEG \(RGB\)$/.test(e.format) && e.width > 2000);
  const withAlpha = manifest.find((e) => e.kind === 'image' && /^PNG \(RGBA; bitdepth 8\)/.test(e.format));
  test('corpus has a large plain JPEG and an RGBA PNG', () => {
    assert.ok(photo && withAlpha);
  });
  for (const fm of FORMATS) {
    test(`photo → 600 ${fm}`, async () => {
      const out = await expectImage(photo.path, `w=600&fm=${fm}`);
      assertSize(out, insideSize(photo.width, photo.height, 600), fm);
    });
  }
  test('fit=fill stretches, fit=contain pads to the box, dpr multiplies', async () => {
    const fill = await expectImage(photo.path, 'w=100&h=100&fit=fill&fm=png');
    assert.deepEqual([fill.width, fill.height], [100, 100]);
    const contain = await expectImage(photo.path, 'w=100&h=100&fit=contain&bg=ff000080&fm=png');
    assert.deepEqual([contain.width, contain.height], [100, 100]);
    assert.ok(contain.alpha, 'translucent letterbox keeps alpha in PNG');
    const dpr = await expectImage(photo.path, 'w=100&dpr=2&fm=jpeg');
    assert.equal(dpr.width, 200);
  });
  test('no enlargement unless asked', async () => {
    const big = await expectImage(withAlpha.path, `w=${withAlpha.width * 4}&fm=png`);
    assert.deepEqual([big.width, big.height], [withAlpha.width, withAlpha.height]);
    const enlarged = await expectImage(withAlpha.path, `w=${withAlpha.width * 2}&enlarge=1&fm=png`);
    assert.deepEqual([enlarged.width, enlarged.height], [withAlpha.width * 2, withAlpha.height * 2]);
  });
  test('fm=auto follows Accept; legacy is JPEG for opaque, PNG for alpha', async () => {
    const avif = await expectImage(photo.path, 'w=64&fm=auto', 'image/avif,image/webp,*/*');
    assert.equal(avif.format, 'avif');
    const webp = await expectImage(photo.path, 'w=64&fm=auto', 'image/webp,*/*;q=0.8');
    assert.equal(webp.format, 'webp');
    const legacy = await expectImage(photo.path, 'w=64&fm=auto', 'image/*,*/*;q=0.8');
    assert.equal(legacy.format, 'jpeg');
    const legacyAlpha = await expectImage(withAlpha.path, 'w=16&fm=auto');
    assert.equal(legacyAlpha.format, 'png');
    assert.ok(legacyAlpha.alpha);
  });
  test('without fm the source format is kept', async () => {
    assert.equal((await expectImage(photo.path, 'w=64')).format, 'jpeg');
    assert.equal((await expectImage(withAlpha.path, 'w=16')).format, 'png');
  });
  test('alpha survives WebP and is flattened for JPEG', async () => {
    const webp = await expectImage(withAlpha.path, 'w=16&fm=webp');
    assert.ok(webp.alpha !== false, 'VP8X with alpha');
    const jpeg = await expectImage(withAlpha.path, 'w=16&fm=jpeg&bg=000000');
    assert.equal(jpeg.format, 'jpeg');
  });
});

describe('broken, hostile and non-image inputs exit 1 with the documented error', { concurrency: 2 }, () => {
  for (const entry of manifest.filter((e) => e.kind.startsWith('error'))) {
    const allowed = entry.statuses.map(([s, c]) => `${s} ${c}`).join(' or ');
    test(`${entry.file} → ${allowed}${entry.kind === 'error-or-image' ? ' (or a partial image)' : ''}`, async (t) => {
      const query = 'w=100&fm=webp';
      if (entry.kind === 'error-or-image') {
        const probe = await transform(entry.path, query);
        if (probe.code === 0) {
          const out = await expectImage(entry.path, query);
          t.diagnostic(`decoded as ${out.width}x${out.height}`);
          if (entry.size) {
            const [w, h] = [Number(entry.size[1]), Number(entry.size[2])];
            assertSize(out, insideSize(w, h, 100), 'partial image');
          }
          return;
        }
      }
      const error = await expectError(entry.path, query);
      assert.ok(
        entry.statuses.some(([s, c]) => s === error.status && c === error.code),
        `got ${error.status} ${error.code} (${error.message}), expected ${allowed}`,
      );
    });
  }

  test('an empty file is unsupported', async () => {
    const empty = join(outDir, 'empty.jpg');
    writeFileSync(empty, '');
    const error = await expectError(empty, 'w=10');
    assert.ok([415, 422].includes(error.status), `${error.status} ${error.code}`);
  });

  test('bad parameters are 400 invalid_parameter naming the parameter', async () => {
    const photo = manifest.find((e) => e.kind === 'image' && e.format.startsWith('JPEG'));
    for (const [query, param] of [
      ['w=abc', 'w'],
      ['w=0', 'w'],
      ['q=101', 'q'],
      ['fit=squash', 'fit'],
      ['fm=bmp', 'fm'],
      ['w=10&frobnicate=1', 'frobnicate'],
    ]) {
      const error = await expectError(photo.path, query);
      assert.deepEqual([error.status, error.code], [400, 'invalid_parameter'], query);
      assert.ok(error.message.startsWith(param), `${query}: message names ${param}: ${error.message}`);
    }
  });

  test('a missing input file is reported as JSON too', async () => {
    const error = await expectError(join(outDir, 'does-not-exist.jpg'), 'w=10');
    assert.equal(error.code, 'not_found');
  });
});
