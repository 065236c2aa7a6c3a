// The local AWS (tests/lib/localaws.mjs, ministack on 127.0.0.1) does what the upload
// pipeline and the regional API rely on; these checks are the evidence for choosing it
// (ARCHITECTURE.md, "Local AWS").

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';

import { startLocalAws, startRelay } from './lib/localaws.mjs';

let aws;
before(async () => {
  aws = await startLocalAws();
});
after(async () => {
  await aws?.stop();
});

async function receive(sqs, url, { wait = 2, max = 10 } = {}) {
  const res = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: max, WaitTimeSeconds: wait, AttributeNames: ['All'], MessageAttributeNames: ['All'] }),
  );
  return res.Messages ?? [];
}

describe('local AWS (ministack)', () => {
  test('listens on 127.0.0.1 only and verifies SigV4', async () => {
    assert.match(aws.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const bad = new S3Client({
      region: aws.region,
      endpoint: aws.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: aws.credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    });
    await aws.createBucket('sigv4-check');
    await assert.rejects(
      bad.send(new PutObjectCommand({ Bucket: 'sigv4-check', Key: 'k', Body: 'x' })),
      (err) => err.name === 'SignatureDoesNotMatch',
    );
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'sigv4-check', Key: 'k', Body: 'x' }));
  });

  test('S3 ObjectCreated under a prefix reaches SQS with the key URL-encoded (+ for space)', async () => {
    const queue = await aws.createQueue('notify-check');
    await aws.createBucket('notify-check', { notify: { queue, prefix: 'uploads/' } });
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'notify-check', Key: 'uploads/u1/my photo+1.jpg', Body: 'x' }));
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'notify-check', Key: '_derived/x.jpg', Body: 'x' }));
    const records = [];
    for (let i = 0; i < 15 && records.length < 1; i++) {
      for (const m of await receive(aws.clients.sqs, queue.url, { wait: 1 })) {
        const body = JSON.parse(m.Body);
        if (body.Records) records.push(...body.Records);
      }
    }
    assert.equal(records.length, 1, 'one event, none for the key outside the prefix');
    assert.equal(records[0].eventSource, 'aws:s3');
    assert.match(records[0].eventName, /^ObjectCreated:/);
    assert.equal(records[0].s3.bucket.name, 'notify-check');
    assert.equal(records[0].s3.object.key, 'uploads/u1/my+photo%2B1.jpg');
    assert.match(records[0].s3.object.eTag, /^[0-9a-f]{32}$/);
  });

  test('SQS: delete, visibility timeout and redrive to the DLQ after 3 receives', async () => {
    const queue = await aws.createQueue('redrive-check', { dlq: true, maxReceiveCount: 3, visibilityTimeout: 1 });
    const { sqs } = aws.clients;
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'poison' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'good' }));
    const counts = [];
    for (let i = 0; i < 20 && counts.length < 3; i++) {
      for (const m of await receive(sqs, queue.url, { wait: 1 })) {
        if (m.Body === 'good') {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle }));
        } else {
          counts.push(Number(m.Attributes.ApproximateReceiveCount));
        }
      }
      await sleep(1100);
    }
    assert.deepEqual(counts, [1, 2, 3]);
    await sleep(1100);
    assert.deepEqual(await receive(sqs, queue.url, { wait: 1 }), [], 'not delivered a 4th time');
    const dead = await receive(sqs, queue.dlqUrl, { wait: 1 });
    assert.deepEqual(dead.map((m) => m.Body), ['poison']);
  });

  test('DynamoDB: conditional write and the user-id-index GSI', async () => {
    await aws.createTable('table-check');
    const item = { imageId: { S: 'i1' }, uploadedAt: { N: '100' }, userId: { S: 'u1' } };
    const put = () =>
      aws.clients.dynamodb.send(new PutItemCommand({ TableName: 'table-check', Item: item, ConditionExpression: 'attribute_not_exists(imageId)' }));
    await put();
    await assert.rejects(put(), (err) => err.name === 'ConditionalCheckFailedException');
    const res = await aws.clients.dynamodb.send(
      new QueryCommand({
        TableName: 'table-check',
        IndexName: 'user-id-index',
        KeyConditionExpression: 'userId = :u',
        ExpressionAttributeValues: { ':u': { S: 'u1' } },
      }),
    );
    assert.equal(res.Items.length, 1);
  });

  test('SNS publish reaches a subscribed queue with its message attributes', async () => {
    const topic = await aws.createTopic('notice-check');
    const queue = await aws.createQueue('notice-check');
    await aws.subscribeQueue(topic, queue);
    await aws.clients.sns.send(
      new PublishCommand({
        TopicArn: topic,
        Message: JSON.stringify({ imageId: 'x' }),
        MessageAttributes: { status: { DataType: 'String', StringValue: 'completed' } },
      }),
    );
    let m;
    for (let i = 0; i < 10 && !m; i++) [m] = await receive(aws.clients.sqs, queue.url, { wait: 1 });
    const envelope = JSON.parse(m.Body);
    assert.equal(envelope.Type, 'Notification');
    assert.deepEqual(JSON.parse(envelope.Message), { imageId: 'x' });
    assert.equal(envelope.MessageAttributes.status.Value, 'completed');
  });

  test('presigned PUT: Content-Type, Content-Length and x-amz-meta-* are signed', async () => {
    await aws.createBucket('presign-check');
    const body = Buffer.from('0123456789');
    const url = await getSignedUrl(
      aws.clients.s3,
      new PutObjectCommand({ Bucket: 'presign-check', Key: 'uploads/u/p.jpg', ContentType: 'image/jpeg', ContentLength: body.length, Metadata: { 'image-id': 'img-1' } }),
      { expiresIn: 300, signableHeaders: new Set(['content-type', 'content-length']), unhoistableHeaders: new Set(['x-amz-meta-image-id']) },
    );
    const put = (b, headers) => fetch(url, { method: 'PUT', body: b, headers: { 'content-type': 'image/jpeg', 'x-amz-meta-image-id': 'img-1', ...headers } });
    assert.equal((await put(body, { 'content-type': 'text/html' })).status, 403);
    assert.equal((await put(body, { 'x-amz-meta-image-id': 'other' })).status, 403);
    assert.equal((await put(Buffer.from('01234567890'))).status, 403);
    assert.equal((await fetch(url.replace(/X-Amz-Signature=./, 'X-Amz-Signature=0'), { method: 'PUT', body })).status, 403);
    assert.equal((await put(body)).status, 200);
    const head = await aws.clients.s3.send(new HeadObjectCommand({ Bucket: 'presign-check', Key: 'uploads/u/p.jpg' }));
    assert.equal(head.Metadata['image-id'], 'img-1');
    assert.equal(head.ContentType, 'image/jpeg');
  });

  test('a relay can take S3 down and bring it back', async () => {
    const relay = await startRelay(aws.port);
    try {
      const s3 = new S3Client({ region: aws.region, endpoint: relay.endpoint, forcePathStyle: true, credentials: aws.credentials, maxAttempts: 1 });
      await aws.createBucket('relay-check');
      await s3.send(new PutObjectCommand({ Bucket: 'relay-check', Key: 'a', Body: 'x' }));
      await relay.stop();
      await assert.rejects(s3.send(new PutObjectCommand({ Bucket: 'relay-check', Key: 'b', Body: 'x' })));
      await relay.start();
      await s3.send(new PutObjectCommand({ Bucket: 'relay-check', Key: 'c', Body: 'x' }));
    } finally {
      await relay.close();
    }
  });
});
