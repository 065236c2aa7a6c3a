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

for (const [name, shim] of [
  ['full', full],
  ['request-only', requestOnly],
]) {
  describe(`${name} package: effective config and origin decisions`, () => {
    test('configure and validateConfig return the effective config with every default', () => {
      const effective = shim.configure('{"policy":{"widths":[100,200]}}');
      assert.deepEqual(effective.policy.widths, [100, 200]);
      assert.equal(effective.policy.derivedPrefix, '_derived/');
      assert.equal(effective.policy.sizeMode, 'reject');
      assert.deepEqual(effective.policy.formats, ['jpeg', 'png', 'webp', 'avif']);
      assert.equal(typeof effective.limits.maxInputBytes, 'number');
      // validateConfig installs nothing: the widths list above stays in force.
      const other = shim.validateConfig('{"policy":{"derivedPrefix":"cache/v1/"}}');
      assert.equal(other.policy.derivedPrefix, 'cache/v1/');
      assert.deepEqual(other.policy.widths, []);
      const refused = thrown(() => shim.viewerRequest('/a.jpg', 'w=150', undefined));
      assert.equal(refused.code, 'invalid_parameter');
      const bad = thrown(() => shim.validateConfig('{"policy":{"maxWidth":0}}'));
      assert.deepEqual([bad.status, bad.code], [500, 'internal']);
      shim.configure(configJson);
    });

    test('originDecision: pass, generate with the viewer rules, 400 for unsafe keys', () => {
      shim.configure(configJson);
      assert.deepEqual({ ...shim.originDecision('/photos/cat.jpg') }, { action: 'pass' });
      const r = shim.viewerRequest('/photos/caf%C3%A9 x.jpg', 'w=300&fm=auto', CHROME);
      const d = shim.originDecision(r.uri);
      assert.deepEqual(
        { ...d },
        { action: 'generate', key: r.key, original: 'photos/café x.jpg', format: 'avif', negotiated: true },
      );
      for (const uri of ['/_derived/photos%2FWood.jpg/w_130.jpg', '/%5Fderived/photos/Wood.jpg/w_120.jpg', '/_derived/a/h_2,w_1.jpg']) {
        const error = thrown(() => shim.originDecision(uri));
        assert.deepEqual([error.status, error.code], [400, 'invalid_key'], uri);
      }
    });
  });
}

describe('full package: transforms', () => {
  test('transform and transformDerived report the core stage timings', () => {
    full.configure(configJson);
    const out = full.transform(photo, 'w=200&fm=webp');
    for (const stage of ['header', 'decode', 'resize', 'colour', 'encode']) {
      assert.equal(typeof out.timings[stage], 'number', stage);
      assert.ok(out.timings[stage] >= 0, stage);
    }
    const { key } = full.viewerRequest('/p.jpg', 'w=120&fm=png', CHROME);
    assert.ok(full.transformDerived(photo, key).timings.decode >= 0);
  });

  test('transformMany decodes once and makes every key, errors per key', () => {
    full.configure(configJson);
    const keys = ['w=320&fm=webp', 'w=100&h=100&fit=cover&fm=auto', 'w=64&fm=png'].map(
      (q) => full.viewerRequest('/p.jpg', q, CHROME).key,
    );
    const many = full.transformMany(photo, [...keys, '_derived/p.jpg/h_2,w_1.jpg']);
    assert.deepEqual({ ...many.source }, { format: 'jpeg', width: 650, height: 470 });
    assert.equal(many.outputs.length, 4);
    assert.deepEqual(
      many.outputs.slice(0, 3).map((o) => [o.key, o.format, o.width, o.height]),
      [
        [keys[0], 'webp', 320, 231],
        [keys[1], 'avif', 100, 100],
        [keys[2], 'png', 64, 46],
      ],
    );
    for (const o of many.outputs.slice(0, 3)) {
      const header = imageSize(o.body);
      assert.deepEqual([header.width, header.height], [o.width, o.height]);
      assert.equal(typeof o.timings.encode, 'number');
    }
    assert.equal(many.outputs[3].key, '_derived/p.jpg/h_2,w_1.jpg');
    assert.deepEqual([many.outputs[3].error.status, many.outputs[3].error.code], [400, 'invalid_key']);
    assert.ok(many.timings.decode >= 0);
    // One output alone is the transformDerived result, byte for byte.
    assert.deepEqual(full.transformMany(photo, [keys[0]]).outputs[0].body, full.transformDerived(photo, keys[0]).body);
    const broken = thrown(() => full.transformMany(new TextEncoder().encode('hello'), keys));
    assert.deepEqual([broken.status, broken.code], [415, 'unsupported_format']);
  });

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
  assert.equal(typeof requestOnly.transformMany, 'undefined');
  const size = readFileSync(new URL('../edge-shim/pkg-request/edge_shim_bg.wasm', import.meta.url)).length;
  const fullSize = readFileSync(new URL('../edge-shim/pkg/edge_shim_bg.wasm', import.meta.url)).length;
  assert.ok(size < fullSize / 4, `request-only wasm ${size} bytes vs full ${fullSize}`);
});
