// The playground panel's server side (dev/demo/playground.js is the page side):
// - GET  /__demo/playground.js            the panel's script
// - GET  /__demo/api/playground/key       runs the real viewer-request handler on the
//        URI + query + Accept and returns the derived key it rewrites to (or the
//        error response it generates), so the page shows exactly what the edge uses;
// - PUT  /__demo/api/playground/upload?name=FILE   stores a dropped file in the
//        bucket under `playground/` so it can be resized like any original.
// No image or URL rules here: the handler and the core decide everything.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { contentTypeFor } from './s3.mjs';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'demo', 'playground.js');
const MAX_UPLOAD_BYTES = 40 * 1024 * 1024;
export const UPLOAD_PREFIX = 'playground/';

export function createPlayground({ s3, viewerHandler, log = () => {} }) {
  const json = (res, status, value) => {
    const body = Buffer.from(JSON.stringify(value));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(body);
  };

  async function derivedKey(req, res, url) {
    const uri = url.searchParams.get('uri') || '/';
    const querystring = url.searchParams.get('query') || '';
    const accept = url.searchParams.get('accept') || '*/*';
    const event = {
      Records: [{
        cf: {
          config: { distributionDomainName: 'd111111abcdef8.cloudfront.net', distributionId: 'EDFDVBD6EXAMPLE', eventType: 'viewer-request', requestId: 'playground' },
          request: {
            clientIp: '127.0.0.1',
            method: 'GET',
            uri,
            querystring,
            headers: {
              host: [{ key: 'Host', value: 'd111111abcdef8.cloudfront.net' }],
              accept: [{ key: 'Accept', value: accept }],
            },
          },
        },
      }],
    };
    const result = await viewerHandler(event);
    if (result && typeof result.status === 'string') {
      // A generated response: the error the edge would answer with.
      let error;
      try {
        error = JSON.parse(result.body);
      } catch {
        error = { status: Number(result.status), message: String(result.body ?? '') };
      }
      json(res, 200, { action: 'error', error });
      return;
    }
    const rewritten = result.uri !== uri || result.querystring !== querystring;
    json(res, 200, rewritten
      ? { action: 'rewrite', uri: result.uri, key: decodeURIComponent(result.uri.slice(1)) }
      : { action: 'pass', uri: result.uri });
  }

  async function upload(req, res, url) {
    const name = (url.searchParams.get('name') || '').split(/[\\/]/).pop();
    // A plain object name; the core's key rules would refuse anything else anyway.
    const safe = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
    if (!safe) return json(res, 400, { message: 'name: a file name is required' });
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > MAX_UPLOAD_BYTES) return json(res, 413, { message: `file over ${MAX_UPLOAD_BYTES} bytes` });
      chunks.push(chunk);
    }
    const key = `${UPLOAD_PREFIX}${safe}`;
    await s3.client.send(new PutObjectCommand({
      Bucket: s3.bucket, Key: key, Body: Buffer.concat(chunks), ContentType: contentTypeFor(key),
    }));
    log(`[playground] stored ${key} (${size} bytes)`);
    json(res, 200, { key, bytes: size });
  }

  function route(req) {
    const url = new URL(req.url || '/', 'http://localhost');
    const at = `${req.method} ${url.pathname}`;
    if (at === 'GET /__demo/playground.js') {
      return (request, res) => {
        const body = readFileSync(SCRIPT);
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'content-length': body.length, 'cache-control': 'no-cache' });
        res.end(body);
      };
    }
    if (at === 'GET /__demo/api/playground/key') return (request, res) => derivedKey(request, res, url);
    if (at === 'PUT /__demo/api/playground/upload') return (request, res) => upload(request, res, url);
    return null;
  }

  return { route };
}
