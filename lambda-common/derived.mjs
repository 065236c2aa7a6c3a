// Storing a generated variant: every writer (origin-response, the API's /resize route,
// the upload processor) writes the same headers and metadata, so an object looks the
// same in S3 whoever made it first.

import { putObjectOnce } from './s3.mjs';

/** Derived keys name one immutable variant each. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * PutObject of `output` (`{ body, contentType }`, from the wasm core) under `key`, never
 * overwriting: `'stored'`, or `'exists'` when another writer was first.
 */
export function storeDerived(s3, { bucket, key, output, originalKey, etag }, abortSignal) {
  return putObjectOnce(
    s3,
    {
      Bucket: bucket,
      Key: key,
      Body: output.body,
      ContentType: output.contentType,
      CacheControl: IMMUTABLE,
      Metadata: sourceMetadata(originalKey, etag),
    },
    abortSignal,
  );
}

// S3 user metadata must be ASCII; escape the rest (and `%` itself) like a URI.
export function sourceMetadata(originalKey, etag) {
  const ascii = (s) => s.replace(/[^\x20-\x7e]|%/gu, (c) => encodeURIComponent(c));
  const meta = { 'source-key': ascii(originalKey) };
  if (typeof etag === 'string') meta['source-etag'] = ascii(etag);
  return meta;
}
