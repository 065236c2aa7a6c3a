// Starts a real S3-compatible server (`s3s-fs`) on 127.0.0.1 with SigV4 credentials, in a
// temporary directory, for the handler tests. Always pair with `stop()`.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ACCESS_KEY = 'AKIATESTRESIZER00001';
export const SECRET_KEY = 'test-secret-key-for-the-local-s3s-fs-server';

/** `s3s-fs` from PATH, else from ~/.cargo/bin; undefined when not installed. */
export function findS3sFs() {
  const onPath = spawnSync('s3s-fs', ['--version'], { stdio: 'ignore' });
  if (onPath.status === 0) return 's3s-fs';
  const cargoBin = join(homedir(), '.cargo', 'bin', 's3s-fs');
  return existsSync(cargoBin) ? cargoBin : undefined;
}

/** A free TCP port on 127.0.0.1 (shared by the local servers' helpers). */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export async function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Supervise a local server process the tests started: keep the tail of its stderr, end
 * it if this process exits first (`onProcessExit`), and wait until it accepts on
 * `port` (else stop it and throw). `stop()` calls `shutdown()`, SIGKILLs after
 * `graceMs`, then `cleanup()`; it runs once. Returns `{ stop, stderr() }`.
 */
export async function superviseServer(child, { name, port, startMs, graceMs, shutdown, onProcessExit, cleanup }) {
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Never leave the server behind, even when the test process dies on an assertion.
  process.once('exit', onProcessExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onProcessExit);
    if (child.exitCode === null && child.signalCode === null) {
      shutdown();
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    cleanup();
  };

  const deadline = Date.now() + startMs;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not start on 127.0.0.1:${port}: ${stderr}`);
    }
    await sleep(50);
  }
  return { stop, stderr: () => stderr };
}

/**
 * Start s3s-fs. Returns `{ endpoint, root, port, stop() }`; `root` is the data directory
 * (bucket = sub-directory). Throws when the binary is missing or never listens.
 */
export async function startS3Server() {
  const binary = findS3sFs();
  if (!binary) throw new Error('s3s-fs not installed (cargo install s3s-fs --features binary)');
  const root = mkdtempSync(join(tmpdir(), 's3s-fs-'));
  const port = await freePort();
  const child = spawn(
    binary,
    ['--host', '127.0.0.1', '--port', String(port), '--access-key', ACCESS_KEY, '--secret-key', SECRET_KEY, root],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const server = await superviseServer(child, {
    name: 's3s-fs',
    port,
    startMs: 15_000,
    graceMs: 3000,
    shutdown: () => child.kill('SIGTERM'),
    onProcessExit: () => child.kill('SIGKILL'),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  });
  return { endpoint: `http://127.0.0.1:${port}`, root, port, stop: server.stop };
}
