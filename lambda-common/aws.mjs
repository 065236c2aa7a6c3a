// AWS SDK clients for the regional Lambdas (upload-processor, api), one per service and
// endpoint. Endpoints come from the standard AWS_ENDPOINT_URL_<SERVICE> variables (read
// on every call, so a test can point the same module at its own servers); S3 behind a
// custom endpoint uses path-style addressing.

import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';

// A regional Lambda may run minutes, but one AWS call should fail fast enough that the
// message can be handed back to SQS well before the function times out.
const CONNECT_TIMEOUT_MS = 2000;
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_ATTEMPTS = 3;

const SERVICES = {
  s3: { variable: 'AWS_ENDPOINT_URL_S3', make: (o, endpoint) => new S3Client({ ...o, ...(endpoint ? { forcePathStyle: true } : {}) }) },
  sqs: { variable: 'AWS_ENDPOINT_URL_SQS', make: (o) => new SQSClient(o) },
  dynamodb: {
    variable: 'AWS_ENDPOINT_URL_DYNAMODB',
    make: (o) => DynamoDBDocumentClient.from(new DynamoDBClient(o), { marshallOptions: { removeUndefinedValues: true } }),
  },
  sns: { variable: 'AWS_ENDPOINT_URL_SNS', make: (o) => new SNSClient(o) },
};

const clients = new Map();

/** The cached client of `service` (`s3`, `sqs`, `dynamodb` (document client), `sns`). */
export function awsClient(service) {
  const spec = SERVICES[service];
  if (!spec) throw new Error(`unknown service ${service}`);
  const endpoint = process.env[spec.variable] || process.env.AWS_ENDPOINT_URL || undefined;
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';
  const id = `${service}|${region}|${endpoint ?? ''}|${process.env.AWS_ACCESS_KEY_ID ?? ''}`;
  let client = clients.get(id);
  if (!client) {
    client = spec.make(
      {
        region,
        ...(endpoint ? { endpoint } : {}),
        maxAttempts: MAX_ATTEMPTS,
        requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
      },
      endpoint,
    );
    clients.set(id, client);
  }
  return client;
}

/** HTTP status of an SDK error, if it has one. */
export function httpStatusOf(err) {
  return err?.$metadata?.httpStatusCode;
}
