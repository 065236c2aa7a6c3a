// POST /transform (an image in the body, the result in the response) and GET /resize
// (the no-CDN route: make the variant if missing, store it, redirect to it). Image and
// key rules are the wasm core's; this module moves bytes.

import { createHash } from 'node:crypto';

import { binaryResponse, redirectResponse, requireCaller } from '../lambda-common/apigw.mjs';
import { derivedPutParams, IMMUTABLE } from '../lambda-common/derived.mjs';
import { HttpError } from '../lambda-common/http.mjs';
import { getObject, headObject, putObjectOnce } from '../lambda-common/s3.mjs';
import { presignGet } from './presign.mjs';
import { configured } from './settings.mjs';

/** API Gateway refuses larger requests; Function URLs stop at 6 MB already. */
export const REQUEST_LIMIT_BYTES = 10 * 1024 * 1024;
/**
 * Lambda's synchronous response limit is 6 MB (6,291,456 bytes) for the whole JSON
 * response; keep the base64 body 16 KB under it for the headers and the envelope.
 */
export const RESPONSE_BODY_LIMIT = 6 * 1024 * 1024 - 16 * 1024;
/** Lifetime of the presigned GET for a result too large to return. */
export const RESULT_URL_SECONDS = 15 * 60;
// Every S3 call of one request must be done well within the function's timeout.
const S3_BUDGET_MS = 20_000;

export async function transform(request, deps, log) {
  if (deps.transformRequiresAuth) requireCaller(request);
  const input = request.body;
  if (!input?.length) {
    throw new HttpError(400, 'invalid_parameter', 'body: the image is required (binary body, or base64 with isBase64Encoded)');
  }
  if (input.length > REQUEST_LIMIT_BYTES) {
    throw new HttpError(413, 'limit_exceeded', `body: ${input.length} bytes is over API Gateway's ${REQUEST_LIMIT_BYTES} byte request limit`);
  }
  if (input.length > deps.maxInputBytes) {
    throw new HttpError(413, 'limit_exceeded', `body: ${input.length} bytes is over limits.maxInputBytes (${deps.maxInputBytes})`);
  }
  log.bytesIn = input.length;
  const started = performance.now();
  const output = deps.shim.transform(new Uint8Array(input.buffer, input.byteOffset, input.length), request.query, request.headers.accept);
  Object.assign(log, { bytesOut: output.body.length, width: output.width, height: output.height, format: output.format });
  const headers = {
    'content-type': output.contentType,
    'cache-control': 'no-store',
    // fm=auto (or autoFormatByDefault) chooses from Accept.
    vary: 'accept',
    'server-timing': `transform;dur=${Math.round(performance.now() - started)}`,
  };
  if (Math.ceil(output.body.length / 3) * 4 <= RESPONSE_BODY_LIMIT) {
    return binaryResponse(200, output.body, headers);
  }

  // Too large for a Lambda response: store it (content-addressed, so a repeat costs
  // nothing) and send the client to a presigned GET.
  const bucket = configured(deps, 'bucket');
  const digest = createHash('sha256').update(output.body).digest('hex');
  const key = `${deps.derivedPrefix}_transform/${digest}.${output.format}`;
  log.key = key;
  const signal = AbortSignal.timeout(S3_BUDGET_MS);
  await putObjectOnce(
    deps.s3,
    { Bucket: bucket, Key: key, Body: output.body, ContentType: output.contentType, CacheControl: IMMUTABLE },
    signal,
  );
  const url = await presignGet({ bucket, key }, RESULT_URL_SECONDS);
  return redirectResponse(303, url, { 'cache-control': 'no-store' });
}

export async function resize(request, deps, log) {
  const target = deps.shim.resizeTarget(request.query, request.headers.accept);
  log.key = target.key;
  const bucket = configured(deps, 'bucket');
  const base = configured(deps, 'cdnBaseUrl').replace(/\/+$/, '');
  const signal = AbortSignal.timeout(S3_BUDGET_MS);

  const existing = await headObject(deps.s3, bucket, target.key, signal);
  if (existing) {
    log.action = 'existing';
  } else {
    const original = await getObject(deps.s3, bucket, target.original, deps.maxInputBytes, signal);
    if (!original) throw new HttpError(404, 'not_found', 'original image not found');
    log.bytesIn = original.body.length;
    const output = deps.shim.transformDerived(original.body, target.key);
    Object.assign(log, { bytesOut: output.body.length, width: output.width, height: output.height, format: output.format });
    const params = derivedPutParams({
      bucket,
      key: target.key,
      body: output.body,
      contentType: output.contentType,
      originalKey: target.original,
      etag: original.etag,
    });
    log.action = `generated-${await putObjectOnce(deps.s3, params, signal)}`;
  }
  // One canonical, immutable object per key: the redirect may be cached like it.
  const headers = { 'cache-control': 'public, max-age=31536000' };
  if (target.negotiated) headers.vary = 'accept';
  return redirectResponse(301, `${base}${target.uri}`, headers);
}
