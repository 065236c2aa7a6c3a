// Runs `scripts/dev` the way a person (or a checker) does: as its own process group,
// stopped with a signal to the whole group, then asserts nothing of it is left.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../scripts/dev', import.meta.url));

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Pids of live processes whose process group is `pgid` (from /proc). */
export function groupMembers(pgid) {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

export function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/**
 * Starts `scripts/dev --port <port> [args]` in a new process group and waits until it
 * prints its URL. Returns { url, pid, pgid, output(), stop(signal) }.
 */
export async function startDevProcess({ port, args = [], env = {}, readyTimeoutMs = 600_000 } = {}) {
  const child = spawn(SCRIPT, ['--port', String(port), ...args], {
    cwd: ROOT,
    detached: true, // own process group, like a shell job
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const pgid = child.pid;
  const stop = async (signal = 'SIGTERM', timeoutMs = 15_000) => {
    try {
      process.kill(-pgid, signal);
    } catch {
      // group already gone
    }
    const timer = setTimeout(() => {
      try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutMs);
    const status = await exited;
    clearTimeout(timer);
    // Children may need a moment after the leader exits.
    const deadline = Date.now() + 5000;
    let left = groupMembers(pgid);
    while (left.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      left = groupMembers(pgid);
    }
    return { ...status, left: left.map((pid) => `${pid} ${commandLine(pid)}`) };
  };

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`scripts/dev not ready after ${readyTimeoutMs} ms:\n${out}`)), readyTimeoutMs);
    const check = () => {
      const m = out.match(/CloudFront emulation ready: (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', check);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`scripts/dev exited (${code ?? signal}) before it was ready:\n${out}`));
    });
  }).catch(async (err) => {
    await stop('SIGKILL');
    throw err;
  });

  return { url, pid: child.pid, pgid, output: () => out, stop, exited };
}
