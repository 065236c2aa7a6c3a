// The three event shapes the processor accepts, reduced to object references:
// - SQS whose record bodies are S3 event notifications (production; also an S3 → SNS →
//   SQS fan-out, whose body is the SNS envelope around the notification);
// - a direct S3 notification (`{Records: [{eventSource: "aws:s3", ...}]}`);
// - an EventBridge "Object Created" event from S3.
// S3 notifications URL-encode the key with `+` for space; it is decoded here, once.
// EventBridge carries the key as it is.

import { HttpError } from '../lambda-common/http.mjs';

/** `{kind: 'sqs', messages: [{messageId, objects, error?}]}` or `{kind: 's3'|'eventbridge', objects}`. */
export function readEvent(event) {
  if (Array.isArray(event?.Records) && event.Records.length && event.Records.every((r) => r?.eventSource === 'aws:sqs')) {
    return {
      kind: 'sqs',
      messages: event.Records.map((record) => {
        try {
          return { messageId: record.messageId, receiveCount: Number(record.attributes?.ApproximateReceiveCount) || 1, objects: objectsOfBody(record.body) };
        } catch (error) {
          return { messageId: record.messageId, receiveCount: 1, objects: [], error };
        }
      }),
    };
  }
  if (Array.isArray(event?.Records)) return { kind: 's3', objects: objectsOfNotification(event) };
  if (event?.source === 'aws.s3' && event?.['detail-type'] === 'Object Created') {
    const detail = event.detail ?? {};
    return {
      kind: 'eventbridge',
      objects: [
        objectRef({
          bucket: detail.bucket?.name,
          key: detail.object?.key,
          etag: detail.object?.etag,
          size: detail.object?.size,
          time: event.time,
          sequencer: detail.object?.sequencer,
        }),
      ],
    };
  }
  throw new HttpError(400, 'invalid_event', 'not an SQS, S3 notification or EventBridge "Object Created" event');
}

function objectsOfBody(body) {
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new HttpError(400, 'invalid_event', 'SQS message body is not JSON');
  }
  if (parsed?.Type === 'Notification' && typeof parsed.Message === 'string') return objectsOfBody(parsed.Message);
  // S3 sends one s3:TestEvent when a notification is configured: nothing to do.
  if (parsed?.Event === 's3:TestEvent') return [];
  return objectsOfNotification(parsed);
}

function objectsOfNotification(notification) {
  if (!Array.isArray(notification?.Records)) {
    throw new HttpError(400, 'invalid_event', 'S3 notification has no Records');
  }
  return notification.Records.filter((r) => r?.eventSource === 'aws:s3' && String(r.eventName ?? '').startsWith('ObjectCreated:')).map((r) =>
    objectRef({
      bucket: r.s3?.bucket?.name,
      key: decodeS3Key(r.s3?.object?.key),
      etag: r.s3?.object?.eTag,
      size: r.s3?.object?.size,
      time: r.eventTime,
      sequencer: r.s3?.object?.sequencer,
    }),
  );
}

/** S3 notification keys: form-encoded (`+` = space, then %XX), decoded exactly once. */
export function decodeS3Key(encoded) {
  if (typeof encoded !== 'string') throw new HttpError(400, 'invalid_event', 'S3 record has no object key');
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    throw new HttpError(400, 'invalid_event', 'S3 record key has invalid percent-encoding');
  }
}

function objectRef({ bucket, key, etag, size, time, sequencer }) {
  if (typeof bucket !== 'string' || !bucket || typeof key !== 'string' || !key) {
    throw new HttpError(400, 'invalid_event', 'S3 record has no bucket or key');
  }
  return {
    bucket,
    key,
    etag: typeof etag === 'string' && etag ? etag.replace(/^"|"$/g, '') : undefined,
    size: Number.isFinite(size) ? size : undefined,
    time: typeof time === 'string' ? time : undefined,
    sequencer: typeof sequencer === 'string' ? sequencer : undefined,
  };
}
