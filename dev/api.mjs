// scripts/dev's regional API (issue 14): the real api/index.mjs handler behind the local
// API gateway (dev/apigateway.mjs) on 127.0.0.1, in the upload pipeline's process (same
// local AWS: bucket, table, queue). The bucket gets a CORS rule so the demo page can PUT
// to the presigned URL, as a browser app would on AWS. `info` is what the demo panel
// needs: the gateway URL and a development token for user `demo`.

import { PutBucketCorsCommand } from '@aws-sdk/client-s3';

import { routeTable } from '../api/router.mjs';
import { startApiGateway } from './apigateway.mjs';

export const DEV_USER = 'demo';

export async function startDevApi({ s3, bucket, table, log = () => {} }) {
  Object.assign(process.env, { IMAGES_BUCKET: bucket, METADATA_TABLE: table });
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PUT', 'GET'], AllowedHeaders: ['*'], ExposeHeaders: ['etag'] }],
      },
    }),
  );
  const { handler, transformRequiresAuth } = await import('../api/index.mjs');
  const gateway = await startApiGateway({
    handler,
    routes: routeTable({ transformRequiresAuth }),
    log: (line) => log(`api ${line}`),
  });
  log(`regional API on ${gateway.url} (development token for user ${DEV_USER})`);
  return { info: { url: gateway.url, token: gateway.token(DEV_USER), user: DEV_USER }, stop: gateway.stop };
}
