// A small local API Gateway (HTTP API) for `scripts/dev` and the tests: HTTP requests on
// 127.0.0.1 become payload-2.0 events for the real handler, and its results become HTTP
// responses. Routes marked `auth` need a bearer token, checked like API Gateway's JWT
// authorizer would (signature, issuer, audience, expiry): without a valid one the
// gateway answers 401 itself; with one the handler sees the token's claims in
// `requestContext.authorizer.jwt`. Tokens are development tokens (HS256, secret per run).

import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

/** API Gateway's request limit for HTTP APIs. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
// Bodies API Gateway passes as text; everything else arrives base64-encoded.
const TEXT_TYPES = /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript)\b)/i;

/**
 * A payload-2.0 event as API Gateway sends it for `method rawPath?rawQueryString`.
 * `claims`: the JWT authorizer's claims (omit for a route without authorizer).
 * `body`: Buffer/string or undefined; binary bodies are base64 with isBase64Encoded.
 */
export function httpApiEvent({ method = 'GET', path = '/', query = '', headers = {}, body, claims, routeKey = '$default', pathParameters, sourceIp = '127.0.0.1' }) {
  const lower = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) lower[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : String(value);
  }
  const now = new Date();
  const event = {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: query,
    headers: lower,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: lower.host ?? 'local.execute-api.localhost',
      domainPrefix: 'local',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp, userAgent: lower['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (lower.cookie) event.cookies = lower.cookie.split(/;\s*/);
  const params = queryParameters(query);
  if (params) event.queryStringParameters = params;
  if (pathParameters) event.pathParameters = pathParameters;
  if (claims) event.requestContext.authorizer = { jwt: { claims, scopes: null } };
  if (body !== undefined && body.length > 0) {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const text = TEXT_TYPES.test(lower['content-type'] ?? '');
    event.body = text ? bytes.toString('utf8') : bytes.toString('base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

// Duplicate names are joined with commas, as API Gateway does.
function queryParameters(query) {
  if (!query) return undefined;
  const out = {};
  for (const [name, value] of new URLSearchParams(query)) out[name] = name in out ? `${out[name]},${value}` : value;
  return out;
}

/** A development token: a JWT (HS256) with `claims` plus iss/aud/iat/exp. */
export function signDevToken(claims, { secret, issuer, audience, ttlSeconds = 3600 }) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64json({ alg: 'HS256', typ: 'JWT' });
  const payload = b64json({ iss: issuer, aud: audience, iat: now, exp: now + ttlSeconds, token_use: 'id', ...claims });
  return `${header}.${payload}.${hmac(secret, `${header}.${payload}`)}`;
}

/** The claims of a valid token, or null (bad signature, issuer, audience or expired). */
export function verifyDevToken(token, { secret, issuer, audience }) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return null;
  const expected = Buffer.from(hmac(secret, `${parts[0]}.${parts[1]}`));
  const given = Buffer.from(parts[2]);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  let claims;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== issuer || !audiences.includes(audience)) return null;
  if (!(claims.exp > Date.now() / 1000)) return null;
  return claims;
}

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const hmac = (secret, text) => createHmac('sha256', secret).update(text).digest('base64url');

/**
 * Serve `handler` on 127.0.0.1:`port` (0 = any free port). `routes`: `[method, path
 * pattern, {auth}]` as in the template (`{name}` = one segment); other paths answer 404
 * like API Gateway. CORS is answered by the gateway, as HTTP API's CorsConfiguration
 * does. Returns `{ url, port, token(sub), stop() }`.
 */
export async function startApiGateway({ handler, routes, port = 0, secret = randomBytes(32), issuer = 'https://dev-issuer.local', audience = 'edge-resizer-dev', log = () => {} }) {
  const compiled = routes.map(([method, pattern, options = {}]) => ({
    method,
    pattern,
    auth: options.auth === true,
    regex: new RegExp(`^${pattern.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`),
  }));
  const auth = { secret, issuer, audience };
  const server = createServer(async (req, res) => {
    const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'location' };
    try {
      const url = new URL(req.url, 'http://gateway.local');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          ...cors,
          'access-control-allow-methods': 'GET,POST,OPTIONS',
          'access-control-allow-headers': 'authorization,content-type',
          'access-control-max-age': '600',
        });
        return res.end();
      }
      const route = compiled.find((r) => r.method === req.method && r.regex.test(url.pathname));
      if (!route) return send(res, 404, { ...cors, 'content-type': 'application/json' }, '{"message":"Not Found"}');
      const body = await readBody(req);
      if (body === null) return send(res, 413, { ...cors, 'content-type': 'application/json' }, '{"message":"Request Entity Too Large"}');
      let claims;
      if (route.auth) {
        const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
        claims = verifyDevToken(bearer, auth);
        if (!claims) return send(res, 401, { ...cors, 'content-type': 'application/json', 'www-authenticate': 'Bearer' }, '{"message":"Unauthorized"}');
      }
      const pathParameters = route.regex.exec(url.pathname).groups;
      const event = httpApiEvent({
        method: req.method,
        path: url.pathname,
        query: url.search.slice(1),
        headers: req.headers,
        body,
        claims,
        routeKey: `${route.method} ${route.pattern}`,
        pathParameters: pathParameters && Object.keys(pathParameters).length ? pathParameters : undefined,
        sourceIp: req.socket.remoteAddress,
      });
      const result = await handler(event);
      const bytes = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : Buffer.from(result.body ?? '');
      log(`${req.method} ${url.pathname} → ${result.statusCode}`);
      send(res, result.statusCode, { ...cors, ...result.headers }, bytes);
    } catch (err) {
      // What API Gateway answers when the integration fails.
      log(`${req.method} ${req.url} → 500 ${err.stack ?? err}`);
      send(res, 500, { ...cors, 'content-type': 'application/json' }, '{"message":"Internal Server Error"}');
    }
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  const actual = server.address().port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    token: (sub, extra = {}) => signDevToken({ sub, ...extra }, auth),
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let total = 0;
    req.on('data', (chunk) => {
      total += chunk.length;
      if (total > MAX_BODY_BYTES) {
        resolve(null);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res, status, headers, body) {
  res.writeHead(status, headers);
  res.end(body);
}
