// scripts/dev runs the upload pipeline too: ministack with the stack from the template,
// the samples uploaded under uploads/demo/, the poller and processor, and the demo
// panel's API (/__uploads/api/*) with uploads, variants, notices and failures.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort, startDevProcess } from './lib/dev-process.mjs';
import { imageSize } from './lib/image-size.mjs';

const CORRUPT = readFileSync(new URL('../../shared/corpus/formats/corrupt_data.jpg', import.meta.url));

async function state(url) {
  const res = await fetch(new URL('__uploads/api/state', url));
  assert.equal(res.status, 200);
  return res.json();
}

async function until(url, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await state(url);
    if (check(last)) return last;
    await sleep(500);
  }
  assert.fail(`timed out; last state: ${JSON.stringify(last).slice(0, 2000)}`);
}

test('scripts/dev: uploads are processed on the local AWS and shown by the demo panel', { timeout: 300_000 }, async () => {
  const dev = await startDevProcess({ port: await freePort(), args: ['--quiet'], env: { DEV_SKIP_BUILD: '1' } });
  try {
    assert.match(dev.output(), /uploads: {4}local AWS http:\/\/127\.0\.0\.1:\d+ \(ministack\)/);
    const page = await (await fetch(dev.url)).text();
    assert.match(page, /<script type="module" src="\/__demo\/uploads\.js"><\/script>/);
    assert.equal((await fetch(new URL('__demo/uploads.js', dev.url))).status, 200);

    // The samples (dev/samples/*.jpg|png) were uploaded at start.
    const s = await until(dev.url, (x) => x.uploads.filter((u) => u.status === 'completed').length >= 2 && x.notices.length >= 2);
    const done = s.uploads.find((u) => u.originalKey === 'uploads/demo/landscape.jpg');
    assert.equal(done.status, 'completed');
    assert.ok(done.savingsPercent !== undefined && done.compressedSize > 0);
    const thumb = done.variants.thumbnail;
    const key = thumb.formats?.webp?.key ?? thumb.key;
    const img = await fetch(new URL(`__uploads/api/object?key=${encodeURIComponent(key)}`, dev.url));
    assert.equal(img.status, 200);
    const size = imageSize(new Uint8Array(await img.arrayBuffer()));
    assert.deepEqual([size.width, size.height], [150, 150]);
    assert.ok(s.notices.some((n) => n.status === 'completed' && n.message.originalKey === 'uploads/demo/landscape.jpg'));

    // A corrupt upload through the panel shows up as failed, with the core's error.
    const up = await fetch(new URL('__uploads/api/upload?name=broken.jpg', dev.url), { method: 'POST', body: CORRUPT });
    assert.equal(up.status, 200);
    const f = await until(dev.url, (x) => x.failed.some((u) => u.originalKey === 'uploads/demo/broken.jpg'));
    const failed = f.failed.find((u) => u.originalKey === 'uploads/demo/broken.jpg');
    assert.equal(failed.error.code, 'corrupt_image');
    assert.equal(failed.errorKey, 'errors/uploads/demo/broken.jpg');
  } finally {
    const stopped = await dev.stop('SIGINT');
    assert.deepEqual(stopped.left, [], 'nothing left running');
  }
});
