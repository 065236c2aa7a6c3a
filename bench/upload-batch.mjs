#!/usr/bin/env node
// Upload pipeline batch measurement (issue 13): N real photos (the corpus photos over
// 1 MP, repeated) uploaded to the local AWS (ministack), delivered by S3 notification →
// SQS, processed by upload-processor/index.mjs in batches of 10 as Lambda's event source
// mapping would. Reports per-image processing time (median, P95), the thumbnail alone
// (one transform of the thumbnail query), the peak RSS of this process (the handler's
// process: ministack runs in its own), and the cost per image at the memory size and
// Lambda's x86 price.
//
//   node bench/upload-batch.mjs [--count 100] [--memory-mb 1536] [--json FILE]
// Speed numbers depend on the machine's load; the load average is printed with them.

import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { pollOnce } from '../dev/upload-poller.mjs';
import { loadShim } from '../lambda-common/wasm.mjs';
import { startLocalAws } from '../tests/lib/localaws.mjs';

// Lambda x86 on-demand price, us-east-1: per GB-second and per request.
const PRICE_GB_SECOND = 0.0000166667;
const PRICE_REQUEST = 0.2 / 1e6;
const SEED_COST = 0.0017;
const PHOTOS = ['HMD_Nokia_8.3_5G.jpg', 'dog_exif_extended_xmp_icc.jpg', 'hato.jpg', 'xmp_test_adobergb.jpg', 'GreenMeadow_progressive.jpg'];
// The default eager set with negotiation on (branch `signing`), as explicit queries.
const EAGER = {
  thumbnail: 'w=150&h=150&fit=cover&fm=auto',
  medium: 'w=600&fm=auto',
  large: 'w=1200&fm=auto',
  compressed: 'w=1200&h=1200&fm=webp&q=80',
};

const { values: opts } = parseArgs({
  options: { count: { type: 'string', default: '100' }, 'memory-mb': { type: 'string', default: '1536' }, json: { type: 'string' } },
});
const count = Number(opts.count);
const memoryGb = Number(opts['memory-mb']) / 1024;

const corpus = new URL('../../shared/corpus/photos/', import.meta.url);
const photos = PHOTOS.map((name) => ({ name, body: readFileSync(new URL(name, corpus)) }));
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

const aws = await startLocalAws();
try {
  const queue = await aws.createQueue('bench-uploads', { dlq: true, visibilityTimeout: 900 });
  await aws.createBucket('bench-images', { notify: { queue, prefix: 'uploads/' } });
  await aws.createTable('bench-meta');
  Object.assign(process.env, aws.env, { METADATA_TABLE: 'bench-meta', CDN_BASE_URL: 'https://cdn.example.test' });
  const { handler } = await import('../upload-processor/index.mjs');
  const shim = await loadShim(new URL('../edge-shim/pkg/', import.meta.url));
  const baked = JSON.parse(readFileSync(new URL('../config/default.json', import.meta.url), 'utf8'));
  shim.configure(JSON.stringify({ ...baked, uploads: { eager: EAGER } }));

  // Thumbnail alone: one transform of the thumbnail query per photo (warm).
  const thumbnail = {};
  for (const p of photos) {
    shim.transform(p.body, 'w=150&h=150&fit=cover&fm=webp', 'image/webp');
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      shim.transform(p.body, 'w=150&h=150&fit=cover&fm=webp', 'image/webp');
      runs.push(performance.now() - t);
    }
    thumbnail[p.name] = Math.round(percentile(runs, 50));
  }

  for (let i = 0; i < count; i++) {
    const p = photos[i % photos.length];
    await aws.clients.s3.send(
      new PutObjectCommand({ Bucket: 'bench-images', Key: `uploads/bench/${String(i).padStart(3, '0')}-${p.name}`, Body: p.body, ContentType: 'image/jpeg' }),
    );
  }
  const invocations = [];
  let handled = 0;
  // CPU time of this process while the handler runs: what a Lambda with about one vCPU
  // (1,536 MB is 0.87 vCPU) would be busy for, independent of this machine's load.
  const cpuBefore = process.cpuUsage();
  for (let polls = 0; handled < count + 1 && polls < count; polls++) {
    const t = performance.now();
    const report = await pollOnce(aws.clients.sqs, { queueUrl: queue.url, queueArn: queue.arn, handler, waitSeconds: 2 });
    if (!report.received) break;
    handled += report.received;
    invocations.push({ ms: performance.now() - t, messages: report.received, failed: report.failed.length });
  }
  const cpu = process.cpuUsage(cpuBefore);
  const docs = DynamoDBDocumentClient.from(aws.clients.dynamodb);
  const items = [];
  let start;
  do {
    const page = await docs.send(new ScanCommand({ TableName: 'bench-meta', ExclusiveStartKey: start }));
    items.push(...page.Items);
    start = page.LastEvaluatedKey;
  } while (start);
  const done = items.filter((i) => i.status === 'completed');
  const times = done.map((i) => i.processingTimeMs);
  const byPhoto = Object.fromEntries(
    photos.map((p) => {
      const t = done.filter((i) => i.originalKey.endsWith(p.name)).map((i) => i.processingTimeMs);
      return [p.name, { size: p.body.length, median: percentile(t, 50), p95: percentile(t, 95), n: t.length }];
    }),
  );
  const handlerMs = invocations.reduce((s, x) => s + x.ms, 0);
  const billedSecondsPerImage = handlerMs / 1000 / done.length;
  const costPerImage = billedSecondsPerImage * memoryGb * PRICE_GB_SECOND + (invocations.length * PRICE_REQUEST) / done.length;
  const result = {
    images: count,
    completed: done.length,
    outputsPerImage: done[0] ? Object.values(done[0].variants).reduce((n, v) => n + (v.formats ? Object.keys(v.formats).length : 1), 0) : 0,
    processingTimeMs: { median: percentile(times, 50), p95: percentile(times, 95), max: Math.max(...times) },
    byPhoto,
    thumbnailAloneMs: thumbnail,
    invocations: invocations.length,
    handlerSecondsPerImage: Math.round(billedSecondsPerImage * 1000) / 1000,
    cpuSecondsPerImage: Math.round(((cpu.user + cpu.system) / 1e6 / done.length) * 1000) / 1000,
    costPerImageAtCpuTimeUsd: Number(((((cpu.user + cpu.system) / 1e6 / done.length) / 0.87) * memoryGb * PRICE_GB_SECOND + (invocations.length * PRICE_REQUEST) / done.length).toPrecision(3)),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    memoryMb: Number(opts['memory-mb']),
    costPerImageUsd: Number(costPerImage.toPrecision(3)),
    seedCostPerImageUsd: SEED_COST,
    loadAverage: loadavg().map((x) => Math.round(x * 10) / 10),
  };
  console.log(JSON.stringify(result, null, 2));
  if (opts.json) writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await aws.stop();
}
