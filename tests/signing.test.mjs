// Signed URLs and presets, end to end: the handlers are imported from the zips that
// `scripts/package --config FILE` builds with presets, two signing keys and
// `required: true`, driven with CloudFront events, and the origin bundle serves the
// preset keys against s3s-fs. URLs are signed here with a separate implementation of
// the README's algorithm (not lambda-common/sign.mjs), and also with the README's own
// Node and Python examples, lambda-common/sign.mjs and scripts/sign.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

import { sign } from '../lambda-common/sign.mjs';
import { loadShim } from '../lambda-common/wasm.mjs';
import { handleOriginResponse } from '../origin-response/origin.mjs';
import { s3ClientFor } from '../lambda-common/s3.mjs';
import { assertEdgeResult, errorBody, header, ORIGIN_GENERATED_LIMIT, VIEWER_GENERATED_LIMIT } from './lib/edge-checks.mjs';
import { ACCEPT, originResponseEvent, viewerRequestEvent } from './lib/events.mjs';
import { imageSize } from './lib/image-size.mjs';
import { ACCESS_KEY, SECRET_KEY, startS3Server } from './lib/s3server.mjs';

const repo = fileURLToPath(new URL('../', import.meta.url));
const corpus = new URL('../../shared/corpus/', import.meta.url);
const BUCKET = 'signed-images';
const REGION = 'us-east-1';
const NEW_KEY = 'k2-9f1c0d6e-new';
const OLD_KEY = 'k1-3a7be2c4-old';
const CONFIG = {
  presets: { hero: 'w=200&h=100&fit=cover', avatar: 'w=64&h=64&fit=cover&fm=webp' },
  signing: { required: true, keys: [NEW_KEY, OLD_KEY] },
};

/** The README's algorithm, written out independently of lambda-common/sign.mjs. */
function independentSign(path, query, key) {
  const digest = createHmac('sha256', Buffer.from(key, 'utf8')).update(`${path}?${query}`, 'utf8').digest();
  const s = digest.toString('base64').replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
  assert.equal(s.length, 43);
  return query === '' ? `s=${s}` : `${query}&s=${s}`;
}

const now = () => Math.floor(Date.now() / 1000);

let server;
let s3;
let out;
let viewer;
let origin;
const logged = [];
const logSinks = [];
let realLog;

function unzip(zip, dir) {
  try {
    execFileSync('unzip', ['-q', zip, '-d', dir]);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
    execFileSync('python3', ['-m', 'zipfile', '-e', zip, dir]);
  }
}

before(async () => {
  server = await startS3Server();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: server.endpoint,
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_REGION: REGION,
  });
  s3 = new S3Client({ region: REGION, endpoint: server.endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (const [key, file] of [
    ['photos/cat.jpg', 'photos/progressive_3.jpg'],
    ['photos/my cat é.jpg', 'photos/concert_grayscale.jpg'],
  ]) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(new URL(file, corpus)) }));
  }
  out = mkdtempSync(join(tmpdir(), 'signed-bundles-'));
  const configFile = join(out, 'config.json');
  writeFileSync(configFile, JSON.stringify(CONFIG));
  execFileSync(join(repo, 'scripts/package'), ['--no-build', '--config', configFile, '--out', out], { cwd: repo, stdio: 'pipe' });
  for (const name of ['viewer-request', 'origin-response']) unzip(join(out, `${name}.zip`), join(out, name));
  ({ handler: viewer } = await import(pathToFileURL(join(out, 'viewer-request/index.mjs')).href));
  ({ handler: origin } = await import(pathToFileURL(join(out, 'origin-response/index.mjs')).href));
  // Every log line the handlers write, to check that no key leaks (lambda-common/log.mjs
  // writes to stdout through its sink; each bundle has its own copy).
  realLog = console.log;
  console.log = (...args) => logged.push(args.join(' '));
  for (const name of ['viewer-request', 'origin-response']) {
    const { setLogSink } = await import(pathToFileURL(join(out, name, 'lambda-common/log.mjs')).href);
    setLogSink((line) => logged.push(line));
    logSinks.push(setLogSink);
  }
});

after(async () => {
  if (realLog) console.log = realLog;
  for (const setLogSink of logSinks) setLogSink(undefined);
  s3?.destroy();
  await server?.stop();
  if (out) rmSync(out, { recursive: true, force: true });
});

async function view(uri, querystring, accept = ACCEPT.chrome) {
  const result = await viewer(viewerRequestEvent({ uri, querystring, accept }));
  assertEdgeResult(result, VIEWER_GENERATED_LIMIT);
  return result;
}

/** A rewritten request (the URL was accepted). */
async function accepted(uri, querystring, accept) {
  const result = await view(uri, querystring, accept);
  assert.equal(result.status, undefined, `${uri}?${querystring} accepted: ${result.body}`);
  assert.ok(result.uri.startsWith('/_derived/'), result.uri);
  assert.equal(result.querystring, '');
  return result;
}

/** A refusal: small JSON, `no-store`, the expected status and code. */
async function refused(uri, querystring, status, code) {
  const result = await view(uri, querystring);
  assert.equal(result.status, String(status), `${uri}?${querystring}: ${result.body}`);
  assert.equal(errorBody(result).code, code);
  assert.equal(header(result, 'cache-control'), 'no-store');
  assert.ok(result.body.length < 1024);
  for (const key of [NEW_KEY, OLD_KEY]) assert.ok(!result.body.includes(key));
  return errorBody(result);
}

describe('viewer bundle with signing required', () => {
  test('URLs signed with either key are accepted; s and exp stay out of the derived key', async () => {
    const exp = now() + 3600;
    const a = await accepted('/photos/cat.jpg', independentSign('/photos/cat.jpg', `w=600&fm=auto&exp=${exp}`, NEW_KEY));
    const b = await accepted('/photos/cat.jpg', independentSign('/photos/cat.jpg', `w=600&fm=auto&exp=${exp + 99}`, OLD_KEY));
    const c = await accepted('/photos/cat.jpg', independentSign('/photos/cat.jpg', 'w=600&fm=auto', OLD_KEY));
    assert.equal(a.uri, '/_derived/photos/cat.jpg/w_600,fm_auto.avif');
    assert.equal(b.uri, a.uri);
    assert.equal(c.uri, a.uri);
    // `s` need not be last, and percent-encoded paths are signed as sent.
    const q = independentSign('/photos/my%20cat%20%C3%A9.jpg', 'w=90&fm=webp', NEW_KEY);
    const [rest, s] = q.split('&s=');
    const moved = await accepted('/photos/my%20cat%20%C3%A9.jpg', `s=${s}&${rest}`);
    assert.equal(moved.uri, '/_derived/photos/my%20cat%20%C3%A9.jpg/w_90.webp');
  });

  test('tampered, unsigned, wrong-key, malformed, expired and bad-exp requests are refused', async () => {
    const exp = now() + 3600;
    const good = independentSign('/photos/cat.jpg', `w=600&exp=${exp}`, NEW_KEY);
    await refused('/photos/cat.jpg', good.replace('w=600', 'w=6000'), 403, 'invalid_signature');
    await refused('/photos/cat.jpg', good.replace(`exp=${exp}`, `exp=${exp + 1}`), 403, 'invalid_signature');
    await refused('/photos/dog.jpg', good, 403, 'invalid_signature');
    await refused('/photos/cat.jpg', `${good.split('&s=')[0]}&fm=webp&s=${good.split('&s=')[1]}`, 403, 'invalid_signature');
    await refused('/photos/cat.jpg', 'w=600', 403, 'invalid_signature');
    await refused('/photos/cat.jpg', 'p=hero', 403, 'invalid_signature');
    await refused('/photos/cat.jpg', 'w=abc', 403, 'invalid_signature');
    await refused('/photos/cat.jpg', independentSign('/photos/cat.jpg', 'w=600', 'not-a-key'), 403, 'invalid_signature');
    await refused('/photos/cat.jpg', 'w=600&s=short', 403, 'invalid_signature');
    await refused('/photos/cat.jpg', `w=600&s=${'A'.repeat(43)}`, 403, 'invalid_signature');
    await refused('/photos/cat.jpg', `${good}&s=${good.split('&s=')[1]}`, 403, 'invalid_signature');
    const expired = await refused('/photos/cat.jpg', independentSign('/photos/cat.jpg', `w=600&exp=${now() - 10}`, OLD_KEY), 403, 'signature_expired');
    assert.match(expired.message, /^exp:/);
    for (const bad of ['tomorrow', '1.5', '', '1e10']) {
      const body = await refused('/photos/cat.jpg', independentSign('/photos/cat.jpg', `w=600&exp=${bad}`, NEW_KEY), 400, 'invalid_parameter');
      assert.match(body.message, /^exp: /);
    }
    // An expired URL with a wrong signature says only that the signature is wrong.
    await refused('/photos/cat.jpg', independentSign('/photos/cat.jpg', `w=600&exp=${now() - 10}`, 'nope'), 403, 'invalid_signature');
  });

  test('the side door: derived URIs are refused even with a valid signature', async () => {
    const { uri } = await accepted('/photos/cat.jpg', independentSign('/photos/cat.jpg', 'p=hero', NEW_KEY));
    await refused(uri, '', 403, 'invalid_signature');
    await refused(uri, independentSign(uri, '', NEW_KEY), 403, 'invalid_signature');
    await refused(uri.replace('/_derived/', '/%5Fderived/'), '', 403, 'invalid_signature');
  });

  test('originals stay open; presets give the key of their expansion', async () => {
    for (const query of ['', 'v=3']) {
      const result = await view('/photos/cat.jpg', query);
      assert.equal(result.status, undefined);
      assert.equal(result.uri, '/photos/cat.jpg');
    }
    const pairs = [
      ['p=hero', 'w=200&h=100&fit=cover'],
      ['preset=hero&fm=jpeg&dpr=2', 'w=200&h=100&fit=cover&fm=jpeg&dpr=2'],
      ['p=avatar', 'w=64&h=64&fit=cover&fm=webp'],
      ['p=avatar&fm=auto', 'w=64&h=64&fit=cover&fm=auto'],
      ['p=thumbnail', 'w=150&h=150&fit=cover'],
      ['preset=large&dpr=1.5', 'w=1200&h=1200&dpr=1.5'],
      ['p=small&fm=source', 'w=300&h=300&fm=source'],
    ];
    for (const accept of [ACCEPT.chrome, ACCEPT.safari14]) {
      for (const [named, explicit] of pairs) {
        const a = await accepted('/photos/cat.jpg', independentSign('/photos/cat.jpg', named, OLD_KEY), accept);
        const b = await accepted('/photos/cat.jpg', independentSign('/photos/cat.jpg', explicit, NEW_KEY), accept);
        assert.equal(a.uri, b.uri, `${named} = ${explicit}`);
      }
    }
    const body = await refused('/photos/cat.jpg', independentSign('/photos/cat.jpg', 'p=hero&w=10', NEW_KEY), 400, 'invalid_parameter');
    assert.match(body.message, /^w: cannot be combined with p/);
    const unknown = await refused('/photos/cat.jpg', independentSign('/photos/cat.jpg', 'p=giant', NEW_KEY), 400, 'invalid_parameter');
    assert.match(unknown.message, /^preset: must be one of avatar, hero, large, medium, small, thumbnail/);
  });

  test('no key appears in any log line', () => {
    assert.ok(logged.length > 0, 'the refusals were logged');
    for (const line of logged) {
      for (const key of [NEW_KEY, OLD_KEY]) assert.ok(!line.includes(key), line);
    }
  });
});

describe('origin bundle serves preset keys from s3s-fs', () => {
  test('preset requests are generated at their size and stored under the explicit key', async () => {
    for (const [query, width, height] of [
      ['p=hero', 200, 100],
      ['p=avatar', 64, 64],
      ['p=thumbnail&dpr=2', 300, 300],
    ]) {
      const request = await accepted('/photos/cat.jpg', independentSign('/photos/cat.jpg', query, NEW_KEY), ACCEPT.chrome);
      const result = await origin(originResponseEvent({ request, status: '403', bucket: BUCKET }));
      assertEdgeResult(result, ORIGIN_GENERATED_LIMIT);
      assert.equal(result.status, '200', result.body?.slice?.(0, 200));
      const size = imageSize(Buffer.from(result.body, 'base64'));
      assert.deepEqual([size.width, size.height], [width, height], query);
      const key = decodeURI(request.uri.slice(1));
      await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    }
  });

  test('with presetsOnly the origin refuses derived keys that are no preset', async () => {
    const shim = await loadShim(new URL('../edge-shim/pkg/', import.meta.url));
    shim.configure(JSON.stringify({ ...CONFIG, policy: { presetsOnly: true } }));
    const deps = { shim, s3ClientFor, derivedPrefix: '_derived/', maxInputBytes: 40 << 20, budgetMs: 20_000 };
    const event = (uri) => originResponseEvent({ request: viewerRequestEvent({ uri }).Records[0].cf.request, status: '404', bucket: BUCKET });
    const planted = await handleOriginResponse(event('/_derived/photos/cat.jpg/w_201,h_100,fit_cover.jpg'), deps);
    assert.equal(planted.status, '400');
    assert.equal(errorBody(planted).code, 'invalid_key');
    const preset = await handleOriginResponse(event('/_derived/photos/cat.jpg/w_200,h_100,fit_cover.jpg'), deps);
    assert.equal(preset.status, '200');
    assert.equal(imageSize(Buffer.from(preset.body, 'base64')).width, 200);
  });
});

describe('signing for users', () => {
  function readmeBlock(language) {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Signed URLs'));
    const match = section.match(new RegExp('```' + language + '\\n([\\s\\S]*?)```'));
    assert.ok(match, `README has a ${language} example`);
    assert.ok(match[1].trim().split('\n').length <= 5, `${language} example is at most five lines`);
    return match[1];
  }

  async function acceptedUrl(url) {
    const parsed = new URL(url.trim(), 'https://example.invalid');
    return accepted(parsed.pathname, parsed.search.slice(1));
  }

  test('the README examples in Node and Python produce URLs the edge accepts', async () => {
    const env = { ...process.env, IMAGE_KEY: OLD_KEY };
    const fromNode = execFileSync(process.execPath, ['--input-type=module', '-e', readmeBlock('js')], { env, encoding: 'utf8' });
    const fromPython = execFileSync('python3', ['-c', readmeBlock('python')], { env, encoding: 'utf8' });
    const a = await acceptedUrl(fromNode);
    const b = await acceptedUrl(fromPython);
    assert.equal(a.uri, b.uri);
    assert.match(fromNode, /&exp=\d+&s=[A-Za-z0-9_-]{43}\n$/);
  });

  test('lambda-common/sign.mjs and scripts/sign produce URLs the edge accepts', async () => {
    const signed = sign('/photos/my cat é.jpg?w=90&fm=webp', NEW_KEY, { expiresAt: new Date(Date.now() + 60_000) });
    assert.match(signed, /^\/photos\/my%20cat%20%C3%A9\.jpg\?w=90&fm=webp&exp=\d+&s=/);
    const request = await acceptedUrl(signed);
    const result = await origin(originResponseEvent({ request, status: '404', bucket: BUCKET }));
    assert.equal(result.status, '200');
    // Re-signing replaces the old s and exp.
    const again = sign(signed, OLD_KEY, { expiresAt: now() + 30 });
    assert.equal(again.match(/[?&]s=/g).length, 1);
    assert.equal(again.match(/[?&]exp=/g).length, 1);
    await acceptedUrl(again);
    const absolute = sign('https://img.example.com/photos/cat.jpg?p=hero', OLD_KEY);
    assert.match(absolute, /^https:\/\/img\.example\.com\/photos\/cat\.jpg\?p=hero&s=/);
    await acceptedUrl(absolute);

    const cli = execFileSync(join(repo, 'scripts/sign'), ['/photos/cat.jpg?w=300', '--key', NEW_KEY, '--expires-in', '600'], { encoding: 'utf8' });
    const exp = Number(cli.match(/exp=(\d+)/)[1]);
    assert.ok(Math.abs(exp - (now() + 600)) <= 5);
    await acceptedUrl(cli);
    const fromConfig = execFileSync(join(repo, 'scripts/sign'), ['/photos/cat.jpg?p=hero', '--config', join(out, 'config.json')], { encoding: 'utf8', env: { ...process.env, EDGE_SIGNING_KEY: '' } });
    await acceptedUrl(fromConfig);
    const noKey = spawnSync(join(repo, 'scripts/sign'), ['/photos/cat.jpg?w=1'], { encoding: 'utf8', env: { ...process.env, EDGE_SIGNING_KEY: '' } });
    assert.equal(noKey.status, 1);
    assert.match(noKey.stderr, /no key/);
  });

  test('scripts/package --config stops on a preset that does not parse, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-preset-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ presets: { banner: 'w=wide&h=90' } }));
      const run = spawnSync(join(repo, 'scripts/package'), ['--no-build', '--config', file, '--out', dir], { cwd: repo, encoding: 'utf8' });
      assert.notEqual(run.status, 0);
      assert.match(run.stderr, /presets\.banner: w: must be an integer/);
      writeFileSync(file, JSON.stringify({ signing: { required: true, keys: [] } }));
      const noKeys = spawnSync(join(repo, 'scripts/package'), ['--no-build', '--config', file, '--out', dir], { cwd: repo, encoding: 'utf8' });
      assert.notEqual(noKeys.status, 0);
      assert.match(noKeys.stderr, /signing\.keys/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
