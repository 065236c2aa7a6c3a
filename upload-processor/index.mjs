// Upload processor (a regular Lambda, Node 22): S3 ObjectCreated events for keys under
// uploads.prefix → every uploads.eager variant at the viewer's derived key, one metadata
// item in DynamoDB (METADATA_TABLE), one SNS notice (NOTIFY_TOPIC_ARN). Accepts SQS
// batches of S3 notifications (production, with ReportBatchItemFailures), direct S3
// notifications and EventBridge "Object Created" events.

import { logLine, toHttpError } from '../lambda-common/http.mjs';
import { loadConfiguredShim } from '../lambda-common/wasm.mjs';
import { readEvent } from './events.mjs';
import { processObject, TransientError } from './process.mjs';

// Loaded and configured once per container, during Lambda's init phase.
const { shim, config } = await loadConfiguredShim(new URL('../edge-shim/pkg/', import.meta.url));
const maxInputBytes = config.limits.maxInputBytes;

// A claim outlives a crashed invocation by at most this long; kept below the queue's
// visibility timeout (infra/template.yaml) so a retry finds it expired.
const DEFAULT_LEASE_SECONDS = 900;

function deps(context) {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  const leaseSeconds = remaining ? Math.ceil(remaining / 1000) + 30 : DEFAULT_LEASE_SECONDS;
  // Read per invocation: the uploads section of the config in force (tests switch it).
  return { shim, uploads: shim.uploadsConfig(), maxInputBytes, leaseSeconds };
}

function maxReceiveCount() {
  const n = Number(process.env.UPLOAD_MAX_RECEIVE_COUNT);
  return Number.isInteger(n) && n > 0 ? n : 3;
}

/** Process every object of `objects`; true when all are done (no retry needed). */
async function processAll(objects, d, requestId, messageId) {
  let ok = true;
  for (const ref of objects) {
    try {
      const started = performance.now();
      const result = await processObject(ref, d);
      // EMF dimensions: the outcome is the action; a refused file counts by its code.
      const status = result.outcome === 'failed' ? (result.status ?? 422) : 200;
      const timings = { ...result.timings, total: Math.round(performance.now() - started) };
      logLine({ handler: 'upload-processor', requestId, messageId, bucket: ref.bucket, action: result.outcome, status, ...result, timings });
    } catch (err) {
      ok = false;
      const transient = err instanceof TransientError;
      const e = transient ? err : toHttpError(err);
      logLine({ handler: 'upload-processor', requestId, messageId, bucket: ref.bucket, key: ref.key, action: 'retry', status: 503, outcome: 'retry', code: e.code ?? 'transient', message: e.message });
    }
  }
  return ok;
}

export async function handler(event, context) {
  const requestId = context?.awsRequestId;
  const d = deps(context);
  const parsed = readEvent(event);
  if (parsed.kind === 'sqs') {
    const batchItemFailures = [];
    for (const message of parsed.messages) {
      if (message.error) {
        // A body that is not an S3 notification will never become one: drop it, loudly.
        logLine({ handler: 'upload-processor', requestId, messageId: message.messageId, action: 'invalid', status: 400, code: 'invalid_event', outcome: 'invalid', message: message.error.message });
        continue;
      }
      // On the last receive before the DLQ the processor records a failure instead of
      // leaving the upload half-done (UPLOAD_MAX_RECEIVE_COUNT = the queue's maxReceiveCount).
      const lastAttempt = message.receiveCount >= maxReceiveCount();
      if (!(await processAll(message.objects, { ...d, lastAttempt }, requestId, message.messageId))) {
        batchItemFailures.push({ itemIdentifier: message.messageId });
      }
    }
    return { batchItemFailures };
  }
  // Direct S3 and EventBridge invocations are asynchronous: throwing makes Lambda retry.
  if (!(await processAll(parsed.objects, d, requestId))) {
    throw new Error('upload-processor: transient failure, retry');
  }
  return { processed: parsed.objects.length };
}
