// Faults between the upload processor and S3, DynamoDB and SNS (issue 15). Each service
// is reached through its own fault-injecting proxy (tests/lib/faultproxy.mjs) in front of
// the local AWS (ministack). Every case is a fresh upload with a real S3 notification;
// the handler runs on it under the fault plan, and then again (as SQS redelivers) with
// the faults gone. Expected:
// - a fault on one request is absorbed by the SDK's bounded retries: completed at once;
// - a service that keeps failing: the message is handed back (`batchItemFailures`),
//   promptly, and the redelivery completes it;
// - never a partial object: every object under the upload's derived prefix, at any
//   time, is byte-identical to a clean run's;
// - on the last receive, the real redrive puts the message in the DLQ with a failed record,
//   and a redrive from the DLQ completes it.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';

import { loadShim } from '../lambda-common/wasm.mjs';
import { setLogSink } from '../lambda-common/log.mjs';
import { pollOnce, sqsEvent } from '../dev/upload-poller.mjs';
import { FAULTS, startFaultProxy } from './lib/faultproxy.mjs';
import { assertEmf } from './lib/emf.mjs';
import { startLocalAws } from './lib/localaws.mjs';

const PHOTO = readFileSync(new URL('../../shared/corpus/photos/progressive_3.jpg', import.meta.url));
const BAKED = JSON.parse(readFileSync(new URL('../config/default.json', import.meta.url), 'utf8'));
const EAGER = { thumbnail: 'w=150&h=150&fit=cover&fm=auto', medium: 'w=400&fm=auto' };
const TEST_CONFIG = JSON.stringify({ ...BAKED, uploads: { eager: EAGER, autoFormats: ['webp', 'legacy'], compressed: '' } });
const BUCKET = 'fault-images';
const MAX_RECEIVES = 2;
// One invocation under faults must end well inside a Lambda timeout: the SDK makes 3
// attempts with backoff; nothing may wait for more.
const PROMPT_MS = 20_000;

let aws;
let queue;
let notices;
let handler;
let docs;
const proxies = {};
let reference;
const tally = [];
const logLines = [];

before(async () => {
  aws = await startLocalAws();
  queue = await aws.createQueue('fault-uploads', { dlq: true, maxReceiveCount: MAX_RECEIVES, visibilityTimeout: 1 });
  await aws.createBucket(BUCKET, { notify: { queue, prefix: 'uploads/' } });
  await aws.createTable('fault-meta');
  const topic = await aws.createTopic('fault-done');
  notices = await aws.createQueue('fault-notices');
  await aws.subscribeQueue(topic, notices);
  const upstream = `http://127.0.0.1:${aws.port}`;
  for (const service of ['s3', 'dynamodb', 'sns']) proxies[service] = await startFaultProxy(upstream);
  Object.assign(process.env, aws.env, {
    AWS_ENDPOINT_URL_S3: proxies.s3.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: proxies.dynamodb.endpoint,
    AWS_ENDPOINT_URL_SNS: proxies.sns.endpoint,
    METADATA_TABLE: 'fault-meta',
    NOTIFY_TOPIC_ARN: topic,
    CDN_BASE_URL: 'https://cdn.example.test',
    UPLOAD_MAX_RECEIVE_COUNT: String(MAX_RECEIVES),
  });
  ({ handler } = await import('../upload-processor/index.mjs'));
  (await loadShim(new URL('../edge-shim/pkg/', import.meta.url))).configure(TEST_CONFIG);
  docs = DynamoDBDocumentClient.from(aws.clients.dynamodb);
  setLogSink((line) => logLines.push(line)); // checked by the last test
  await drain(queue.url);
  // The clean run every faulted one is compared with.
  const { message } = await upload('uploads/ref/photo.jpg');
  assert.deepEqual(await handler(sqsEvent([message], { queueArn: queue.arn })), { batchItemFailures: [] });
  reference = await derivedObjects('uploads/ref/photo.jpg');
  assert.equal(Object.keys(reference).length, 4, 'two eager entries × (webp, legacy)');
});

after(async () => {
  setLogSink();
  for (const p of Object.values(proxies)) await p.stop();
  await aws?.stop();
  if (tally.length) console.log(`# upload faults: ${tally.length} cases\n${tally.map((t) => `#   ${t}`).join('\n')}`);
});

const drain = (url) => aws.drainQueue(url);

/** Upload `key` (test client, not through the proxies) and take its S3 notification off the queue. */
async function upload(key) {
  await aws.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: PHOTO, ContentType: 'image/jpeg' }));
  for (let i = 0; i < 20; i += 1) {
    const res = await aws.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
    );
    for (const m of res.Messages ?? []) {
      await aws.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle }));
      if (m.Body.includes(key)) return { message: m };
    }
  }
  throw new Error(`no notification for ${key}`);
}

/** `{ suffix: sha256 }` of the objects under the upload's derived prefix. */
async function derivedObjects(key) {
  const prefix = `_derived/${key}/`;
  const listed = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  const out = {};
  for (const { Key } of listed.Contents ?? []) {
    const res = await aws.clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    out[Key.slice(prefix.length)] = createHash('sha256').update(await res.Body.transformToByteArray()).digest('hex');
  }
  return out;
}

async function recordOf(key) {
  const res = await docs.send(
    new QueryCommand({ TableName: 'fault-meta', IndexName: 'user-id-index', KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': key.split('/')[1] } }),
  );
  return res.Items?.[0];
}

/** No partial object: whatever is there is one of the clean run's objects, byte for byte. */
async function assertNoPartialObjects(key) {
  for (const [suffix, sha] of Object.entries(await derivedObjects(key))) {
    assert.equal(sha, reference[suffix], `${key}: ${suffix} differs from the clean run`);
  }
}

/** A plan that faults the requests `which` (`first`: the first one only, `all`) of one service. */
function plan(fault, which) {
  return ({ n }) => (which === 'all' || n === 0 ? fault : undefined);
}

function run(message, receiveCount) {
  const m = { ...message, Attributes: { ...message.Attributes, ApproximateReceiveCount: String(receiveCount) } };
  return handler(sqsEvent([m], { queueArn: queue.arn }));
}

const CASES = [
  ['s3', 'internalError'], ['s3', 'slowDown'], ['s3', 'tooManyRequests'], ['s3', 'reset'], ['s3', 'truncate'],
  ['dynamodb', 'dynamoThrottling'], ['dynamodb', 'dynamoInternal'], ['dynamodb', 'reset'],
  ['sns', 'snsThrottling'], ['sns', 'snsInternal'], ['sns', 'reset'],
];

describe('upload processor through fault proxies to S3, DynamoDB and SNS', () => {
  let n = 0;
  for (const [service, faultName] of CASES) {
    for (const which of ['first', 'all']) {
      test(`${service} ${faultName} (${which} request${which === 'all' ? 's' : ''})`, async () => {
        const key = `uploads/u${(n += 1)}/photo.jpg`;
        const { message } = await upload(key);
        proxies[service].setPlan(plan(FAULTS[faultName], which));
        const started = performance.now();
        let result;
        try {
          result = await run(message, 1);
        } finally {
          proxies[service].setPlan(() => undefined);
        }
        const ms = Math.round(performance.now() - started);
        assert.ok(ms < PROMPT_MS, `took ${ms} ms`);
        await assertNoPartialObjects(key);
        const retried = result.batchItemFailures.length === 1;
        if (which === 'all') assert.ok(retried, `a service that keeps failing hands the message back (${JSON.stringify(result)})`);
        // The redelivery, with the service back.
        if (retried) assert.deepEqual(await run(message, 2), { batchItemFailures: [] });
        const item = await recordOf(key);
        assert.equal(item?.status, 'completed', key);
        assert.equal(item.notified, true, 'the notice went out (and was marked)');
        assert.deepEqual(await derivedObjects(key), reference, 'every variant, byte-identical to the clean run');
        tally.push(`${service} ${faultName} ${which}: ${retried ? 'retried, then completed' : 'completed at once'} (${ms} ms)`);
      });
    }
  }

  test('S3 refusing every write until the last receive: the real redrive moves the message to the DLQ with a failed record; a redrive from the DLQ completes it', async () => {
    const key = 'uploads/dlq/photo.jpg';
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: PHOTO, ContentType: 'image/jpeg' }));
    proxies.s3.setPlan(({ method }) => (method === 'PUT' ? FAULTS.slowDown : undefined));
    const poll = () => pollOnce(aws.clients.sqs, { queueUrl: queue.url, queueArn: queue.arn, handler, waitSeconds: 2 });
    let receives = 0;
    try {
      for (let i = 0; i < 10 && receives < MAX_RECEIVES; i += 1) {
        const report = await poll();
        receives += report.received;
        assert.equal(report.failed.length, report.received, 'every receive under the fault is handed back');
        await sleep(1100); // the visibility timeout
      }
    } finally {
      proxies.s3.setPlan(() => undefined);
    }
    assert.equal(receives, MAX_RECEIVES);
    let item = await recordOf(key);
    assert.equal(item.status, 'failed');
    assert.equal(item.error.code, 'retries_exhausted');
    assert.deepEqual(item.writtenKeys, [], 'no variant was written');
    assert.deepEqual(await derivedObjects(key), {});
    // The queue's redrive policy moved it: it is in the DLQ now, and no longer in the queue.
    let dead;
    for (let i = 0; i < 5 && !dead; i += 1) {
      dead = (await aws.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }))).Messages?.[0];
      if (!dead) await poll();
    }
    assert.ok(dead, 'the message reached the DLQ');
    // Redrive (the operator's StartMessageMoveTask, or a re-run): the first receive again.
    assert.deepEqual(await run(dead, 1), { batchItemFailures: [] });
    await aws.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.dlqUrl, ReceiptHandle: dead.ReceiptHandle }));
    item = await recordOf(key);
    assert.equal(item.status, 'completed');
    assert.deepEqual(await derivedObjects(key), reference);
    tally.push('s3 slowDown on every PUT, real redrive: DLQ after 2 receives, failed record, completed on redrive');
  });

  test('every log line of these runs is one EMF object, with the outcome as action and retries counted', () => {
    const records = logLines.map((l) => JSON.parse(l));
    assert.ok(records.length >= 30, `${records.length} lines`);
    records.forEach(assertEmf);
    assert.ok(records.every((r) => r.function === 'upload-processor'));
    // (A notice that failed is sent by the redelivery, which logs `duplicate`.)
    const completed = records.filter((r) => r.action === 'completed');
    assert.ok(completed.length >= CASES.length * 2 - 3, `${completed.length} completed`);
    for (const r of completed) assert.ok(r.statusClass === '2xx' && r.TotalMs > 0 && r.TransformMs >= 0 && r.S3PutMs >= 0, JSON.stringify(r));
    const retries = records.filter((r) => r.action === 'retry');
    assert.ok(retries.length >= CASES.length, `${retries.length} retries`);
    for (const r of retries) assert.ok(r.statusClass === '5xx' && Object.keys(r).some((k) => k.startsWith('Error_')), JSON.stringify(r));
  });
});
