// The metadata item (DynamoDB, table METADATA_TABLE) and the completion notice (SNS,
// NOTIFY_TOPIC_ARN). Idempotency lives here: an upload (imageId + the object's ETag) is
// claimed with a conditional write before any transform, so a duplicate S3 event does no
// second transform, record or notice; a crashed claim expires after its lease.

import { randomUUID } from 'node:crypto';

import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';

import { awsClient } from '../lambda-common/aws.mjs';

const nowSeconds = () => Math.floor(Date.now() / 1000);

export function tableName() {
  const name = process.env.METADATA_TABLE;
  if (!name) throw new Error('METADATA_TABLE is not set');
  return name;
}

/** The newest item of `imageId` (an API `pending` item, or an earlier run), or null. */
export async function findItem(imageId) {
  const res = await awsClient('dynamodb').send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'imageId = :id',
      ExpressionAttributeValues: { ':id': imageId },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  return res.Items?.[0] ?? null;
}

export async function getItem(keys) {
  const res = await awsClient('dynamodb').send(new GetCommand({ TableName: tableName(), Key: keys, ConsistentRead: true }));
  return res.Item ?? null;
}

/**
 * Claim `keys` for processing `etag`: succeeds when the item is new, the API's pending
 * item, an expired claim, a record of another ETag (a new upload over the same id), or
 * one that gave up after the last retry (a redrive from the DLQ).
 * Returns the claim token, or null when someone else holds or finished it.
 */
export async function claim(keys, { etag, leaseSeconds, fields }) {
  const token = randomUUID();
  const now = nowSeconds();
  const values = {
    ':processing': 'processing', ':pending': 'pending', ':failed': 'failed', ':exhausted': 'retries_exhausted',
    ':etag': etag, ':now': now, ':lease': now + leaseSeconds, ':token': token,
  };
  const names = { '#status': 'status', '#error': 'error', '#code': 'code' };
  const sets = ['#status = :processing', 'sourceEtag = :etag', 'leaseUntil = :lease', 'claimToken = :token'];
  addSets(sets, names, values, fields);
  try {
    await awsClient('dynamodb').send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys,
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression:
          'attribute_not_exists(imageId) OR #status = :pending OR (#status = :processing AND leaseUntil < :now) OR sourceEtag <> :etag' +
          ' OR (#status = :failed AND #error.#code = :exhausted)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return token;
  } catch (err) {
    if (err?.name === 'ConditionalCheckFailedException') return null;
    throw err;
  }
}

// Every attribute through a name placeholder: DynamoDB reserves many plain words
// (status, bucket, error, ...).
function addSets(sets, names, values, fields) {
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || name === 'imageId' || name === 'uploadedAt') continue;
    names[`#a_${name}`] = name;
    values[`:a_${name}`] = value;
    sets.push(`#a_${name} = :a_${name}`);
  }
}

/** Give a claim back after a transient failure, so the retry need not wait for the lease. */
export async function release(keys, token) {
  try {
    await awsClient('dynamodb').send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys,
        UpdateExpression: 'SET leaseUntil = :zero',
        ConditionExpression: 'claimToken = :token',
        ExpressionAttributeValues: { ':zero': 0, ':token': token },
      }),
    );
  } catch {
    // Best effort: the lease expires anyway.
  }
}

/**
 * Write the final record (status completed or failed) while still holding the claim.
 * Returns false when the claim was lost (another worker took over an expired lease).
 */
export async function finish(keys, token, record) {
  const names = {};
  const values = { ':token': token };
  const sets = [];
  addSets(sets, names, values, record);
  // A retry that completes clears what an earlier failed attempt recorded.
  const removes = ['leaseUntil', 'claimToken'];
  for (const stale of ['error', 'errorKey', 'writtenKeys']) {
    if (stale in record) continue;
    names[`#r_${stale}`] = stale;
    removes.push(`#r_${stale}`);
  }
  try {
    await awsClient('dynamodb').send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys,
        UpdateExpression: `SET ${sets.join(', ')}, notified = :false REMOVE ${removes.join(', ')}`,
        ConditionExpression: 'claimToken = :token',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ':false': false },
      }),
    );
    return true;
  } catch (err) {
    if (err?.name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/** The SNS notice of a finished record (skipped when NOTIFY_TOPIC_ARN is unset). */
export async function notify(item) {
  const topic = process.env.NOTIFY_TOPIC_ARN;
  if (!topic) return false;
  const urls = Object.fromEntries(Object.entries(item.variants ?? {}).map(([name, v]) => [name, v.url]));
  const message = {
    imageId: item.imageId,
    userId: item.userId ?? null,
    status: item.status,
    originalKey: item.originalKey,
    variants: urls,
    savingsPercent: item.savingsPercent ?? null,
    processingTimeMs: item.processingTimeMs,
    ...(item.error ? { error: item.error } : {}),
  };
  await awsClient('sns').send(
    new PublishCommand({
      TopicArn: topic,
      Message: JSON.stringify(message),
      MessageAttributes: { status: { DataType: 'String', StringValue: item.status } },
    }),
  );
  return true;
}

/** Mark the notice as sent (a retry after a failed publish sends it, and only then). */
export async function markNotified(keys) {
  await awsClient('dynamodb').send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys,
      UpdateExpression: 'SET notified = :true',
      ExpressionAttributeValues: { ':true': true },
    }),
  );
}
