// API Gateway HTTP API (payload format 2.0) and Lambda Function URL plumbing: the
// request as plain values, and responses in the shape both expect
// (`{statusCode, headers, body, isBase64Encoded}`).

import { errorBody, HttpError } from './http.mjs';

/**
 * The parts of a payload-2.0 event the API uses. `path` has the stage prefix removed
 * (HTTP APIs put `/<stage>` in `rawPath` for a named stage); `body` is a Buffer or null;
 * `caller` is the JWT authorizer's `sub` claim or undefined.
 */
export function readHttpEvent(event) {
  const ctx = event?.requestContext;
  const method = ctx?.http?.method;
  const rawPath = typeof event?.rawPath === 'string' ? event.rawPath : ctx?.http?.path;
  if (event?.version !== '2.0' || typeof method !== 'string' || typeof rawPath !== 'string') {
    throw new HttpError(400, 'invalid_event', 'not an API Gateway HTTP API (payload 2.0) or Function URL event');
  }
  const stage = typeof ctx.stage === 'string' && ctx.stage !== '$default' ? `/${ctx.stage}` : '';
  const path = stage && (rawPath === stage || rawPath.startsWith(`${stage}/`)) ? rawPath.slice(stage.length) || '/' : rawPath;
  const headers = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (typeof value === 'string') headers[name.toLowerCase()] = value;
  }
  let body = null;
  if (typeof event.body === 'string') {
    body = Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  }
  const sub = ctx.authorizer?.jwt?.claims?.sub;
  return {
    method: method.toUpperCase(),
    path,
    query: typeof event.rawQueryString === 'string' ? event.rawQueryString : '',
    params: event.queryStringParameters ?? {},
    pathParameters: event.pathParameters ?? {},
    headers,
    body,
    caller: typeof sub === 'string' && sub !== '' ? sub : undefined,
    requestId: typeof ctx.requestId === 'string' ? ctx.requestId : undefined,
  };
}

/** The caller's id, or 401 when the request carries no verified identity. */
export function requireCaller(request) {
  if (!request.caller) {
    throw new HttpError(401, 'unauthorized', 'this route needs a signed-in caller (JWT with a sub claim)');
  }
  return request.caller;
}

export function jsonResponse(statusCode, value, headers = {}) {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(value),
    isBase64Encoded: false,
  };
}

export function binaryResponse(statusCode, bytes, headers) {
  return {
    statusCode,
    headers,
    body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64'),
    isBase64Encoded: true,
  };
}

export function redirectResponse(statusCode, location, headers = {}) {
  return { statusCode, headers: { location, ...headers }, body: '', isBase64Encoded: false };
}

/** `{status, code, message}` like the edge; errors are never cached. */
export function httpErrorResponse(error) {
  const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (error.status === 401) headers['www-authenticate'] = 'Bearer';
  return { statusCode: error.status, headers, body: errorBody(error), isBase64Encoded: false };
}
