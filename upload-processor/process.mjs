// One uploaded object: claim → GET → one decode, every eager variant (transformMany) →
// PUT each at the viewer's derived key → record → notice. The core decides the keys
// (eagerVariants) and the pixels; this module moves bytes and records outcomes.
//
// Failure classes: the core refusing the file (4xx) is final: the original is copied to
// uploads.errorPrefix, the record says failed, a notice goes out, no retry. Anything else
// (S3/DynamoDB/SNS unreachable, throttled, 5xx) throws a TransientError so that message
// alone goes back to SQS; the claim is released and variants already written are
// rewritten by the retry.

import { createHash } from 'node:crypto';

import { CopyObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';

import { awsClient, httpStatusOf } from '../lambda-common/aws.mjs';
import { derivedPutParams } from '../lambda-common/derived.mjs';
import { HttpError } from '../lambda-common/http.mjs';
import { claim, findItem, finish, getItem, markNotified, notify, release } from './record.mjs';

export class TransientError extends Error {}

const PUT_CONCURRENCY = 8;
const RETRIES_EXHAUSTED = 'retries_exhausted';

/**
 * Process one object reference `{bucket, key, etag, size, time}`. `deps`: `shim`,
 * `uploads` (effective config section), `maxInputBytes`, `leaseSeconds`.
 * Returns `{outcome, ...}` with outcome `ignored`, `gone`, `duplicate`, `busy`,
 * `completed` or `failed`; throws TransientError for a retry.
 */
export async function processObject(ref, deps) {
  const started = performance.now();
  const { uploads } = deps;
  // Loop guard: derived keys and errors/ copies (our own writes) are outside the prefix.
  if (!ref.key.startsWith(uploads.prefix)) return { outcome: 'ignored', key: ref.key };

  let keys;
  let token;
  let base;
  const written = [];
  const timings = {};
  const lap = (stage, since) => {
    timings[stage] = Math.round(performance.now() - since);
    return performance.now();
  };
  let t = performance.now();
  try {
    const original = await getOriginal(ref, deps.maxInputBytes);
    t = lap('get', t);
    if (!original) return { outcome: 'gone', key: ref.key };
    const etag = original.etag;
    const imageId = original.metadata['image-id'] || deterministicId(ref.bucket, ref.key, etag);
    const existing = await findItem(imageId);
    if (existing && existing.sourceEtag === etag && isFinal(existing)) {
      if (existing.notified === false) await sendNotice(existing);
      return { outcome: 'duplicate', imageId, key: ref.key };
    }
    keys = { imageId, uploadedAt: existing?.uploadedAt ?? epochSeconds(ref.time) };
    const userId = original.metadata['user-id'] || userOf(ref.key, uploads.prefix);
    token = await claim(keys, {
      etag,
      leaseSeconds: deps.leaseSeconds,
      fields: { userId, originalKey: ref.key, bucket: ref.bucket },
    });
    if (!token) {
      const now = await getItem(keys);
      if (now?.sourceEtag === etag && isFinal(now)) return { outcome: 'duplicate', imageId, key: ref.key };
      throw new TransientError(`upload ${imageId} is being processed by another invocation`);
    }

    base = { imageId, userId, originalKey: ref.key, originalSize: original.size ?? original.body.length };
    if (original.refused) return await failed(ref, keys, token, base, original.refused, started, uploads);
    t = lap('claim', t);
    let made;
    try {
      made = makeVariants(original.body, ref.key, deps);
      t = lap('transform', t);
    } catch (err) {
      if (isRefusal(err)) return await failed(ref, keys, token, base, err, started, uploads);
      throw err;
    }
    if (made.refused) return await failed(ref, keys, token, { ...base, ...made.source }, made.refused, started, uploads);

    await putAll(made.outputs, async (o) => {
      await awsClient('s3').send(
        new PutObjectCommand(
          derivedPutParams({ bucket: ref.bucket, key: o.key, body: o.body, contentType: o.contentType, originalKey: ref.key, etag }),
        ),
      );
      written.push(o.key);
    });
    t = lap('put', t);
    const record = completedRecord(base, made, uploads, started);
    if (!(await finish(keys, token, record))) return { outcome: 'busy', imageId, key: ref.key };
    t = lap('record', t);
    await sendNotice({ ...keys, ...record });
    lap('notice', t);
    return { outcome: 'completed', imageId, key: ref.key, variants: made.outputs.length, processingTimeMs: record.processingTimeMs, timings };
  } catch (err) {
    const transient = err instanceof TransientError ? err : new TransientError(describe(err), { cause: err });
    // The last receive before the DLQ: leave a failed record naming what was written
    // (best effort: DynamoDB may be what is down), so nothing stays half-done unrecorded.
    if (token && deps.lastAttempt) await giveUp(keys, token, base, transient, written, started).catch(() => {});
    else if (token) await release(keys, token);
    throw transient;
  }
}

async function giveUp(keys, token, base, err, written, started) {
  const record = {
    ...base,
    status: 'failed',
    error: { status: 503, code: RETRIES_EXHAUSTED, message: String(err.message).slice(0, 500) },
    variants: {},
    writtenKeys: written,
    processingTimeMs: Math.round(performance.now() - started),
    processedAt: new Date().toISOString(),
  };
  if (await finish(keys, token, record)) await sendNotice({ ...keys, ...record });
}

// A body cut off mid-read (a reset or truncated connection) is past the SDK's retries:
// read it once more before handing the whole message back to SQS.
async function getOriginal(ref, maxInputBytes) {
  try {
    return await getOriginalOnce(ref, maxInputBytes);
  } catch (err) {
    if (!err?.bodyFailed) throw err;
    return getOriginalOnce(ref, maxInputBytes);
  }
}

async function getOriginalOnce(ref, maxInputBytes) {
  let res;
  try {
    // The object as it is now: if a newer upload replaced the one in the event, this
    // processes the newer content under its own ETag, and its own event is then a duplicate.
    res = await awsClient('s3').send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
  } catch (err) {
    // Deleted since: nothing to do.
    if (httpStatusOf(err) === 404 || err?.name === 'NoSuchKey') return null;
    throw err;
  }
  const etag = String(res.ETag ?? ref.etag ?? '').replace(/^"|"$/g, '');
  const metadata = res.Metadata ?? {};
  if ((res.ContentLength ?? 0) > maxInputBytes) {
    res.Body?.destroy?.();
    const refused = new HttpError(413, 'limit_exceeded', `original is ${res.ContentLength} bytes, limit is ${maxInputBytes}`);
    return { body: new Uint8Array(0), etag, metadata, refused, size: res.ContentLength };
  }
  let body;
  try {
    body = new Uint8Array(await res.Body.transformToByteArray());
  } catch (err) {
    res.Body?.destroy?.();
    throw Object.assign(err, { bodyFailed: true });
  }
  return { body, etag, metadata };
}

/** All eager variants from one decode; `refused` when the core refuses the file. */
function makeVariants(body, originalKey, deps) {
  const planned = deps.shim.eagerVariants(originalKey);
  const keys = [...new Set(planned.map((v) => v.key))];
  const { source, outputs } = deps.shim.transformMany(body, keys);
  const byKey = new Map(outputs.map((o) => [o.key, o]));
  const refusedOutput = outputs.find((o) => o.error);
  const sourceFields = { originalFormat: source.format, width: source.width, height: source.height };
  if (refusedOutput) {
    const e = refusedOutput.error;
    if (e.status >= 500) throw new HttpError(e.status, e.code, e.message);
    return { source: sourceFields, refused: new HttpError(e.status, e.code, `${refusedOutput.key}: ${e.message}`) };
  }
  return { source: sourceFields, planned, byKey, outputs };
}

function completedRecord(base, made, uploads, started) {
  // URIs come from the core (the viewer's own encoding); only the CDN base is added.
  const cdn = (process.env.CDN_BASE_URL ?? '').replace(/\/+$/, '');
  const variants = {};
  for (const v of made.planned) {
    const o = made.byKey.get(v.key);
    const entry = { key: v.key, url: `${cdn}${v.uri}`, format: o.format, width: o.width, height: o.height, bytes: o.body.length };
    const current = (variants[v.entry] ??= { ...entry, url: `${cdn}${v.sourceUri}?${v.query}` });
    if (v.negotiated) (current.formats ??= {})[v.autoFormat] = entry;
  }
  const compressed = variants[uploads.compressed];
  const savings = compressed && base.originalSize > 0 ? ((base.originalSize - compressed.bytes) / base.originalSize) * 100 : undefined;
  const ttlDays = Number(process.env.RECORD_TTL_DAYS);
  return {
    ...base,
    ...made.source,
    variants,
    compressedKey: compressed?.key,
    compressedSize: compressed?.bytes,
    savingsPercent: savings === undefined ? undefined : Math.round(savings * 100) / 100,
    processingTimeMs: Math.round(performance.now() - started),
    status: 'completed',
    processedAt: new Date().toISOString(),
    expiresAt: ttlDays > 0 ? Math.floor(Date.now() / 1000) + Math.round(ttlDays * 86400) : undefined,
  };
}

async function failed(ref, keys, token, base, error, started, uploads) {
  const target = `${uploads.errorPrefix}${ref.key}`;
  await awsClient('s3').send(
    new CopyObjectCommand({ Bucket: ref.bucket, Key: target, CopySource: `${ref.bucket}/${encodeKeyPath(ref.key)}`, MetadataDirective: 'COPY' }),
  );
  const record = {
    ...base,
    status: 'failed',
    error: { status: error.status, code: error.code, message: String(error.message).slice(0, 500) },
    errorKey: target,
    variants: {},
    processingTimeMs: Math.round(performance.now() - started),
    processedAt: new Date().toISOString(),
  };
  if (!(await finish(keys, token, record))) return { outcome: 'busy', imageId: keys.imageId, key: ref.key };
  await sendNotice({ ...keys, ...record });
  return { outcome: 'failed', imageId: keys.imageId, key: ref.key, status: error.status, code: error.code };
}

/** A record no event for the same ETag changes (a retries_exhausted one may be redriven). */
function isFinal(item) {
  return item.status === 'completed' || (item.status === 'failed' && item.error?.code !== RETRIES_EXHAUSTED);
}

/** The notice, then the mark that it went out (a retry re-sends only unmarked ones). */
async function sendNotice(item) {
  if (await notify(item)) await markNotified({ imageId: item.imageId, uploadedAt: item.uploadedAt });
}

/** A refusal of the file by the core (4xx with a code), as opposed to a bug or an outage. */
function isRefusal(err) {
  const status = Number(err?.status);
  return Number.isInteger(status) && status >= 400 && status < 500 && typeof err?.code === 'string';
}

/** imageId of an upload that did not come through the API: stable for bucket + key + ETag. */
function deterministicId(bucket, key, etag) {
  return createHash('sha256').update(`${bucket}\n${key}\n${etag}`).digest('hex').slice(0, 32);
}

/** `uploads/<userId>/<name>` → userId (undefined for keys without a user segment). */
function userOf(key, prefix) {
  const rest = key.slice(prefix.length);
  const slash = rest.indexOf('/');
  return slash > 0 ? rest.slice(0, slash) : undefined;
}

function epochSeconds(time) {
  const ms = Date.parse(time ?? '');
  return Math.floor((Number.isFinite(ms) ? ms : Date.now()) / 1000);
}

/** An S3 key for CopySource (the S3 API wants it URL-encoded, `/` kept). */
function encodeKeyPath(key) {
  return key.split('/').map(encodeURIComponent).join('/');
}

async function putAll(items, put) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await put(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(PUT_CONCURRENCY, items.length) }, worker));
}

function describe(err) {
  const status = httpStatusOf(err);
  return `${err?.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${err?.message ?? String(err)}`;
}
