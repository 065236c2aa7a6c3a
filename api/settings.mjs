// The API's environment settings, checked where a route needs them.

import { HttpError } from '../lambda-common/http.mjs';

const VARIABLES = { bucket: 'IMAGES_BUCKET', table: 'METADATA_TABLE', cdnBaseUrl: 'CDN_BASE_URL' };

/** `deps[name]`, or 500 naming the unset environment variable (a deployment bug). */
export function configured(deps, name) {
  const value = deps[name];
  if (typeof value !== 'string' || value === '') {
    throw new HttpError(500, 'not_configured', `the function's environment has no ${VARIABLES[name] ?? name}`);
  }
  return value;
}
