// The upload pipeline end to end on real local servers (ministack: S3 with notifications,
// SQS with a DLQ, DynamoDB, SNS): a PUT under uploads/ → the S3 notification in the queue
// → a real SQS event (dev/upload-poller.mjs) → upload-processor → variants at the
// viewer's derived keys, one record, one notice.
//
// The eager entries here are explicit queries (the default ones use presets that branch
// `signing` adds); `fm=auto` entries exercise the autoFormats expansion.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { loadShim } from '../lambda-common/wasm.mjs';
import { pollOnce, sqsEvent } from '../dev/upload-poller.mjs';
import { imageSize } from './lib/image-size.mjs';
import { viewerRequestEvent } from './lib/events.mjs';
import { startLocalAws, startRelay } from './lib/localaws.mjs';

const CORPUS = new URL('../../shared/corpus/', import.meta.url);
const PHOTO = readFileSync(new URL('photos/GreenMeadow_progressive.jpg', CORPUS));
const ROTATED = readFileSync(new URL('exif-orientation/Landscape_6.jpg', CORPUS));
const CORRUPT = readFileSync(new URL('formats/corrupt_data.jpg', CORPUS));
const BAKED = JSON.parse(readFileSync(new URL('../config/default.json', import.meta.url), 'utf8'));
const EAGER = {
  thumbnail: 'w=150&h=150&fit=cover&fm=auto',
  medium: 'w=600&fm=auto',
  large: 'w=1200&fm=auto',
  compressed: 'w=1200&h=1200&fm=webp&q=80',
};
const TEST_CONFIG = JSON.stringify({ ...BAKED, uploads: { eager: EAGER, autoFormats: ['webp', 'legacy'], compressed: 'compressed' } });
const ACCEPT_OF = { webp: 'image/webp,*/*', legacy: 'image/jpeg,*/*' };
const BUCKET = 'upload-images';
const CDN = 'https://cdn.example.test';

let aws;
let relay;
let queue;
let notices;
let handler;
let viewer;
let shim;
let docs;

before(async () => {
  aws = await startLocalAws();
  relay = await startRelay(aws.port);
  queue = await aws.createQueue('uploads', { dlq: true, maxReceiveCount: 3, visibilityTimeout: 2 });
  await aws.createBucket(BUCKET, { notify: { queue, prefix: 'uploads/' } });
  await aws.createTable('upload-meta');
  const topic = await aws.createTopic('upload-done');
  notices = await aws.createQueue('upload-notices');
  await aws.subscribeQueue(topic, notices);
  // The handler sees S3 through the relay (so a test can take S3 down), the rest directly.
  Object.assign(process.env, aws.env, {
    AWS_ENDPOINT_URL_S3: relay.endpoint,
    METADATA_TABLE: 'upload-meta',
    NOTIFY_TOPIC_ARN: topic,
    CDN_BASE_URL: CDN,
  });
  ({ handler } = await import('../upload-processor/index.mjs'));
  ({ handler: viewer } = await import('../viewer-request/index.mjs'));
  // Same module instance as the handler's: switch it to the test's eager entries.
  shim = await loadShim(new URL('../edge-shim/pkg/', import.meta.url));
  shim.configure(TEST_CONFIG);
  docs = DynamoDBDocumentClient.from(aws.clients.dynamodb);
  await drain(queue.url); // S3's s3:TestEvent
});

after(async () => {
  await relay?.close();
  await aws?.stop();
});

const drain = (url) => aws.drainQueue(url);

const put = (key, body, extra = {}) => aws.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: 'image/jpeg', ...extra }));
const poll = () => pollOnce(aws.clients.sqs, { queueUrl: queue.url, queueArn: queue.arn, handler, waitSeconds: 2 });

/** Poll until `count` messages were handled (the notifications arrive asynchronously). */
async function pollMessages(count) {
  const reports = [];
  let seen = 0;
  for (let i = 0; i < 20 && seen < count; i++) {
    const report = await poll();
    seen += report.received;
    if (report.received) reports.push(report);
  }
  assert.equal(seen, count, 'messages received from the upload queue');
  return reports;
}

/** The notices on the subscribed queue: waits for `expected` (SNS → SQS is asynchronous), then 1 s more for extras. */
async function receiveNotices(expected = 1) {
  const out = [];
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await aws.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: notices.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    // Done after one empty receive once the expected ones are in (or time is up).
    if (!res.Messages?.length && (out.length >= expected || Date.now() > deadline)) break;
    for (const m of res.Messages ?? []) {
      const envelope = JSON.parse(m.Body);
      out.push({ message: JSON.parse(envelope.Message), status: envelope.MessageAttributes?.status?.Value });
      await aws.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: notices.url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return out;
}

async function itemsOf(userId) {
  const res = await docs.send(
    new QueryCommand({ TableName: 'upload-meta', IndexName: 'user-id-index', KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': userId } }),
  );
  return res.Items ?? [];
}

async function viewerKey(originalKey, query, accept) {
  const uri = `/${originalKey.split('/').map(encodeURIComponent).join('/')}`;
  const request = await viewer(viewerRequestEvent({ uri, querystring: query, accept }));
  return decodeURIComponent(request.uri.slice(1));
}

async function object(key) {
  const res = await aws.clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { body: new Uint8Array(await res.Body.transformToByteArray()), res };
}

async function listKeys(prefix) {
  const res = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key).sort();
}

describe('upload pipeline on the local AWS', () => {
  let first;

  test('an upload gets every eager variant at the viewer derived key, one record, one notice', async () => {
    const key = 'uploads/alice/green meadow+1.jpg';
    const { ETag } = await put(key, PHOTO);
    const [report] = await pollMessages(1);
    assert.deepEqual(report.result, { batchItemFailures: [] });
    assert.equal(JSON.parse(report.messages[0].Body).Records[0].s3.object.key, 'uploads/alice/green+meadow%2B1.jpg');

    const [item] = await itemsOf('alice');
    assert.ok(item, 'record in the user-id-index');
    first = item;
    const etag = ETag.replace(/"/g, '');
    assert.equal(item.status, 'completed');
    assert.equal(item.originalKey, key);
    assert.equal(item.originalSize, PHOTO.length);
    assert.equal(item.originalFormat, 'jpeg');
    assert.deepEqual([item.width, item.height], [imageSize(PHOTO).width, imageSize(PHOTO).height]);
    assert.equal(item.sourceEtag, etag);
    assert.ok(Number.isInteger(item.uploadedAt) && Math.abs(item.uploadedAt - Date.now() / 1000) < 120);
    assert.ok(item.processingTimeMs > 0);
    assert.match(item.imageId, /^[0-9a-f]{32}$/);

    // Every entry, for every auto format, at exactly the key the viewer computes.
    assert.deepEqual(Object.keys(item.variants).sort(), Object.keys(EAGER).sort());
    for (const [name, query] of Object.entries(EAGER)) {
      const entry = item.variants[name];
      const negotiated = query.includes('fm=auto');
      const forms = negotiated ? Object.entries(entry.formats) : [['fixed', entry]];
      if (negotiated) assert.deepEqual(Object.keys(entry.formats), ['webp', 'legacy']);
      assert.equal(entry.url, `${CDN}/uploads/alice/green%20meadow%2B1.jpg?${query}`);
      for (const [format, v] of forms) {
        const expectedKey = await viewerKey(key, query, ACCEPT_OF[format] ?? 'image/webp,*/*');
        assert.equal(v.key, expectedKey, `${name}/${format}`);
        const { body, res } = await object(v.key);
        const size = imageSize(body);
        assert.equal(v.bytes, body.length);
        assert.deepEqual([v.width, v.height, v.format], [size.width, size.height, size.format]);
        // The edge's own output for that key: same type, size and headers.
        const edge = shim.transformDerived(PHOTO, v.key);
        assert.deepEqual([res.ContentType, v.width, v.height], [edge.contentType, edge.width, edge.height]);
        assert.equal(res.CacheControl, 'public, max-age=31536000, immutable');
        assert.deepEqual(res.Metadata, { 'source-key': 'uploads/alice/green meadow+1.jpg', 'source-etag': etag });
        assert.ok(Math.abs(body.length - edge.body.length) / edge.body.length < 0.1, `${v.key}: ${body.length} vs ${edge.body.length}`);
      }
    }
    const t = item.variants.thumbnail.formats;
    assert.deepEqual([t.webp.width, t.webp.height, t.webp.format, t.legacy.format], [150, 150, 'webp', 'jpeg']);
    assert.ok(item.variants.medium.width === 600 || item.variants.medium.height === 600);
    assert.equal(item.variants.compressed.format, 'webp');

    // Savings arithmetic on the compressed entry.
    assert.equal(item.compressedKey, item.variants.compressed.key);
    assert.equal(item.compressedSize, item.variants.compressed.bytes);
    const expected = Math.round(((PHOTO.length - item.compressedSize) / PHOTO.length) * 100 * 100) / 100;
    assert.equal(item.savingsPercent, expected);

    const got = await receiveNotices();
    assert.equal(got.length, 1, 'one notice');
    assert.equal(got[0].status, 'completed');
    assert.deepEqual(got[0].message, {
      imageId: item.imageId,
      userId: 'alice',
      status: 'completed',
      originalKey: key,
      variants: Object.fromEntries(Object.entries(item.variants).map(([n, v]) => [n, v.url])),
      savingsPercent: item.savingsPercent,
      processingTimeMs: item.processingTimeMs,
    });
  });

  test('a duplicate event does nothing; a new ETag over the same key is processed again', async () => {
    const key = 'uploads/alice/green meadow+1.jpg';
    const message = {
      MessageId: 'dup-1',
      ReceiptHandle: 'none',
      Body: JSON.stringify({
        Records: [
          {
            eventVersion: '2.1',
            eventSource: 'aws:s3',
            awsRegion: 'us-east-1',
            eventTime: new Date().toISOString(),
            eventName: 'ObjectCreated:Put',
            s3: { s3SchemaVersion: '1.0', bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` }, object: { key: 'uploads/alice/green+meadow%2B1.jpg', size: PHOTO.length, eTag: first.sourceEtag } },
          },
        ],
      }),
    };
    const before = await aws.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: first.compressedKey }));
    const result = await handler(sqsEvent([message], { queueArn: queue.arn }));
    assert.deepEqual(result, { batchItemFailures: [] });
    const [item] = await itemsOf('alice');
    assert.deepEqual(item, first, 'record untouched');
    assert.equal((await receiveNotices(0)).length, 0, 'no second notice');
    const afterHead = await aws.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: first.compressedKey }));
    assert.equal(afterHead.LastModified.getTime(), before.LastModified.getTime(), 'no second transform/write');

    // New content under the same key: a new ETag, a new record and notice.
    await put(key, ROTATED);
    await pollMessages(1);
    const items = await itemsOf('alice');
    assert.equal(items.length, 2);
    const fresh = items.find((i) => i.imageId !== first.imageId);
    assert.equal(fresh.status, 'completed');
    // Landscape_6 is stored 1200x1800 with orientation 6: upright it is 1800x1200.
    assert.deepEqual([fresh.width, fresh.height], [1800, 1200]);
    assert.equal(fresh.variants.large.width, 1200);
    assert.equal((await receiveNotices()).length, 1);
  });

  test('a corrupt file is copied to errors/, recorded as failed with one notice, and not retried', async () => {
    const key = 'uploads/bob/broken.jpg';
    await put(key, CORRUPT);
    const [report] = await pollMessages(1);
    assert.deepEqual(report.result, { batchItemFailures: [] }, 'not retried');
    const [item] = await itemsOf('bob');
    assert.equal(item.status, 'failed');
    assert.equal(item.error.status, 422);
    assert.equal(item.error.code, 'corrupt_image');
    assert.equal(typeof item.error.message, 'string');
    assert.equal(item.errorKey, `errors/${key}`);
    assert.deepEqual(item.variants, {});
    const copy = await object(`errors/${key}`);
    assert.deepEqual(Buffer.from(copy.body), CORRUPT);
    assert.deepEqual(await listKeys(`_derived/${key}/`), [], 'no variant half-written');
    const got = await receiveNotices();
    assert.equal(got.length, 1);
    assert.equal(got[0].status, 'failed');
    assert.equal(got[0].message.status, 'failed');
    // The copy under errors/ and the variants never trigger the processor (prefix filter).
    assert.equal((await poll()).received, 0);
  });

  test('S3 going down mid-batch retries that message only; the retry completes it', async () => {
    const keys = ['uploads/carol/a.jpg', 'uploads/carol/b.jpg', 'uploads/carol/c.jpg'];
    for (const k of keys) await put(k, PHOTO);
    await sleep(300);
    // S3 goes down at the first variant write of b.jpg: a.jpg is done, b.jpg half-written.
    relay.cutOn(/^PUT \/upload-images\/_derived\/uploads\/carol\/b\.jpg\//);
    let reports;
    try {
      reports = await pollMessages(3);
    } finally {
      await relay.start();
    }
    const failedIds = reports.flatMap((r) => r.failed);
    const failedKeys = reports.flatMap((r) => r.messages.filter((m) => failedIds.includes(m.MessageId)).map((m) => decodeURIComponent(JSON.parse(m.Body).Records[0].s3.object.key)));
    assert.ok(failedKeys.includes('uploads/carol/b.jpg'), `b.jpg retried (${failedKeys})`);
    assert.ok(!failedKeys.includes('uploads/carol/a.jpg'), 'a.jpg (before the outage) not retried');
    let items = await itemsOf('carol');
    assert.equal(items.find((i) => i.originalKey.endsWith('a.jpg'))?.status, 'completed');
    assert.notEqual(items.find((i) => i.originalKey.endsWith('b.jpg'))?.status, 'completed');

    // SQS redelivers after the visibility timeout; S3 is back.
    await sleep(2200);
    await pollMessages(failedKeys.length);
    items = await itemsOf('carol');
    assert.deepEqual(items.map((i) => i.status), ['completed', 'completed', 'completed']);
    const b = items.find((i) => i.originalKey.endsWith('b.jpg'));
    const written = await listKeys('_derived/uploads/carol/b.jpg/');
    const recorded = Object.values(b.variants).flatMap((v) => (v.formats ? Object.values(v.formats) : [v])).map((v) => v.key);
    assert.deepEqual(written, [...new Set(recorded)].sort(), 'every variant of the record, nothing else');
    const got = await receiveNotices(keys.length);
    assert.deepEqual(got.map((n) => n.message.originalKey).sort(), keys, 'one notice per upload');
    assert.equal((await aws.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, WaitTimeSeconds: 1 }))).Messages, undefined);
  });

  test('the last receive before the DLQ records a failure naming what was written; a redrive completes it', async () => {
    const key = 'uploads/frank/late.jpg';
    await put(key, PHOTO);
    const [report] = await (async () => {
      relay.cutOn(/^PUT \/upload-images\/_derived\/uploads\/frank\//);
      try {
        const res = await aws.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 2, MessageSystemAttributeNames: ['All'] }));
        const [m] = res.Messages;
        m.Attributes.ApproximateReceiveCount = '3';
        const result = await handler(sqsEvent([m], { queueArn: queue.arn }));
        return [{ result, m }];
      } finally {
        await relay.start();
      }
    })();
    assert.deepEqual(report.result.batchItemFailures, [{ itemIdentifier: report.m.MessageId }]);
    let [item] = await itemsOf('frank');
    assert.equal(item.status, 'failed');
    assert.equal(item.error.code, 'retries_exhausted');
    // Known to be written (a PUT cut mid-answer may have landed unacknowledged).
    const present = await listKeys('_derived/uploads/frank/');
    assert.ok(item.writtenKeys.every((k) => present.includes(k)), `${item.writtenKeys} within ${present}`);
    const failedNotice = await receiveNotices();
    assert.deepEqual(failedNotice.map((n) => n.status), ['failed']);
    // Redriven from the DLQ (receive count 1 again), with S3 back: completed.
    report.m.Attributes.ApproximateReceiveCount = '1';
    assert.deepEqual(await handler(sqsEvent([report.m], { queueArn: queue.arn })), { batchItemFailures: [] });
    [item] = await itemsOf('frank');
    assert.equal(item.status, 'completed');
    assert.equal(item.error, undefined);
    assert.equal(item.writtenKeys, undefined);
    assert.deepEqual((await receiveNotices()).map((n) => n.status), ['completed']);
    await drain(queue.url);
  });

  test('direct S3 and EventBridge events, keys outside the prefix ignored', async () => {
    const key = 'uploads/dave/photo one.jpg';
    const { ETag } = await put(key, PHOTO);
    await drain(queue.url);
    const etag = ETag.replace(/"/g, '');
    const bridge = {
      version: '0',
      id: 'e1',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [`arn:aws:s3:::${BUCKET}`],
      detail: { version: '0', bucket: { name: BUCKET }, object: { key, size: PHOTO.length, etag }, reason: 'PutObject' },
    };
    assert.deepEqual(await handler(bridge), { processed: 1 });
    const [item] = await itemsOf('dave');
    assert.equal(item.originalKey, key);
    assert.equal(item.status, 'completed');
    // The same upload as a direct S3 notification is a duplicate.
    const direct = { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', eventTime: bridge.time, s3: { bucket: { name: BUCKET }, object: { key: 'uploads/dave/photo+one.jpg', eTag: etag } } }] };
    assert.deepEqual(await handler(direct), { processed: 1 });
    assert.equal((await itemsOf('dave')).length, 1);
    assert.equal((await receiveNotices()).length, 1);
    const outside = { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key: '_derived/uploads/dave/photo+one.jpg/w_10.webp' } } }] };
    assert.deepEqual(await handler(outside), { processed: 1 });
    assert.equal((await itemsOf('dave')).length, 1);
  });
});
