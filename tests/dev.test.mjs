// `scripts/dev --port P --originals DIR` as a newcomer (or a checker) runs it: its own
// process group, a folder of images including broken ones, requests with several
// browsers' Accept headers, then a signal to the group and nothing may be left running.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { freePort, groupMembers, ROOT, startDevProcess } from './lib/dev-process.mjs';
import { imageSize } from './lib/image-size.mjs';

const SAMPLES = join(ROOT, 'dev', 'samples');

/** Image Accept headers as sent by real browsers (and curl). */
const ACCEPT = {
  chrome: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  firefox: 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  safari: 'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  chrome84: 'image/webp,image/apng,image/*,*/*;q=0.8',
  safari13: 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5',
  curl: '*/*',
};

/** Originals folder: our samples (under other names) plus broken and odd files. */
function makeOriginals() {
  const dir = mkdtempSync(join(tmpdir(), 'resizer-dev-test-'));
  copyFileSync(join(SAMPLES, 'landscape.jpg'), join(dir, 'landscape.jpg'));
  copyFileSync(join(SAMPLES, 'logo.png'), join(dir, 'logo.png'));
  mkdirSync(join(dir, 'sub dir'));
  copyFileSync(join(SAMPLES, 'photos', 'house-exif-rotated.jpg'), join(dir, 'sub dir', 'house 1.jpg'));
  mkdirSync(join(dir, 'broken'));
  // JPEG and PNG signatures followed by garbage: sniffed as images, undecodable.
  writeFileSync(join(dir, 'broken', 'corrupt.jpg'),
    Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0 not really a jpeg '.repeat(40))]));
  const png = readFileSync(join(SAMPLES, 'logo.png'));
  writeFileSync(join(dir, 'broken', 'truncated.png'), png.subarray(0, 200));
  writeFileSync(join(dir, 'broken', 'notes.png'), 'this is a text file with a .png name\n');
  return dir;
}

/** One HTTP request with the path sent verbatim (fetch() would normalise `%2e%2e`). */
function get(base, path, { accept, method = 'GET' } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = httpRequest({
      host: url.hostname, port: url.port, path, method,
      headers: accept ? { accept } : {},
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(300_000, () => req.destroy(new Error(`timeout: ${path}`)));
    req.end();
  });
}

function errorBody(res) {
  assert.match(res.headers['content-type'] || '', /json/, 'error responses are JSON');
  return JSON.parse(res.body.toString());
}

let originals;
let dev;
before(async () => {
  originals = makeOriginals();
  dev = await startDevProcess({ port: await freePort(), args: ['--originals', originals] });
});
after(async () => {
  if (dev) await dev.stop('SIGTERM');
  if (originals) rmSync(originals, { recursive: true, force: true });
});

test('scripts/dev serves resized images, negotiated per browser, through the emulated cache', { timeout: 900_000 }, async (t) => {
  const base = dev.url;

  await t.test('fm=auto: format per Accept header, Miss then Hit, equivalent headers share a key', async () => {
    const path = '/landscape.jpg?w=320&fm=auto';
    const expect = [
      ['chrome', 'image/avif', 'Miss'],
      ['chrome', 'image/avif', 'Hit'],
      ['firefox', 'image/avif', 'Hit'],
      ['safari', 'image/avif', 'Hit'],
      ['chrome84', 'image/webp', 'Miss'],
      ['chrome84', 'image/webp', 'Hit'],
      ['safari13', 'image/jpeg', 'Miss'],
      ['curl', 'image/jpeg', 'Hit'],
    ];
    for (const [browser, type, cache] of expect) {
      const res = await get(base, path, { accept: ACCEPT[browser] });
      assert.equal(res.status, 200, `${browser}: ${res.body.toString().slice(0, 200)}`);
      assert.equal(res.headers['content-type'], type, browser);
      assert.equal(res.headers['x-cache'], `${cache} from cloudfront`, browser);
      assert.match(res.headers.vary || '', /accept/i, `${browser}: fm=auto responses vary on Accept`);
      const size = imageSize(res.body);
      assert.ok(size, `${browser}: body is not a recognisable image`);
      assert.equal(size.format, type.split('/')[1], browser);
      assert.equal(size.width, 320, browser);
      assert.ok(Math.abs(size.height - 213) <= 1, `${browser}: height ${size.height}`);
    }
  });

  await t.test('alpha: legacy clients get PNG, modern ones AVIF/WebP; no enlargement', async () => {
    const png = await get(base, '/logo.png?w=200&fm=auto', { accept: ACCEPT.curl });
    assert.equal(png.status, 200);
    assert.equal(png.headers['content-type'], 'image/png');
    const pngSize = imageSize(png.body);
    assert.deepEqual([pngSize?.format, pngSize?.width, pngSize?.height], ['png', 200, 200]);
    const webp = await get(base, '/logo.png?w=2000&fm=webp', { accept: ACCEPT.firefox });
    assert.equal(webp.status, 200);
    assert.equal(webp.headers['content-type'], 'image/webp');
    const size = imageSize(webp.body);
    assert.deepEqual([size.width, size.height], [800, 800], 'never larger than the original');
  });

  await t.test('EXIF orientation applied; keys with spaces and folders', async () => {
    const res = await get(base, '/sub%20dir/house%201.jpg?w=100&fm=webp', { accept: ACCEPT.chrome });
    assert.equal(res.status, 200, res.body.toString().slice(0, 200));
    assert.equal(res.headers['content-type'], 'image/webp');
    const size = imageSize(res.body);
    assert.deepEqual([size.width, size.height], [100, 150], 'upright portrait (stored sideways with Orientation 6)');
    const again = await get(base, '/sub%20dir/house%201.jpg?w=100&fm=webp', { accept: ACCEPT.safari13 });
    assert.equal(again.headers['x-cache'], 'Hit from cloudfront', 'explicit fm does not depend on Accept');
  });

  await t.test('explicit formats and HEAD', async () => {
    const jpg = await get(base, '/landscape.jpg?w=150&fm=jpg', { accept: ACCEPT.chrome });
    assert.equal(jpg.status, 200);
    assert.equal(jpg.headers['content-type'], 'image/jpeg');
    assert.equal(imageSize(jpg.body).width, 150);
    const head = await get(base, '/landscape.jpg?w=320&fm=auto', { accept: ACCEPT.firefox, method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-type'], 'image/avif');
    assert.ok(Number(head.headers['content-length']) > 0);
    assert.equal(head.body.length, 0);
  });

  await t.test('no parameters: the original passes through, then is cached', async () => {
    const first = await get(base, '/logo.png', { accept: ACCEPT.chrome });
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-type'], 'image/png');
    assert.ok(first.body.equals(readFileSync(join(originals, 'logo.png'))), 'original bytes unchanged');
    assert.equal(first.headers['x-cache'], 'Miss from cloudfront');
    const second = await get(base, '/logo.png', { accept: ACCEPT.firefox });
    assert.equal(second.headers['x-cache'], 'Hit from cloudfront');
  });

  await t.test('bad parameters: clean 400 naming the parameter, never cached', async () => {
    const cases = [
      ['/landscape.jpg?w=abc', 'w'],
      ['/landscape.jpg?w=0', 'w'],
      ['/landscape.jpg?w=100000', 'w'],
      ['/landscape.jpg?w=100&w=200', 'w'],
      ['/landscape.jpg?w=100&fm=bmp', 'fm'],
      ['/landscape.jpg?w=100&zoom=2', 'zoom'],
      ['/landscape.jpg?w=100&q=101', 'q'],
    ];
    for (const [path, param] of cases) {
      for (let i = 0; i < 2; i += 1) {
        const res = await get(base, path, { accept: ACCEPT.chrome });
        assert.equal(res.status, 400, path);
        const body = errorBody(res);
        assert.equal(body.code, 'invalid_parameter', path);
        assert.match(body.message, new RegExp(`\\b${param}\\b`), `${path}: message names ${param}`);
        assert.notEqual(res.headers['x-cache'], 'Hit from cloudfront', path);
      }
    }
  });

  await t.test('unsafe keys: 400 invalid_key', async () => {
    for (const path of ['/%2e%2e/landscape.jpg?w=100', '/a/../landscape.jpg?w=100', '/sub%2F..%2Flandscape.jpg?w=100']) {
      const res = await get(base, path, { accept: ACCEPT.chrome });
      assert.equal(res.status, 400, path);
      assert.equal(errorBody(res).code, 'invalid_key', path);
    }
  });

  await t.test('bad files: clean 4xx with a stable code, short-lived caching', async () => {
    const cases = [
      ['/broken/corrupt.jpg?w=100&fm=webp', 422, 'corrupt_image'],
      ['/broken/truncated.png?w=100&fm=auto', 422, 'corrupt_image'],
      ['/broken/notes.png?w=100&fm=auto', 415, 'unsupported_format'],
      ['/missing.jpg?w=100&fm=auto', 404, 'not_found'],
    ];
    for (const [path, status, code] of cases) {
      const res = await get(base, path, { accept: ACCEPT.chrome });
      assert.equal(res.status, status, `${path}: ${res.body.toString().slice(0, 200)}`);
      assert.equal(errorBody(res).code, code, path);
      const cc = res.headers['cache-control'] || '';
      const maxAge = Number(/max-age=(\d+)/.exec(cc)?.[1] ?? 0);
      assert.ok(/no-store|no-cache/.test(cc) || maxAge <= 300, `${path}: error cached too long (${cc})`);
    }
    // The broken original itself is still served untouched without parameters.
    const raw = await get(base, '/broken/notes.png', { accept: ACCEPT.curl });
    assert.equal(raw.status, 200);
  });

  await t.test('demo page and object listing', async () => {
    const page = await get(base, '/', { accept: 'text/html' });
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /text\/html/);
    assert.match(page.body.toString(), /\/__demo\/app\.js/);
    const listing = JSON.parse((await get(base, '/__demo/api/objects')).body.toString());
    const keys = listing.objects.map((o) => o.key).sort();
    assert.deepEqual(keys, ['broken/corrupt.jpg', 'broken/notes.png', 'broken/truncated.png',
      'landscape.jpg', 'logo.png', 'sub dir/house 1.jpg'], 'originals only, no derived objects');
  });

  await t.test('SIGTERM to the process group stops every process', async () => {
    const port = Number(new URL(base).port);
    const stopped = await dev.stop('SIGTERM');
    dev = undefined;
    assert.deepEqual(stopped.left, [], 'processes left in the group');
    assert.equal(stopped.code, 0, `exit status ${stopped.code ?? stopped.signal}`);
    const refused = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(false); });
      socket.once('error', () => resolve(true));
    });
    assert.ok(refused, 'port still open after stop');
  });
});

test('Ctrl-C (SIGINT to the group) leaves nothing running', { timeout: 300_000 }, async () => {
  const run = await startDevProcess({ port: await freePort(), args: ['--originals', originals, '--quiet'], env: { DEV_SKIP_BUILD: '1' } });
  const members = groupMembers(run.pgid);
  assert.ok(members.length >= 3, `expected node, watchdog and s3s-fs in the group, got ${members}`);
  const stopped = await run.stop('SIGINT');
  assert.deepEqual(stopped.left, []);
  assert.equal(stopped.code, 0);
});

test('a SIGKILLed server does not leave s3s-fs behind', { timeout: 300_000 }, async () => {
  const run = await startDevProcess({ port: await freePort(), args: ['--quiet'], env: { DEV_SKIP_BUILD: '1' } });
  const dataDirs = run.output().match(/\/tmp\/resizer-dev-s3-\w+/g) || [];
  process.kill(run.pid, 'SIGKILL'); // the server only, not the group
  await run.exited;
  const deadline = Date.now() + 5000;
  while (groupMembers(run.pgid).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(groupMembers(run.pgid), [], 'the watchdog stops s3s-fs when the server dies');
  for (const dir of dataDirs) assert.ok(!existsSync(dir), `${dir} left behind`);
});
