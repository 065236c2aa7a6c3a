// The two Lambda@Edge handlers, driven with CloudFront-shaped events against a real
// S3-compatible server (s3s-fs, SigV4 checked) seeded with corpus images. The viewer
// result is fed to the origin handler the way CloudFront would.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

import { loadConfiguredShim, loadShim } from '../lambda-common/wasm.mjs';
import { handleOriginResponse } from '../origin-response/origin.mjs';
import {
  assertEdgeResult,
  errorBody,
  header,
  ORIGIN_GENERATED_LIMIT,
  VIEWER_GENERATED_LIMIT,
} from './lib/edge-checks.mjs';
import { ACCEPT, originResponseEvent, viewerRequestEvent } from './lib/events.mjs';
import { imageSize } from './lib/image-size.mjs';
import { ACCESS_KEY, SECRET_KEY, startS3Server } from './lib/s3server.mjs';

// The core's effective config: the handlers take their defaults from it, so do the tests.
const { config: effective } = await loadConfiguredShim(new URL('../edge-shim/pkg-request/', import.meta.url));
const { derivedPrefix } = effective.policy;
const { maxInputBytes } = effective.limits;

const repo = fileURLToPath(new URL('../', import.meta.url));
const corpus = new URL('../../shared/corpus/', import.meta.url);
const BUCKET = 'images';
const REGION = 'us-east-1';

// Bucket key → corpus file. Covers a large photo, a small one, EXIF rotation, PNG with
// alpha, a key needing percent-encoding, and broken inputs.
const SEED = {
  'photos/hato.jpg': 'photos/hato.jpg',
  'photos/small.jpg': 'photos/progressive_3.jpg',
  'photos/concurrent.jpg': 'photos/progressive_3.jpg',
  'photos/rotated.jpg': 'exif-orientation/Landscape_6.jpg',
  'photos/my cat é.jpg': 'photos/concert_grayscale.jpg',
  'graphics/alpha.png': 'pngsuite/basn6a08.png',
  'graphics/alpha.webp': 'formats/lossy_alpha1.webp',
  'broken/corrupt.jpg': 'formats/corrupt_data.jpg',
  'broken/text.jpg': 'formats/not_an_image.jpg',
};

let server;
let s3;
let viewer;
let origin;

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
  for (const [key, file] of Object.entries(SEED)) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(new URL(file, corpus)) }));
  }
  ({ handler: viewer } = await import('../viewer-request/index.mjs'));
  ({ handler: origin } = await import('../origin-response/index.mjs'));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

async function viewerResult(uri, querystring, accept) {
  const result = await viewer(viewerRequestEvent({ uri, querystring, accept }));
  assertEdgeResult(result, VIEWER_GENERATED_LIMIT);
  return result;
}

/** Viewer handler, then the origin handler with S3's `status` for the rewritten URI. */
async function roundTrip(uri, querystring, accept, status = '404') {
  const request = await viewerResult(uri, querystring, accept);
  assert.equal(request.status, undefined, `viewer rewrote ${uri}?${querystring}: ${request.body}`);
  assert.ok(request.uri.startsWith(`/${derivedPrefix}`), request.uri);
  const result = await origin(originResponseEvent({ request, status, bucket: BUCKET, region: REGION }));
  assertEdgeResult(result, ORIGIN_GENERATED_LIMIT);
  return { request, result };
}

function keyOf(uri) {
  return decodeURIComponent(uri.slice(1));
}

async function listKeys(prefix) {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key);
}

async function getStored(key) {
  const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { res, body: await res.Body.transformToByteArray() };
}

function decodedBody(result) {
  assert.equal(result.bodyEncoding, 'base64');
  return Buffer.from(result.body, 'base64');
}

describe('viewer-request', () => {
  test('browsers with equivalent Accept headers land on the same derived URI', async () => {
    const uriFor = async (accept) => (await viewerResult('/photos/hato.jpg', 'w=400&fm=auto', accept)).uri;
    const avif = await Promise.all([ACCEPT.chrome, ACCEPT.edge, ACCEPT.firefox, ACCEPT.safari17].map(uriFor));
    const webp = await Promise.all([ACCEPT.safari14, ACCEPT.firefox65].map(uriFor));
    const legacy = await Promise.all([ACCEPT.ie11, ACCEPT.safari12, ACCEPT.curl, undefined].map(uriFor));
    for (const group of [avif, webp, legacy]) assert.equal(new Set(group).size, 1, group.join(' '));
    assert.match(avif[0], /\.avif$/);
    assert.match(webp[0], /\.webp$/);
    assert.equal(new Set([avif[0], webp[0], legacy[0]]).size, 3);
    assert.ok(avif[0].startsWith(`/${derivedPrefix}photos/hato.jpg/`), avif[0]);
  });

  test('rewrites only uri and querystring; parameter order does not matter', async () => {
    const event = viewerRequestEvent({ uri: '/photos/hato.jpg', querystring: 'fm=auto&w=400', accept: ACCEPT.chrome });
    const before = structuredClone(event.Records[0].cf.request);
    const result = await viewer(event);
    assertEdgeResult(result, VIEWER_GENERATED_LIMIT);
    assert.equal(result.querystring, '');
    assert.deepEqual({ ...result, uri: before.uri, querystring: before.querystring }, before);
    const other = await viewerResult('/photos/hato.jpg', 'w=400&fm=auto', ACCEPT.chrome);
    assert.equal(result.uri, other.uri);
  });

  test('requests without resize parameters pass through untouched', async () => {
    for (const uri of ['/photos/hato.jpg', '/index.html', '/photos/my%20cat%20%C3%A9.jpg']) {
      const event = viewerRequestEvent({ uri, querystring: '', accept: ACCEPT.chrome });
      const before = structuredClone(event.Records[0].cf.request);
      const result = await viewer(event);
      assertEdgeResult(result, VIEWER_GENERATED_LIMIT);
      assert.deepEqual(result, before);
    }
  });

  test('invalid parameters get a small 400 naming the parameter', async () => {
    for (const querystring of ['w=0', 'w=abc', 'fit=sideways&w=10', 'q=1000&w=10', `w=${'9'.repeat(60000)}`]) {
      const result = await viewerResult('/photos/hato.jpg', querystring, ACCEPT.chrome);
      assert.equal(result.status, '400', querystring.slice(0, 40));
      const body = errorBody(result);
      assert.equal(body.code, 'invalid_parameter');
      assert.match(body.message, /^(w|fit|q)\b/);
      assert.ok(header(result, 'cache-control'));
    }
  });

  test('path traversal attempts are rejected with 400', async () => {
    for (const uri of ['/../secret.jpg', '/photos/%2e%2e/secret.jpg', '/photos/..%2fsecret.jpg', '/a//b.jpg', '/photos/%5c..%5csecret.jpg']) {
      const result = await viewerResult(uri, 'w=100', ACCEPT.chrome);
      assert.equal(result.status, '400', uri);
      assert.equal(errorBody(result).code, 'invalid_key', uri);
    }
  });

  test('malformed events get a 400, not a crash', async () => {
    const events = [{}, { Records: [] }, { Records: [{ cf: {} }] }, { Records: [{ cf: { request: { uri: 42 } } }] }, null];
    for (const event of events) {
      const result = await viewer(event);
      assertEdgeResult(result, VIEWER_GENERATED_LIMIT);
      assert.equal(result.status, '400');
      assert.equal(errorBody(result).code, 'invalid_event');
    }
  });
});

describe('origin-response against s3s-fs', () => {
  test('the S3 server really checks SigV4 signatures', async () => {
    const forged = new S3Client({
      region: REGION,
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: 'not-the-secret' },
    });
    await assert.rejects(forged.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'photos/hato.jpg' })), (err) => {
      assert.equal(err.name, 'SignatureDoesNotMatch');
      return true;
    });
    forged.destroy();
  });

  test('404 for a negotiated AVIF: generated, stored with type and metadata, vary: accept', async () => {
    const { request, result } = await roundTrip('/photos/hato.jpg', 'w=400&fm=auto', ACCEPT.chrome);
    assert.equal(result.status, '200', result.body?.slice(0, 200));
    assert.equal(header(result, 'content-type'), 'image/avif');
    assert.equal(header(result, 'vary'), 'accept');
    assert.match(header(result, 'cache-control'), /max-age=31536000/);
    assert.match(header(result, 'server-timing'), /get;dur=\d+.*transform;dur=\d+.*put;dur=\d+/);
    const body = decodedBody(result);
    assert.deepEqual(imageSize(body), { format: 'avif', width: 400, height: 266 });

    const stored = await getStored(keyOf(request.uri));
    assert.equal(stored.res.ContentType, 'image/avif');
    assert.match(stored.res.CacheControl, /immutable/);
    assert.equal(stored.res.Metadata['source-key'], 'photos/hato.jpg');
    assert.deepEqual(Buffer.from(stored.body), body);

    // Next miss is a cache fill from S3 (200): nothing to do.
    const event = originResponseEvent({ request, status: '200', bucket: BUCKET });
    const untouched = structuredClone(event.Records[0].cf.response);
    assert.deepEqual(await origin(event), untouched);
  });

  test('403 (no ListBucket) for a WebP with an explicit width works the same', async () => {
    const { request, result } = await roundTrip('/photos/small.jpg', 'w=300&fm=webp', ACCEPT.chrome, '403');
    assert.equal(result.status, '200');
    assert.equal(header(result, 'content-type'), 'image/webp');
    assert.equal(header(result, 'vary'), undefined, 'explicit fm does not vary');
    const size = imageSize(decodedBody(result));
    assert.equal(size.format, 'webp');
    assert.equal(size.width, 300);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: keyOf(request.uri) }));
    assert.equal(head.ContentType, 'image/webp');
    assert.equal(head.ContentLength, decodedBody(result).length);
  });

  test('legacy browsers get PNG for an image with alpha and JPEG for a photo', async () => {
    const png = await roundTrip('/graphics/alpha.webp', 'w=200&fm=auto', ACCEPT.ie11);
    assert.equal(png.result.status, '200', png.result.body?.slice(0, 200));
    assert.equal(header(png.result, 'content-type'), 'image/png');
    const pngSize = imageSize(decodedBody(png.result));
    assert.equal(pngSize.width, 200);
    assert.ok(pngSize.alpha, 'alpha kept');

    const jpeg = await roundTrip('/photos/small.jpg', 'w=200&fm=auto', ACCEPT.curl);
    assert.equal(header(jpeg.result, 'content-type'), 'image/jpeg');
    assert.equal(imageSize(decodedBody(jpeg.result)).width, 200);
  });

  test('EXIF orientation is applied: a rotated 1200x1800 photo comes out landscape', async () => {
    const { result } = await roundTrip('/photos/rotated.jpg', 'w=300&fm=jpeg', ACCEPT.chrome);
    assert.equal(result.status, '200');
    assert.deepEqual(imageSize(decodedBody(result)), { format: 'jpeg', width: 300, height: 200 });
  });

  test('keys that need percent-encoding round-trip', async () => {
    const { request, result } = await roundTrip('/photos/my%20cat%20%C3%A9.jpg', 'w=100&fm=png', ACCEPT.chrome);
    assert.equal(result.status, '200', result.body?.slice(0, 200));
    assert.equal(imageSize(decodedBody(result)).width, 100);
    const stored = await getStored(keyOf(request.uri));
    assert.ok(keyOf(request.uri).startsWith(`${derivedPrefix}photos/my cat é.jpg/`));
    assert.equal(decodeURIComponent(stored.res.Metadata['source-key']), 'photos/my cat é.jpg');
  });

  test('missing original → 404 and nothing written', async () => {
    const { result } = await roundTrip('/photos/nope.jpg', 'w=100', ACCEPT.chrome);
    assert.equal(result.status, '404');
    assert.equal(errorBody(result).code, 'not_found');
    assert.match(header(result, 'cache-control'), /no-store|max-age=([0-9]|[1-5][0-9]|60)$/);
    assert.deepEqual(await listKeys(`${derivedPrefix}photos/nope.jpg/`), []);
  });

  test('corrupt or non-image original → 4xx and nothing written', async () => {
    for (const [uri, statuses] of [['/broken/corrupt.jpg', ['422']], ['/broken/text.jpg', ['415', '422']]]) {
      const { result } = await roundTrip(uri, 'w=100&fm=jpeg', ACCEPT.chrome);
      assert.ok(statuses.includes(result.status), `${uri}: ${result.status} ${result.body}`);
      errorBody(result);
      assert.match(header(result, 'cache-control'), /no-store|max-age=([0-9]|[1-5][0-9]|60)$/);
      assert.deepEqual(await listKeys(`${derivedPrefix}${uri.slice(1)}/`), []);
    }
  });

  test('over the 1 MB generated-response limit: stored, then 307 to the same URI', async () => {
    const { request, result } = await roundTrip('/photos/hato.jpg', 'w=2000&fm=png', ACCEPT.chrome);
    assert.equal(result.status, '307', result.body?.slice(0, 200));
    assert.equal(header(result, 'location'), request.uri);
    assert.equal(header(result, 'cache-control'), 'no-store');
    const stored = await getStored(keyOf(request.uri));
    assert.ok(stored.body.length > ORIGIN_GENERATED_LIMIT * 0.75, `${stored.body.length} bytes is over the limit once base64`);
    assert.equal(stored.res.ContentType, 'image/png');
    assert.equal(imageSize(stored.body).width, 2000);
    const writtenAt = stored.res.LastModified;

    // The browser follows the redirect: the viewer passes the canonical derived URI on
    // untouched, so CloudFront asks S3 for the stored object.
    const followed = viewerRequestEvent({ uri: header(result, 'location'), accept: ACCEPT.chrome });
    const followedRequest = structuredClone(followed.Records[0].cf.request);
    assert.deepEqual(await viewer(followed), followedRequest);

    // The redirected request finds the object in S3 (200): passed through.
    const hit = originResponseEvent({ request, status: '200', bucket: BUCKET });
    assert.equal((await origin(hit)).status, '200');

    // Loop guard: S3 reports the object missing although it existed before that answer
    // (CloudFront cannot read it) → 502, not another redirect.
    const loop = await origin(
      originResponseEvent({ request, status: '403', bucket: BUCKET, date: new Date(writtenAt.getTime() + 5000) }),
    );
    assertEdgeResult(loop, ORIGIN_GENERATED_LIMIT);
    assert.equal(loop.status, '502');
    assert.equal(errorBody(loop).code, 'origin_loop');
    assert.equal(header(loop, 'cache-control'), 'no-store');

    // A miss answered before the object was written was a race: redirect again.
    const race = await origin(
      originResponseEvent({ request, status: '404', bucket: BUCKET, date: new Date(writtenAt.getTime() - 5000) }),
    );
    assert.equal(race.status, '307');
  });

  test('a miss for an object that exists by now is served from S3 without transforming', async () => {
    const first = await roundTrip('/photos/small.jpg', 'w=120&fm=jpeg', ACCEPT.chrome);
    assert.equal(first.result.status, '200');
    const again = await origin(originResponseEvent({ request: first.request, status: '404', bucket: BUCKET }));
    assertEdgeResult(again, ORIGIN_GENERATED_LIMIT);
    assert.equal(again.status, '200');
    assert.doesNotMatch(header(again, 'server-timing'), /transform/);
    assert.equal(again.body, first.result.body);
  });

  test('20 concurrent identical requests all succeed and S3 holds one valid object', async () => {
    const request = await viewerResult('/photos/concurrent.jpg', 'w=256&fm=auto', ACCEPT.firefox);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => origin(originResponseEvent({ request, status: '404', bucket: BUCKET }))),
    );
    for (const result of results) {
      assertEdgeResult(result, ORIGIN_GENERATED_LIMIT);
      assert.equal(result.status, '200');
      assert.equal(imageSize(decodedBody(result)).width, 256);
    }
    const keys = await listKeys(`${derivedPrefix}photos/concurrent.jpg/`);
    assert.deepEqual(keys, [keyOf(request.uri)]);
    const stored = await getStored(keys[0]);
    assert.equal(imageSize(stored.body).width, 256);
  });

  test('traversal, non-canonical keys and malformed events → 400', async () => {
    const derived = (path) => ({ uri: `/${derivedPrefix}${path}`, querystring: '', headers: {}, clientIp: '203.0.113.178', method: 'GET' });
    const bad = [
      derived('../secret.jpg/w_100.jpg'),
      derived('photos/%2e%2e/%2e%2e/secret.jpg/w_100.jpg'),
      derived('photos/..%2f..%2fsecret.jpg/w_100.jpg'),
      derived('photos/hato.jpg/w_0100.jpg'),
      derived('photos/hato.jpg/w_100,w_200.jpg'),
      derived('photos/hato.jpg/nonsense.gif'),
      derived('%E0%A4%A/w_100.jpg'),
    ];
    for (const request of bad) {
      const result = await origin(originResponseEvent({ request, status: '404', bucket: BUCKET }));
      assertEdgeResult(result, ORIGIN_GENERATED_LIMIT);
      assert.equal(result.status, '400', request.uri);
    }
    const good = await viewerResult('/photos/small.jpg', 'w=64', ACCEPT.chrome);
    const noOrigin = originResponseEvent({ request: good, status: '404', bucket: BUCKET });
    delete noOrigin.Records[0].cf.request.origin;
    const malformed = [{}, { Records: [{ cf: { request: {} } }] }, { Records: [{ cf: { response: { status: '404' } } }] }, noOrigin];
    for (const event of malformed) {
      const result = await origin(event);
      assertEdgeResult(result, ORIGIN_GENERATED_LIMIT);
      assert.equal(result.status, '400');
    }
    assert.deepEqual(await listKeys(`${derivedPrefix}secret.jpg`), []);
  });

  test('non-derived misses and other statuses pass through untouched', async () => {
    for (const [uri, status] of [['/photos/nope.jpg', '404'], ['/photos/hato.jpg', '200'], ['/_derivedx/a.jpg/w_1.jpg', '404'], [`/${derivedPrefix}photos/hato.jpg/w_100.jpg`, '500']]) {
      const event = originResponseEvent({ request: { uri, querystring: '', headers: {} }, status, bucket: BUCKET });
      const response = structuredClone(event.Records[0].cf.response);
      assert.deepEqual(await origin(event), response, `${status} ${uri}`);
    }
  });
});

describe('origin-response when S3 fails', () => {
  let shim;
  before(async () => {
    shim = await loadShim(new URL('../edge-shim/pkg/', import.meta.url));
  });

  const event = () =>
    originResponseEvent({
      request: { uri: `/${derivedPrefix}photos/small.jpg/w_100.jpg`, querystring: '', headers: {} },
      status: '404',
      bucket: BUCKET,
    });

  // A stand-in S3 client whose every call fails the way `fail(command)` says.
  const failingDeps = (fail) => ({
    shim,
    maxInputBytes,
    budgetMs: 5000,
    s3ClientFor: () => ({ send: async (command) => fail(command) }),
  });

  test('S3 server stopped → 5xx quickly', async () => {
    const dead = await startS3Server();
    await dead.stop();
    const saved = process.env.AWS_ENDPOINT_URL_S3;
    process.env.AWS_ENDPOINT_URL_S3 = dead.endpoint;
    try {
      const started = Date.now();
      const result = await origin(event());
      assertEdgeResult(result, ORIGIN_GENERATED_LIMIT);
      assert.match(result.status, /^50[23]$/);
      assert.equal(header(result, 'cache-control'), 'no-store');
      assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
    } finally {
      process.env.AWS_ENDPOINT_URL_S3 = saved;
    }
  });

  test('throttling → 503; S3 5xx and credential errors → 502', async () => {
    const throttled = await handleOriginResponse(
      event(),
      failingDeps(() => {
        throw Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
      }),
    );
    assert.equal(throttled.status, '503');
    const broken = await handleOriginResponse(
      event(),
      failingDeps(() => {
        throw Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
      }),
    );
    assert.equal(broken.status, '502');
    // A 403 about our credentials is a broken deployment, not a missing original.
    const forged = await handleOriginResponse(
      event(),
      failingDeps((command) => {
        if (command.constructor.name === 'HeadObjectCommand') {
          throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
        }
        throw Object.assign(new Error('signature mismatch'), { name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
      }),
    );
    assert.equal(forged.status, '502');
    for (const result of [throttled, broken, forged]) {
      assertEdgeResult(result, ORIGIN_GENERATED_LIMIT);
      assert.equal(header(result, 'cache-control'), 'no-store');
    }
  });

  test('a failed write still serves a small result, and never redirects a large one', async () => {
    const original = readFileSync(new URL('photos/progressive_3.jpg', corpus));
    const s3Stub = (command) => {
      const name = command.constructor.name;
      if (name === 'HeadObjectCommand') throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
      if (name === 'GetObjectCommand') return { ContentLength: original.length, Body: [original], ETag: '"e"' };
      throw Object.assign(new Error('write failed'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    };
    const small = await handleOriginResponse(event(), failingDeps(s3Stub));
    assert.equal(small.status, '200');

    const largeRequest = await viewerResult('/photos/small.jpg', 'w=2000&fm=png', ACCEPT.chrome);
    const large = originResponseEvent({ request: largeRequest, status: '404', bucket: BUCKET });
    const bigShim = { ...shim, transformDerived: () => ({ body: new Uint8Array(900_000), contentType: 'image/png', width: 1, height: 1, format: 'png' }) };
    const result = await handleOriginResponse(large, { ...failingDeps(s3Stub), shim: bigShim });
    assertEdgeResult(result, ORIGIN_GENERATED_LIMIT);
    assert.equal(result.status, '502');
    assert.equal(errorBody(result).code, 'response_too_large');
  });
});

describe('bundles (scripts/package)', () => {
  let out;
  before(() => {
    out = mkdtempSync(join(tmpdir(), 'bundles-'));
    execFileSync(join(repo, 'scripts/package'), ['--no-build', '--out', out], { cwd: repo, stdio: 'pipe' });
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  test('viewer zip ≤ 1 MB, origin zip ≤ 50 MB', () => {
    assert.ok(statSync(join(out, 'viewer-request.zip')).size <= 1024 * 1024);
    assert.ok(statSync(join(out, 'origin-response.zip')).size <= 50 * 1024 * 1024);
  });

  test('unzipped bundles load, export handler and behave like the repo handlers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unzipped-'));
    try {
      for (const name of ['viewer-request', 'origin-response']) {
        const zip = join(out, `${name}.zip`);
        try {
          execFileSync('unzip', ['-q', zip, '-d', join(dir, name)]);
        } catch (err) {
          if (err.code !== 'ENOENT') throw err;
          execFileSync('python3', ['-m', 'zipfile', '-e', zip, join(dir, name)]);
        }
      }
      const bundledViewer = (await import(pathToFileURL(join(dir, 'viewer-request/index.mjs')).href)).handler;
      const bundledOrigin = (await import(pathToFileURL(join(dir, 'origin-response/index.mjs')).href)).handler;
      const request = await bundledViewer(viewerRequestEvent({ uri: '/photos/small.jpg', querystring: 'w=90&fm=auto', accept: ACCEPT.safari14 }));
      const fromRepo = await viewerResult('/photos/small.jpg', 'w=90&fm=auto', ACCEPT.safari14);
      assert.equal(request.uri, fromRepo.uri);
      const result = await bundledOrigin(originResponseEvent({ request, status: '404', bucket: BUCKET }));
      assertEdgeResult(result, ORIGIN_GENERATED_LIMIT);
      assert.equal(result.status, '200');
      assert.deepEqual(imageSize(decodedBody(result)).width, 90);
      // The bundle ships its own SDK, not the repo's node_modules.
      const sdk = join(dir, 'origin-response/node_modules/@aws-sdk/client-s3/package.json');
      assert.ok(statSync(sdk).isFile());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
