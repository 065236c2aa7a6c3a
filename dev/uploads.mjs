// scripts/dev's side of the upload pipeline: starts dev/upload-pipeline.mjs as a child
// process (its own AWS endpoints: the local AWS, not the edge's s3s-fs) and proxies the
// demo panel's /__uploads/ requests to it. The child stops when this process's end of
// its stdin pipe closes, so even a SIGKILLed dev server leaves nothing behind.

import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('upload-pipeline.mjs', import.meta.url));

/** Resolves to `{ port, endpoint, bucket, route(req), stop(), stopSync() }`. */
export async function startUploads({ log = () => {}, readyTimeoutMs = 120_000 } = {}) {
  const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const name of Object.keys(env)) if (name.startsWith('AWS_ENDPOINT_URL') || name.startsWith('AWS_ACCESS') || name.startsWith('AWS_SECRET')) delete env[name];
  const child = spawn(process.execPath, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
    for (const line of String(chunk).split('\n')) if (line.trim()) log(line);
  });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`upload pipeline not ready: ${stderr}`)), readyTimeoutMs);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/UPLOADS-READY (\d+) (\S+) (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), endpoint: m[2], bucket: m[3] });
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`upload pipeline exited (${code}): ${stderr}`));
    });
  }).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });

  const proxy = (req, res) =>
    new Promise((resolve) => {
      const upstream = request({ host: '127.0.0.1', port: ready.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res).on('finish', resolve);
      });
      upstream.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `upload pipeline: ${err.message}` }));
        resolve();
      });
      req.pipe(upstream);
    });

  return {
    ...ready,
    route: (req) => ((req.url || '').startsWith('/__uploads/') ? proxy : null),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
        await exited;
        clearTimeout(timer);
      }
    },
    stopSync: () => child.kill('SIGKILL'),
  };
}
