// The edge-shim JS API (both wasm packages, in process): result shapes, errors as
// JS Errors carrying status/code/message, configure(), and the request-only build
// leaving the codecs out.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';

import { imageSize } from './lib/image-size.mjs';

const require = createRequire(import.meta.url);
const full = require('../edge-shim/pkg/edge_shim.js');
const requestOnly = require('../edge-shim/pkg-request/edge_shim.js');
const configJson = readFileSync(new URL('../config/default.json', import.meta.url), 'utf8');
const photo = readFileSync(new URL('../../shared/corpus/photos/progressive_3.jpg', import.meta.url));
const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';

/** Runs `fn`, expects it to throw the core's error shape; returns the error. */
function thrown(fn) {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof Error, 'a JS Error');
    assert.equal(typeof error.status, 'number');
    assert.equal(typeof error.code, 'string');
    assert.equal(typeof error.message, 'string');
    return error;
  }
  assert.fail('expected a throw');
}

for (const [name, shim] of [
  ['full', full],
  ['request-only', requestOnly],
]) {
  describe(`${name} package: request functions`, () => {
    test('configure accepts the baked config and rejects a bad one, keeping the old', () => {
      shim.configure(configJson);
      const error = thrown(() => shim.configure('{"policy":{"maxWidht":1}}'));
      assert.equal(error.status, 500);
      assert.equal(error.code, 'internal');
      assert.equal(shim.viewerRequest('/a.jpg', 'w=100', undefined).action, 'rewrite');
    });

    test('viewerRequest: pass, rewrite, and 400s', () => {
      shim.configure(configJson);
      assert.deepEqual({ ...shim.viewerRequest('/a/b.jpg', '', CHROME) }, { action: 'pass' });
      const r = shim.viewerRequest('/a/b.jpg', 'fm=auto&w=600', CHROME);
      assert.equal(r.action, 'rewrite');
      assert.equal(r.negotiated, true);
      assert.equal(r.uri, `/${r.key}`);
      assert.match(r.key, /^_derived\/a\/b\.jpg\/.*\.avif$/);
      // Accept is optional and may be null.
      assert.equal(shim.viewerRequest('/a/b.jpg', 'w=600&fm=auto', null).key.endsWith('.legacy'), true);
      const bad = thrown(() => shim.viewerRequest('/a/b.jpg', 'w=banana', CHROME));
      assert.deepEqual([bad.status, bad.code], [400, 'invalid_parameter']);
      assert.match(bad.message, /^w/);
      const key = thrown(() => shim.viewerRequest('/a/../b.jpg', 'w=10', CHROME));
      assert.deepEqual([key.status, key.code], [400, 'invalid_key']);
    });

    test('parseDerivedKey reads back what viewerRequest wrote, and only that', () => {
      shim.configure(configJson);
      const { key } = shim.viewerRequest('/photos/cat%20x.jpg', 'w=300&h=200&fit=cover&fm=webp', CHROME);
      const parsed = shim.parseDerivedKey(key);
      assert.equal(parsed.original, 'photos/cat x.jpg');
      assert.equal(parsed.format, 'webp');
      assert.equal(parsed.negotiated, false);
      assert.equal(parsed.canonical, key);
      assert.equal(typeof parsed.query, 'string');
      const swapped = key.replace(/w_300,h_200/, 'h_200,w_300');
      assert.notEqual(swapped, key);
      const error = thrown(() => shim.parseDerivedKey(swapped));
      assert.deepEqual([error.status, error.code], [400, 'invalid_key']);
    });
  });
}

describe('full package: transforms', () => {
  test('transform returns body, contentType, width, height, format', () => {
    full.configure(configJson);
    const out = full.transform(photo, 'w=200&fm=webp');
    assert.ok(out.body instanceof Uint8Array);
    assert.equal(out.contentType, 'image/webp');
    assert.equal(out.format, 'webp');
    const header = imageSize(out.body);
    assert.deepEqual([header.format, header.width, header.height], ['webp', out.width, out.height]);
    assert.equal(out.width, 200);
  });

  test('transform negotiates fm=auto from the optional Accept', () => {
    full.configure(configJson);
    assert.equal(full.transform(photo, 'w=50&fm=auto', 'image/webp').format, 'webp');
    assert.equal(full.transform(photo, 'w=50&fm=auto').format, 'jpeg');
  });

  test('transformDerived makes exactly the variant the key names', () => {
    full.configure(configJson);
    const { key } = full.viewerRequest('/p.jpg', 'w=120&h=120&fit=cover&fm=auto', CHROME);
    const out = full.transformDerived(photo, key);
    assert.deepEqual([out.format, out.width, out.height, out.contentType], ['avif', 120, 120, 'image/avif']);
    const error = thrown(() => full.transformDerived(photo, 'photos/not-derived.jpg'));
    assert.deepEqual([error.status, error.code], [400, 'invalid_key']);
  });

  test('image errors are thrown with their status and the instance stays usable', () => {
    full.configure(configJson);
    const error = thrown(() => full.transform(new TextEncoder().encode('hello'), 'w=10'));
    assert.deepEqual([error.status, error.code], [415, 'unsupported_format']);
    const truncated = thrown(() => full.transform(photo.subarray(0, 200), 'w=10'));
    assert.equal(truncated.status, 422);
    assert.equal(full.transform(photo, 'w=10&fm=png').width, 10);
  });

  test('config limits apply to later calls', () => {
    full.configure(JSON.stringify({ limits: { maxInputBytes: 1000 } }));
    const error = thrown(() => full.transform(photo, 'w=10'));
    assert.deepEqual([error.status, error.code], [413, 'limit_exceeded']);
    full.configure(configJson);
    assert.equal(full.transform(photo, 'w=10').width, 10);
  });
});

test('request-only package has no codecs', () => {
  assert.equal(typeof requestOnly.transform, 'undefined');
  assert.equal(typeof requestOnly.transformDerived, 'undefined');
  const size = readFileSync(new URL('../edge-shim/pkg-request/edge_shim_bg.wasm', import.meta.url)).length;
  const fullSize = readFileSync(new URL('../edge-shim/pkg/edge_shim_bg.wasm', import.meta.url)).length;
  assert.ok(size < fullSize / 4, `request-only wasm ${size} bytes vs full ${fullSize}`);
});
