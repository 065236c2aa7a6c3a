// What Lambda's SQS event source mapping does, for local runs and tests: long-poll the
// upload queue, hand each batch to the handler as a real SQS event, delete the messages
// that succeeded and leave the `batchItemFailures` to reappear after the visibility
// timeout (and reach the DLQ after maxReceiveCount receives).

import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';

/** The Lambda SQS event for messages returned by ReceiveMessage. */
export function sqsEvent(messages, { queueArn, region = 'us-east-1' }) {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId,
      receiptHandle: m.ReceiptHandle,
      body: m.Body,
      attributes: m.Attributes ?? {},
      messageAttributes: Object.fromEntries(
        Object.entries(m.MessageAttributes ?? {}).map(([name, a]) => [
          name,
          { stringValue: a.StringValue, binaryValue: a.BinaryValue, stringListValues: [], binaryListValues: [], dataType: a.DataType },
        ]),
      ),
      md5OfBody: m.MD5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: region,
    })),
  };
}

/**
 * Receive one batch (up to `batchSize`, long-polling `waitSeconds`), run `handler` on it
 * and delete what succeeded. Returns `{received, failed: [messageId], result}`.
 */
export async function pollOnce(sqs, { queueUrl, queueArn, handler, batchSize = 10, waitSeconds = 1, region }) {
  const res = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: batchSize,
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  const messages = res.Messages ?? [];
  if (!messages.length) return { received: 0, failed: [], result: undefined };
  let result;
  let failedIds;
  try {
    result = await handler(sqsEvent(messages, { queueArn, region }), { awsRequestId: `local-${Date.now()}`, getRemainingTimeInMillis: () => 300_000 });
    failedIds = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  } catch {
    // A thrown error fails the whole batch, as in Lambda.
    failedIds = new Set(messages.map((m) => m.MessageId));
  }
  const done = messages.filter((m) => !failedIds.has(m.MessageId));
  if (done.length) {
    await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }),
    );
  }
  return { received: messages.length, failed: [...failedIds], result, messages };
}

/** Poll until `stop()` is called; `onBatch(report)` after each non-empty batch. */
export function startPoller(sqs, options, onBatch = () => {}) {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const report = await pollOnce(sqs, options);
        if (report.received) onBatch(report);
      } catch (err) {
        onBatch({ error: err });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
