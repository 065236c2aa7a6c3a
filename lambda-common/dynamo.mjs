// DynamoDB failures of the regional Lambdas mapped like S3's (clients: `aws.mjs`).

import { HttpError } from './http.mjs';

/** Throttling and timeouts → 503 (retry later); anything else → 502. */
export function dynamoFailure(operation, err) {
  const status = err?.$metadata?.httpStatusCode;
  const name = String(err?.name ?? err?.code ?? 'Error');
  const detail = status ? `${name} (HTTP ${status})` : name;
  const retryLater =
    status === 503 ||
    /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|Timeout|Abort/i.test(name) ||
    err?.code === 'ETIMEDOUT';
  return retryLater
    ? new HttpError(503, 'dynamodb_unavailable', `DynamoDB ${operation} failed: ${detail}`)
    : new HttpError(502, 'dynamodb_error', `DynamoDB ${operation} failed: ${detail}`);
}
