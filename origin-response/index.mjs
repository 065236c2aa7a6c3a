// Lambda@Edge origin-response handler: on an S3 404/403 for a derived key, generate the
// variant from the original, store it under the derived key and return it.

import { ORIGIN_V8_FLAGS, applyV8Flags } from '../lambda-common/v8-flags.mjs';
import { loadConfiguredShim } from '../lambda-common/wasm.mjs';
import { handleOriginResponse } from './origin.mjs';
import { s3ClientFor } from '../lambda-common/s3.mjs';

// Before the wasm module is compiled (lambda-common/v8-flags.mjs says why).
applyV8Flags(ORIGIN_V8_FLAGS);
// Loaded and configured once per container, during Lambda's init phase.
const { shim, config } = await loadConfiguredShim(new URL('../edge-shim/pkg/', import.meta.url));

// Origin-response functions may run 30 s: the S3 calls and the transform together must
// be done well before that (cold start and the answer need the rest).
const REQUEST_BUDGET_MS = 25_000;

const deps = { shim, s3ClientFor, maxInputBytes: config.limits.maxInputBytes, budgetMs: REQUEST_BUDGET_MS };

export async function handler(event) {
  return handleOriginResponse(event, deps);
}
