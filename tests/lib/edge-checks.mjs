// Assertions for the Lambda@Edge rules every handler result must follow.

import assert from 'node:assert/strict';

export const VIEWER_GENERATED_LIMIT = 40 * 1024;
export const ORIGIN_GENERATED_LIMIT = 1024 * 1024;

/** Paths of every `null`/`undefined` value in `value` (CloudFront rejects them). */
export function nullPaths(value, path = '$') {
  if (value === null || value === undefined) return [path];
  if (typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => nullPaths(v, `${path}.${k}`));
}

/** Size CloudFront counts for a generated response: body plus header names and values. */
export function responseSize(result) {
  let size = Buffer.byteLength(result.body ?? '') + Buffer.byteLength(result.statusDescription ?? '');
  for (const [name, entries] of Object.entries(result.headers ?? {})) {
    for (const entry of entries) size += Buffer.byteLength(name) + Buffer.byteLength(entry.value) + 4;
  }
  return size;
}

/**
 * Check a handler result: no nulls anywhere, lowercase header names in CloudFront's
 * `[{ key, value }]` shape, string `status`, and a generated response under `limit`.
 */
export function assertEdgeResult(result, limit) {
  assert.equal(typeof result, 'object');
  assert.deepEqual(nullPaths(result), [], 'no null/undefined in the result');
  for (const [name, entries] of Object.entries(result.headers ?? {})) {
    assert.equal(name, name.toLowerCase(), `header name ${name} is lowercase`);
    assert.ok(Array.isArray(entries) && entries.length > 0, `header ${name} is a non-empty array`);
    for (const entry of entries) {
      assert.equal(typeof entry.value, 'string', `header ${name} value is a string`);
      assert.equal(entry.key.toLowerCase(), name, `header ${name} key matches`);
    }
  }
  if ('status' in result) {
    assert.equal(typeof result.status, 'string', 'status is a string');
    assert.match(result.status, /^[1-5]\d\d$/);
    assert.ok(responseSize(result) <= limit, `generated response ${responseSize(result)} bytes ≤ ${limit}`);
    if (result.bodyEncoding !== undefined) assert.ok(['text', 'base64'].includes(result.bodyEncoding));
  }
}

export function header(result, name) {
  return result.headers?.[name]?.[0]?.value;
}

/** The parsed JSON body of a generated error response. */
export function errorBody(result) {
  assert.equal(header(result, 'content-type'), 'application/json');
  const body = JSON.parse(result.body);
  assert.equal(body.status, Number(result.status));
  assert.equal(typeof body.code, 'string');
  assert.equal(typeof body.message, 'string');
  return body;
}
