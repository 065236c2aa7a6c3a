// Smoke run of scripts/load (small counts; the full run's numbers are in
// docs/security.md): the mixed run has no errors, the burst stores one object with
// identical responses, the soak keeps RSS and wasm memory flat, every log line is EMF.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const load = fileURLToPath(new URL('../scripts/load', import.meta.url));

test('scripts/load smoke run', async () => {
  const args = ['--requests', '40', '--concurrency', '8', '--burst', '30', '--soak', '200', '--json'];
  const { code, stdout, stderr } = await new Promise((resolve) => {
    execFile(load, args, { timeout: 240_000, maxBuffer: 8 << 20 }, (err, out, errOut) =>
      resolve({ code: err ? (err.code ?? 'killed') : 0, stdout: out, stderr: errOut }),
    );
  });
  assert.equal(code, 0, `scripts/load failed: ${stderr}\n${stdout}`);
  const summary = JSON.parse(stdout.trim().split('\n').at(-1));
  assert.equal(summary.mixed.requests, 40);
  assert.deepEqual(summary.mixed.errors, {});
  assert.equal(summary.burst.bodies, 1);
  assert.equal(summary.burst.stored, 1);
  assert.equal(summary.burst.statuses['200'], 30);
  assert.equal(summary.soak.transforms, 200);
  assert.equal(summary.soak.traps, 0);
  assert.ok(summary.peakRssMiB > 0);
  assert.equal(summary.logLines.notJson, 0);
  assert.ok(summary.logLines.lines >= 40);
  for (const p of ['p50', 'p95', 'p99']) assert.equal(typeof summary.mixed[p], 'number');
});
