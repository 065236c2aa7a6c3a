// A fault-injecting proxy on 127.0.0.1 between the handlers' AWS SDK clients and a real
// server (s3s-fs). Requests are forwarded byte for byte (headers included, so SigV4
// still verifies upstream) unless the fault plan picks a fault for that request:
//
//   { kind: 'latency', ms }       answer after `ms` (delay before the upstream call)
//   { kind: 'blackhole' }         accept and never answer
//   { kind: 'reset' }             forward, send the headers and half the body, then RST
//   { kind: 'truncate' }          forward, send the headers and half the body, then FIN
//   { kind: 'status', status, code, message }  answer an S3 XML error without forwarding
//   { kind: 'status', status, body, headers }  answer that body instead (DynamoDB's JSON
//                                 and SNS's query-protocol errors, below)
//
// `plan(request)` gets `{ method, url, n }` (n counts requests from 0) and returns a
// fault or undefined. Counters of what was injected are in `proxy.injected`.

import { createServer, request as httpRequest } from 'node:http';

export const FAULTS = {
  internalError: { kind: 'status', status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  slowDown: { kind: 'status', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
  throttling: { kind: 'status', status: 400, code: 'ThrottlingException', message: 'Rate exceeded' },
  tooManyRequests: { kind: 'status', status: 429, code: 'TooManyRequests', message: 'Too many requests' },
  reset: { kind: 'reset' },
  truncate: { kind: 'truncate' },
  blackhole: { kind: 'blackhole' },
  // DynamoDB (JSON 1.0 protocol): the error type is in `__type`.
  dynamoThrottling: dynamoError(400, 'ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.'),
  dynamoInternal: dynamoError(500, 'InternalServerError', 'Internal server error'),
  // SNS (query protocol): an ErrorResponse document.
  snsThrottling: snsError(400, 'Throttling', 'Rate exceeded'),
  snsInternal: snsError(500, 'InternalError', 'Internal error'),
};

function dynamoError(status, type, message) {
  return {
    kind: 'status',
    status,
    code: type,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type },
    body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }),
  };
}

function snsError(status, code, message) {
  return {
    kind: 'status',
    status,
    code,
    headers: { 'content-type': 'text/xml' },
    body: `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${status < 500 ? 'Sender' : 'Receiver'}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>`,
  };
}

/** Start the proxy in front of `upstream` (`http://127.0.0.1:PORT`). */
export async function startFaultProxy(upstream, plan = () => undefined) {
  const target = new URL(upstream);
  const injected = {};
  const sockets = new Set();
  let n = 0;
  const state = { plan };

  const server = createServer((req, res) => {
    const fault = state.plan({ method: req.method, url: req.url, n: n++ });
    if (fault) injected[fault.kind] = (injected[fault.kind] ?? 0) + 1;
    if (fault?.kind === 'blackhole') {
      req.resume();
      return; // never answered; the client's timeout or abort must end it
    }
    if (fault?.kind === 'status') {
      req.resume();
      const body =
        fault.body ??
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>${fault.message}</Message><RequestId>FAULT${n}</RequestId></Error>`;
      res.writeHead(fault.status, { 'content-type': 'application/xml', ...fault.headers, 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const forward = () => {
      const upstreamReq = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (up) => relay(up, res, fault),
      );
      upstreamReq.on('error', () => res.socket?.destroy());
      req.pipe(upstreamReq);
    };
    if (fault?.kind === 'latency') setTimeout(forward, fault.ms);
    else forward();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  return {
    endpoint: `http://127.0.0.1:${port}`,
    injected,
    /** Replace the fault plan (and restart the request count). */
    setPlan(next) {
      state.plan = next;
      n = 0;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function relay(up, res, fault) {
  if (fault?.kind !== 'reset' && fault?.kind !== 'truncate') {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
    return;
  }
  // Collect the body, send the headers as they were (full content-length) and half of it.
  const chunks = [];
  up.on('data', (c) => chunks.push(c));
  up.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(up.statusCode, { ...up.headers, 'content-length': body.length });
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
      const socket = res.socket;
      if (!socket) return;
      if (fault.kind === 'reset') socket.resetAndDestroy();
      else socket.end();
    });
  });
}
