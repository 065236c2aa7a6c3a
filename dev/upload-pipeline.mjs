#!/usr/bin/env node
// The local upload pipeline, run by scripts/dev as its own process (its S3 is the local
// AWS's, not the edge's s3s-fs, and the AWS_ENDPOINT_URL_* variables are per process):
// ministack on 127.0.0.1, the upload stack deployed from infra/template.yaml
// (dev/upload-stack.mjs), a poller feeding real SQS events to upload-processor, and a
// small JSON API for the demo panel (dev/demo/uploads.js), proxied by the dev server
// under /__uploads/. Prints `UPLOADS-READY <port>` when serving. Stops when its stdin
// closes (the dev server died) or on SIGINT/SIGTERM.

import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';

import { loadShim } from '../lambda-common/wasm.mjs';
import { startLocalAws } from '../tests/lib/localaws.mjs';
import { startDevApi } from './api.mjs';
import { startPoller } from './upload-poller.mjs';
import { deployUploadStack } from './upload-stack.mjs';

const SAMPLES = fileURLToPath(new URL('samples/', import.meta.url));
const TYPES = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp', '.gif': 'image/gif' };
// Used only while the baked config's eager entries cannot be planned here (the default
// entries use presets that branch `signing` adds): the seed's set as explicit queries.
const FALLBACK_EAGER = {
  thumbnail: 'w=150&h=150&fit=cover&fm=auto',
  medium: 'w=600&fm=auto',
  large: 'w=1200&fm=auto',
  compressed: 'w=1200&h=1200&fm=webp&q=80',
};
const log = (line) => process.stderr.write(`[uploads] ${line}\n`);

const aws = await startLocalAws();
let server;
let poller;
let devApi;
let stopping;
// Fast: the dev server may be gone (SIGKILL) and its checks expect us gone within
// seconds; an in-flight poll or batch is simply abandoned (SQS redelivers it).
const stop = (code = 0) => {
  stopping ||= (async () => {
    poller?.stop().catch(() => {});
    devApi?.stop().catch(() => {});
    server?.closeAllConnections?.();
    server?.close();
    await aws.stop();
    process.exit(code);
  })();
  return stopping;
};
process.stdin.on('end', () => stop(0)).on('close', () => stop(0)).resume();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stop(0));

try {
  const stack = await deployUploadStack(aws);
  const { BucketName: bucket, UploadQueueUrl: queueUrl, UploadMetadataTableName: table, UploadNotifyTopicArn: topic } = stack.outputs;
  log(`local stack from infra/template.yaml: ${stack.resources.map((r) => r.logicalId).join(', ')}`);
  // The notices the panel shows: a queue subscribed to the topic, as a consumer would.
  const notices = await aws.createQueue('dev-upload-notices');
  await aws.subscribeQueue(topic, notices);
  Object.assign(process.env, aws.env, { METADATA_TABLE: table, NOTIFY_TOPIC_ARN: topic, CDN_BASE_URL: process.env.DEV_CDN_BASE_URL ?? '' });

  const { handler } = await import('../upload-processor/index.mjs');
  // The regional API (issue 14) on the same local AWS: the demo's presigned-upload form.
  // Started before the eager fallback below: loading a handler configures the shared
  // wasm module with the baked config again.
  devApi = await startDevApi({ s3: aws.clients.s3, bucket, table, log });
  const shim = await loadShim(new URL('../edge-shim/pkg/', import.meta.url));
  try {
    shim.eagerVariants(`${shim.uploadsConfig().prefix}demo/check.jpg`);
  } catch (err) {
    log(`baked uploads.eager not usable here (${err.message}); using the seed set as explicit queries`);
    const baked = JSON.parse(readFileSync(new URL('../config/default.json', import.meta.url), 'utf8'));
    shim.configure(JSON.stringify({ ...baked, uploads: { ...(baked.uploads ?? {}), eager: FALLBACK_EAGER } }));
  }
  const uploads = shim.uploadsConfig();
  const queueArn = await aws.queueArn(queueUrl);
  const batches = [];
  poller = startPoller(aws.clients.sqs, { queueUrl, queueArn, handler, waitSeconds: 2 }, (report) => {
    if (report.error) return log(`poll failed: ${report.error.message}`);
    batches.unshift({ at: new Date().toISOString(), received: report.received, failed: report.failed.length });
    batches.length = Math.min(batches.length, 20);
  });

  const receivedNotices = [];
  const docs = DynamoDBDocumentClient.from(aws.clients.dynamodb);
  async function drainNotices() {
    const res = await aws.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: notices.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    for (const m of res.Messages ?? []) {
      const envelope = JSON.parse(m.Body);
      receivedNotices.unshift({ at: envelope.Timestamp, status: envelope.MessageAttributes?.status?.Value, message: JSON.parse(envelope.Message) });
      await aws.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: notices.url, ReceiptHandle: m.ReceiptHandle }));
    }
    receivedNotices.length = Math.min(receivedNotices.length, 50);
  }

  const upload = (name, body, user = 'demo') =>
    aws.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${uploads.prefix}${user}/${name}`, Body: body, ContentType: TYPES[extname(name).toLowerCase()] }));
  for (const name of readdirSync(SAMPLES).filter((n) => TYPES[extname(n).toLowerCase()])) {
    await upload(name, readFileSync(join(SAMPLES, name)));
  }

  const json = (res, status, value) => {
    const body = Buffer.from(JSON.stringify(value));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(body);
  };
  server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://local');
      if (req.method === 'GET' && url.pathname === '/__uploads/api/state') {
        await drainNotices();
        const items = (await docs.send(new ScanCommand({ TableName: table }))).Items ?? [];
        items.sort((a, b) => b.uploadedAt - a.uploadedAt || String(b.processedAt).localeCompare(String(a.processedAt)));
        return json(res, 200, {
          bucket,
          queueUrl,
          uploads: items.filter((i) => i.status !== 'failed').slice(0, 50),
          failed: items.filter((i) => i.status === 'failed').slice(0, 50),
          notices: receivedNotices,
          batches,
          api: devApi.info,
        });
      }
      if (req.method === 'POST' && url.pathname === '/__uploads/api/upload') {
        const name = (url.searchParams.get('name') ?? '').replace(/[^\w.\- ]/g, '_').slice(0, 100) || 'upload.bin';
        const chunks = [];
        let size = 0;
        for await (const chunk of req) {
          size += chunk.length;
          if (size > 40 * 1024 * 1024) return json(res, 413, { error: 'over 40 MB' });
          chunks.push(chunk);
        }
        await upload(name, Buffer.concat(chunks));
        return json(res, 200, { key: `${uploads.prefix}demo/${name}` });
      }
      if (req.method === 'GET' && url.pathname === '/__uploads/api/object') {
        const key = url.searchParams.get('key') ?? '';
        const obj = await aws.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        res.writeHead(200, { 'content-type': obj.ContentType ?? 'application/octet-stream', 'cache-control': 'no-store' });
        return obj.Body.pipe(res);
      }
      json(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    } catch (err) {
      if (!res.headersSent) json(res, err?.$metadata?.httpStatusCode ?? 500, { error: err.message });
      else res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`UPLOADS-READY ${server.address().port} ${aws.endpoint} ${bucket}\n`);
} catch (err) {
  log(`failed to start: ${err.stack ?? err}`);
  await stop(1);
}
