// Every handler log line is one JSON object carrying CloudWatch Embedded Metric Format
// metrics; no secret reaches a log line; generated responses carry nosniff.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { emfRecord } from '../lambda-common/log.mjs';
import { assertEmf } from './lib/emf.mjs';
import { SECRET_KEY } from './lib/s3server.mjs';

const run = fileURLToPath(new URL('./lib/emf-run.mjs', import.meta.url));

test('a short run of both handlers: every stdout line is one EMF JSON object, nothing on stderr', async () => {
  const { stdout, stderr } = await new Promise((resolve, reject) => {
    execFile(process.execPath, [run], { timeout: 120_000, maxBuffer: 16 << 20 }, (err, out, errOut) =>
      err ? reject(Object.assign(err, { stderr: errOut })) : resolve({ stdout: out, stderr: errOut }),
    );
  });
  const lines = stdout.split('\n').filter((l) => l.length > 0);
  assert.ok(lines.length >= 12, `${lines.length} lines`);
  const records = lines.map((l) => JSON.parse(l));
  records.forEach(assertEmf);
  // The SDK warns about Node 20 here (Lambda runs 22); anything else on stderr fails.
  const sdkWarning = /\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?--trace-warnings[^\n]*\n/;
  assert.equal(stderr.replace(sdkWarning, ''), '');
  // What the metrics say: generated images with stage timings and bytes, errors counted by code.
  const generated = records.filter((r) => r.function === 'origin-response' && r.action.startsWith('generated'));
  assert.ok(generated.length >= 3);
  for (const r of generated) {
    assert.ok(r.TotalMs >= 0 && r.TransformMs >= 0 && r.BytesIn > 0 && r.BytesOut > 0, JSON.stringify(r));
    assert.equal(r.statusClass, '2xx');
  }
  const codes = new Set(records.flatMap((r) => Object.keys(r).filter((k) => k.startsWith('Error_'))));
  for (const code of ['Error_invalid_parameter', 'Error_invalid_key', 'Error_not_found', 'Error_unsupported_format']) {
    assert.ok(codes.has(code), `${code} in ${[...codes]}`);
  }
  assert.ok(records.some((r) => r.function === 'viewer-request' && r.statusClass === '4xx'));
  // No credential in any line.
  assert.ok(!stdout.includes(SECRET_KEY));
});

test('credential-like fields never reach a log line, and messages stay on one line', () => {
  const record = emfRecord({ function: 'origin-response', status: 200, secretKey: 'k', signature: 'abc', authorization: 'AWS4', message: 'a\nb' });
  for (const name of ['secretKey', 'signature', 'authorization']) assert.equal(name in record, false);
  assert.equal(record.message, 'a b');
  assert.equal(record.statusClass, '2xx');
  assert.equal(record.format, 'none');
});
