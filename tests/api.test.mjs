// The regional API handler (api/index.mjs) driven with API Gateway HTTP API payload-2.0
// events, against the same local servers as the upload pipeline (ministack: S3 with
// SigV4 and notifications, SQS, DynamoDB): presigned uploads and a real PUT, the pending
// record completed by the real upload processor, POST /transform and GET /resize.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';

import { httpApiEvent } from '../dev/apigateway.mjs';
import { loadShim } from '../lambda-common/wasm.mjs';
import { pollOnce } from '../dev/upload-poller.mjs';
import { imageSize } from './lib/image-size.mjs';
import { viewerRequestEvent } from './lib/events.mjs';
import { startLocalAws } from './lib/localaws.mjs';

const CORPUS = new URL('../../shared/corpus/', import.meta.url);
const PHOTO = readFileSync(new URL('photos/GreenMeadow_progressive.jpg', CORPUS));
const BIG_PHOTO = readFileSync(new URL('photos/HMD_Nokia_8.3_5G.jpg', CORPUS));
const CORRUPT = readFileSync(new URL('formats/corrupt_data.jpg', CORPUS));
const BAKED = JSON.parse(readFileSync(new URL('../config/default.json', import.meta.url), 'utf8'));
const BUCKET = 'api-images';
const TABLE = 'api-meta';
const CDN = 'https://cdn.example.test';
// Explicit eager queries: the default entries use presets that branch `signing` adds.
const TEST_CONFIG = JSON.stringify({
  ...BAKED,
  uploads: { eager: { thumbnail: 'w=150&h=150&fit=cover&fm=auto', medium: 'w=600&fm=auto', compressed: 'w=1200&h=1200&fm=webp&q=80' }, autoFormats: ['webp', 'legacy'], compressed: 'compressed' },
});

let aws;
let queue;
let api;
let processor;
let viewer;
let docs;

before(async () => {
  aws = await startLocalAws();
  queue = await aws.createQueue('api-uploads', { dlq: true, visibilityTimeout: 2 });
  await aws.createBucket(BUCKET, { notify: { queue, prefix: 'uploads/' } });
  await aws.createTable(TABLE);
  Object.assign(process.env, aws.env, { IMAGES_BUCKET: BUCKET, METADATA_TABLE: TABLE, CDN_BASE_URL: CDN });
  ({ handler: api } = await import('../api/index.mjs'));
  ({ handler: processor } = await import('../upload-processor/index.mjs'));
  ({ handler: viewer } = await import('../viewer-request/index.mjs'));
  // The same module instance the handlers use: switch it to the test's eager entries.
  (await loadShim(new URL('../edge-shim/pkg/', import.meta.url))).configure(TEST_CONFIG);
  docs = DynamoDBDocumentClient.from(aws.clients.dynamodb);
  await drain(); // S3's s3:TestEvent
});

after(async () => {
  await aws?.stop();
});

const drain = () => aws.drainQueue(queue.url);

/** Call the handler like API Gateway with a JWT authorizer would for caller `sub`. */
async function call({ method = 'GET', path, query = '', body, json, sub, headers = {} }) {
  const h = { host: 'abc123.execute-api.us-east-1.amazonaws.com', ...headers };
  let payload = body;
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    payload = JSON.stringify(json);
  }
  const claims = sub ? { sub, iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test', token_use: 'id' } : undefined;
  const result = await api(httpApiEvent({ method, path, query, headers: h, body: payload, claims }));
  assert.equal(typeof result.statusCode, 'number');
  const bytes = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body ?? '');
  const type = result.headers?.['content-type'] ?? '';
  return { ...result, bytes, data: type.startsWith('application/json') ? JSON.parse(bytes.toString('utf8')) : undefined };
}

const upload = (sub, fields) => call({ method: 'POST', path: '/uploads', json: fields, sub });

/** PUT `body` to a presigned URL with `headers`, as a browser or curl would. */
function putTo(uploadUrl, headers, body) {
  const sent = { ...headers };
  delete sent['content-length']; // fetch sets it from the body
  return fetch(uploadUrl, { method: 'PUT', headers: sent, body });
}

function assertError(res, status, code, messageStart) {
  assert.equal(res.statusCode, status, res.bytes.toString());
  assert.equal(res.data.status, status);
  assert.equal(res.data.code, code);
  if (messageStart) assert.ok(res.data.message.startsWith(messageStart), res.data.message);
}

describe('POST /uploads', () => {
  test('presigned PUT: 15 minutes, signed type, size and image id; S3 refuses anything else', async () => {
    const before = Date.now();
    const res = await upload('user-a', { filename: '../My Photo (1).jpg', contentType: 'image/jpeg', size: PHOTO.length });
    assert.equal(res.statusCode, 200, res.bytes.toString());
    const { imageId, key, uploadUrl, method, headers, expiresAt } = res.data;
    assert.match(imageId, /^[0-9a-f-]{36}$/);
    assert.match(key, /^uploads\/user-a\/\d{8}_\d{6}_My_Photo_1_\.jpg$/);
    assert.equal(method, 'PUT');
    assert.deepEqual(headers, { 'content-type': 'image/jpeg', 'content-length': String(PHOTO.length), 'x-amz-meta-image-id': imageId });
    const expires = Date.parse(expiresAt) - before;
    assert.ok(expires >= 899_000 && expires <= 905_000, `expiresAt ${expiresAt}`);
    const url = new URL(uploadUrl);
    assert.equal(url.searchParams.get('X-Amz-Expires'), '900');
    assert.equal(url.searchParams.get('X-Amz-SignedHeaders'), 'content-length;content-type;host;x-amz-meta-image-id');
    assert.ok(url.pathname.endsWith(`/${BUCKET}/${key.split('/').map(encodeURIComponent).join('/')}`), url.pathname);

    // The pending record exists before any byte is uploaded.
    const item = await pendingItem(imageId);
    assert.equal(item.status, 'pending');
    assert.equal(item.userId, 'user-a');
    assert.equal(item.originalKey, key);
    assert.ok(Math.abs(item.uploadedAt - before / 1000) < 5);

    // S3 itself checks the signed headers: another size, type or image id is refused.
    const shorter = await putTo(uploadUrl, headers, PHOTO.subarray(0, PHOTO.length - 1));
    assert.equal(shorter.status, 403, 'a different size is refused');
    const otherType = await putTo(uploadUrl, { ...headers, 'content-type': 'image/png' }, PHOTO);
    assert.equal(otherType.status, 403, 'a different type is refused');
    const otherId = await putTo(uploadUrl, { ...headers, 'x-amz-meta-image-id': 'someone-else' }, PHOTO);
    assert.equal(otherId.status, 403, 'a different image id is refused');
    const missing = await putTo(uploadUrl, { 'content-type': 'image/jpeg' }, PHOTO);
    assert.equal(missing.status, 403, 'the image id header is required');
    const ok = await putTo(uploadUrl, headers, PHOTO);
    assert.equal(ok.status, 200, await ok.text());
    const head = await aws.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(head.ContentLength, PHOTO.length);
    assert.equal(head.ContentType, 'image/jpeg');
    assert.equal(head.Metadata['image-id'], imageId);

    // Until the pipeline has run, the record reads as pending, to its owner only.
    const pending = await call({ path: `/images/${imageId}`, sub: 'user-a' });
    assert.equal(pending.statusCode, 200);
    assert.deepEqual(pending.data, { status: 'pending' });
    assertError(await call({ path: `/images/${imageId}`, sub: 'user-b' }), 404, 'not_found');

    // The upload pipeline runs (S3 notification → SQS → processor) and completes it.
    await runPipeline(1);
    const done = await call({ path: `/images/${imageId}`, sub: 'user-a' });
    assert.equal(done.statusCode, 200);
    assert.equal(done.data.status, 'completed', JSON.stringify(done.data));
    assert.equal(done.data.imageId, imageId);
    assert.equal(done.data.userId, 'user-a');
    assert.equal(done.data.originalKey, key);
    assert.equal(done.data.originalSize, PHOTO.length);
    assert.ok(Object.keys(done.data.variants ?? {}).length > 0, 'variants listed');
    for (const variant of Object.values(done.data.variants)) {
      assert.ok(variant.url.startsWith(`${CDN}/`), variant.url);
      const stored = await aws.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: variant.key }));
      assert.equal(stored.ContentLength, variant.bytes);
    }
    // Another user's id and a missing id look the same.
    assertError(await call({ path: `/images/${imageId}`, sub: 'user-b' }), 404, 'not_found');
    assertError(await call({ path: '/images/00000000-0000-0000-0000-000000000000', sub: 'user-a' }), 404, 'not_found');
  });

  test('disallowed type, bad size or filename → 400 naming the field', async () => {
    const cases = [
      [{ filename: 'a.svg', contentType: 'image/svg+xml', size: 10 }, 'contentType:'],
      [{ filename: 'a.heic', contentType: 'image/heic', size: 10 }, 'contentType:'],
      [{ filename: 'a.jpg', size: 10 }, 'contentType:'],
      [{ filename: 'a.jpg', contentType: 'image/jpeg', size: BAKED.limits.maxInputBytes + 1 }, 'size:'],
      [{ filename: 'a.jpg', contentType: 'image/jpeg', size: 0 }, 'size:'],
      [{ filename: 'a.jpg', contentType: 'image/jpeg', size: '10' }, 'size:'],
      [{ contentType: 'image/jpeg', size: 10 }, 'filename:'],
    ];
    for (const [fields, field] of cases) {
      assertError(await upload('user-a', fields), 400, 'invalid_parameter', field);
    }
    assertError(await call({ method: 'POST', path: '/uploads', body: 'not json', sub: 'user-a' }), 400, 'invalid_parameter', 'body:');
    const allowed = await upload('user-a', { filename: 'x.webp', contentType: 'image/webp', size: 10 });
    assert.equal(allowed.statusCode, 200);
  });

  test('no caller → 401 on every route that needs one', async () => {
    const fields = { filename: 'a.jpg', contentType: 'image/jpeg', size: 10 };
    for (const res of [
      await call({ method: 'POST', path: '/uploads', json: fields }),
      await call({ path: '/images' }),
      await call({ path: '/images/some-id' }),
    ]) {
      assertError(res, 401, 'unauthorized');
      assert.equal(res.headers['www-authenticate'], 'Bearer');
    }
  });
});

async function pendingItem(imageId) {
  const res = await docs.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'imageId = :id', ExpressionAttributeValues: { ':id': imageId } }));
  assert.equal(res.Items.length, 1);
  return res.Items[0];
}

async function runPipeline(count) {
  let seen = 0;
  for (let i = 0; i < 10 && seen < count; i++) {
    const report = await pollOnce(aws.clients.sqs, { queueUrl: queue.url, queueArn: queue.arn, handler: processor, waitSeconds: 2 });
    seen += report.received;
  }
  assert.equal(seen, count, 'upload notifications processed');
}

describe('GET /images', () => {
  test("the caller's records, newest first, with limit and an opaque next token", async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const res = await upload('lister', { filename: `p${i}.png`, contentType: 'image/png', size: 100 });
      ids.push(res.data.imageId);
      // uploadedAt has one-second resolution; keep the order unambiguous.
      await new Promise((r) => setTimeout(r, 1100));
    }
    await upload('someone-else', { filename: 'x.png', contentType: 'image/png', size: 100 });
    const first = await call({ path: '/images', query: 'limit=2', sub: 'lister' });
    assert.equal(first.statusCode, 200);
    assert.deepEqual(first.data.items.map((i) => i.imageId), [ids[2], ids[1]]);
    assert.ok(first.data.items.every((i) => i.status === 'pending'));
    assert.equal(typeof first.data.next, 'string');
    const second = await call({ path: '/images', query: `limit=2&next=${encodeURIComponent(first.data.next)}`, sub: 'lister' });
    assert.deepEqual(second.data.items.map((i) => i.imageId), [ids[0]]);
    assert.equal(second.data.next, undefined);
    // A token is bound to its caller and its shape.
    assertError(await call({ path: '/images', query: `next=${encodeURIComponent(first.data.next)}`, sub: 'someone-else' }), 400, 'invalid_parameter', 'next:');
    assertError(await call({ path: '/images', query: 'next=garbage', sub: 'lister' }), 400, 'invalid_parameter', 'next:');
    for (const bad of ['limit=0', 'limit=101', 'limit=abc']) {
      assertError(await call({ path: '/images', query: bad, sub: 'lister' }), 400, 'invalid_parameter', 'limit:');
    }
    assertError(await call({ path: '/images', query: 'sort=asc', sub: 'lister' }), 400, 'invalid_parameter', 'sort:');
  });
});

describe('POST /transform', () => {
  const transform = (query, body, headers = {}) =>
    call({ method: 'POST', path: '/transform', query, body, headers: { 'content-type': 'image/jpeg', ...headers } });

  test('a base64 body comes back resized in the asked format', async () => {
    const res = await transform('w=200&fm=webp', PHOTO);
    assert.equal(res.statusCode, 200, res.bytes.toString());
    assert.equal(res.isBase64Encoded, true);
    assert.equal(res.headers['content-type'], 'image/webp');
    const size = imageSize(res.bytes);
    assert.equal(size.format, 'webp');
    assert.equal(size.width, 200);
    const png = await transform('w=64&h=64&fit=cover&fm=png', PHOTO);
    assert.deepEqual([imageSize(png.bytes).format, imageSize(png.bytes).width, imageSize(png.bytes).height], ['png', 64, 64]);
  });

  test('fm=auto negotiates on Accept', async () => {
    const avif = await transform('w=100&fm=auto', PHOTO, { accept: 'image/avif,image/webp,*/*' });
    assert.equal(avif.headers['content-type'], 'image/avif');
    assert.equal(imageSize(avif.bytes).format, 'avif');
    assert.match(avif.headers.vary, /accept/i);
    const old = await transform('w=100&fm=auto', PHOTO, { accept: 'image/png,image/*;q=0.8' });
    assert.equal(old.headers['content-type'], 'image/jpeg');
    assert.equal(imageSize(old.bytes).width, 100);
  });

  test("errors are the core's JSON", async () => {
    assertError(await transform('w=100', CORRUPT), 422, 'corrupt_image');
    assertError(await transform('w=abc', PHOTO), 400, 'invalid_parameter', 'w:');
    assertError(await transform('w=100', Buffer.from('plain text, not an image\n')), 415, 'unsupported_format');
    assertError(await transform('w=100', undefined), 400, 'invalid_parameter', 'body:');
    // API Gateway's 10 MB request limit holds for a direct invocation too.
    assertError(await transform('w=100', Buffer.alloc(10 * 1024 * 1024 + 1, 0xff)), 413, 'limit_exceeded', 'body:');
  });

  test('a result over the 6 MB response limit is stored and answered with 303 to a presigned GET', async () => {
    const res = await transform('w=4000&fm=png', BIG_PHOTO);
    assert.equal(res.statusCode, 303, `status ${res.statusCode}, ${res.bytes.length} bytes`);
    const location = new URL(res.headers.location);
    const key = decodeURIComponent(location.pathname.slice(`/${BUCKET}/`.length));
    assert.match(key, /^_derived\/_transform\/[0-9a-f]{64}\.png$/);
    assert.equal(location.searchParams.get('X-Amz-Expires'), '900');
    const fetched = await fetch(location);
    assert.equal(fetched.status, 200);
    const bytes = Buffer.from(await fetched.arrayBuffer());
    assert.ok(bytes.length > 6 * 1024 * 1024, `${bytes.length} bytes`);
    assert.deepEqual([imageSize(bytes).format, imageSize(bytes).width], ['png', 4000]);
  });
});

describe('GET /resize (no CDN)', () => {
  const original = 'photos/meadow one.jpg';
  before(async () => {
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: original, Body: PHOTO, ContentType: 'image/jpeg' }));
  });

  test('WxH/path: generates the variant, stores it under the canonical derived key, 301s to it', async () => {
    const res = await call({ path: '/resize', query: `key=${encodeURIComponent(`300x200/${original}`)}` });
    assert.equal(res.statusCode, 301, res.bytes.toString());
    // The key the edge uses for the same request.
    const edge = await viewer(viewerRequestEvent({ uri: '/photos/meadow%20one.jpg', querystring: 'w=300&h=200' }));
    assert.equal(res.headers.location, `${CDN}${edge.uri}`);
    const derivedKey = decodeURIComponent(edge.uri.slice(1));
    const stored = await aws.clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: derivedKey }));
    assert.equal(stored.ContentType, 'image/jpeg');
    assert.equal(stored.CacheControl, 'public, max-age=31536000, immutable');
    assert.equal(stored.Metadata['source-key'], 'photos/meadow one.jpg');
    const size = imageSize(new Uint8Array(await stored.Body.transformToByteArray()));
    assert.ok(size.width <= 300 && size.height <= 200 && (size.width === 300 || size.height === 200), JSON.stringify(size));

    // The derived-key form names the same object; a second call finds it stored.
    const again = await call({ path: '/resize', query: `key=${encodeURIComponent(derivedKey)}` });
    assert.equal(again.statusCode, 301);
    assert.equal(again.headers.location, res.headers.location);
  });

  test('same key safety and policy as the edge', async () => {
    for (const [query, code] of [
      ['key=300x200/../secret.jpg', 'invalid_key'],
      ['key=300x200//a.jpg', 'invalid_key'],
      [`key=${encodeURIComponent('_derived/photos/meadow one.jpg/w_0300.source')}`, 'invalid_key'],
      ['key=99999x1/a.jpg', 'invalid_parameter'],
      ['key=abc', 'invalid_parameter'],
      ['', 'invalid_parameter'],
    ]) {
      const res = await call({ path: '/resize', query });
      assertError(res, 400, code);
    }
    assertError(await call({ path: '/resize', query: 'key=100x100/photos/missing.jpg' }), 404, 'not_found');
  });
});

describe('events', () => {
  test('Function URL events and stage prefixes route the same; unknown routes are 404/405', async () => {
    const event = httpApiEvent({ method: 'GET', path: '/prod/images', claims: { sub: 'nobody-here' } });
    event.requestContext.stage = 'prod';
    const staged = await api(event);
    assert.equal(staged.statusCode, 200, staged.body);
    assert.deepEqual(JSON.parse(staged.body), { items: [] });
    // A Function URL event: routeKey $default, IAM or no authorizer, no jwt.
    const url = httpApiEvent({ method: 'GET', path: '/images' });
    url.requestContext.authorizer = { iam: { accessKey: 'AKIA…', accountId: '000000000000' } };
    assert.equal((await api(url)).statusCode, 401);
    assert.equal((await call({ path: '/nowhere' })).statusCode, 404);
    assert.equal((await call({ method: 'DELETE', path: '/images' })).statusCode, 405);
    const bad = await api({ hello: 'world' });
    assert.equal(bad.statusCode, 400);
    assert.equal(JSON.parse(bad.body).code, 'invalid_event');
  });
});
