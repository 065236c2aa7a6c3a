// The demo page of `scripts/dev` in a real browser: Debian's chromium driven by
// playwright-core. Every picture must decode, come back as AVIF or WebP at the size
// asked for (never enlarged, EXIF orientation applied), and a reload with the browser
// cache off must be answered by the emulated CloudFront cache. Screenshots go to
// test-output/.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { freePort, ROOT, startDevProcess } from './lib/dev-process.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const OUTPUT = join(ROOT, 'test-output');

/** Upright sizes of dev/samples (see dev/samples/LICENSE.md). */
const SAMPLES = {
  'landscape.jpg': { width: 1600, height: 1067 },
  'logo.png': { width: 800, height: 800 },
  'photos/house-exif-rotated.jpg': { width: 800, height: 1200 },
};
const IMAGES_PER_SAMPLE = 4; // srcset, <picture>, two fixed widths (dev/demo/app.js)

/** Width-only resize without enlargement: the size the output must have. */
function expectedSize(original, requestedWidth) {
  const width = Math.min(requestedWidth, original.width);
  return { width, height: Math.round((original.height * width) / original.width) };
}

async function loadDemo(page, url) {
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => window.demo?.finished === true, null, { timeout: 600_000, polling: 250 });
  return page.evaluate(() => ({
    error: window.demo.error,
    samples: window.demo.samples,
    results: window.demo.results,
    images: [...document.querySelectorAll('#samples img')].map((img) => ({
      src: img.currentSrc,
      key: img.dataset.key,
      role: img.dataset.role,
      complete: img.complete,
      naturalWidth: img.naturalWidth,
      naturalHeight: img.naturalHeight,
    })),
  }));
}

test('demo page in Chromium: AVIF/WebP at the right sizes, second visit from the edge cache',
  { skip: !existsSync(CHROMIUM) && `${CHROMIUM} not installed (scripts/lib/setup-browser.sh)`, timeout: 1_200_000 },
  async (t) => {
    const { chromium } = await import('playwright-core');
    mkdirSync(OUTPUT, { recursive: true });
    const dev = await startDevProcess({ port: await freePort() });
    let browser;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
          '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
        ],
      });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const pageErrors = [];
      page.on('pageerror', (err) => pageErrors.push(String(err)));
      // What the browser really received for each picture, from the network layer.
      const imageResponses = new Map();
      page.on('response', async (response) => {
        if (response.request().resourceType() !== 'image') return;
        imageResponses.set(response.url(), { status: response.status(), headers: await response.allHeaders() });
      });

      const first = await loadDemo(page, dev.url);
      await page.screenshot({ path: join(OUTPUT, 'demo-page.png'), fullPage: true });
      assert.equal(first.error, null, 'demo page script failed');
      assert.deepEqual(pageErrors, []);
      assert.deepEqual(first.samples.map((s) => s.key).sort(), Object.keys(SAMPLES).sort());
      assert.equal(first.images.length, Object.keys(SAMPLES).length * IMAGES_PER_SAMPLE);

      await t.test('every picture decoded, as AVIF or WebP, at the expected size', () => {
        for (const img of first.images) {
          const where = `${img.role} ${img.src}`;
          assert.ok(img.complete && img.naturalWidth > 0, `not decoded: ${where}`);
          const response = imageResponses.get(img.src);
          assert.ok(response, `no network response seen for ${where}`);
          assert.equal(response.status, 200, where);
          assert.match(response.headers['content-type'], /^image\/(avif|webp)$/, where);
          assert.equal(response.headers['x-cache'], 'Miss from cloudfront', where);
          const requested = Number(new URL(img.src).searchParams.get('w'));
          const want = expectedSize(SAMPLES[img.key], requested);
          assert.equal(img.naturalWidth, want.width, `width of ${where}`);
          assert.ok(Math.abs(img.naturalHeight - want.height) <= 1,
            `height of ${where}: ${img.naturalHeight}, want ${want.height}`);
        }
        // The EXIF-rotated original is stored 1200×800: upright output is portrait.
        const house = first.images.filter((i) => i.key === 'photos/house-exif-rotated.jpg');
        assert.ok(house.every((i) => i.naturalHeight > i.naturalWidth), 'EXIF orientation not applied');
      });

      await t.test("the page's own table agrees", () => {
        assert.equal(first.results.length, first.images.length);
        for (const r of first.results) {
          assert.ok(r.ok, `${r.url} failed: ${r.error}`);
          assert.equal(r.status, 200, r.url);
          assert.match(r.contentType, /^image\/(avif|webp)$/, r.url);
          assert.equal(r.xCache, 'Miss from cloudfront', r.url);
          assert.equal(r.sizeOk, true, `${r.url}: ${r.naturalWidth}×${r.naturalHeight}, expected ${JSON.stringify(r.expected)}`);
          assert.ok(r.bytes > 0, r.url);
        }
        // The responsive <img> picked a width from its srcset.
        assert.ok(first.results.filter((r) => r.role === 'srcset').every((r) => [320, 640, 960].includes(r.requestedWidth)));
      });

      await t.test('loading the page again is served from the emulated CloudFront cache', async () => {
        // A fresh browser context has empty HTTP and memory caches (a CDP "cache
        // disabled" reload still serves images from Blink's memory cache), so every
        // picture must come from the edge again, this time as a hit.
        const again = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
        const page2 = await again.newPage();
        const responses2 = new Map();
        page2.on('response', async (response) => {
          if (response.request().resourceType() !== 'image') return;
          responses2.set(response.url(), { status: response.status(), headers: await response.allHeaders() });
        });
        const second = await loadDemo(page2, dev.url);
        await page2.screenshot({ path: join(OUTPUT, 'demo-page-reload.png'), fullPage: true });
        assert.equal(second.error, null);
        assert.equal(second.images.length, first.images.length);
        assert.deepEqual(second.images.map((i) => i.src).sort(), first.images.map((i) => i.src).sort());
        for (const img of second.images) {
          assert.ok(img.naturalWidth > 0, `not decoded: ${img.src}`);
          const response = responses2.get(img.src);
          assert.ok(response, `no network response for ${img.src}`);
          assert.equal(response.headers['x-cache'], 'Hit from cloudfront', img.src);
          assert.match(response.headers['content-type'], /^image\/(avif|webp)$/, img.src);
        }
        for (const r of second.results) {
          assert.equal(r.xCache, 'Hit from cloudfront', r.url);
          assert.equal(r.fromBrowserCache, false, r.url);
        }
        await again.close();
      });

      await t.test("the Accept comparison: other browsers' headers get the formats they can show", async () => {
        await page.click('#compare');
        await page.waitForFunction(
          (n) => window.demo.accept.length === n, 6 * Object.keys(SAMPLES).length, { timeout: 600_000 });
        const rows = await page.evaluate(() => window.demo.accept);
        for (const r of rows) {
          assert.equal(r.status, 200, `${r.browser} ${r.url}`);
          const alpha = r.url.startsWith('/logo.png');
          const want = ['Chrome', 'Firefox', 'Safari'].includes(r.browser) ? 'image/avif'
            : alpha ? 'image/png' : 'image/jpeg';
          assert.equal(r.contentType, want, `${r.browser} ${r.url}`);
        }
        // Equivalent Accept headers share one cached object: only the first of each
        // format group is a miss.
        for (const sample of Object.keys(SAMPLES)) {
          const mine = rows.filter((r) => r.url.startsWith(`/${sample.split('/').map(encodeURIComponent).join('/')}?`));
          assert.deepEqual(mine.map((r) => r.xCache.split(' ')[0]), ['Miss', 'Hit', 'Hit', 'Miss', 'Hit', 'Hit'], sample);
        }
        await page.screenshot({ path: join(OUTPUT, 'demo-page-accept.png'), fullPage: true });
      });

      await browser.close();
      browser = undefined;
    } finally {
      await browser?.close().catch(() => {});
      const stopped = await dev.stop('SIGTERM');
      assert.deepEqual(stopped.left, [], 'processes left after stopping scripts/dev');
    }
  });
