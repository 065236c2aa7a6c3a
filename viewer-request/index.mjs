// Lambda@Edge viewer-request handler: `/photos/cat.jpg?w=600&fm=auto` →
// `/_derived/photos/cat.jpg/w_600,fm_auto.webp` with the query string cleared.
// Uses the request-only wasm build so the bundle stays under the 1 MB viewer limit.

import { VIEWER_V8_FLAGS, applyV8Flags } from '../lambda-common/v8-flags.mjs';
import { loadShim } from '../lambda-common/wasm.mjs';
import { handleViewerRequest } from './viewer.mjs';

// Before the wasm module is compiled (lambda-common/v8-flags.mjs says why).
applyV8Flags(VIEWER_V8_FLAGS);
// Loaded and configured once per container, during Lambda's init phase.
const shim = await loadShim(new URL('../edge-shim/pkg-request/', import.meta.url));

export async function handler(event) {
  return handleViewerRequest(event, shim);
}
