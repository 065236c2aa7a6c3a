// A short run of both handlers (the real entry points, as in the bundles) against
// s3s-fs: viewer rewrites and errors, origin generations, passes, 404s and 4xx. Its
// stdout is exactly what the functions write, for tests/observability.test.mjs.

import { readFileSync } from 'node:fs';

import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

import { ACCEPT, originResponseEvent, viewerRequestEvent } from './events.mjs';
import { ACCESS_KEY, SECRET_KEY, startS3Server } from './s3server.mjs';

const corpus = new URL('../../../shared/corpus/', import.meta.url);
const server = await startS3Server();
Object.assign(process.env, {
  AWS_ENDPOINT_URL_S3: server.endpoint,
  AWS_ACCESS_KEY_ID: ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: SECRET_KEY,
  AWS_REGION: 'us-east-1',
});
try {
  const s3 = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'images' }));
  for (const [key, file] of [['a.jpg', 'photos/progressive_3.jpg'], ['b.png', 'pngsuite/basn6a08.png'], ['bad.jpg', 'formats/not_an_image.jpg']]) {
    await s3.send(new PutObjectCommand({ Bucket: 'images', Key: key, Body: readFileSync(new URL(file, corpus)) }));
  }
  s3.destroy();
  const { handler: viewer } = await import('../../viewer-request/index.mjs');
  const { handler: origin } = await import('../../origin-response/index.mjs');
  const requests = [
    ['/a.jpg', 'w=200&fm=auto', ACCEPT.chrome],
    ['/a.jpg', 'w=300', ACCEPT.safari14],
    ['/b.png', 'w=50&fm=webp', ACCEPT.firefox],
    ['/a.jpg', 'w=0', ACCEPT.chrome],
    ['/../etc/passwd', 'w=10', ACCEPT.chrome],
    ['/missing.jpg', 'w=100', ACCEPT.chrome],
    ['/bad.jpg', 'w=100', ACCEPT.chrome],
    ['/a.jpg', '', ACCEPT.chrome],
  ];
  for (const [uri, querystring, accept] of requests) {
    const request = await viewer(viewerRequestEvent({ uri, querystring, accept }));
    if (request.status) continue; // a generated error
    await origin(originResponseEvent({ request, status: '404', bucket: 'images' }));
    await origin(originResponseEvent({ request, status: '200', bucket: 'images' }));
  }
} finally {
  await server.stop();
}
