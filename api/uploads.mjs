// POST /uploads: a presigned PUT straight to S3 plus a `pending` record that the upload
// pipeline completes. The key and the field checks come from the wasm core.

import { randomUUID } from 'node:crypto';

import { PutCommand } from '@aws-sdk/lib-dynamodb';

import { jsonResponse, requireCaller } from '../lambda-common/apigw.mjs';
import { dynamoFailure } from '../lambda-common/dynamo.mjs';
import { HttpError } from '../lambda-common/http.mjs';
import { presignPut } from './presign.mjs';
import { configured } from './settings.mjs';

/** The presigned URL's lifetime (the seed: 15 minutes). */
export const UPLOAD_URL_SECONDS = 15 * 60;

export async function createUpload(request, deps, log) {
  const userId = requireCaller(request);
  const fields = jsonBody(request);
  const nowMs = deps.now();
  const plan = deps.shim.planUpload(
    deps.uploadPrefix,
    userId,
    fields.filename,
    fields.contentType,
    fields.size,
    Math.floor(nowMs / 1000),
  );
  const bucket = configured(deps, 'bucket');
  const imageId = randomUUID();
  log.imageId = imageId;
  log.key = plan.key;

  // The record first: an upload must never arrive before its pending item exists.
  const item = {
    imageId,
    uploadedAt: Math.floor(nowMs / 1000),
    userId,
    originalKey: plan.key,
    status: 'pending',
    filename: String(fields.filename).slice(0, 255),
    contentType: plan.contentType,
    declaredSize: plan.size,
    createdAt: new Date(nowMs).toISOString(),
  };
  try {
    await deps.dynamo.send(
      new PutCommand({
        TableName: configured(deps, 'table'),
        Item: item,
        ConditionExpression: 'attribute_not_exists(imageId)',
      }),
    );
  } catch (err) {
    throw dynamoFailure('PutItem', err);
  }

  const { url, headers } = await presignPut(
    { bucket, key: plan.key, contentType: plan.contentType, size: plan.size, metadata: { 'image-id': imageId } },
    UPLOAD_URL_SECONDS,
  );
  return jsonResponse(200, {
    imageId,
    key: plan.key,
    uploadUrl: url,
    method: 'PUT',
    headers,
    expiresAt: new Date(nowMs + UPLOAD_URL_SECONDS * 1000).toISOString(),
  });
}

function jsonBody(request) {
  const usage = 'body: must be a JSON object {filename, contentType, size}';
  if (!request.body?.length) throw new HttpError(400, 'invalid_parameter', usage);
  let value;
  try {
    value = JSON.parse(request.body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_parameter', usage);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'invalid_parameter', usage);
  }
  return value;
}
