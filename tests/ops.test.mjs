// Issue-12 operations through scripts/transform (the wasm core as the Lambda runs it),
// compared with references computed here on plain pixel arrays: region, focal point,
// rotate, flip, blur, sharpen, smart crops and a watermark placed from a config file
// by its relative path.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { decodePng, encodePng } from './lib/png-lite.mjs';

const transformScript = fileURLToPath(new URL('../scripts/transform', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ops-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function run(args) {
  return new Promise((resolve) => {
    execFile(transformScript, args, { encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 'killed') : 0, stdout, stderr });
    });
  });
}

/** Runs scripts/transform on `image` with `query` (PNG out); the decoded output. */
async function transform(image, query, extra = []) {
  const input = join(dir, `in-${n}.png`);
  const output = join(dir, `out-${n++}.png`);
  writeFileSync(input, encodePng(image));
  const r = await run([...extra, input, `${query}&fm=png`, output]);
  assert.equal(r.code, 0, `${query}: ${r.stderr}`);
  return decodePng(readFileSync(output));
}

/** A w×h RGB picture whose pixels are easy to tell apart. */
function picture(w, h) {
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      data.set([(x * 4) & 0xff, (y * 6) & 0xff, ((x + y) * 3) & 0xff], (y * w + x) * 3);
    }
  }
  return { width: w, height: h, channels: 3, data };
}

const px = (img, x, y) => [...img.data.subarray((y * img.width + x) * img.channels, (y * img.width + x) * img.channels + 3)];

function variation(img) {
  let total = 0;
  for (let i = img.channels; i < img.data.length; i++) total += Math.abs(img.data[i] - img.data[i - img.channels]);
  return total;
}

describe('image operations through scripts/transform', () => {
  test('rect cuts the region of the original exactly', async () => {
    const img = picture(60, 40);
    const out = await transform(img, 'rect=7,5,20,11');
    assert.deepEqual([out.width, out.height], [20, 11]);
    for (let y = 0; y < 11; y++) for (let x = 0; x < 20; x++) assert.deepEqual(px(out, x, y), px(img, x + 7, y + 5));
  });

  test('rect outside the image is a 400 naming rect', async () => {
    const input = join(dir, 'small.png');
    writeFileSync(input, encodePng(picture(60, 40)));
    const r = await run([input, 'rect=50,0,11,1', join(dir, 'never.png')]);
    assert.equal(r.code, 1);
    const err = JSON.parse(r.stderr);
    assert.equal(err.status, 400);
    assert.match(err.message, /^rect:/);
  });

  test('rot=90 and flip=h match naive references', async () => {
    const img = picture(30, 20);
    const cw = await transform(img, 'rot=90');
    assert.deepEqual([cw.width, cw.height], [20, 30]);
    for (let y = 0; y < 30; y++) for (let x = 0; x < 20; x++) assert.deepEqual(px(cw, x, y), px(img, y, 19 - x));
    const fh = await transform(img, 'flip=h');
    for (let y = 0; y < 20; y++) for (let x = 0; x < 30; x++) assert.deepEqual(px(fh, x, y), px(img, 29 - x, y));
  });

  test('a focal point keeps the point as near the centre as the edges allow', async () => {
    const img = picture(100, 50);
    for (const [fx, start] of [[0.8, 50], [0.3, 5]]) {
      const out = await transform(img, `w=50&h=50&fit=cover&pos=${fx}x0.5`);
      assert.deepEqual(px(out, 0, 0), px(img, start, 0), `pos=${fx}x0.5`);
    }
  });

  test('blur smooths, sharpen raises edge energy', async () => {
    const img = picture(64, 48);
    const plain = await transform(img, 'w=64');
    const blurred = await transform(img, 'w=64&blur=3');
    const sharp = await transform(img, 'w=64&sharpen=1');
    assert.ok(variation(blurred) < variation(plain));
    assert.ok(variation(sharp) > variation(plain));
  });

  test('entropy and attention keep an off-centre photo a centre crop loses', async () => {
    const w = 300;
    const h = 100;
    const data = Buffer.alloc(w * h * 3, 200);
    let seed = 7;
    for (let y = 10; y < 90; y++) {
      for (let x = 220; x < 295; x++) {
        for (let c = 0; c < 3; c++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          data[(y * w + x) * 3 + c] = seed >>> 24;
        }
      }
    }
    for (const pos of ['entropy', 'attention']) {
      const out = await transform({ width: w, height: h, channels: 3, data }, `w=100&h=100&fit=cover&pos=${pos}`);
      let busy = 0;
      for (let i = 0; i < out.data.length; i += 3) if (out.data[i] !== 200 || out.data[i + 1] !== 200) busy++;
      assert.ok(busy > 5500, `${pos}: ${busy} busy pixels`);
    }
  });

  test('a watermark from --config changes only its corner', async () => {
    const confDir = join(dir, 'conf');
    mkdirSync(join(confDir, 'marks'), { recursive: true });
    const mark = { width: 40, height: 20, channels: 4, data: Buffer.alloc(40 * 20 * 4, 255) };
    writeFileSync(join(confDir, 'marks', 'logo.png'), encodePng(mark));
    const config = join(confDir, 'wm.json');
    writeFileSync(config, JSON.stringify({
      watermarks: { logo: { key: 'marks/logo.png', gravity: 'southeast', margin: 0.05, opacity: 0.8, width: 0.25 } },
    }));
    const img = picture(200, 100);
    const plain = await transform(img, 'w=200', ['--config', config]);
    const marked = await transform(img, 'w=200&wm=logo', ['--config', config]);
    let changed = 0;
    for (let y = 0; y < 100; y++) {
      for (let x = 0; x < 200; x++) {
        if (px(plain, x, y).join() !== px(marked, x, y).join()) {
          assert.ok(x >= 140 && x < 190 && y >= 65 && y < 90, `(${x},${y}) changed`);
          changed++;
        }
      }
    }
    assert.ok(changed > 1000, `${changed} pixels changed`);
    // An unknown name is a 400 naming wm.
    const input = join(dir, 'wm-in.png');
    writeFileSync(input, encodePng(img));
    const r = await run(['--config', config, input, 'wm=nope', join(dir, 'never2.png')]);
    assert.equal(r.code, 1);
    assert.match(JSON.parse(r.stderr).message, /^wm:/);
  });
});
