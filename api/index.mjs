// Regional API Lambda (API Gateway HTTP API, payload 2.0, or a Function URL): presigned
// uploads, image records, POST /transform and the no-CDN GET /resize route, on the same
// wasm core and baked config as the edge. Environment: IMAGES_BUCKET, METADATA_TABLE,
// CDN_BASE_URL (and the standard AWS_* variables).

import { awsClient } from '../lambda-common/aws.mjs';
import { loadConfiguredShim } from '../lambda-common/wasm.mjs';
import { handleApiEvent } from './router.mjs';

// Loaded and configured once per container, during Lambda's init phase. `config` is the
// core's effective config (every default filled in).
const { shim, config } = await loadConfiguredShim(new URL('../edge-shim/pkg/', import.meta.url));

/** The settings a gateway in front of this handler needs (dev/api.mjs). */
export const transformRequiresAuth = config.api?.transformRequiresAuth === true;

function deps() {
  return {
    shim,
    s3: awsClient('s3'),
    dynamo: awsClient('dynamodb'),
    bucket: process.env.IMAGES_BUCKET,
    table: process.env.METADATA_TABLE,
    cdnBaseUrl: process.env.CDN_BASE_URL,
    derivedPrefix: config.policy.derivedPrefix,
    uploadPrefix: config.uploads?.prefix ?? 'uploads/',
    maxInputBytes: config.limits.maxInputBytes,
    transformRequiresAuth,
    now: () => Date.now(),
  };
}

export async function handler(event) {
  // Read per call: cheap, and lets tests and the local gateway set the environment late.
  return handleApiEvent(event, deps());
}
