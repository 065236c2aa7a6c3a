// Animation and SVG through scripts/transform (the wasm core as the Lambda runs it):
// animated GIFs and WebPs of the corpus keep their frame count and get the asked
// size in WebP and GIF, `anim=0` gives one frame, SVGs render at the asked size and
// match an independent rasteriser (rsvg-convert, Debian librsvg2-bin), hostile SVGs
// answer 4xx within seconds. Frames are counted by walking the containers here, and
// PNGs are decoded here, not by the wasm under test.

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { decodePng as decodePngLite } from './lib/png-lite.mjs';

const transformScript = fileURLToPath(new URL('../scripts/transform', import.meta.url));
const corpusDir = fileURLToPath(new URL('../../shared/corpus/', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'media-test-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

let outputs = 0;
function transform(input, query, accept) {
  const output = join(outDir, `out-${outputs++}`);
  const args = [input, query, output, ...(accept === undefined ? [] : [accept])];
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(transformScript, args, { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      const ms = Date.now() - started;
      if (error) {
        resolve({ code: error.code ?? 'killed', error: stderr ? JSON.parse(stderr.trim().split('\n').pop()) : undefined, ms });
      } else {
        resolve({ code: 0, report: JSON.parse(stdout), body: readFileSync(output), ms });
      }
    });
  });
}

async function ok(input, query, accept) {
  const r = await transform(input, query, accept);
  assert.equal(r.code, 0, `${query}: ${JSON.stringify(r.error)}`);
  return r;
}

// --- containers -------------------------------------------------------------------

/** GIF: logical screen size and the number of image descriptors (a block walk). */
function gifInfo(b) {
  assert.equal(b.toString('latin1', 0, 3), 'GIF');
  const width = b.readUInt16LE(6);
  const height = b.readUInt16LE(8);
  let pos = 13;
  if (b[10] & 0x80) pos += 3 << ((b[10] & 7) + 1);
  const skipBlocks = () => {
    while (b[pos] !== 0) pos += b[pos] + 1;
    pos += 1;
  };
  let frames = 0;
  let loop;
  while (pos < b.length && b[pos] !== 0x3b) {
    if (b[pos] === 0x21) {
      if (b[pos + 1] === 0xff && b.toString('latin1', pos + 3, pos + 14) === 'NETSCAPE2.0') loop = b.readUInt16LE(pos + 16);
      pos += 2;
      skipBlocks();
    } else if (b[pos] === 0x2c) {
      frames += 1;
      const packed = b[pos + 9];
      pos += 10;
      if (packed & 0x80) pos += 3 << ((packed & 7) + 1);
      pos += 1;
      skipBlocks();
    } else {
      throw new Error(`GIF: unexpected block 0x${b[pos].toString(16)} at ${pos}`);
    }
  }
  return { format: 'gif', width, height, frames, loop };
}

/** WebP: canvas size and ANMF chunk count (1 for a still). */
function webpInfo(b) {
  assert.equal(b.toString('latin1', 8, 12), 'WEBP');
  let pos = 12;
  let info = { format: 'webp', frames: 0 };
  while (pos + 8 <= b.length) {
    const fourcc = b.toString('latin1', pos, pos + 4);
    const size = b.readUInt32LE(pos + 4);
    if (fourcc === 'VP8X') info = { ...info, width: b.readUIntLE(pos + 12, 3) + 1, height: b.readUIntLE(pos + 15, 3) + 1, animated: Boolean(b[pos + 8] & 2) };
    if (fourcc === 'ANIM') info.loop = b.readUInt16LE(pos + 12);
    if (fourcc === 'ANMF') info.frames += 1;
    if (fourcc === 'VP8 ' && info.width === undefined) info = { ...info, width: b.readUInt16LE(pos + 14) & 0x3fff, height: b.readUInt16LE(pos + 16) & 0x3fff };
    if (fourcc === 'VP8L' && info.width === undefined) {
      const bits = b.readUInt32LE(pos + 9);
      info = { ...info, width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    pos += 8 + size + (size & 1);
  }
  if (!info.animated) info.frames = 1;
  return info;
}

const containerInfo = (b) => (b.toString('latin1', 0, 3) === 'GIF' ? gifInfo(b) : webpInfo(b));

/** 8-bit, non-interlaced PNG (what our encoder and rsvg-convert write) → RGBA pixels. */
function decodePng(b) {
  assert.equal(b.readUInt32BE(0), 0x89504e47, 'PNG signature');
  const { width, height, channels, data } = decodePngLite(Buffer.from(b));
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = data.subarray(i * channels, (i + 1) * channels);
    const [r, g, bl, al] = channels === 1 ? [s[0], s[0], s[0], 255] : channels === 2 ? [s[0], s[0], s[0], s[1]] : channels === 3 ? [s[0], s[1], s[2], 255] : s;
    rgba.set([r, g, bl, al], i * 4);
  }
  return { width, height, rgba };
}

// --- corpus -----------------------------------------------------------------------

function manifest() {
  const [head, ...rows] = readFileSync(join(corpusDir, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const names = head.split('\t');
  return rows.map((line) => {
    const cells = line.split('\t');
    return Object.fromEntries(names.map((n, i) => [n, cells[i] ?? '']));
  });
}
const rows = manifest();
const animated = rows
  .filter((r) => /^(GIF|WEBP)\b/.test(r.format) && /(\d+) frames/.test(r.format))
  .map((r) => {
    const [w, h] = r['width x height'].split('x').map(Number);
    return { file: r.file, path: join(corpusDir, r.file), frames: Number(/(\d+) frames/.exec(r.format)[1]), width: w, height: h };
  })
  .filter((r) => r.frames > 1);
const svgs = rows.filter((r) => /^SVG/.test(r.format)).map((r) => ({ file: r.file, path: join(corpusDir, r.file) }));

describe('animations keep frames and get the asked size', { concurrency: 2 }, () => {
  test('the corpus has animated GIFs and WebPs', () => {
    assert.ok(animated.some((a) => a.file.endsWith('.gif')) && animated.some((a) => a.file.endsWith('.webp')));
  });
  for (const a of animated) {
    for (const fm of ['webp', 'gif']) {
      test(`${a.file} (${a.frames} frames) → animated ${fm}`, async () => {
        const W = Math.max(1, Math.floor(a.width / 2));
        const H = Math.max(1, Math.round((a.height * W) / a.width));
        const r = await ok(a.path, `w=${W}&fm=${fm}`);
        assert.equal(r.report.format, fm);
        const info = containerInfo(r.body);
        assert.equal(info.format, fm);
        assert.deepEqual([info.width, info.height, info.frames], [W, H, a.frames]);
        assert.deepEqual([r.report.width, r.report.height], [W, H]);
        // The loop count of the source survives.
        const source = containerInfo(readFileSync(a.path));
        assert.equal(info.loop ?? 1, source.loop ?? 1, 'loop count');
        // cover: every frame cropped to the box.
        const cover = await ok(a.path, `w=${W}&h=${Math.max(1, W >> 1)}&fit=cover&fm=${fm}`);
        const ci = containerInfo(cover.body);
        assert.deepEqual([ci.width, ci.height, ci.frames], [W, Math.max(1, W >> 1), a.frames]);
      });
    }
    test(`${a.file}: anim=0 and still formats give one frame`, async () => {
      for (const fm of ['webp', 'gif']) {
        const r = await ok(a.path, `w=32&fm=${fm}&anim=0`);
        assert.equal(containerInfo(r.body).frames, 1, fm);
      }
      const png = await ok(a.path, 'w=32&fm=png');
      assert.equal(png.report.format, 'png');
    });
  }
  test('fm=auto: animated WebP for WebP/AVIF browsers, GIF for the others', async () => {
    const gif = animated.find((a) => a.file.endsWith('.gif'));
    const chrome = await ok(gif.path, 'w=40&fm=auto', 'image/avif,image/webp,*/*');
    assert.equal(chrome.report.format, 'webp');
    assert.equal(webpInfo(chrome.body).frames, gif.frames);
    const legacy = await ok(gif.path, 'w=40&fm=auto', '*/*');
    assert.equal(legacy.report.format, 'gif');
    assert.equal(gifInfo(legacy.body).frames, gif.frames);
  });
  test('wrong anim value names the parameter and the values', async () => {
    const r = await transform(animated[0].path, 'anim=2&fm=webp');
    assert.equal(r.code, 1);
    assert.equal(r.error.status, 400);
    assert.match(r.error.message, /^anim: must be one of 1, 0, true, false/);
  });
});

// --- SVG --------------------------------------------------------------------------

const hasRsvg = (() => {
  try {
    execFileSync('rsvg-convert', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Mean absolute difference per channel (premultiplied, 0-255) between two renderings. */
function meanDifference(a, b) {
  assert.deepEqual([a.width, a.height], [b.width, b.height]);
  let sum = 0;
  for (let i = 0; i < a.rgba.length; i += 4) {
    const [aa, ba] = [a.rgba[i + 3], b.rgba[i + 3]];
    for (let c = 0; c < 3; c++) sum += Math.abs((a.rgba[i + c] * aa) / 255 - (b.rgba[i + c] * ba) / 255);
    sum += Math.abs(aa - ba);
  }
  return sum / a.rgba.length;
}

describe('SVG input', { concurrency: 2 }, () => {
  test('rsvg-convert is installed (scripts/lib/setup-rsvg.sh)', () => assert.ok(hasRsvg));
  const extra = join(outDir, 'shapes.svg');
  writeFileSync(
    extra,
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 80" width="120" height="80">
      <defs><linearGradient id="g"><stop offset="0" stop-color="#f80"/><stop offset="1" stop-color="#08f"/></linearGradient></defs>
      <rect x="4" y="4" width="112" height="72" rx="10" fill="url(#g)"/>
      <circle cx="60" cy="40" r="24" fill="#fff" fill-opacity="0.6" stroke="#222" stroke-width="3"/>
      <path d="M10 70 L40 20 L70 70 Z" fill="none" stroke="#0a0" stroke-width="4"/></svg>`,
  );
  for (const s of [...svgs, { file: 'shapes.svg (generated)', path: extra }]) {
    test(`${s.file} renders at the asked width and matches rsvg-convert`, { skip: !hasRsvg && 'no rsvg-convert' }, async () => {
      const W = 300;
      const r = await ok(s.path, `w=${W}&fm=png`);
      assert.equal(r.report.format, 'png');
      assert.equal(r.report.width, W);
      const ours = decodePng(r.body);
      const theirsFile = join(outDir, `rsvg-${outputs++}.png`);
      execFileSync('rsvg-convert', ['-w', String(W), '-h', String(r.report.height), '-o', theirsFile, s.path]);
      const theirs = decodePng(readFileSync(theirsFile));
      const diff = meanDifference(ours, theirs);
      assert.ok(diff < 4, `mean difference ${diff.toFixed(2)} / 255`);
      // Legacy clients and no fm: PNG, never SVG.
      const legacy = await ok(s.path, 'w=64&fm=auto', '*/*');
      assert.equal(legacy.report.format, 'png');
      const plain = await ok(s.path, 'w=64');
      assert.equal(plain.report.format, 'png');
    });
  }

  const hostile = {
    'entity expansion': `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaaaaaaaa">${Array.from({ length: 9 }, (_, i) => `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`).join('')}]><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&j;</text></svg>`,
    '20,000 nested groups': `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">${'<g>'.repeat(20000)}<rect width="5" height="5"/>${'</g>'.repeat(20000)}</svg>`,
    '10^6 x 10^6 canvas': '<svg xmlns="http://www.w3.org/2000/svg" width="1000000" height="1000000"><rect width="9" height="9"/></svg>',
    'feMorphology radius 10^6': '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><filter id="f"><feMorphology operator="dilate" radius="1000000"/></filter><rect width="100" height="100" filter="url(#f)"/></svg>',
    '<use> fan-out': `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><defs><rect id="l0" width="1" height="1"/>${Array.from({ length: 8 }, (_, i) => `<g id="l${i + 1}">${`<use href="#l${i}"/>`.repeat(10)}</g>`).join('')}</defs><use href="#l8"/></svg>`,
  };
  for (const [name, text] of Object.entries(hostile)) {
    test(`hostile SVG (${name}) answers 413 within seconds`, async () => {
      const file = join(outDir, `hostile-${outputs++}.svg`);
      writeFileSync(file, text);
      const r = await transform(file, 'w=300&fm=png');
      assert.equal(r.code, 1, 'refused');
      assert.equal(r.error.status, 413, JSON.stringify(r.error));
      assert.ok(r.ms < 5000, `${r.ms} ms`);
    });
  }
  test('external hrefs and @import load nothing; nesting within the limit renders', async () => {
    const file = join(outDir, `external-${outputs++}.svg`);
    writeFileSync(
      file,
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="40">
        <style>@import url("/etc/passwd");</style>
        <image href="/etc/hostname" width="40" height="40"/><image xlink:href="http://127.0.0.1:9/x.png" width="40" height="40"/>
        ${'<g>'.repeat(120)}<rect width="20" height="20" fill="#0a0"/>${'</g>'.repeat(120)}</svg>`,
    );
    const r = await ok(file, 'fm=png');
    const px = decodePng(r.body);
    assert.deepEqual([px.width, px.height], [40, 40]);
    assert.deepEqual([...px.rgba.subarray(0, 4)], [0, 170, 0, 255], 'the rect');
    const corner = (39 * 40 + 39) * 4;
    assert.equal(px.rgba[corner + 3], 0, 'nothing loaded over the rest');
  });
});
