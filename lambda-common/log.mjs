// One JSON log line per event, carrying CloudWatch Embedded Metric Format (EMF) metrics:
// CloudWatch Logs turns the `_aws` block into metrics without any API call from the
// function. Lambda@Edge writes logs (and so these metrics) in the region of the edge
// location that ran the function; see docs/security.md "Where the logs are".
//
// Format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

export const NAMESPACE = 'EdgeResizer';

// Dimension sets, coarse to fine: per function (alarms), per status class (error rate),
// and the full breakdown for the dashboard.
const DIMENSIONS = [['function'], ['function', 'statusClass'], ['function', 'action', 'format', 'statusClass']];

// Log field → metric name and unit. Only present numeric fields become metrics.
const STAGE_METRICS = [
  ['total', 'TotalMs'],
  ['transform', 'TransformMs'],
  ['head', 'S3HeadMs'],
  ['get', 'S3GetMs'],
  ['put', 'S3PutMs'],
];
const CORE_METRICS = [
  ['decode', 'DecodeMs'],
  ['resize', 'ResizeMs'],
  ['colour', 'ColourMs'],
  ['encode', 'EncodeMs'],
];

// Field names whose values could be credentials; they never reach a log line.
const SECRET_FIELD = /secret|password|token|authorization|signature|^sig$|credential|signingkey|hmac/i;

/**
 * The log record for one invocation as an EMF object. `fields`: `function` (handler
 * name), `action`, `format`, `status` (number), `code` (error code), `timings` (handler
 * stage ms: total, head, get, transform, put), `coreTimings` (the core's stage ms:
 * decode, resize, colour, encode), `bytesIn`, `bytesOut`, and any other context
 * (requestId, uri, key, message), which is kept as plain properties.
 */
export function emfRecord(fields, now = Date.now()) {
  const record = redact(fields);
  const status = Number(record.status) || 0;
  record.function = String(record.function ?? record.handler ?? 'unknown');
  record.action = String(record.action || (status >= 400 ? 'error' : 'none'));
  record.format = String(record.format || 'none');
  record.statusClass = status ? `${Math.floor(status / 100)}xx` : 'unknown';

  const metrics = [];
  const put = (name, value, unit) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    record[name] = value;
    metrics.push({ Name: name, Unit: unit });
  };
  put('Requests', 1, 'Count');
  for (const [field, name] of STAGE_METRICS) put(name, record.timings?.[field], 'Milliseconds');
  for (const [field, name] of CORE_METRICS) put(name, record.coreTimings?.[field], 'Milliseconds');
  put('BytesIn', record.bytesIn, 'Bytes');
  put('BytesOut', record.bytesOut, 'Bytes');
  if (typeof record.code === 'string' && /^[a-z0-9_]{1,64}$/.test(record.code)) {
    put(`Error_${record.code}`, 1, 'Count');
  }
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [{ Namespace: NAMESPACE, Dimensions: DIMENSIONS, Metrics: metrics }],
    },
    ...record,
  };
}

// Lambda's patched console prefixes each line (time, request id, level); CloudWatch
// only extracts EMF from lines that are pure JSON, so write to stdout directly.
const stdoutSink = (line) => process.stdout.write(`${line}\n`);
let sink = stdoutSink;

/** Writes one EMF line to stdout (CloudWatch Logs reads the function's stdout). */
export function logEvent(fields) {
  sink(JSON.stringify(emfRecord(fields)));
}

/** Tests: send log lines to `fn(line)` instead of stdout (undefined restores stdout). */
export function setLogSink(fn) {
  sink = fn ?? stdoutSink;
}

function redact(fields) {
  const out = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || SECRET_FIELD.test(name)) continue;
    out[name] = typeof value === 'string' ? value.replace(/[\r\n]+/g, ' ') : value;
  }
  return out;
}
