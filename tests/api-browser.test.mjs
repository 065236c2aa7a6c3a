// The regional API's upload loop in a real browser (Debian's chromium, playwright-core)
// on `scripts/dev`: the demo panel (dev/demo/api-upload.js) gets a presigned URL from
// POST /uploads with the development token, PUTs the file straight to the local S3,
// the upload pipeline processes it, the page polls GET /images/{id} until completed and
// shows the variants. Screenshot: test-output/api-upload.png.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { freePort, ROOT, startDevProcess } from './lib/dev-process.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const OUTPUT = join(ROOT, 'test-output');

test('demo upload form: presign → PUT to S3 → pipeline → completed record with variants',
  { skip: !existsSync(CHROMIUM) && `${CHROMIUM} not installed (scripts/lib/setup-browser.sh)`, timeout: 900_000 },
  async () => {
    const { chromium } = await import('playwright-core');
    mkdirSync(OUTPUT, { recursive: true });
    const dev = await startDevProcess({ port: await freePort() });
    let browser;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      const pageErrors = [];
      page.on('pageerror', (err) => pageErrors.push(String(err)));
      const requests = [];
      page.on('response', (r) => requests.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`));
      await page.goto(dev.url, { waitUntil: 'domcontentloaded' });
      await page.waitForSelector('#api-upload-form');
      await page.setInputFiles('#api-file', join(ROOT, 'dev/samples/landscape.jpg'));
      await page.click('#api-send');
      await page.waitForFunction(() => /^(done|failed)/.test(document.querySelector('#api-status').textContent), null, { timeout: 600_000, polling: 500 });
      const state = await page.evaluate(async () => {
        const imgs = [...document.querySelectorAll('#api-variants img')];
        await Promise.all(imgs.map((img) => (img.complete ? null : new Promise((r) => img.addEventListener('load', r, { once: true })))));
        return {
          status: document.querySelector('#api-status').textContent,
          steps: [...document.querySelectorAll('#api-steps li')].map((li) => li.textContent),
          images: imgs.map((img) => ({ variant: img.dataset.variant, width: img.naturalWidth, height: img.naturalHeight })),
        };
      });
      await page.screenshot({ path: join(OUTPUT, 'api-upload.png'), fullPage: true });
      assert.equal(state.status, 'done: completed', `${state.status}\n${state.steps.join('\n')}\n${requests.join('\n')}`);
      assert.deepEqual(pageErrors, []);
      assert.match(state.steps[0], /presigned PUT for uploads\/demo\/\d{8}_\d{6}_landscape\.jpg/);
      assert.match(state.steps[1], /PUT to S3: 200/);
      assert.ok(requests.some((r) => /^POST \/uploads 200$/.test(r)), requests.join('\n'));
      assert.ok(requests.some((r) => /^PUT \/.+\/uploads\/demo\/.+landscape\.jpg 200$/.test(r)), 'the browser PUT to S3 itself');
      assert.ok(requests.some((r) => /^GET \/images\/[0-9a-f-]+ 200$/.test(r)), 'polled the record');
      assert.ok(state.images.length >= 2, JSON.stringify(state.images));
      for (const img of state.images) assert.ok(img.width > 0 && img.width <= 1600, JSON.stringify(img));
    } finally {
      await browser?.close().catch(() => {});
      const stopped = await dev.stop('SIGTERM');
      assert.deepEqual(stopped.left, [], 'processes left after stopping scripts/dev');
    }
  });
