// The demo page and its small JSON API, served next to the emulation. Everything
// lives at `/` or under `/__demo/` so it never shadows an object key.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listObjects } from './s3.mjs';

const DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'demo');
const STATIC = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/__demo/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/__demo/style.css': ['style.css', 'text/css; charset=utf-8'],
  '/__demo/uploads.js': ['uploads.js', 'text/javascript; charset=utf-8'],
  '/__demo/api-upload.js': ['api-upload.js', 'text/javascript; charset=utf-8'],
};

/** Keys the page shows as pictures (others are listed but not rendered). */
export const IMAGE_KEY = /\.(jpe?g|png|gif|webp|avif|tiff?|bmp|heic|svg)$/i;

export function createDemo({ s3, cache, derivedPrefix, log = () => {} }) {
  const json = (res, status, value) => {
    const body = Buffer.from(JSON.stringify(value, null, 2));
    res.writeHead(status, {
      'content-type': 'application/json', 'content-length': body.length, 'cache-control': 'no-store',
    });
    res.end(body);
  };

  const routes = {
    'GET /__demo/api/objects': async (req, res) => {
      const objects = (await listObjects(s3.client, s3.bucket))
        .filter((o) => !o.key.startsWith(derivedPrefix))
        .map((o) => ({ ...o, image: IMAGE_KEY.test(o.key) }));
      json(res, 200, { bucket: s3.bucket, derivedPrefix, objects });
    },
    'GET /__demo/api/cache': async (req, res) => {
      json(res, 200, { entries: cache.list(), bytes: cache.bytes });
    },
    // Like a CloudFront invalidation of "/*": the next requests go to the origin again.
    'POST /__demo/api/invalidate': async (req, res) => {
      const dropped = cache.invalidate('');
      log(`[demo] cache invalidated (${dropped} entries)`);
      json(res, 200, { dropped });
    },
  };

  function route(req) {
    const path = (req.url || '/').split('?')[0];
    const api = routes[`${req.method} ${path}`];
    if (api) return api;
    const file = STATIC[path];
    if (file && (req.method === 'GET' || req.method === 'HEAD')) {
      return (request, res) => {
        // Read on each request so edits to the page show up without a restart.
        const body = readFileSync(join(DEMO_DIR, file[0]));
        res.writeHead(200, { 'content-type': file[1], 'content-length': body.length, 'cache-control': 'no-cache' });
        res.end(request.method === 'HEAD' ? undefined : body);
      };
    }
    if (path.startsWith('/__demo/')) {
      return (request, res) => json(res, 404, { error: `no demo route ${request.method} ${path}` });
    }
    return null;
  }

  return { route };
}
