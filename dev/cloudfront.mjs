// A local stand-in for one CloudFront cache behaviour with two Lambda@Edge triggers:
//
//   viewer request ─► viewer-request handler ─► cache lookup (rewritten URI)
//     hit ─► response          miss ─► signed GET from the S3 origin
//     ─► origin-response handler ─► cache store ─► response
//
// Events are built in the shapes of the AWS documentation ("Lambda@Edge event
// structure"); handler results are checked the way Lambda@Edge validates them, so a
// contract mistake shows up here as the 502 it would be in production.

import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { EdgeCache, ttlFor } from './cache.mjs';
import { originGet } from './s3.mjs';

export const DISTRIBUTION_ID = 'EDFDVBD6EXAMPLE';
const POP = 'DEV1-C1';

/** Lambda@Edge quotas: generated response size (headers + body) per trigger. */
export const GENERATED_LIMIT = { 'viewer-request': 40 * 1024, 'origin-response': 1024 * 1024 };

/** Hop-by-hop headers CloudFront does not pass between viewer, functions and origin. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

/** Headers a function may not set on a response (CloudFront owns them). */
const READ_ONLY_RESPONSE = new Set(['transfer-encoding', 'via']);

export function newRequestId() {
  return randomBytes(42).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Node's raw header list → CloudFront's `{ lower: [{ key, value }] }` map. */
export function toCfHeaders(rawHeaders) {
  const out = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const key = rawHeaders[i];
    const lower = key.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    (out[lower] ||= []).push({ key, value: String(rawHeaders[i + 1]) });
  }
  return out;
}

/** `{ lower: 'v' | ['v1', 'v2'] }` (Node / SDK style) → CloudFront map with canonical names. */
export function plainToCfHeaders(plain) {
  const out = {};
  for (const [name, value] of Object.entries(plain)) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || value === undefined) continue;
    const key = lower.replace(/(^|-)([a-z])/g, (_, dash, c) => dash + c.toUpperCase());
    for (const v of Array.isArray(value) ? value : [value]) {
      (out[lower] ||= []).push({ key, value: String(v) });
    }
  }
  return out;
}

/** First value of a header in a CloudFront map. */
export function cfHeader(headers, name) {
  return headers?.[name]?.[0]?.value;
}

/**
 * Checks a handler result against the Lambda@Edge rules this emulator knows
 * (AWS docs: "Lambda@Edge function restrictions" and the event structure).
 * Returns a list of problems; empty when valid.
 */
export function validateResult(result, eventType) {
  const problems = [];
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    return [`${eventType} handler returned ${result === null ? 'null' : typeof result}, not an object`];
  }
  findNulls(result, 'result', problems);
  const isResponse = 'status' in result;
  if (isResponse) {
    const status = Number(result.status);
    if (!Number.isInteger(status) || status < 100 || status > 599 || String(result.status).trim() !== String(status)) {
      problems.push(`status ${JSON.stringify(result.status)} is not an HTTP status code`);
    }
    if (result.bodyEncoding !== undefined && !['text', 'base64'].includes(result.bodyEncoding)) {
      problems.push(`bodyEncoding must be "text" or "base64", got ${JSON.stringify(result.bodyEncoding)}`);
    }
    if (result.body !== undefined && typeof result.body !== 'string') {
      problems.push(`body must be a string, got ${typeof result.body}`);
    }
    if (result.bodyEncoding === 'base64' && typeof result.body === 'string' &&
        !/^[A-Za-z0-9+/]*={0,2}$/.test(result.body)) {
      problems.push('body is not valid base64');
    }
  } else if (eventType === 'viewer-request') {
    if (typeof result.uri !== 'string' || !result.uri.startsWith('/')) {
      problems.push(`request uri must be a string starting with "/", got ${JSON.stringify(result.uri)}`);
    }
    if (result.querystring !== undefined && typeof result.querystring !== 'string') {
      problems.push('request querystring must be a string');
    } else if (typeof result.querystring === 'string' && result.querystring.startsWith('?')) {
      problems.push('request querystring must not start with "?"');
    }
  } else {
    problems.push('origin-response handler must return a response (an object with "status")');
  }
  if (result.headers !== undefined) {
    if (typeof result.headers !== 'object' || result.headers === null || Array.isArray(result.headers)) {
      problems.push('headers must be an object');
    } else {
      for (const [name, list] of Object.entries(result.headers)) {
        if (name !== name.toLowerCase()) problems.push(`header map key "${name}" is not lowercase`);
        if (isResponse && READ_ONLY_RESPONSE.has(name)) problems.push(`header "${name}" is read-only`);
        if (!Array.isArray(list)) {
          problems.push(`header "${name}" must be an array of {key, value}`);
          continue;
        }
        for (const entry of list) {
          if (typeof entry?.value !== 'string') problems.push(`header "${name}" value must be a string`);
          if (entry?.key !== undefined && String(entry.key).toLowerCase() !== name) {
            problems.push(`header "${name}" has key "${entry.key}" that does not match`);
          }
          if (typeof entry?.value === 'string' && /[\r\n]/.test(entry.value)) {
            problems.push(`header "${name}" value contains a line break`);
          }
        }
      }
    }
  }
  if (isResponse && typeof result.body === 'string') {
    const limit = GENERATED_LIMIT[eventType];
    const size = generatedSize(result);
    if (size > limit) problems.push(`generated response is ${size} bytes, over the ${limit} byte ${eventType} limit`);
  }
  return problems;
}

/** Size of a generated response as Lambda@Edge counts it: body text plus headers. */
export function generatedSize(response) {
  let size = Buffer.byteLength(response.body || '');
  for (const [name, list] of Object.entries(response.headers || {})) {
    for (const { value } of list || []) size += name.length + Buffer.byteLength(String(value ?? '')) + 4;
  }
  return size;
}

function findNulls(value, path, problems) {
  if (value === null) {
    problems.push(`${path} is null (Lambda@Edge rejects null values)`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => findNulls(v, `${path}[${i}]`, problems));
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) findNulls(v, `${path}.${k}`, problems);
  }
}

/** Decodes the body of a handler-generated response. */
function generatedBody(result) {
  if (typeof result.body !== 'string') return Buffer.alloc(0);
  return result.bodyEncoding === 'base64' ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
}

function errorPage(status, title, detail) {
  const body = `<!DOCTYPE html><html><head><title>${status} ${title}</title></head><body>` +
    `<h1>${status} ERROR</h1><h2>${escapeHtml(title)}</h2><p>${escapeHtml(detail)}</p>` +
    '<p>Generated by the local CloudFront emulation (scripts/dev).</p></body></html>';
  return {
    status,
    statusDescription: STATUS_CODES[status] || '',
    headers: plainToCfHeaders({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }),
    body: Buffer.from(body),
  };
}

function escapeHtml(s) {
  return String(s).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Percent-decodes a URI path into an S3 key, as S3 does for the path CloudFront sends. */
function uriToS3Key(uri) {
  try {
    return decodeURIComponent(uri.replace(/^\//, ''));
  } catch {
    return undefined;
  }
}

/**
 * Creates the edge. `viewerHandler` / `originHandler` are the Lambda@Edge entry points
 * (`async (event) => result`), `s3` = { client, bucket, region }.
 * Returns `{ handle(req, res), cache }`; `handle` serves one HTTP request.
 */
export function createEdge({
  viewerHandler,
  originHandler,
  s3,
  log = () => {},
  distributionDomainName = 'd111111abcdef8.cloudfront.net',
  cache = new EdgeCache(),
}) {
  const inFlight = new Map();
  const originDomain = `${s3.bucket}.s3.${s3.region}.amazonaws.com`;

  const config = (eventType, requestId) => ({
    distributionDomainName, distributionId: DISTRIBUTION_ID, eventType, requestId,
  });

  /** Runs one trigger; returns { result } or { failure: edge response }. */
  async function runTrigger(eventType, handler, event, requestId) {
    let result;
    try {
      result = await handler(event);
    } catch (err) {
      log(`[edge] ${eventType} handler threw: ${err?.stack || err}`);
      return {
        failure: { ...errorPage(503, 'LambdaExecutionError', `The ${eventType} function failed: ${err?.message || err}`), xCache: 'LambdaExecutionError from cloudfront' },
      };
    }
    const problems = validateResult(result, eventType);
    if (problems.length) {
      log(`[edge] ${eventType} result rejected (${requestId}): ${problems.join('; ')}`);
      return {
        failure: { ...errorPage(502, 'LambdaValidationError', `The ${eventType} function returned an invalid result: ${problems.join('; ')}`), xCache: 'LambdaValidationError from cloudfront' },
      };
    }
    return { result };
  }

  /** Miss path: origin fetch + origin-response trigger. Returns an edge response. */
  async function fromOrigin(request, requestId) {
    const key = uriToS3Key(request.uri);
    let origin;
    if (key === undefined || key === '') {
      origin = { status: 400, headers: { 'content-type': 'application/xml' }, body: Buffer.from('<Error><Code>InvalidURI</Code></Error>') };
    } else {
      try {
        origin = await originGet(s3.client, s3.bucket, key);
      } catch (err) {
        log(`[edge] origin unreachable: ${err?.message || err}`);
        return { ...errorPage(502, 'Bad Gateway', 'CloudFront could not connect to the origin.'), xCache: 'Error from cloudfront' };
      }
    }
    const originHeaders = { ...origin.headers, server: 'AmazonS3' };
    // What CloudFront forwards to an S3 origin: the (rewritten) request, with Host set
    // to the origin and its own Via / X-Forwarded-For.
    const forwarded = { ...request.headers };
    delete forwarded.host;
    const originRequest = {
      clientIp: request.clientIp,
      headers: {
        ...forwarded,
        host: [{ key: 'Host', value: originDomain }],
        via: [{ key: 'Via', value: `2.0 ${requestId.slice(0, 32)}.cloudfront.net (CloudFront)` }],
        'x-forwarded-for': [{ key: 'X-Forwarded-For', value: request.clientIp }],
      },
      method: request.method,
      origin: {
        s3: {
          authMethod: 'origin-access-identity',
          customHeaders: {},
          domainName: originDomain,
          path: '',
          region: s3.region,
        },
      },
      querystring: request.querystring,
      uri: request.uri,
    };
    const event = {
      Records: [{
        cf: {
          config: config('origin-response', requestId),
          request: originRequest,
          response: {
            headers: plainToCfHeaders(originHeaders),
            status: String(origin.status),
            statusDescription: STATUS_CODES[origin.status] || '',
          },
        },
      }],
    };
    const { result, failure } = await runTrigger('origin-response', originHandler, event, requestId);
    if (failure) return failure;
    const generated = typeof result.body === 'string';
    return {
      status: Number(result.status),
      statusDescription: result.statusDescription || STATUS_CODES[Number(result.status)] || '',
      headers: result.headers || {},
      body: generated ? generatedBody(result) : origin.body,
      xCache: 'Miss from cloudfront',
      generated,
    };
  }

  /** Cache lookup, collapsing concurrent misses for one key into one origin fetch. */
  async function cached(cacheKey, request, requestId) {
    const hit = cache.get(cacheKey);
    if (hit) return { ...hit, xCache: 'Hit from cloudfront', age: Math.floor((Date.now() - hit.stored) / 1000) };
    const pending = inFlight.get(cacheKey);
    if (pending) {
      await pending.catch(() => {});
      const after = cache.get(cacheKey);
      if (after) return { ...after, xCache: 'Hit from cloudfront', age: 0 };
    }
    const work = fromOrigin(request, requestId);
    inFlight.set(cacheKey, work);
    try {
      const response = await work;
      if (!response.xCache.startsWith('Miss')) return response; // edge errors are not stored
      const cc = response.headers['cache-control']?.map((h) => h.value).join(', ');
      const ttl = ttlFor(response.status, cc);
      if (ttl > 0) {
        cache.set(cacheKey, {
          status: response.status,
          statusDescription: response.statusDescription,
          headers: response.headers,
          body: response.body,
        }, ttl);
      }
      return { ...response, ttl };
    } finally {
      if (inFlight.get(cacheKey) === work) inFlight.delete(cacheKey);
    }
  }

  /** Serves one viewer request. */
  async function handle(req, res) {
    const started = process.hrtime.bigint();
    const requestId = newRequestId();
    const target = req.url || '/';
    const q = target.indexOf('?');
    const uri = q < 0 ? target : target.slice(0, q);
    const querystring = q < 0 ? '' : target.slice(q + 1);
    let response;
    let rewritten = null;
    if (!uri.startsWith('/')) {
      response = { ...errorPage(400, 'Bad Request', 'Malformed request target.'), xCache: 'Error from cloudfront' };
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      // The demo distribution allows GET and HEAD only, like the CloudFormation stack.
      response = { ...errorPage(403, 'Forbidden', 'This distribution is not configured to allow the HTTP request method that was used for this request.'), xCache: 'Error from cloudfront' };
    } else {
      const request = {
        clientIp: (req.socket.remoteAddress || '127.0.0.1').replace(/^::ffff:/, ''),
        headers: toCfHeaders(req.rawHeaders),
        method: req.method,
        querystring,
        uri,
      };
      const event = {
        Records: [{ cf: { config: config('viewer-request', requestId), request } }],
      };
      const { result, failure } = await runTrigger('viewer-request', viewerHandler, event, requestId);
      if (failure) {
        response = failure;
      } else if ('status' in result) {
        response = {
          status: Number(result.status),
          statusDescription: result.statusDescription || '',
          headers: result.headers || {},
          body: generatedBody(result),
          xCache: 'LambdaGeneratedResponse from cloudfront',
        };
      } else {
        const next = {
          ...request,
          uri: result.uri,
          querystring: result.querystring ?? '',
          headers: result.headers || {},
        };
        rewritten = next.uri + (next.querystring ? `?${next.querystring}` : '');
        response = await cached(rewritten, next, requestId);
      }
    }
    try {
      send(res, req.method, response, requestId);
    } catch (err) {
      // Node refuses some header names/values (control characters...); so would CloudFront.
      log(`[edge] response not sendable: ${err?.message || err}`);
      response = { ...errorPage(502, 'LambdaValidationError', `invalid response headers: ${err?.message || err}`), xCache: 'LambdaValidationError from cloudfront' };
      if (!res.headersSent) send(res, req.method, response, requestId);
      else res.destroy();
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const via = rewritten && rewritten !== target ? `→ ${rewritten} ` : '';
    log(`${req.method} ${target} ${via}${response.status} ` +
      `${cfHeader(response.headers, 'content-type') || '-'} ${response.body.length}B ` +
      `${response.xCache.replace(' from cloudfront', '')} ${ms.toFixed(0)}ms`);
  }

  function send(res, method, response, requestId) {
    // Lowercase name → [display name, values]; CloudFront's own headers replace any
    // a function set.
    const headers = new Map();
    for (const [name, list] of Object.entries(response.headers || {})) {
      if (HOP_BY_HOP.has(name) || name === 'content-length' || !list.length) continue;
      headers.set(name, [list[0].key || name, list.map((h) => h.value)]);
    }
    const timing = response.xCache.startsWith('Hit') ? 'cdn-cache-hit'
      : response.xCache.startsWith('Miss') ? 'cdn-cache-miss' : null;
    if (timing) {
      const existing = headers.get('server-timing')?.[1] || [];
      headers.set('server-timing', ['Server-Timing', [[...existing, timing].join(', ')]]);
    }
    headers.set('content-length', ['Content-Length', [String(response.body.length)]]);
    headers.set('x-cache', ['X-Cache', [response.xCache]]);
    headers.set('via', ['Via', [`1.1 ${requestId.slice(0, 32).toLowerCase()}.cloudfront.net (CloudFront)`]]);
    headers.set('x-amz-cf-pop', ['X-Amz-Cf-Pop', [POP]]);
    headers.set('x-amz-cf-id', ['X-Amz-Cf-Id', [requestId]]);
    if (response.age !== undefined) headers.set('age', ['Age', [String(response.age)]]);
    const flat = [];
    for (const [display, values] of headers.values()) for (const v of values) flat.push(display, v);
    const reason = String(response.statusDescription || STATUS_CODES[response.status] || '')
      .replace(/[^\x20-\x7e]/g, '');
    res.writeHead(response.status, reason, flat);
    res.end(method === 'HEAD' ? undefined : response.body);
  }

  return { handle, cache };
}
