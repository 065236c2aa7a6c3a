// Origin-response logic: when S3 answers 404/403 for a derived key, fetch the original,
// transform it with the wasm core, write the result back to S3 and return it.
//
// Over-limit outputs: a generated origin response may be at most 1 MB including headers
// and the base64 body. A larger result is answered with a 307 to the same URI once the
// object is stored (the retry is then served by S3 and never reaches this code). Loop
// guard: we redirect only to an object we know is in S3, and when S3 reports a miss for
// an object that already existed before that miss (CloudFront cannot read what we
// write), we answer 502 instead of redirecting again.

import { checkTransformFits, deadlineFrom } from '../lambda-common/deadline.mjs';
import { errorResponse, headerValue, HttpError, logLine, toHttpError } from '../lambda-common/http.mjs';
import { ensureWatermark } from '../lambda-common/watermarks.mjs';
import { derivedPutParams } from '../lambda-common/derived.mjs';
import { getObject, headObject, putObjectOnce, s3Origin } from '../lambda-common/s3.mjs';
import { fitsGenerated, imageResponse, redirectResponse } from './respond.mjs';

const MISS_STATUSES = new Set(['403', '404']);

// Time kept after the transform for the PUT and the answer.
const PUT_RESERVE_MS = 2000;

/**
 * Handle one origin-response event. `deps`: `shim` (full edge-shim), `s3ClientFor(region)`,
 * `maxInputBytes` (from the core's effective config), `budgetMs` (one deadline for the S3
 * calls and the transform together, counted from the start of the invocation).
 */
export async function handleOriginResponse(event, deps) {
  const started = performance.now();
  const cf = event?.Records?.[0]?.cf;
  const log = { handler: 'origin-response', requestId: str(cf?.config?.requestId), uri: str(cf?.request?.uri) };
  const timings = {};
  let result;
  try {
    result = await respond(cf, deps, log, timings, deadlineFrom(started, deps.budgetMs));
  } catch (err) {
    const error = toHttpError(err);
    log.code = error.code;
    log.message = error.detail ?? error.message;
    if (error.trap) log.trap = true;
    result = errorResponse(error);
  }
  timings.total = ms(started);
  logLine({ ...log, status: Number(result.status), timings });
  return result;
}

async function respond(cf, deps, log, timings, deadline) {
  const { request, response } = cf ?? {};
  if (!isObject(request) || !isObject(response) || typeof request.uri !== 'string') {
    throw new HttpError(400, 'invalid_event', 'not a CloudFront origin-response event');
  }
  // The core decodes the raw URI with the viewer's rules and decides: not a derived key
  // (pass S3's answer on), or a canonical one to generate (anything else throws 400).
  const variant = MISS_STATUSES.has(String(response.status)) ? deps.shim.originDecision(request.uri) : { action: 'pass' };
  if (variant.action !== 'generate') {
    log.action = 'pass';
    return response;
  }
  const { key } = variant;
  log.key = key;
  log.format = variant.format;
  const origin = s3Origin(request.origin);
  const s3 = deps.s3ClientFor(origin.region);
  const signal = deadline.signal();
  const derivedKey = origin.keyPrefix + key;
  const timed = stageTimer(timings);

  const existing = await timed('head', () => headObject(s3, origin.bucket, derivedKey, signal));
  if (existing) {
    // S3 said "missing" but the object is there: either another request stored it just
    // now (a race), or CloudFront cannot read what we write (a loop if we redirected).
    log.action = 'existing';
    if (fitsGenerated(existing.contentLength)) {
      const stored = await timed('get', () => getObject(s3, origin.bucket, derivedKey, Infinity, signal));
      const image = stored && { body: stored.body, contentType: stored.contentType, negotiated: variant.negotiated };
      const served = image && imageResponse(response, image, timings);
      if (served) {
        log.bytesOut = stored.body.length;
        return served;
      }
    }
    if (!writtenAfterMiss(existing.lastModified, response)) {
      throw new HttpError(502, 'origin_loop', 'derived object exists but the origin reported it missing; check that CloudFront can read the derived prefix');
    }
    log.action += '-redirect';
    return redirectResponse(response, request.uri, timings);
  }

  const original = await timed('get', () =>
    getObject(s3, origin.bucket, origin.keyPrefix + variant.original, deps.maxInputBytes, signal),
  );
  if (!original) throw new HttpError(404, 'not_found', 'original image not found');
  log.bytesIn = original.body.length;
  checkTransformFits(deps.shim.estimateCost?.(original.body, key), deadline, PUT_RESERVE_MS);

  // wm=NAME: the watermark image from the same bucket, decoded once per ETag.
  const mark = deps.shim.watermarkFor(key);
  log.watermark = await timed('watermark', () =>
    ensureWatermark(deps.shim, mark, (markKey) =>
      getObject(s3, origin.bucket, origin.keyPrefix + markKey, deps.maxInputBytes, signal),
    ),
  );

  const output = timed('transform', () => deps.shim.transformDerived(original.body, key));
  // The core's own stages inside `transform` (decode, resize, colour, encode, ...).
  for (const [stage, ms] of Object.entries(output.timings ?? {})) timings[`wasm-${stage}`] = Math.round(ms);
  Object.assign(log, { bytesOut: output.body.length, width: output.width, height: output.height, format: output.format });
  if (output.timings) log.coreTimings = output.timings;

  let putError;
  const putResult = await timed('put', () =>
    putObjectOnce(
      s3,
      derivedPutParams({
        bucket: origin.bucket,
        key: derivedKey,
        body: output.body,
        contentType: output.contentType,
        originalKey: variant.original,
        etag: original.etag,
      }),
      signal,
    ).catch((err) => {
      putError = toHttpError(err);
      return 'failed';
    }),
  );
  log.action = `generated-${putResult}`;
  if (putError) log.putError = putError.message;

  const image = { body: output.body, contentType: output.contentType, negotiated: variant.negotiated };
  const generated = imageResponse(response, image, timings);
  if (generated) return generated;
  if (putError) {
    // Too large to return and not stored: a redirect would come straight back here.
    throw new HttpError(502, 'response_too_large', `result too large to return and not stored: ${putError.message}`);
  }
  log.action += '-redirect';
  return redirectResponse(response, request.uri, timings);
}

/**
 * Was the object written at or after the moment S3 reported it missing? Then the miss
 * was a race and the object is readable now; otherwise CloudFront cannot read it.
 * S3 times have one-second resolution, hence `>=`. Without a `date` header, assume the
 * miss happened a few seconds before this invocation.
 */
function writtenAfterMiss(lastModified, response) {
  const missAt = Date.parse(headerValue(response.headers, 'date') ?? '') || Date.now() - 5000;
  return lastModified instanceof Date && lastModified.getTime() >= Math.floor(missAt / 1000) * 1000;
}

function stageTimer(timings) {
  return (stage, fn) => {
    const start = performance.now();
    const finish = () => {
      timings[stage] = ms(start);
    };
    let value;
    try {
      value = fn();
    } catch (err) {
      finish();
      throw err;
    }
    if (value instanceof Promise) return value.finally(finish);
    finish();
    return value;
  };
}

function ms(start) {
  return Math.round(performance.now() - start);
}

function isObject(value) {
  return typeof value === 'object' && value !== null;
}

function str(value) {
  return typeof value === 'string' ? value : undefined;
}
