// The playground panel of scripts/dev's demo page in real Chromium (playwright-core):
// parameters on an original give the URL, the derived key and the result with its
// format, pixels, bytes, saving, time and edge-cache status; a wrong value shows the
// API's error message; a dropped (here: chosen) file is stored and resized too —
// an SVG rasterised at the asked width, an animated GIF kept animated.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { freePort, ROOT, startDevProcess } from './lib/dev-process.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const OUTPUT = join(ROOT, 'test-output');
const CORPUS = fileURLToPath(new URL('../../shared/corpus/', import.meta.url));

async function runForm(page, values) {
  const before = await page.evaluate(() => window.playground.runs);
  for (const [name, value] of Object.entries(values)) {
    const selector = `#pg-${name}`;
    const tag = await page.$eval(selector, (e) => e.tagName);
    if (tag === 'SELECT') await page.selectOption(selector, value);
    else await page.fill(selector, value);
  }
  await page.click('#pg-run');
  await page.waitForFunction((n) => window.playground.runs > n, before, { timeout: 120_000 });
  return page.evaluate(() => ({
    ...window.playground.last,
    shownUrl: document.getElementById('pg-url').textContent,
    shownKey: document.getElementById('pg-key').textContent,
    shownError: document.getElementById('pg-error').hidden ? null : document.getElementById('pg-error').textContent,
    resultInfo: document.getElementById('pg-result-info').textContent,
  }));
}

const CLEAR = { w: '', h: '', dpr: '', fit: '', pos: '', q: '', fm: '', bg: '', enlarge: '', anim: '', extra: '' };

test('playground in Chromium: URL, derived key, result facts, errors, dropped files',
  { skip: !existsSync(CHROMIUM) && `${CHROMIUM} not installed (scripts/lib/setup-browser.sh)`, timeout: 900_000 },
  async (t) => {
    const { chromium } = await import('playwright-core');
    mkdirSync(OUTPUT, { recursive: true });
    const scratch = mkdtempSync(join(tmpdir(), 'playground-test-'));
    const dev = await startDevProcess({ port: await freePort() });
    let browser;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
          '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      });
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
      const pageErrors = [];
      page.on('pageerror', (err) => pageErrors.push(String(err)));
      await page.goto(dev.url, { waitUntil: 'domcontentloaded' });
      await page.waitForFunction(() => window.playground?.ready === true || window.playground?.error, null, { timeout: 120_000 });
      assert.equal(await page.evaluate(() => window.playground.error ?? null), null);

      await t.test('an original with parameters: URL, key, facts, then an edge-cache hit', async () => {
        await page.selectOption('#pg-original', 'logo.png');
        const r = await runForm(page, { ...CLEAR, w: '200', fm: 'webp' });
        assert.equal(r.shownUrl, '/logo.png?w=200&fm=webp');
        assert.equal(r.derivedKey, '_derived/logo.png/w_200.webp');
        assert.equal(r.shownKey, r.derivedKey);
        assert.equal(r.format, 'image/webp');
        assert.deepEqual([r.width, r.height], [200, 200]);
        assert.deepEqual([r.original.width, r.original.height], [800, 800]);
        assert.ok(r.bytes > 0 && r.bytes < r.original.bytes);
        assert.ok(r.saving > 0 && r.saving < 1);
        assert.ok(r.ms >= 0);
        assert.equal(r.edgeCache, 'Miss from cloudfront');
        assert.match(r.resultInfo, /image\/webp · 200×200 · .* saving .* ms · Miss from cloudfront/);
        const again = await runForm(page, {});
        assert.equal(again.edgeCache, 'Hit from cloudfront');
      });

      await t.test("a wrong value shows the API's message", async () => {
        const r = await runForm(page, { ...CLEAR, w: '0' });
        assert.equal(r.error.status, 400);
        assert.match(r.error.message, /^w: must be/);
        assert.ok(r.shownError.includes(r.error.message), r.shownError);
        const bad = await runForm(page, { ...CLEAR, fm: '', anim: '', extra: 'anim=maybe' });
        assert.match(bad.error.message, /^anim: must be one of 1, 0, true, false/);
      });

      await t.test('a dropped SVG is rasterised at the asked width', async () => {
        const svg = join(scratch, 'badge.svg');
        writeFileSync(svg, '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 5"><rect width="10" height="5" rx="1" fill="#c30"/></svg>');
        await page.setInputFiles('#pg-file', svg);
        await page.waitForFunction(() => document.getElementById('pg-original').value === 'playground/badge.svg');
        const r = await runForm(page, { ...CLEAR, w: '600', fm: 'png' });
        assert.equal(r.derivedKey, '_derived/playground/badge.svg/w_600.png');
        assert.equal(r.format, 'image/png');
        assert.deepEqual([r.width, r.height], [600, 300]);
      });

      await t.test('a dropped animated GIF stays animated as WebP and GIF', async () => {
        await page.setInputFiles('#pg-file', join(CORPUS, 'formats/rotating-squares.gif'));
        await page.waitForFunction(() => document.getElementById('pg-original').value === 'playground/rotating-squares.gif');
        const webp = await runForm(page, { ...CLEAR, w: '40', fm: 'webp' });
        assert.equal(webp.format, 'image/webp');
        assert.deepEqual([webp.width, webp.height], [40, 40]);
        const gif = await runForm(page, { ...CLEAR, w: '40', fm: 'gif' });
        assert.equal(gif.format, 'image/gif');
        assert.equal(gif.derivedKey, '_derived/playground/rotating-squares.gif/w_40.gif');
        const still = await runForm(page, { ...CLEAR, w: '40', fm: 'gif', anim: '0' });
        assert.equal(still.derivedKey, '_derived/playground/rotating-squares.gif/w_40,anim_0.gif');
        assert.ok(still.bytes < gif.bytes, 'first frame only is smaller');
      });

      await page.screenshot({ path: join(OUTPUT, 'playground.png'), fullPage: true });
      assert.deepEqual(pageErrors, []);
      await browser.close();
      browser = undefined;
    } finally {
      await browser?.close().catch(() => {});
      rmSync(scratch, { recursive: true, force: true });
      const stopped = await dev.stop('SIGTERM');
      assert.deepEqual(stopped.left, [], 'processes left after stopping scripts/dev');
    }
  });
