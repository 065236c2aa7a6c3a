// GET /images/{imageId} and GET /images: the records the upload pipeline writes, each
// visible to its owner only (anyone else gets the same 404 as for a missing id).

import { QueryCommand } from '@aws-sdk/lib-dynamodb';

import { jsonResponse, requireCaller } from '../lambda-common/apigw.mjs';
import { dynamoFailure } from '../lambda-common/dynamo.mjs';
import { HttpError } from '../lambda-common/http.mjs';
import { configured } from './settings.mjs';

export const USER_INDEX = 'user-id-index';
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
/** Record states the upload pipeline ends in; anything else reads as pending. */
const FINISHED = new Set(['completed', 'failed']);

export async function getImage(request, deps, log) {
  const userId = requireCaller(request);
  const imageId = request.pathParameters.imageId;
  log.imageId = imageId;
  const notFound = new HttpError(404, 'not_found', 'no such image');
  if (typeof imageId !== 'string' || imageId.length === 0 || imageId.length > 128) throw notFound;
  let res;
  try {
    // imageId is the hash key; the range key (uploadedAt) is not known to the caller.
    res = await deps.dynamo.send(
      new QueryCommand({
        TableName: configured(deps, 'table'),
        KeyConditionExpression: '#id = :id',
        ExpressionAttributeNames: { '#id': 'imageId' },
        ExpressionAttributeValues: { ':id': imageId },
        ConsistentRead: true,
        Limit: 1,
      }),
    );
  } catch (err) {
    throw dynamoFailure('Query', err);
  }
  const item = res.Items?.[0];
  if (!item || item.userId !== userId) throw notFound;
  // `processing` (the pipeline holds it) is still pending to the client.
  if (!FINISHED.has(item.status)) return jsonResponse(200, { status: 'pending' });
  return jsonResponse(200, item);
}

export async function listImages(request, deps) {
  const userId = requireCaller(request);
  const { limit, next, ...unknown } = request.params;
  const extra = Object.keys(unknown);
  if (extra.length) {
    throw new HttpError(400, 'invalid_parameter', `${extra[0]}: unknown parameter; GET /images takes limit and next`);
  }
  const input = {
    TableName: configured(deps, 'table'),
    IndexName: USER_INDEX,
    KeyConditionExpression: '#u = :u',
    ExpressionAttributeNames: { '#u': 'userId' },
    ExpressionAttributeValues: { ':u': userId },
    ScanIndexForward: false, // newest first (range key uploadedAt)
    Limit: parseLimit(limit),
  };
  if (next !== undefined) input.ExclusiveStartKey = decodeNext(next, userId);
  let res;
  try {
    res = await deps.dynamo.send(new QueryCommand(input));
  } catch (err) {
    throw dynamoFailure('Query', err);
  }
  const items = (res.Items ?? []).map((item) =>
    !FINISHED.has(item.status) ? { imageId: item.imageId, status: 'pending', uploadedAt: item.uploadedAt } : item,
  );
  const body = { items };
  if (res.LastEvaluatedKey) body.next = encodeNext(res.LastEvaluatedKey);
  return jsonResponse(200, body);
}

function parseLimit(value) {
  if (value === undefined) return DEFAULT_LIMIT;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > MAX_LIMIT) {
    throw new HttpError(400, 'invalid_parameter', `limit: must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return n;
}

// The token is the index position DynamoDB returned, base64url JSON: opaque to clients,
// and checked on the way back in so one caller cannot start inside another's records.
function encodeNext(key) {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeNext(token, userId) {
  const bad = new HttpError(400, 'invalid_parameter', 'next: not a token returned by GET /images');
  let key;
  try {
    key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad;
  }
  if (!key || typeof key !== 'object' || Array.isArray(key) || key.userId !== userId) throw bad;
  const values = Object.values(key);
  if (values.length > 4 || !values.every((v) => typeof v === 'string' || typeof v === 'number')) throw bad;
  return key;
}
