// The S3 side of the local edge: an `s3s-fs` process on loopback (SigV4 checked), a
// client for it, and seeding a bucket from a folder.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join, relative, sep } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

export const REGION = 'us-east-1';

/** Finds the `s3s-fs` binary: $S3S_FS, then PATH, then ~/.cargo/bin. */
export function findS3sFs() {
  if (process.env.S3S_FS && existsSync(process.env.S3S_FS)) return process.env.S3S_FS;
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    if (dir && existsSync(join(dir, 's3s-fs'))) return join(dir, 's3s-fs');
  }
  const cargo = join(homedir(), '.cargo', 'bin', 's3s-fs');
  if (existsSync(cargo)) return cargo;
  throw new Error('s3s-fs not found (PATH or ~/.cargo/bin); run scripts/lib/setup.sh');
}

/**
 * Starts s3s-fs on 127.0.0.1 with a random free port (the server reports the port it
 * bound) and fresh credentials, in a temporary data directory.
 *
 * The process is started under a tiny `sh` watchdog that reads its stdin: if this
 * Node process dies in any way (even SIGKILL), the pipe closes and the watchdog stops
 * s3s-fs, so no server outlives the emulator.
 */
export async function startS3sFs({ log = () => {} } = {}) {
  const binary = findS3sFs();
  const dataDir = mkdtempSync(join(tmpdir(), 'resizer-dev-s3-'));
  const accessKeyId = 'devkey' + randomBytes(4).toString('hex');
  const secretAccessKey = randomBytes(20).toString('hex');
  // sh -c SCRIPT sh DATA_DIR s3s-fs ARGS...: runs s3s-fs in the background, waits
  // for EOF on stdin (our end of the pipe closes when we exit, however we exit) or a
  // signal, then stops it and removes the data directory.
  const watchdog = [
    'dir=$1; shift',
    '"$@" <&- & child=$!',
    // Our own output would go to a pipe that may be gone: a job-status message must
    // not kill us (SIGPIPE) before the cleanup.
    'exec >/dev/null 2>&1',
    'stop() { kill $child 2>/dev/null; wait $child; rm -rf "$dir"; exit 0; }',
    'trap stop TERM INT HUP',
    'read _ignored',
    'stop',
  ].join('\n');
  const args = [
    '-c', watchdog, 'sh', dataDir, binary,
    '--host', '127.0.0.1', '--port', '0',
    '--access-key', accessKeyId, '--secret-key', secretAccessKey,
    dataDir,
  ];
  const proc = spawn('/bin/sh', args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    // The "server is running at" line is logged at INFO; NO_COLOR keeps it parseable.
    env: { ...process.env, RUST_LOG: 's3s_fs=info', NO_COLOR: '1' },
  });
  let exited = false;
  const exitPromise = new Promise((resolve) => proc.once('exit', (code, signal) => {
    exited = true;
    resolve({ code, signal });
  }));

  const endpoint = await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`s3s-fs did not start:\n${seen}`)), 15000);
    const onData = (chunk) => {
      seen += chunk.toString();
      // Strip colour codes in case the binary ignores NO_COLOR.
      const m = seen.replace(/\x1b\[[0-9;]*m/g, '').match(/running at (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    exitPromise.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`s3s-fs exited (${code ?? signal}) before it was ready:\n${seen}`));
    });
  });
  // Keep draining its output so a full pipe never blocks it; lines go to our log.
  proc.stdout.removeAllListeners('data');
  proc.stderr.removeAllListeners('data');
  const forward = (chunk) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) log(`[s3s-fs] ${line.trim()}`);
  };
  proc.stdout.on('data', forward);
  proc.stderr.on('data', forward);

  const client = new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 2,
  });

  let stopped = false;
  /** Stops the server and removes its data; safe to call more than once. */
  async function stop() {
    if (!stopped) {
      stopped = true;
      client.destroy();
      if (!exited) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exitPromise;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  /** Synchronous best effort for `process.on('exit')`: no waiting is possible there. */
  function stopSync() {
    if (!exited) {
      try { proc.kill('SIGTERM'); } catch { /* already gone */ }
      // The watchdog's stdin closes with us, which also stops s3s-fs.
    }
    try { rmSync(dataDir, { recursive: true, force: true }); } catch { /* best effort */ }
  }

  return {
    endpoint, accessKeyId, secretAccessKey, region: REGION, client, dataDir,
    pid: proc.pid, exited: exitPromise, stop, stopSync,
  };
}

const CONTENT_TYPES = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif',
  webp: 'image/webp', avif: 'image/avif', svg: 'image/svg+xml', tif: 'image/tiff',
  tiff: 'image/tiff', bmp: 'image/bmp', heic: 'image/heic', ico: 'image/x-icon',
  md: 'text/markdown; charset=utf-8', txt: 'text/plain; charset=utf-8',
  py: 'text/x-python; charset=utf-8', json: 'application/json',
};

export function contentTypeFor(key) {
  const ext = key.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  return CONTENT_TYPES[ext] || 'application/octet-stream';
}

/** Every regular file under `dir` (recursively, dot-files skipped), as [key, path]. */
export function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(d, entry.name);
      const st = statSync(path); // follows symlinks on purpose
      if (st.isDirectory()) walk(path);
      else if (st.isFile()) out.push([relative(dir, path).split(sep).join('/'), path]);
    }
  };
  walk(dir);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** Creates `bucket` and uploads every file of `dir` to it (keys = relative paths). */
export async function seedBucket(client, bucket, dir) {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const files = listFiles(dir);
  for (const [key, path] of files) {
    await client.send(new PutObjectCommand({
      Bucket: bucket, Key: key, Body: readFileSync(path), ContentType: contentTypeFor(key),
    }));
  }
  return files.map(([key]) => key);
}

/** All keys of the bucket (ListObjectsV2, paginated) with their sizes. */
export async function listObjects(client, bucket) {
  const out = [];
  let token;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents || []) out.push({ key: o.Key, size: o.Size });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/**
 * GET an object the way CloudFront's S3 origin does (signed request), returning the raw
 * HTTP status, headers and body whatever the status, like an origin response.
 * Throws only when S3 cannot be reached.
 */
export async function originGet(client, bucket, key) {
  const command = new GetObjectCommand({ Bucket: bucket, Key: key });
  let raw;
  // Innermost deserialize middleware: sees the HTTP response before the SDK parses it.
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      raw = result.response;
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'captureRawResponse' },
  );
  try {
    const out = await client.send(command);
    const body = Buffer.from(await out.Body.transformToByteArray());
    return { status: raw.statusCode, headers: raw.headers, body };
  } catch (err) {
    if (!raw) throw err; // never got an HTTP answer: unreachable or refused
    // S3's error bodies are small XML documents; the SDK consumed the stream while
    // parsing, so rebuild an equivalent one from what it parsed.
    const code = err.Code || err.name || 'Error';
    const message = code === 'NoSuchKey' ? 'The specified key does not exist.' : err.message || code;
    const xml = '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message>` +
      `<Key>${escapeXml(key)}</Key></Error>`;
    const headers = { ...raw.headers, 'content-type': 'application/xml' };
    delete headers['content-length'];
    return { status: raw.statusCode, headers, body: Buffer.from(xml) };
  }
}

function escapeXml(s) {
  return String(s).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
