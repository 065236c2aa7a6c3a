// Generated responses of the origin-response handler.

import { IMMUTABLE } from '../lambda-common/derived.mjs';
import { cfHeaders, SAFETY_HEADERS } from '../lambda-common/http.mjs';

export { IMMUTABLE };

/**
 * Lambda@Edge allows at most 1 MB for a response generated in an origin event, headers
 * and base64 body included. Kept a little under 1,000,000 so either reading of "MB" holds.
 */
export const GENERATED_RESPONSE_LIMIT = 1_000_000;

// CloudFront rejects a result that removes or changes these (origin-response events).
const READ_ONLY = ['transfer-encoding', 'via'];

/**
 * 200 with the image as base64 body, or null when it would not fit the generated
 * response limit. `image`: `{ body: Uint8Array, contentType, negotiated }`.
 */
export function imageResponse(originResponse, image, timings) {
  if (base64Length(image.body.length) > GENERATED_RESPONSE_LIMIT) return null;
  const result = {
    status: '200',
    statusDescription: 'OK',
    headers: {
      ...readOnlyHeaders(originResponse),
      ...cfHeaders({
        'content-type': image.contentType,
        'cache-control': IMMUTABLE,
        // fm_auto keys were chosen from Accept; caches between CloudFront and the browser
        // must not hand this body to a browser with another Accept.
        vary: image.negotiated ? 'accept' : undefined,
        'server-timing': serverTiming(timings),
        ...SAFETY_HEADERS,
      }),
    },
    body: Buffer.from(image.body.buffer, image.body.byteOffset, image.body.length).toString('base64'),
    bodyEncoding: 'base64',
  };
  return generatedSize(result) <= GENERATED_RESPONSE_LIMIT ? result : null;
}

/**
 * 307 to the same URI: the object is in S3 now, so the retry is served from S3 (and then
 * cached by CloudFront). `no-store` keeps the redirect itself out of every cache.
 */
export function redirectResponse(originResponse, location, timings) {
  return {
    status: '307',
    statusDescription: 'Temporary Redirect',
    headers: {
      ...readOnlyHeaders(originResponse),
      ...cfHeaders({
        location,
        'cache-control': 'no-store',
        'server-timing': serverTiming(timings),
        ...SAFETY_HEADERS,
      }),
    },
  };
}

/** Bytes CloudFront counts for a generated response: body plus header names and values. */
export function generatedSize(result) {
  let size = (result.body ?? '').length + (result.statusDescription ?? '').length + 3;
  for (const [name, entries] of Object.entries(result.headers ?? {})) {
    for (const { value } of entries) size += name.length + value.length + 4;
  }
  return size;
}

/** Whether a body of `bytes` can plausibly be returned as a generated response. */
export function fitsGenerated(bytes) {
  return base64Length(bytes) + 2048 <= GENERATED_RESPONSE_LIMIT;
}

function base64Length(bytes) {
  return Math.ceil(bytes / 3) * 4;
}

function readOnlyHeaders(originResponse) {
  const kept = {};
  for (const name of READ_ONLY) {
    const entries = originResponse.headers?.[name];
    if (Array.isArray(entries) && entries.length) kept[name] = entries;
  }
  return kept;
}

/** `head;dur=3, get;dur=12, transform;dur=80, put;dur=9` (W3C Server-Timing). */
function serverTiming(timings) {
  const entries = Object.entries(timings);
  return entries.length ? entries.map(([stage, ms]) => `${stage};dur=${ms}`).join(', ') : undefined;
}
