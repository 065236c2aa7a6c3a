// CloudFront Lambda@Edge events shaped like the examples in the AWS documentation
// ("Lambda@Edge event structure"), for a distribution in front of an S3 bucket.

const DISTRIBUTION = {
  distributionDomainName: 'd111111abcdef8.cloudfront.net',
  distributionId: 'EDFDVBD6EXAMPLE',
};

let sequence = 0;
function requestId() {
  sequence += 1;
  return `4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_${String(sequence).padStart(6, '0')}==`;
}

function header(key, value) {
  return [{ key, value }];
}

/**
 * A viewer-request event for `GET uri?querystring`. `accept` undefined leaves the header
 * out (like a client that sends none).
 */
export function viewerRequestEvent({ uri, querystring = '', accept, userAgent = 'curl/8.5.0' }) {
  const headers = {
    host: header('Host', DISTRIBUTION.distributionDomainName),
    'user-agent': header('User-Agent', userAgent),
  };
  if (accept !== undefined) headers.accept = header('Accept', accept);
  return {
    Records: [
      {
        cf: {
          config: { ...DISTRIBUTION, eventType: 'viewer-request', requestId: requestId() },
          request: {
            clientIp: '203.0.113.178',
            headers,
            method: 'GET',
            querystring,
            uri,
          },
        },
      },
    ],
  };
}

/**
 * The origin-response event CloudFront sends after forwarding `viewerRequest` (the
 * viewer handler's result) to the S3 origin and S3 answering `status` ("404", "403",
 * or "200"). `date` is the S3 response's Date header (default: now).
 */
export function originResponseEvent({
  request,
  status = '404',
  bucket,
  region = 'us-east-1',
  domainName = `${bucket}.s3.amazonaws.com`,
  date = new Date(),
}) {
  const forwarded = structuredClone(request);
  forwarded.headers = {
    'x-forwarded-for': header('X-Forwarded-For', forwarded.clientIp ?? '203.0.113.178'),
    'user-agent': header('User-Agent', 'Amazon CloudFront'),
    via: header('Via', '2.0 8f22423015641505b8c857a37450d6c0.cloudfront.net (CloudFront)'),
    host: header('Host', domainName),
    ...(forwarded.headers?.accept ? { accept: forwarded.headers.accept } : {}),
  };
  forwarded.origin = {
    s3: {
      authMethod: 'origin-access-identity',
      customHeaders: {},
      domainName,
      path: '',
      region,
    },
  };
  const statusDescription = { 200: 'OK', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
  const response = {
    headers: {
      'x-amz-request-id': header('x-amz-request-id', 'EXAMPLE7B2A3C4D5E'),
      'x-amz-id-2': header('x-amz-id-2', 'EXAMPLEid2+abcdefghijklmnopqrstuvwxyz0123456789='),
      date: header('Date', date.toUTCString()),
      server: header('Server', 'AmazonS3'),
      'content-type': header('Content-Type', status === '200' ? 'image/jpeg' : 'application/xml'),
      'transfer-encoding': header('Transfer-Encoding', 'chunked'),
    },
    status,
    statusDescription,
  };
  return {
    Records: [
      {
        cf: {
          config: { ...DISTRIBUTION, eventType: 'origin-response', requestId: requestId() },
          request: forwarded,
          response,
        },
      },
    ],
  };
}

/** Real browsers' `Accept` for image requests (`<img src>`), newest first. */
export const ACCEPT = {
  chrome: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  edge: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  firefox: 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  safari17: 'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  safari14: 'image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5',
  firefox65: 'image/webp,*/*',
  ie11: 'image/png, image/svg+xml, image/*;q=0.8, */*;q=0.5',
  safari12: 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5',
  curl: '*/*',
};
