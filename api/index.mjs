// Regional API Lambda (API Gateway HTTP API, payload 2.0, or a Function URL): presigned
// uploads, image records, POST /transform and the no-CDN GET /resize route, on the same
// wasm core and baked config as the edge. Environment: IMAGES_BUCKET, METADATA_TABLE,
// CDN_BASE_URL (and the standard AWS_* variables).

import { bakedConfig, derivedPrefix, maxInputBytes } from '../lambda-common/config.mjs';
import { awsClient } from '../lambda-common/aws.mjs';
import { loadShim } from '../lambda-common/wasm.mjs';
import { handleApiEvent } from './router.mjs';

// Loaded and configured once per container, during Lambda's init phase.
const shim = await loadShim(new URL('../edge-shim/pkg/', import.meta.url));

function deps() {
  return {
    shim,
    s3: awsClient('s3'),
    dynamo: awsClient('dynamodb'),
    bucket: process.env.IMAGES_BUCKET,
    table: process.env.METADATA_TABLE,
    cdnBaseUrl: process.env.CDN_BASE_URL,
    derivedPrefix,
    uploadPrefix: bakedConfig.uploads?.prefix ?? 'uploads/',
    maxInputBytes,
    transformRequiresAuth: bakedConfig.api?.transformRequiresAuth === true,
    now: () => Date.now(),
  };
}

export async function handler(event) {
  // Read per call: cheap, and lets tests and the local gateway set the environment late.
  return handleApiEvent(event, deps());
}
