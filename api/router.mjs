// The API's routes over one payload-2.0 event: match, run, answer; errors become the
// core's JSON `{status, code, message}`; one JSON log line per request.

import { httpErrorResponse, readHttpEvent } from '../lambda-common/apigw.mjs';
import { HttpError, logLine, toHttpError } from '../lambda-common/http.mjs';
import { getImage, listImages } from './images.mjs';
import { resize, transform } from './render.mjs';
import { createUpload } from './uploads.mjs';

// [method, path pattern, handler, who needs a caller]; `{name}` matches one path
// segment. The same routes (and authorizers) are in infra/template.yaml.
const ROUTES = [
  ['POST', '/uploads', createUpload, 'caller'],
  ['GET', '/images', listImages, 'caller'],
  ['GET', '/images/{imageId}', getImage, 'caller'],
  ['POST', '/transform', transform, 'api.transformRequiresAuth'],
  ['GET', '/resize', resize, 'nobody'],
];

/** `[method, path, {auth}]` of every route, for a gateway in front of the handler. */
export function routeTable({ transformRequiresAuth = false } = {}) {
  return ROUTES.map(([method, pattern, , who]) => [
    method,
    pattern,
    { auth: who === 'caller' || (who === 'api.transformRequiresAuth' && transformRequiresAuth) },
  ]);
}

const COMPILED = ROUTES.map(([method, pattern, run]) => ({
  method,
  pattern,
  run,
  regex: new RegExp(`^${pattern.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}/?$`),
}));

/**
 * Handle one API Gateway HTTP API (payload 2.0) or Function URL event. `deps`: `shim`,
 * `s3`, `dynamo`, `bucket`, `table`, `cdnBaseUrl`, `derivedPrefix`, `uploadPrefix`,
 * `maxInputBytes`, `transformRequiresAuth`, `now()`.
 */
export async function handleApiEvent(event, deps) {
  const started = performance.now();
  const log = { handler: 'api' };
  let result;
  try {
    const request = readHttpEvent(event);
    Object.assign(log, { requestId: request.requestId, method: request.method, path: request.path });
    const { route, params } = match(request);
    log.route = `${route.method} ${route.pattern}`;
    result = await route.run({ ...request, pathParameters: { ...request.pathParameters, ...params } }, deps, log);
  } catch (err) {
    const error = toHttpError(err);
    Object.assign(log, { code: error.code, message: error.message });
    result = httpErrorResponse(error);
  }
  const ms = Math.round(performance.now() - started);
  // EMF: the route is the action (a bounded set), the total its duration.
  logLine({ ...log, action: log.action ?? log.route ?? 'unrouted', status: result.statusCode, ms, timings: { ...log.timings, total: ms } });
  return result;
}

function match(request) {
  let pathMatched = false;
  for (const route of COMPILED) {
    const m = route.regex.exec(request.path);
    if (!m) continue;
    pathMatched = true;
    if (route.method === request.method) {
      const params = {};
      for (const [name, value] of Object.entries(m.groups ?? {})) params[name] = decodeSegment(value);
      return { route, params };
    }
  }
  if (pathMatched) throw new HttpError(405, 'method_not_allowed', `${request.method} is not allowed on ${request.path}`);
  throw new HttpError(404, 'not_found', `no route ${request.method} ${request.path}; routes: ${ROUTES.map(([m, p]) => `${m} ${p}`).join(', ')}`);
}

function decodeSegment(value) {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
