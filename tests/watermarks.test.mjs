// lambda-common/watermarks.mjs with the real wasm core: the watermark is read from the
// bucket once, kept decoded per container by ETag, re-read after REVALIDATE_MS and
// decoded again only when the ETag changed.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadShim } from '../lambda-common/wasm.mjs';
import { ensureWatermark, REVALIDATE_MS } from '../lambda-common/watermarks.mjs';
import { encodePng } from './lib/png-lite.mjs';

test('watermarks are cached per container by ETag', async () => {
  const shim = await loadShim(new URL('../edge-shim/pkg/', import.meta.url));
  shim.configure(JSON.stringify({ watermarks: { badge: { key: 'marks/badge.png' } } }));
  const png = encodePng({ width: 8, height: 4, channels: 4, data: Buffer.alloc(128, 200) });
  const reads = [];
  let etag = '"v1"';
  const readObject = async (key) => {
    reads.push(key);
    return { body: png, etag };
  };
  const mark = shim.watermarkFor('_derived/photos/cat.jpg/w_100,wm_badge.source');
  assert.deepEqual({ ...mark }, { name: 'badge', key: 'marks/badge.png' });
  assert.equal(shim.watermarkFor('_derived/photos/cat.jpg/w_100.source'), undefined);

  const t0 = 1_000_000;
  assert.equal(await ensureWatermark(shim, mark, readObject, t0), 'loaded');
  assert.equal(shim.watermarkEtag('badge'), '"v1"');
  assert.equal(await ensureWatermark(shim, mark, readObject, t0 + 1000), 'cached');
  assert.equal(reads.length, 1);
  assert.equal(await ensureWatermark(shim, mark, readObject, t0 + REVALIDATE_MS + 1), 'revalidated');
  etag = '"v2"';
  assert.equal(await ensureWatermark(shim, mark, readObject, t0 + 3 * REVALIDATE_MS), 'loaded');
  assert.equal(shim.watermarkEtag('badge'), '"v2"');
  assert.equal(await ensureWatermark(shim, undefined, readObject), 'none');
  // Missing object: a 502, not a silently unmarked image.
  await assert.rejects(
    ensureWatermark(shim, { name: 'badge', key: 'gone.png' }, async () => null, t0 + 10 * REVALIDATE_MS),
    (err) => err.status === 502,
  );
  // An unknown watermark name in a derived key is a 400 naming wm.
  assert.throws(() => shim.watermarkFor('_derived/photos/cat.jpg/wm_nope.source'), (err) => err.status === 400 && /^wm:/.test(err.message));
});
