// What every derived object carries, whoever writes it (the origin-response handler on
// a cache miss, the upload processor eagerly): the same Cache-Control and the same
// source metadata, so an eager variant is indistinguishable from one the edge made.

/** A derived key always names the same variant of its original, so caches may keep it. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

// S3 user metadata must be ASCII; escape the rest (and `%` itself) like a URI.
function ascii(s) {
  return s.replace(/[^\x20-\x7e]|%/gu, (c) => encodeURIComponent(c));
}

/** `x-amz-meta-source-key` / `source-etag` of a derived object. */
export function sourceMetadata(originalKey, etag) {
  const meta = { 'source-key': ascii(originalKey) };
  if (typeof etag === 'string') meta['source-etag'] = ascii(etag);
  return meta;
}

/** PutObject parameters of the derived object `key` made from `originalKey`@`etag`. */
export function derivedPutParams({ bucket, key, body, contentType, originalKey, etag }) {
  return {
    Bucket: bucket,
    Key: key,
    Body: body,
    ContentType: contentType,
    CacheControl: IMMUTABLE,
    Metadata: sourceMetadata(originalKey, etag),
  };
}
