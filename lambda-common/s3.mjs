// S3 access shared by the handlers: one client per region/endpoint, reads with
// a byte cap, conditional writes, and S3 failures mapped to 502/503.

import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

import { HttpError } from './http.mjs';

// The origin-response event has 30 s in total; fail fast and leave time to answer.
const CONNECT_TIMEOUT_MS = 1500;
const REQUEST_TIMEOUT_MS = 8000;
const MAX_ATTEMPTS = 3;

const clients = new Map();

/**
 * A cached S3 client for `region`. Tests (and local dev) point it at another server with
 * the standard `AWS_ENDPOINT_URL_S3`; such servers want path-style addressing.
 */
export function s3ClientFor(region) {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 || undefined;
  const id = `${region}|${endpoint ?? ''}`;
  let client = clients.get(id);
  if (!client) {
    client = new S3Client({
      region,
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      maxAttempts: MAX_ATTEMPTS,
      requestHandler: {
        connectionTimeout: CONNECT_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      },
    });
    clients.set(id, client);
  }
  return client;
}

const S3_DOMAIN = /^(.+)\.s3(?:\.dualstack)?(?:[.-]([a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Bucket, region and key prefix of the event's S3 origin. `domainName` is
 * `<bucket>.s3[.<region>].amazonaws.com`; `path` is the origin path CloudFront puts in
 * front of every key.
 */
export function s3Origin(origin) {
  const s3 = origin?.s3;
  const domain = typeof s3?.domainName === 'string' ? s3.domainName.toLowerCase() : '';
  const match = S3_DOMAIN.exec(domain);
  const bucket = match ? match[1] : domain;
  if (!BUCKET_NAME.test(bucket)) {
    throw new HttpError(400, 'invalid_event', 'origin-response event has no S3 origin');
  }
  const domainRegion = match?.[2] && match[2] !== 'external-1' ? match[2] : undefined;
  const region =
    (typeof s3.region === 'string' && s3.region) ||
    domainRegion ||
    process.env.AWS_REGION ||
    'us-east-1';
  const path = typeof s3.path === 'string' ? s3.path.replace(/^\/+|\/+$/g, '') : '';
  return { bucket, region, keyPrefix: path ? `${path}/` : '' };
}

/** HeadObject: `{ contentLength, lastModified }`, or null when the object is absent. */
export async function headObject(client, bucket, key, abortSignal) {
  try {
    const res = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
    return { contentLength: res.ContentLength ?? 0, lastModified: res.LastModified };
  } catch (err) {
    if (isAbsent(err)) return null;
    throw s3Failure('HeadObject', err);
  }
}

/**
 * GetObject, reading at most `maxBytes` (413 beyond that, before buffering it all).
 * Returns `{ body, etag, contentType }` or null when the object is absent. A body cut
 * off mid-way (reset, truncation) is fetched once more if the deadline allows: the
 * SDK retries failed calls, but not a body that fails after the headers arrived.
 */
export async function getObject(client, bucket, key, maxBytes, abortSignal) {
  try {
    return await getObjectOnce(client, bucket, key, maxBytes, abortSignal);
  } catch (err) {
    if (!err?.bodyFailed || abortSignal?.aborted) throw err;
    return getObjectOnce(client, bucket, key, maxBytes, abortSignal);
  }
}

async function getObjectOnce(client, bucket, key, maxBytes, abortSignal) {
  let res;
  try {
    res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
  } catch (err) {
    if (isAbsent(err)) return null;
    throw s3Failure('GetObject', err);
  }
  try {
    if ((res.ContentLength ?? 0) > maxBytes) {
      throw new HttpError(413, 'limit_exceeded', `original is ${res.ContentLength} bytes, limit is ${maxBytes}`);
    }
    const body = await readCapped(res.Body, maxBytes);
    return { body, etag: res.ETag, contentType: res.ContentType };
  } catch (err) {
    res.Body?.destroy?.();
    if (err instanceof HttpError) throw err;
    throw Object.assign(s3Failure('GetObject', err), { bodyFailed: true });
  }
}

async function readCapped(stream, maxBytes) {
  const chunks = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > maxBytes) {
      throw new HttpError(413, 'limit_exceeded', `original is over the ${maxBytes} byte limit`);
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks, total));
}

/**
 * PutObject that never overwrites (`If-None-Match: *`): a concurrent request that wrote
 * the same variant first wins, and that counts as stored. PutObject is atomic, so a
 * failure leaves no partial object behind.
 */
export async function putObjectOnce(client, params, abortSignal) {
  try {
    await client.send(new PutObjectCommand({ ...params, IfNoneMatch: '*' }), { abortSignal });
    return 'stored';
  } catch (err) {
    const status = err?.$metadata?.httpStatusCode;
    if (status === 412 || status === 409) return 'exists';
    throw s3Failure('PutObject', err);
  }
}

// 403s that are about our credentials, not about the key: a broken deployment, not a miss.
const CREDENTIAL_ERRORS = new Set([
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'RequestTimeTooSkewed',
]);

// S3 answers 403 instead of 404 for a missing key when the caller may not list the bucket.
function isAbsent(err) {
  if (err?.name === 'NoSuchBucket' || CREDENTIAL_ERRORS.has(err?.name)) return false;
  const status = err?.$metadata?.httpStatusCode;
  return status === 404 || status === 403 || ['NoSuchKey', 'NotFound', 'AccessDenied'].includes(err?.name);
}

/** S3 throttling and timeouts → 503 (retry later); anything else → 502. */
export function s3Failure(operation, err) {
  const status = err?.$metadata?.httpStatusCode;
  const name = String(err?.code && err?.name === 'Error' ? err.code : (err?.name ?? err?.code ?? 'Error'));
  const retryLater =
    status === 503 ||
    status === 429 ||
    /SlowDown|Throttl|TooManyRequests|Timeout|Abort/i.test(name) ||
    err?.code === 'ETIMEDOUT';
  const detail = status ? `${name} (HTTP ${status})` : name;
  return retryLater
    ? new HttpError(503, 's3_unavailable', `S3 ${operation} failed: ${detail}`)
    : new HttpError(502, 's3_error', `S3 ${operation} failed: ${detail}`);
}
