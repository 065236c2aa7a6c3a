// CloudFront event plumbing shared by both handlers: headers in CloudFront's shape,
// HTTP errors, generated error responses and the structured log line.

import { logEvent } from './log.mjs';

const REASONS = {
  200: 'OK',
  307: 'Temporary Redirect',
  400: 'Bad Request',
  404: 'Not Found',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * Headers every generated response carries: browsers must not sniff an error body or
 * an image into something executable.
 */
export const SAFETY_HEADERS = { 'x-content-type-options': 'nosniff' };

// Error bodies carry caller-controlled text (parameter values, keys); keep them far below
// the 40 KB viewer limit for generated responses.
const MAX_MESSAGE_CHARS = 500;

export function reason(status) {
  return REASONS[status] ?? (status < 500 ? 'Client Error' : 'Server Error');
}

/**
 * Headers in CloudFront's shape from `{ name: value }`. Names are lowercased (CloudFront
 * requires lowercase object keys; the `key` field is lowercase too, which HTTP allows);
 * entries whose value is undefined are left out so no `null`/`undefined` reaches CloudFront.
 */
export function cfHeaders(values) {
  const out = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    const lower = name.toLowerCase();
    out[lower] = [{ key: lower, value: String(value) }];
  }
  return out;
}

/** All values of a header in a CloudFront headers object, joined like HTTP does. */
export function headerValue(headers, name) {
  const entries = headers?.[name];
  if (!Array.isArray(entries)) return undefined;
  const values = entries.map((e) => e?.value).filter((v) => typeof v === 'string');
  return values.length ? values.join(', ') : undefined;
}

/** An error with an HTTP status and a stable code, like the wasm core's errors. */
export class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Normalise anything thrown into an HttpError. Errors from the wasm core already carry
 * `status`/`code`; anything else is a bug and becomes 500 `internal`.
 */
export function toHttpError(err) {
  if (err instanceof HttpError) return err;
  const status = Number(err?.status);
  if (Number.isInteger(status) && status >= 400 && status <= 599 && typeof err?.code === 'string') {
    return new HttpError(status, err.code, String(err.message ?? err.code));
  }
  return new HttpError(500, 'internal', `unexpected error: ${err?.message ?? String(err)}`);
}

/**
 * A generated error response: short JSON body `{status, code, message}`. 4xx may be cached
 * briefly (a broken original should not be re-fetched on every request, but a fixed one
 * must show up soon); 5xx are never cached.
 */
export function errorResponse(error, extraHeaders = {}) {
  return {
    status: String(error.status),
    statusDescription: reason(error.status),
    headers: cfHeaders({
      'content-type': 'application/json',
      'cache-control': error.status < 500 ? 'public, max-age=60' : 'no-store',
      ...SAFETY_HEADERS,
      ...extraHeaders,
    }),
    body: errorBody(error),
  };
}

/** The JSON error body `{status, code, message}`, with the message kept short. */
export function errorBody(error) {
  const message =
    error.message.length > MAX_MESSAGE_CHARS
      ? `${error.message.slice(0, MAX_MESSAGE_CHARS)}…`
      : error.message;
  return JSON.stringify({ status: error.status, code: error.code, message });
}

/**
 * One structured JSON log line with CloudWatch EMF metrics (see log.mjs). `fields.handler`
 * names the function; an HttpError's trap `detail` is logged, never sent.
 */
export function logLine(fields) {
  logEvent({ function: fields.handler, ...fields });
}
