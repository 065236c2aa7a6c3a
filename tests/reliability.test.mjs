// Issue 15: a trapped module never stays trapped, the linked wasm memory maximum, one
// deadline per origin request, and S3 faults injected by a proxy on 127.0.0.1 between
// the handler and a real S3 server (s3s-fs). Results of the fault matrix are printed as
// test diagnostics.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

import { setLogSink } from '../lambda-common/log.mjs';
import { loadConfiguredShim, loadShim } from '../lambda-common/wasm.mjs';
import { handleOriginResponse } from '../origin-response/origin.mjs';
import { s3ClientFor } from '../lambda-common/s3.mjs';
import { handleViewerRequest } from '../viewer-request/viewer.mjs';
import { assertEdgeResult, errorBody, header, ORIGIN_GENERATED_LIMIT, VIEWER_GENERATED_LIMIT } from './lib/edge-checks.mjs';
import { ACCEPT, originResponseEvent, viewerRequestEvent } from './lib/events.mjs';
import { FAULTS, startFaultProxy } from './lib/faultproxy.mjs';
import { ACCESS_KEY, SECRET_KEY, startS3Server } from './lib/s3server.mjs';

const corpus = new URL('../../shared/corpus/', import.meta.url);
const BUCKET = 'faults';
const PKG = new URL('../edge-shim/pkg/', import.meta.url);
const PKG_REQUEST = new URL('../edge-shim/pkg-request/', import.meta.url);
// The core's effective config (every default filled in).
const { config: effective } = await loadConfiguredShim(PKG);
const { derivedPrefix } = effective.policy;
const { maxInputBytes } = effective.limits;
const MIB = 1024 * 1024;

/** Grow an instance's memory to its linked maximum (nothing more can be allocated). */
function fillMemory(instance, maxMiB, leaveMiB = 0) {
  const memory = instance.exports.memory;
  const pages = (maxMiB - leaveMiB) * 16 - memory.buffer.byteLength / 65536;
  if (pages > 0) memory.grow(pages);
}

/** Run `fn` with the handlers' log lines captured; returns [result, lines]. */
async function captureStdout(fn) {
  const lines = [];
  setLogSink((line) => lines.push(line));
  try {
    return [await fn(), lines];
  } finally {
    setLogSink(undefined);
  }
}

function assertNoStore5xx(result, limit = ORIGIN_GENERATED_LIMIT) {
  assertEdgeResult(result, limit);
  assert.match(result.status, /^50[0-4]$/);
  assert.equal(header(result, 'cache-control'), 'no-store');
  assert.equal(header(result, 'x-content-type-options'), 'nosniff');
}

describe('the linked wasm memory maximum', () => {
  for (const [pkg, maxMiB] of [[PKG, 1024], [PKG_REQUEST, 32]]) {
    test(`${pkg.pathname.split('/').at(-2)} cannot grow past ${maxMiB} MiB`, async () => {
      let instance;
      await loadShim(pkg, { onInstance: (i) => { instance = i; } });
      const memory = instance.exports.memory;
      assert.throws(() => memory.grow(maxMiB * 16 - memory.buffer.byteLength / 65536 + 1), RangeError);
      fillMemory(instance, maxMiB);
      assert.equal(memory.buffer.byteLength, maxMiB * MIB);
    });
  }
});

describe('a trapped module never stays trapped', () => {
  test('viewer: a trap answers 500 no-store, logs one JSON line, and the next request works', async () => {
    let current;
    const shim = await loadShim(PKG_REQUEST, { onInstance: (i) => { current = i; } });
    fillMemory(current, 32); // starve this instance only
    // A 2 MB query string cannot be copied into the full memory: wasm-bindgen's
    // allocator aborts, a real `unreachable` trap.
    const huge = viewerRequestEvent({ uri: '/photos/cat.jpg', querystring: `w=100&x=${'a'.repeat(2 * MIB)}`, accept: ACCEPT.chrome });
    const [trapped, lines] = await captureStdout(() => handleViewerRequest(huge, shim));
    assertNoStore5xx(trapped, VIEWER_GENERATED_LIMIT);
    assert.equal(trapped.status, '500');
    assert.equal(errorBody(trapped).code, 'internal');
    assert.equal(lines.length, 1, lines.join('\n'));
    const log = JSON.parse(lines[0]);
    assert.equal(log.code, 'internal');
    assert.match(log.message, /wasm trap in viewerRequest: unreachable/);
    assert.deepEqual(shim.stats(), { instances: 2, traps: 1 });

    const next = handleViewerRequest(viewerRequestEvent({ uri: '/photos/cat.jpg', querystring: 'w=600&fm=webp' }), shim);
    assert.equal(next.uri, `/${derivedPrefix}photos/cat.jpg/w_600.webp`);
    // 20 more traps do not leak: each one gets a fresh instance and memory.
    for (let i = 0; i < 20; i += 1) {
      fillMemory(current, 32);
      const [again] = await captureStdout(() => handleViewerRequest(huge, shim));
      assert.equal(again.status, '500');
    }
    assert.deepEqual(shim.stats(), { instances: 22, traps: 21 });
    const last = handleViewerRequest(viewerRequestEvent({ uri: '/photos/cat.jpg', querystring: 'w=600&fm=webp' }), shim);
    assert.equal(last.uri, `/${derivedPrefix}photos/cat.jpg/w_600.webp`);
    assert.ok(shim.wasmMemoryBytes() < 8 * MIB, `memory ${shim.wasmMemoryBytes()}`);
  });

  test('the fresh instance after a trap keeps the configuration set since load', async () => {
    let current;
    const shim = await loadShim(PKG_REQUEST, { onInstance: (i) => { current = i; } });
    shim.configure(JSON.stringify({ policy: { derivedPrefix: 'variants/' } }));
    fillMemory(current, 32);
    const huge = viewerRequestEvent({ uri: '/photos/cat.jpg', querystring: `w=100&x=${'a'.repeat(2 * MIB)}` });
    const [trapped] = await captureStdout(() => handleViewerRequest(huge, shim));
    assert.equal(trapped.status, '500');
    const next = handleViewerRequest(viewerRequestEvent({ uri: '/photos/cat.jpg', querystring: 'w=600&fm=webp' }), shim);
    assert.equal(next.uri, '/variants/photos/cat.jpg/w_600.webp');
  });

  test('one instance per package per process (a handler and its caller share its configuration)', async () => {
    const [a, b] = await Promise.all([loadShim(PKG_REQUEST), loadShim(PKG_REQUEST)]);
    assert.equal(a, b);
  });
});

describe('origin-response against s3s-fs, through a fault proxy', () => {
  let server;
  let proxy;
  let shim;
  let s3;
  const original = readFileSync(new URL('photos/hato.jpg', corpus));

  before(async () => {
    server = await startS3Server();
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_REGION: 'us-east-1' });
    s3 = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'photos/hato.jpg', Body: original }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'photos/big.jpg', Body: readFileSync(new URL('photos/HMD_Nokia_8.3_5G.jpg', corpus)) }));
    proxy = await startFaultProxy(server.endpoint);
    process.env.AWS_ENDPOINT_URL_S3 = proxy.endpoint;
    shim = await loadShim(PKG);
  });
  after(async () => {
    s3?.destroy();
    await proxy?.stop();
    await server?.stop();
  });

  let sequence = 0;
  const derivedEvent = (variant = `w_${200 + (sequence++ % 500)}.jpg`, source = 'photos/hato.jpg') => {
    const key = `${derivedPrefix}${source}/${variant}`;
    return { key, event: originResponseEvent({ request: { uri: `/${key}`, querystring: '', headers: {} }, status: '404', bucket: BUCKET }) };
  };
  const deps = (extra = {}) => ({ shim, s3ClientFor, derivedPrefix, maxInputBytes, budgetMs: 6000, ...extra });
  const stored = (key) => existsSync(join(server.root, BUCKET, key));

  test('origin: a trap answers 500 no-store, nothing is stored, and the next request is generated', async () => {
    let current;
    const starved = await loadShim(PKG, { onInstance: (i) => { current = i; } });
    fillMemory(current, 1024);
    proxy.setPlan(() => undefined);
    const big = derivedEvent('w_300.jpg', 'photos/big.jpg');
    const [trapped, lines] = await captureStdout(() => handleOriginResponse(big.event, deps({ shim: starved })));
    assertNoStore5xx(trapped);
    assert.equal(errorBody(trapped).code, 'internal');
    assert.match(JSON.parse(lines[0]).message, /wasm trap in \w+: unreachable/);
    assert.equal(stored(big.key), false);
    const next = await captureStdout(() => handleOriginResponse(big.event, deps({ shim: starved })));
    assert.equal(next[0].status, '200');
    assert.equal(header(next[0], 'x-content-type-options'), 'nosniff');
    assert.equal(stored(big.key), true);
    assert.deepEqual(starved.stats(), { instances: 2, traps: 1 });
  });

  test('origin: an allocation beyond the linked maximum is a clean 413, not a trap', async () => {
    let first;
    const tight = await loadShim(PKG, { onInstance: (i) => { first ??= i; } });
    tight.transform(original, 'w=100&fm=jpeg'); // warm: a few MiB free inside the memory
    fillMemory(first, 1024);
    const wide = derivedEvent('w_3000,enlarge_1.png');
    const [result] = await captureStdout(() => handleOriginResponse(wide.event, deps({ shim: tight })));
    assert.equal(result.status, '413');
    assert.equal(errorBody(result).code, 'limit_exceeded');
    assert.equal(tight.stats().traps, 0);
    assert.equal(stored(wide.key), false);
  });

  test('one deadline: a variant that cannot fit the time left after slow S3 calls is refused at once', async () => {
    // Each S3 call takes 1.5 s of a 6 s budget: after HEAD + GET, less time is left
    // than the 1500-wide AVIF is estimated to need (plus the PUT reserve).
    proxy.setPlan(() => ({ kind: 'latency', ms: 1500 }));
    const slow = derivedEvent('w_1500.avif');
    const started = performance.now();
    const [result] = await captureStdout(() => handleOriginResponse(slow.event, deps({ budgetMs: 6000 })));
    const elapsed = performance.now() - started;
    proxy.setPlan(() => undefined);
    assertNoStore5xx(result);
    assert.equal(result.status, '503');
    assert.equal(errorBody(result).code, 'deadline_exceeded');
    assert.ok(elapsed < 4500, `answered in ${Math.round(elapsed)} ms`);
    assert.equal(stored(slow.key), false);
    // Without the delay the same variant fits and is generated.
    const [fast] = await captureStdout(() => handleOriginResponse(derivedEvent('w_1500.avif').event, deps({ budgetMs: 6000 })));
    assert.equal(fast.status, '200');
    // The costliest variant the policy allows (4096x4096 AVIF, stretched and enlarged)
    // never fits the production budget: refused up front as too costly, never run.
    const worst = derivedEvent('w_4096,h_4096,fit_fill,enlarge_1.avif');
    const mustNotRun = { ...shim, transformDerived: () => assert.fail('the transform must not run') };
    const [refused] = await captureStdout(() => handleOriginResponse(worst.event, deps({ budgetMs: 25_000, shim: mustNotRun })));
    assert.equal(refused.status, '413');
    assert.match(errorBody(refused).message, /too costly/);
  });

  test('fault matrix: prompt 2xx or 5xx with no-store, never a partial object', async (t) => {
    // (fault, which requests) pairs; `first` = only the first matching request fails
    // (the SDK's retry should then succeed), `all` = every matching request fails.
    const ops = {
      head: (r) => r.method === 'HEAD',
      get: (r) => r.method === 'GET',
      put: (r) => r.method === 'PUT',
      any: () => true,
    };
    const faults = {
      latency300: { kind: 'latency', ms: 300 },
      internalError: FAULTS.internalError,
      slowDown: FAULTS.slowDown,
      throttling: FAULTS.throttling,
      tooManyRequests: FAULTS.tooManyRequests,
      reset: FAULTS.reset,
      truncate: FAULTS.truncate,
      blackhole: FAULTS.blackhole,
    };
    const results = {};
    let tried = 0;
    for (const [faultName, fault] of Object.entries(faults)) {
      for (const [opName, matches] of Object.entries(ops)) {
        for (const times of ['first', 'all']) {
          if (fault.kind === 'blackhole' && (opName === 'any' || times === 'first')) continue; // slow; covered by head/get/put
          let hits = 0;
          proxy.setPlan((r) => (matches(r) && (times === 'all' || hits++ === 0) ? fault : undefined));
          const { key, event } = derivedEvent();
          const started = performance.now();
          const [result] = await captureStdout(() => handleOriginResponse(event, deps({ budgetMs: 3000 })));
          const elapsed = performance.now() - started;
          tried += 1;
          const status = result.status;
          const label = `${faultName}/${opName}/${times}`;
          results[status] = (results[status] ?? 0) + 1;
          t.diagnostic(`${label}: ${status}${result.status >= '500' ? ` ${errorBody(result).code}` : ''} in ${Math.round(elapsed)} ms`);
          assert.ok(elapsed < 4000, `${label}: answered in ${Math.round(elapsed)} ms`);
          if (status === '200') {
            assert.equal(header(result, 'x-content-type-options'), 'nosniff');
          } else {
            assertNoStore5xx(result);
            assert.ok(['502', '503', '504'].includes(status), `${label}: ${status}`);
          }
          // Whatever happened, an object under the derived key is complete.
          if (stored(key)) {
            const bytes = readFileSync(join(server.root, BUCKET, key));
            assert.ok(bytes.length > 100 && bytes[0] === 0xff && bytes.at(-1) === 0xd9, `${label}: partial object`);
          }
        }
      }
    }
    proxy.setPlan(() => undefined);
    t.diagnostic(`faults tried: ${tried}; results: ${JSON.stringify(results)}; injected: ${JSON.stringify(proxy.injected)}`);
    assert.ok(tried >= 50);
  });
});
