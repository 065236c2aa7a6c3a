// infra/template.yaml, upload block (issue 13): the wiring read from the template, then
// the same template deployed on the local CloudFormation engine (ministack) with a real
// S3 notification reaching the queue and the processor completing an upload from it.
// cfn-lint of the whole template runs in tests/infra.test.mjs.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, test } from 'node:test';

import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';

import { parseCfnYaml } from '../infra/cfn-template.mjs';
import { AWS_ONLY, deployUploadStack } from '../dev/upload-stack.mjs';
import { pollOnce } from '../dev/upload-poller.mjs';
import { loadShim } from '../lambda-common/wasm.mjs';
import { startLocalAws } from './lib/localaws.mjs';

const T = parseCfnYaml(readFileSync(new URL('../infra/template.yaml', import.meta.url), 'utf8'));
const R = T.Resources;
const getAtt = (v) => v?.['Fn::GetAtt'];
const isRef = (v, name) => v?.Ref === name;
const statements = (role) => role.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement);
const subText = (v) => (typeof v === 'string' ? v : [v['Fn::Sub']].flat()[0]);

describe('upload pipeline in infra/template.yaml', () => {
  test('UploadPipeline parameter (default enabled) guards every upload resource', () => {
    assert.equal(T.Parameters.UploadPipeline.Default, 'enabled');
    assert.deepEqual(T.Parameters.UploadPipeline.AllowedValues, ['enabled', 'disabled']);
    assert.deepEqual(T.Conditions.UploadPipelineOn, { 'Fn::Equals': [{ Ref: 'UploadPipeline' }, 'enabled'] });
    const upload = Object.entries(R).filter(([id]) => id.startsWith('Upload'));
    assert.ok(upload.length >= 12);
    for (const [id, r] of upload) assert.equal(r.Condition, 'UploadPipelineOn', id);
  });

  test('bucket notification: ObjectCreated under the uploads prefix only → UploadQueue', () => {
    const n = R.ImageBucket.Properties.NotificationConfiguration['Fn::If'];
    assert.equal(n[0], 'UploadPipelineOn');
    const [q] = n[1].QueueConfigurations;
    assert.equal(q.Event, 's3:ObjectCreated:*');
    assert.deepEqual(q.Filter.S3Key.Rules, [{ Name: 'prefix', Value: { Ref: 'UploadsPrefix' } }]);
    assert.deepEqual(getAtt(q.Queue['Fn::Select'][1][0]), ['UploadQueue', 'Arn']);
    assert.ok(isRef(q.Queue['Fn::Select'][1][1], 'UploadQueuePolicy'), 'bucket waits for the queue policy');
    assert.equal(T.Parameters.UploadsPrefix.Default, 'uploads/');
    // Loop guard: the processor's own prefixes are not under the watched one.
    for (const other of [T.Parameters.DerivedPrefix.Default, T.Parameters.UploadErrorPrefix.Default]) {
      assert.ok(!other.startsWith('uploads/'), other);
    }
    const policy = R.UploadQueuePolicy.Properties.PolicyDocument.Statement;
    assert.deepEqual(policy.map((s) => [s.Effect, s.Principal.Service, s.Action]), [['Allow', 's3.amazonaws.com', 'sqs:SendMessage']]);
  });

  test('queue with DLQ after 3 receives; visibility timeout >= 6 x function timeout', () => {
    const q = R.UploadQueue.Properties;
    assert.deepEqual(getAtt(q.RedrivePolicy.deadLetterTargetArn), ['UploadDeadLetterQueue', 'Arn']);
    assert.equal(q.RedrivePolicy.maxReceiveCount, 3);
    assert.ok(q.VisibilityTimeout >= 6 * R.UploadProcessorFunction.Properties.Timeout);
  });

  test('processor function: 1,536 MB default, batch 10, partial batch failures, reserved concurrency', () => {
    const f = R.UploadProcessorFunction.Properties;
    assert.equal(f.Runtime, 'nodejs22.x');
    assert.equal(f.Handler, 'index.handler');
    assert.equal(f.Code, '../dist/upload-processor.zip');
    assert.ok(isRef(f.MemorySize, 'UploadProcessorMemorySize'));
    assert.equal(T.Parameters.UploadProcessorMemorySize.Default, 1536);
    assert.ok(isRef(f.ReservedConcurrentExecutions, 'UploadProcessorReservedConcurrency'));
    assert.ok(isRef(f.Environment.Variables.METADATA_TABLE, 'UploadMetadataTable'));
    assert.ok(isRef(f.Environment.Variables.NOTIFY_TOPIC_ARN, 'UploadNotifyTopic'));
    assert.ok(f.Environment.Variables.CDN_BASE_URL['Fn::If']);
    const m = R.UploadProcessorEventSource.Properties;
    assert.equal(m.BatchSize, 10);
    assert.deepEqual(m.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.deepEqual(getAtt(m.EventSourceArn), ['UploadQueue', 'Arn']);
  });

  test('table: on demand, PITR, SSE, imageId + uploadedAt keys, GSI user-id-index', () => {
    const t = R.UploadMetadataTable.Properties;
    assert.equal(t.BillingMode, 'PAY_PER_REQUEST');
    assert.equal(t.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled, true);
    assert.equal(t.SSESpecification.SSEEnabled, true);
    assert.deepEqual(t.KeySchema, [{ AttributeName: 'imageId', KeyType: 'HASH' }, { AttributeName: 'uploadedAt', KeyType: 'RANGE' }]);
    const [gsi] = t.GlobalSecondaryIndexes;
    assert.equal(gsi.IndexName, 'user-id-index');
    assert.deepEqual(gsi.KeySchema, [{ AttributeName: 'userId', KeyType: 'HASH' }, { AttributeName: 'uploadedAt', KeyType: 'RANGE' }]);
    assert.equal(t.TimeToLiveSpecification.AttributeName, 'expiresAt');
  });

  test('least privilege: read uploads/, write derived and errors/, one table, one topic, one queue', () => {
    const s = statements(R.UploadProcessorRole);
    for (const st of s) {
      assert.equal(st.Effect, 'Allow');
      for (const a of [st.Action].flat()) assert.ok(!a.includes('*'), `no wildcard action: ${a}`);
    }
    const byAction = (action) => s.filter((st) => [st.Action].flat().includes(action));
    const resources = (st) => [st.Resource].flat().map(subText);
    assert.deepEqual(byAction('s3:GetObject').flatMap(resources), ['arn:${AWS::Partition}:s3:::${Bucket}/${UploadsPrefix}*']);
    assert.deepEqual(byAction('s3:PutObject').flatMap(resources), [
      'arn:${AWS::Partition}:s3:::${Bucket}/${DerivedPrefix}*',
      'arn:${AWS::Partition}:s3:::${Bucket}/${UploadErrorPrefix}*',
    ]);
    assert.ok(!s.some((st) => [st.Action].flat().some((a) => /s3:(Delete|PutBucket|\*)/.test(a))));
    for (const a of ['dynamodb:UpdateItem', 'dynamodb:PutItem']) assert.deepEqual(byAction(a).map((st) => getAtt(st.Resource)), [['UploadMetadataTable', 'Arn']]);
    assert.ok(isRef(byAction('sns:Publish')[0].Resource, 'UploadNotifyTopic'));
    assert.deepEqual(getAtt(byAction('sqs:ReceiveMessage')[0].Resource), ['UploadQueue', 'Arn']);
  });

  test('bucket policy denies non-TLS access', () => {
    const deny = R.ImageBucketPolicy.Properties.PolicyDocument.Statement.find((st) => st.Effect === 'Deny');
    assert.equal(deny.Principal, '*');
    assert.equal(deny.Action, 's3:*');
    assert.deepEqual(deny.Condition, { Bool: { 'aws:SecureTransport': 'false' } });
  });

  test('alarms: DLQ depth > 10, errors > 5 % over 5 minutes, P95 duration > 120 s', () => {
    const dlq = R.UploadDeadLetterAlarm.Properties;
    assert.deepEqual([dlq.MetricName, dlq.Threshold, dlq.ComparisonOperator], ['ApproximateNumberOfMessagesVisible', 10, 'GreaterThanThreshold']);
    assert.deepEqual(getAtt(dlq.Dimensions[0].Value), ['UploadDeadLetterQueue', 'QueueName']);
    const err = R.UploadErrorRateAlarm.Properties;
    assert.deepEqual([err.Threshold, err.ComparisonOperator], [5, 'GreaterThanThreshold']);
    const metrics = Object.fromEntries(err.Metrics.map((m) => [m.Id, m]));
    assert.equal(metrics.errors.MetricStat.Metric.MetricName, 'Errors');
    assert.equal(metrics.invocations.MetricStat.Metric.MetricName, 'Invocations');
    assert.ok(err.Metrics.every((m) => !m.MetricStat || m.MetricStat.Period === 300));
    assert.match(metrics.errorPercent.Expression, /100 \* errors \/ invocations/);
    const dur = R.UploadDurationAlarm.Properties;
    assert.deepEqual([dur.MetricName, dur.ExtendedStatistic, dur.Threshold, dur.Period], ['Duration', 'p95', 120000, 300]);
  });

  test('scripts/package builds dist/upload-processor.zip', { skip: !existsSync(new URL('../dist/upload-processor.zip', import.meta.url)) && 'run scripts/package' }, () => {
    const size = statSync(new URL('../dist/upload-processor.zip', import.meta.url)).size;
    assert.ok(size > 1e6 && size < 50 * 1024 * 1024, `${size} bytes`);
  });
});

describe('the upload block deployed on the local CloudFormation engine', () => {
  test('creates the queue, DLQ, table, topic, role and notification; an upload is processed from it', async () => {
    const aws = await startLocalAws();
    try {
      const stack = await deployUploadStack(aws, 'edge-resizer-test');
      const created = stack.resources.map((r) => r.logicalId).sort();
      const expected = Object.keys(R).filter((id) => id === 'ImageBucket' || (R[id].Condition === 'UploadPipelineOn' && !AWS_ONLY.includes(id)));
      assert.deepEqual(created, expected.sort());
      const { BucketName: bucket, UploadQueueUrl: queueUrl, UploadMetadataTableName: table } = stack.outputs;
      const redrive = await aws.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
      assert.equal(JSON.parse(redrive.Attributes.RedrivePolicy).maxReceiveCount, 3);

      Object.assign(process.env, aws.env, { METADATA_TABLE: table, CDN_BASE_URL: 'https://cdn.example.test' });
      delete process.env.NOTIFY_TOPIC_ARN;
      const { handler } = await import('../upload-processor/index.mjs');
      const shim = await loadShim(new URL('../edge-shim/pkg/', import.meta.url));
      const baked = JSON.parse(readFileSync(new URL('../config/default.json', import.meta.url), 'utf8'));
      shim.configure(JSON.stringify({ ...baked, uploads: { eager: { small: 'w=64&fm=webp' }, compressed: 'small' } }));
      const photo = readFileSync(new URL('../../shared/corpus/photos/progressive_3.jpg', import.meta.url));
      await aws.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: '_derived/not-an-upload.jpg', Body: photo }));
      await aws.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'uploads/eve/p.jpg', Body: photo }));
      const arn = (await aws.queueArn(queueUrl));
      let records = 0;
      for (let i = 0; i < 5 && records < 1; i++) {
        const report = await pollOnce(aws.clients.sqs, { queueUrl, queueArn: arn, handler, waitSeconds: 1 });
        records += (report.messages ?? []).filter((m) => JSON.parse(m.Body).Records).length;
      }
      assert.equal(records, 1, 'one notification, for the key under uploads/');
      const items = (await DynamoDBDocumentClient.from(aws.clients.dynamodb).send(new ScanCommand({ TableName: table }))).Items;
      assert.deepEqual(items.map((i) => [i.originalKey, i.status, i.variants.small.width]), [['uploads/eve/p.jpg', 'completed', 64]]);
      const left = await aws.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
      assert.equal(left.Messages, undefined);
    } finally {
      await aws.stop();
    }
  });
});
