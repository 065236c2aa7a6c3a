// Watermarks for the origin handler (issue 12): the core says which watermark a
// derived key needs (`watermarkFor`); this reads it from the originals bucket and
// hands the bytes to the core, which decodes and keeps it per container keyed by the
// object's ETag. It is re-read at most every REVALIDATE_MS, and decoded again only
// when the ETag changed.

import { HttpError } from './http.mjs';

export const REVALIDATE_MS = 60_000;

const lastChecked = new Map();

/**
 * Makes sure watermark `mark` (`{ name, key }` from `shim.watermarkFor`, or undefined)
 * is loaded in `shim`. `readObject(key)` resolves to `{ body, etag }` or null.
 * Returns 'none', 'cached', 'revalidated' or 'loaded'.
 */
export async function ensureWatermark(shim, mark, readObject, now = Date.now()) {
  if (!mark) return 'none';
  const loaded = shim.watermarkEtag(mark.name);
  if (loaded !== undefined && now - (lastChecked.get(mark.name) ?? -Infinity) < REVALIDATE_MS) {
    return 'cached';
  }
  const object = await readObject(mark.key);
  if (!object) {
    throw new HttpError(502, 'origin_error', `watermark ${mark.name}: object ${mark.key} not found in the bucket`);
  }
  const etag = object.etag ?? '';
  lastChecked.set(mark.name, now);
  if (loaded !== undefined && loaded === etag) return 'revalidated';
  shim.setWatermark(mark.name, etag, object.body);
  return 'loaded';
}
