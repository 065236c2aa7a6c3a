#!/usr/bin/env node
// `scripts/dev` after setup and build: s3s-fs seeded with the originals, the CloudFront
// emulation running the real handlers, and the demo page. Usually started through
// `scripts/dev [--port 8080] [--originals DIR]`.

import { createServer } from 'node:http';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfiguredShim } from '../lambda-common/wasm.mjs';
import { createEdge } from './cloudfront.mjs';
import { createDemo } from './demo.mjs';
import { seedBucket, startS3sFs } from './s3.mjs';
import { startUploads } from './uploads.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_ORIGINALS = join(ROOT, 'dev', 'samples');
export const BUCKET = 'resizer-dev-originals';

const USAGE = `usage: scripts/dev [--port 8080] [--originals DIR] [--quiet]

Starts s3s-fs with a bucket seeded from DIR (default: dev/samples), and a local
CloudFront emulation on 127.0.0.1:PORT running viewer-request/index.mjs and
origin-response/index.mjs, with a demo page at /. Ctrl-C stops everything.

  --port N         port for the emulation (default 8080; 0 = any free port)
  --originals DIR  folder uploaded to the bucket, recursively (keys = relative paths)
  --quiet          no per-request log lines

Environment: DEV_VIEWER_HANDLER / DEV_ORIGIN_HANDLER run other handler files
(e.g. an unpacked bundle from dist/).`;

export function parseArgs(argv) {
  const opts = { port: 8080, originals: DEFAULT_ORIGINALS, quiet: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) throw new Error(`${name} needs a value`);
      i += 1;
      return argv[i];
    };
    if (name === '--port') {
      const v = value();
      const port = Number(v);
      if (!/^\d+$/.test(v) || port > 65535) throw new Error(`--port: not a port number: ${v}`);
      opts.port = port;
    } else if (name === '--originals') {
      opts.originals = resolve(value());
    } else if (name === '--quiet' || name === '-q') {
      opts.quiet = true;
    } else if (name === '--help' || name === '-h') {
      opts.help = true;
    } else {
      throw new Error(`unknown argument: ${arg}`);
    }
  }
  return opts;
}

async function loadHandler(path) {
  if (!existsSync(path)) throw new Error(`handler not found: ${path} (has scripts/build run?)`);
  const mod = await import(pathToFileURL(path).href);
  const handler = mod.handler ?? mod.default?.handler;
  if (typeof handler !== 'function') throw new Error(`${path} does not export a handler function`);
  return handler;
}

/**
 * Starts everything; returns { url, s3, server, edge, stop }. `stop()` closes the
 * HTTP server and stops s3s-fs; `stopSync()` is the last-resort variant for 'exit'.
 */
export async function startDev({ port = 8080, originals = DEFAULT_ORIGINALS, log = console.log, quiet = false } = {}) {
  if (!existsSync(originals) || !statSync(originals).isDirectory()) {
    throw new Error(`--originals: not a folder: ${originals}`);
  }
  // The SDK warns once per process that future versions need Node 22; noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const s3 = await startS3sFs({ log: quiet ? () => {} : log });
  let server;
  let uploads;
  const stopSync = () => {
    server?.closeAllConnections?.();
    uploads?.stopSync();
    s3.stopSync();
  };
  try {
    // The handlers use the standard SDK variables; set them before their modules load
    // (they may create their S3 client at import time). Path-style addressing follows
    // from the custom endpoint in the handlers.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region,
      AWS_DEFAULT_REGION: s3.region,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    for (const name of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL']) delete process.env[name];

    const keys = await seedBucket(s3.client, BUCKET, originals);
    const viewerHandler = await loadHandler(process.env.DEV_VIEWER_HANDLER || join(ROOT, 'viewer-request', 'index.mjs'));
    const originHandler = await loadHandler(process.env.DEV_ORIGIN_HANDLER || join(ROOT, 'origin-response', 'index.mjs'));
    // The core's effective config (defaults filled in by the wasm, not repeated here).
    const { config } = await loadConfiguredShim(pathToFileURL(join(ROOT, 'edge-shim', 'pkg-request') + '/'));
    const { derivedPrefix } = config.policy;

    const s3Info = { client: s3.client, bucket: BUCKET, region: s3.region };
    const edge = createEdge({
      viewerHandler, originHandler, s3: s3Info, log: quiet ? () => {} : log,
    });
    const demo = createDemo({ s3: s3Info, cache: edge.cache, derivedPrefix, log });
    // The upload pipeline (issue 13) on the local AWS; DEV_UPLOADS=0 leaves it out.
    if (process.env.DEV_UPLOADS !== '0') uploads = await startUploads({ log: quiet ? () => {} : log });

    server = createServer((req, res) => {
      const route = uploads?.route(req) || demo.route(req);
      const work = route ? route(req, res) : edge.handle(req, res);
      Promise.resolve(work).catch((err) => {
        log(`[dev] request failed: ${err?.stack || err}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error in the dev server\n');
      });
    });
    await new Promise((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolveListen();
      });
    });
    const url = `http://127.0.0.1:${server.address().port}/`;

    let stopping;
    const stop = () => {
      stopping ||= (async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(() => r()));
        await uploads?.stop();
        await s3.stop();
      })();
      return stopping;
    };
    return { url, s3, bucket: BUCKET, keys, server, edge, uploads, stop, stopSync };
  } catch (err) {
    server?.close();
    await uploads?.stop();
    await s3.stop();
    throw err;
  }
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`scripts/dev: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  // Every process we start is stopped however we end: signals stop cleanly, and the
  // 'exit' hook covers crashes (s3s-fs also has a watchdog for a SIGKILL of us).
  let dev;
  let exitHook = () => {};
  process.on('exit', () => exitHook());
  const onSignal = (signal) => {
    console.log(`\n${signal}: stopping`);
    setTimeout(() => process.exit(1), 5000).unref();
    Promise.resolve(dev?.stop()).finally(() => process.exit(0));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);

  try {
    dev = await startDev({ ...opts, log: (line) => console.log(line) });
  } catch (err) {
    console.error(`scripts/dev: ${err.message}`);
    process.exit(1);
  }
  exitHook = dev.stopSync;
  const example = dev.keys.find((k) => /\.(jpe?g|png|webp|gif)$/i.test(k));
  const exampleUrl = example ? `${dev.url}${example.split('/').map(encodeURIComponent).join('/')}?w=640&fm=auto` : null;
  console.log([
    '',
    `CloudFront emulation ready: ${dev.url}`,
    `  demo page:  ${dev.url}`,
    ...(exampleUrl ? [`  try:        curl -sI '${exampleUrl}'`] : []),
    `  S3 origin:  ${dev.s3.endpoint} (s3s-fs, data in ${dev.s3.dataDir}), bucket ${dev.bucket}: ` +
      `${dev.keys.length} object(s) from ${opts.originals}`,
    ...(dev.uploads
      ? [`  uploads:    local AWS ${dev.uploads.endpoint} (ministack), bucket ${dev.uploads.bucket}: PUT under uploads/ → queue → upload-processor`]
      : []),
    'Press Ctrl-C to stop.',
    '',
  ].join('\n'));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
