// SigV4 presigned S3 URLs for the API: the upload PUT (type, size and image id signed
// as headers, so S3 itself refuses anything else) and the GET of a stored result.

import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

let client;

// A client of its own: the SDK's default flexible checksums would sign a CRC32 of an
// empty body into the URL, which S3 then rejects for the real upload.
function presignClient() {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 || undefined;
  client ??= new S3Client({
    region: process.env.AWS_REGION || 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return client;
}

/**
 * `{ url, headers }`: a PUT of exactly `size` bytes of `contentType` with user metadata
 * `metadata`, valid `expiresIn` seconds; `headers` are what the client must send.
 */
export async function presignPut({ bucket, key, contentType, size, metadata }, expiresIn) {
  const headers = { 'content-type': contentType, 'content-length': String(size) };
  const metaHeaders = Object.keys(metadata).map((name) => `x-amz-meta-${name}`);
  for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name}`] = value;
  const command = new PutObjectCommand({
    Bucket: bucket,
    Key: key,
    ContentType: contentType,
    ContentLength: size,
    Metadata: metadata,
  });
  const url = await getSignedUrl(presignClient(), command, {
    expiresIn,
    signableHeaders: new Set(Object.keys(headers)),
    // Kept as signed headers rather than query parameters, so the client must send them.
    unhoistableHeaders: new Set(metaHeaders),
  });
  return { url, headers };
}

export function presignGet({ bucket, key }, expiresIn) {
  return getSignedUrl(presignClient(), new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn });
}
