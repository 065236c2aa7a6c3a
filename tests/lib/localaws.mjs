// The local AWS for tests and `scripts/dev`: one ministack process (PyPI, installed by
// scripts/lib/setup-aws.sh into .tools/aws-venv) on a free 127.0.0.1 port, in its own
// temporary directory. It serves S3 (with event notifications to SQS), SQS (visibility,
// redrive to a DLQ), SNS (SQS subscriptions), DynamoDB (conditions, GSIs), IAM and
// CloudFormation. Why ministack: ARCHITECTURE.md, "Local AWS".
//
// Signatures are real: the server runs with AUTH=true and the returned credentials are
// those of an IAM user created at start, so every request (header-signed or presigned)
// is verified with SigV4. (MiniStack's root key is not signature-checked, so it is used
// only to create that user.)
//
//   const aws = await startLocalAws();
//   Object.assign(process.env, aws.env);          // AWS_ENDPOINT_URL_S3/SQS/DYNAMODB/SNS, keys, region
//   const q = await aws.createQueue('uploads', { dlq: true });
//   ...
//   await aws.stop();
//
// `startRelay(port)` puts a TCP relay in front of the server that a test can stop and
// start again (S3 "unreachable" mid-batch while SQS and DynamoDB keep working).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';

import { freePort, superviseServer } from './s3server.mjs';

export { freePort };

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const VENV = join(REPO, '.tools/aws-venv');
export const MINISTACK = join(VENV, 'bin/ministack');
export const REGION = 'us-east-1';
export const ACCOUNT_ID = '000000000000';
// The server's root key: only used to create the IAM user whose keys the tests get.
const ROOT_KEY = 'AKIALOCALROOT0000001';
const ROOT_SECRET = 'local-root-secret-not-for-requests';
const DEFAULT_SERVICES = 's3,sqs,sns,dynamodb,iam,sts,cloudformation,cloudwatch,logs,events,lambda,apigateway';

/** Install ministack if needed (scripts/lib/setup-aws.sh, quick when installed). */
export function ensureLocalAws() {
  if (existsSync(MINISTACK)) return MINISTACK;
  const setup = spawnSync('bash', [join(REPO, 'scripts/lib/setup-aws.sh')], { encoding: 'utf8' });
  if (setup.status !== 0) throw new Error(`scripts/lib/setup-aws.sh failed:\n${setup.stdout}${setup.stderr}`);
  return MINISTACK;
}

/** Endpoint variables for a process that should use the server at `endpoint`. */
export function endpointEnv(endpoint, credentials, { s3Endpoint = endpoint } = {}) {
  return {
    AWS_ENDPOINT_URL_S3: s3Endpoint,
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_SNS: endpoint,
    AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint,
    AWS_ENDPOINT_URL_IAM: endpoint,
    AWS_ENDPOINT_URL_STS: endpoint,
    AWS_ENDPOINT_URL_API_GATEWAY: endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
  };
}

/**
 * Start ministack. Options: `services` (comma list, default: S3, SQS, SNS, DynamoDB, IAM,
 * STS, CloudFormation, CloudWatch, Logs, EventBridge, Lambda, API Gateway), `port`.
 * Returns `{ endpoint, port, env, credentials, region, accountId, clients, dir,
 * createBucket, createQueue, createTable, createTopic, subscribeQueue, stop }`.
 */
export async function startLocalAws({ services = DEFAULT_SERVICES, port } = {}) {
  const binary = ensureLocalAws();
  const dir = mkdtempSync(join(tmpdir(), 'localaws-'));
  port ??= await freePort();
  // Watchdog: ministack runs under a shell that kills it when our end of the shell's
  // stdin closes, i.e. when stop() ends it or this process dies in any way (SIGKILL
  // included), so a ministack never outlives its test.
  // (A background job's stdin is /dev/null unless redirected, hence fd 3.)
  // SIGKILL: its state is a temp dir removed anyway, and a graceful shutdown of its
  // HTTP server waits for idle keep-alive connections, which takes seconds.
  const watchdog =
    'exec 3<&0; ms="$1"; "$ms" </dev/null 3<&- & server=$!; ' +
    '{ read _ <&3; kill -9 "$server" 2>/dev/null; } & exec 3<&-; wait "$server"';
  const child = spawn('/bin/sh', ['-c', watchdog, 'localaws', binary], {
    cwd: dir,
    stdio: ['pipe', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      TMPDIR: dir,
      BIND_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      // Queue URLs and other self-links then name 127.0.0.1, never "localhost" (::1).
      MINISTACK_HOST: '127.0.0.1',
      MINISTACK_REGION: REGION,
      MINISTACK_ACCOUNT_ID: ACCOUNT_ID,
      AUTH: 'true',
      AWS_ACCESS_KEY_ID: ROOT_KEY,
      AWS_SECRET_ACCESS_KEY: ROOT_SECRET,
      S3_DATA_DIR: join(dir, 's3'),
      STATE_DIR: join(dir, 'state'),
      PERSIST_STATE: '0',
      S3_PERSIST: '0',
      SERVICES: services,
      LOG_LEVEL: 'WARNING',
      PYTHONUNBUFFERED: '1',
    },
  });
  child.stdin.on('error', () => {});
  // Closing the watchdog's stdin ends ministack (see above), also when this process dies.
  const { stop, stderr } = await superviseServer(child, {
    name: 'ministack',
    port,
    startMs: 30_000,
    graceMs: 5000,
    shutdown: () => child.stdin.end(),
    onProcessExit: () => child.stdin.destroy(),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
  const endpoint = `http://127.0.0.1:${port}`;
  let credentials;
  try {
    credentials = await createIamUser(endpoint, 'local-tests');
  } catch (err) {
    await stop();
    throw err;
  }
  const aws = localAwsApi(endpoint, credentials);
  const deployStack = (name, template, parameters = {}) => deployLocalStack(endpoint, credentials, name, template, parameters);
  return { ...aws, port, dir, accountId: ACCOUNT_ID, deployStack, stop, stderr };
}

/**
 * SDK clients and resource helpers for a running local AWS at `endpoint` (S3 may sit
 * behind another endpoint, e.g. a relay).
 */
export function localAwsApi(endpoint, credentials, { s3Endpoint = endpoint } = {}) {
  const base = { region: REGION, credentials, maxAttempts: 2 };
  const clients = {
    s3: new S3Client({ ...base, endpoint: s3Endpoint, forcePathStyle: true }),
    sqs: new SQSClient({ ...base, endpoint }),
    dynamodb: new DynamoDBClient({ ...base, endpoint }),
    sns: new SNSClient({ ...base, endpoint }),
  };

  async function queueArn(queueUrl) {
    const res = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    return res.Attributes.QueueArn;
  }

  /** Let `service` (e.g. s3.amazonaws.com) send to the queue from `sourceArn`, like a real queue policy. */
  async function allowSender(queueUrl, arn, service, sourceArn) {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: service },
          Action: 'sqs:SendMessage',
          Resource: arn,
          Condition: { ArnLike: { 'aws:SourceArn': sourceArn } },
        },
      ],
    };
    await clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy: JSON.stringify(policy) } }));
  }

  /**
   * A queue; `{dlq: true}` adds `<name>-dlq` with a redrive after `maxReceiveCount`
   * (default 3) receives. Returns `{ url, arn, dlqUrl?, dlqArn? }`.
   */
  async function createQueue(name, { dlq = false, maxReceiveCount = 3, visibilityTimeout = 30 } = {}) {
    const attributes = { VisibilityTimeout: String(visibilityTimeout) };
    let dead;
    if (dlq) {
      const url = (await clients.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl;
      dead = { dlqUrl: url, dlqArn: await queueArn(url) };
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dead.dlqArn, maxReceiveCount });
    }
    const url = (await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl;
    return { url, arn: await queueArn(url), ...dead };
  }

  /**
   * A bucket; `notify: {queue: {url, arn}, prefix}` sends its ObjectCreated events for
   * keys under `prefix` to the queue (with the queue policy S3 needs).
   */
  async function createBucket(name, { notify } = {}) {
    await clients.s3.send(new CreateBucketCommand({ Bucket: name }));
    if (notify) {
      await allowSender(notify.queue.url, notify.queue.arn, 's3.amazonaws.com', `arn:aws:s3:::${name}`);
      const filter = notify.prefix ? { Key: { FilterRules: [{ Name: 'prefix', Value: notify.prefix }] } } : undefined;
      await clients.s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: name,
          NotificationConfiguration: {
            QueueConfigurations: [{ QueueArn: notify.queue.arn, Events: ['s3:ObjectCreated:*'], Filter: filter }],
          },
        }),
      );
    }
    return name;
  }

  /** The upload metadata table (issue 13 schema): imageId + uploadedAt, GSI user-id-index. */
  async function createTable(name) {
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'imageId', AttributeType: 'S' },
          { AttributeName: 'uploadedAt', AttributeType: 'N' },
          { AttributeName: 'userId', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'imageId', KeyType: 'HASH' },
          { AttributeName: 'uploadedAt', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'user-id-index',
            KeySchema: [
              { AttributeName: 'userId', KeyType: 'HASH' },
              { AttributeName: 'uploadedAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    return name;
  }

  async function createTopic(name) {
    return (await clients.sns.send(new CreateTopicCommand({ Name: name }))).TopicArn;
  }

  /** Subscribe a queue (`{url, arn}`) to a topic so a test can read the notices. */
  async function subscribeQueue(topicArn, queue) {
    await allowSender(queue.url, queue.arn, 'sns.amazonaws.com', topicArn);
    const res = await clients.sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queue.arn, ReturnSubscriptionArn: true }),
    );
    return res.SubscriptionArn;
  }

  /** Delete every message on the queue at `url` (until a 1 s long poll comes back empty). */
  async function drainQueue(url) {
    for (;;) {
      const res = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      if (!res.Messages?.length) return;
      for (const m of res.Messages) await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
  }

  return {
    endpoint,
    credentials,
    region: REGION,
    env: endpointEnv(endpoint, credentials, { s3Endpoint }),
    clients,
    queueArn,
    createQueue,
    createBucket,
    createTable,
    createTopic,
    subscribeQueue,
    drainQueue,
  };
}

/**
 * Create an IAM user with an allow-all inline policy and an access key, signed with the
 * root key through the venv's botocore (ministack's own dependency). Returns the key.
 */
async function createIamUser(endpoint, userName) {
  const python = join(VENV, 'bin/python');
  const script = `
import json, sys, botocore.session
iam = botocore.session.get_session().create_client('iam', region_name='${REGION}', endpoint_url=sys.argv[1],
    aws_access_key_id='${ROOT_KEY}', aws_secret_access_key='${ROOT_SECRET}')
iam.create_user(UserName=sys.argv[2])
iam.put_user_policy(UserName=sys.argv[2], PolicyName='all', PolicyDocument=json.dumps(
    {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))
key = iam.create_access_key(UserName=sys.argv[2])['AccessKey']
print(json.dumps({'accessKeyId': key['AccessKeyId'], 'secretAccessKey': key['SecretAccessKey']}))
`;
  const child = spawn(python, ['-c', script, endpoint, userName], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`creating the local IAM user failed: ${err}`);
  return JSON.parse(out);
}

/**
 * Create a CloudFormation stack on the local server from `template` (a JSON-able
 * object) and wait for it. Returns `{status, reason, outputs: {name: value}, resources:
 * [{logicalId, type, status, reason, physicalId}]}`; never throws for a failed stack.
 */
export async function deployLocalStack(endpoint, credentials, name, template, parameters = {}) {
  const script = `
import json, sys, time, botocore.session
endpoint, name, key, secret = sys.argv[1:5]
body = sys.stdin.read()
params = json.loads(sys.argv[5])
cf = botocore.session.get_session().create_client('cloudformation', region_name='${REGION}', endpoint_url=endpoint,
    aws_access_key_id=key, aws_secret_access_key=secret)
cf.create_stack(StackName=name, TemplateBody=body, Capabilities=['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
    Parameters=[{'ParameterKey': k, 'ParameterValue': v} for k, v in params.items()])
for _ in range(600):
    stack = cf.describe_stacks(StackName=name)['Stacks'][0]
    if not stack['StackStatus'].endswith('IN_PROGRESS'):
        break
    time.sleep(0.1)
resources = [{'logicalId': r['LogicalResourceId'], 'type': r['ResourceType'], 'status': r['ResourceStatus'],
              'reason': r.get('ResourceStatusReason', ''), 'physicalId': r.get('PhysicalResourceId', '')}
             for r in cf.describe_stack_resources(StackName=name)['StackResources']]
print(json.dumps({'status': stack['StackStatus'], 'reason': stack.get('StackStatusReason', ''),
                  'outputs': {o['OutputKey']: o['OutputValue'] for o in stack.get('Outputs', [])}, 'resources': resources}))
`;
  const child = spawn(
    join(VENV, 'bin/python'),
    ['-c', script, endpoint, name, credentials.accessKeyId, credentials.secretAccessKey, JSON.stringify(parameters)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  child.stdin.end(JSON.stringify(template));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`CloudFormation deploy of ${name} failed: ${err}`);
  return JSON.parse(out);
}

/**
 * A TCP relay on a free 127.0.0.1 port to `targetPort`. `stop()` closes the listener and
 * cuts open connections (clients then get ECONNREFUSED, as with a server that is down);
 * `start()` listens again on the same port; `close()` for good; `cutOn(regex)` stops it
 * when a request line/headers chunk matches (S3 down in the middle of a batch).
 */
export async function startRelay(targetPort) {
  const sockets = new Set();
  let cutPattern = null;
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.pipe(client);
    client.on('data', (chunk) => {
      // Fault injection: go down the moment a matching request starts, before it is sent.
      if (cutPattern && cutPattern.test(chunk.toString('latin1'))) {
        cutPattern = null;
        stop();
        return;
      }
      upstream.write(chunk);
    });
  });
  const port = await freePort();
  const listen = () => new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  await listen();
  let up = true;
  const stop = async () => {
    if (!up) return;
    up = false;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const s of sockets) s.destroy();
    sockets.clear();
    await closed;
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop,
    start: async () => {
      if (up) return;
      await listen();
      up = true;
    },
    close: stop,
    /** Stop the relay when a request whose head matches `pattern` comes through. */
    cutOn: (pattern) => {
      cutPattern = pattern;
    },
  };
}
