// DynamoDB access shared by the regular Lambdas (api, upload-processor): one client per
// container, reached through the standard AWS_ENDPOINT_URL_DYNAMODB for local servers,
// failures mapped to 502/503 like S3's.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { HttpError } from './http.mjs';

let client;

/** A document client (plain JS values in and out of items). */
export function dynamoClient() {
  client ??= DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: process.env.AWS_REGION || 'us-east-1',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 1500, requestTimeout: 5000, throwOnRequestTimeout: true },
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return client;
}

/** Throttling and timeouts → 503 (retry later); anything else → 502. */
export function dynamoFailure(operation, err) {
  const status = err?.$metadata?.httpStatusCode;
  const name = String(err?.name ?? err?.code ?? 'Error');
  const detail = status ? `${name} (HTTP ${status})` : name;
  const retryLater =
    status === 503 || /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|Timeout|Abort/i.test(name) || err?.code === 'ETIMEDOUT';
  return retryLater
    ? new HttpError(503, 'dynamodb_unavailable', `DynamoDB ${operation} failed: ${detail}`)
    : new HttpError(502, 'dynamodb_error', `DynamoDB ${operation} failed: ${detail}`);
}
