// Viewer-request logic: rewrite resize requests to their canonical derived URI so that
// CloudFront's cache key is the derived object. All URL rules live in the wasm core
// (`shim.viewerRequest`); this module only moves data in and out of the event.

import { errorResponse, headerValue, HttpError, logLine, toHttpError } from '../lambda-common/http.mjs';

/**
 * Handle one viewer-request event with an edge-shim module `shim` (request-only build is
 * enough). Returns the (possibly rewritten) request, or a generated error response.
 */
export function handleViewerRequest(event, shim) {
  const cf = event?.Records?.[0]?.cf;
  const request = cf?.request;
  try {
    if (!isRequest(request)) {
      throw new HttpError(400, 'invalid_event', 'not a CloudFront viewer-request event');
    }
    const accept = headerValue(request.headers, 'accept');
    const result = shim.viewerRequest(request.uri, request.querystring ?? '', accept);
    if (result?.action === 'rewrite') {
      // Only the URI and query change: headers, method and the rest stay as CloudFront sent them.
      request.uri = result.uri;
      request.querystring = '';
    }
    return request;
  } catch (err) {
    const error = toHttpError(err);
    logLine({
      handler: 'viewer-request',
      requestId: stringOr(cf?.config?.requestId),
      uri: stringOr(request?.uri),
      status: error.status,
      code: error.code,
      message: error.detail ?? error.message,
    });
    // A viewer-request answer is a decision about this one request (a signature, an
    // expiry, a parameter): never worth caching, and an expired URL must not linger.
    return errorResponse(error, { 'cache-control': 'no-store' });
  }
}

function isRequest(request) {
  return (
    typeof request === 'object' &&
    request !== null &&
    typeof request.uri === 'string' &&
    request.uri.startsWith('/') &&
    (request.querystring === undefined || typeof request.querystring === 'string') &&
    (request.headers === undefined || (typeof request.headers === 'object' && request.headers !== null))
  );
}

function stringOr(value) {
  return typeof value === 'string' ? value : undefined;
}
