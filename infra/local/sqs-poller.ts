// Plays a Lambda event source mapping on an SQS queue, as Lambda's poller does: long-polls the queue, hands
// each batch to the function as an SQS event, deletes what succeeded (all of it, or all but the reported
// batchItemFailures) and leaves the rest to come back when its visibility timeout lapses, so the queue's own
// redrive policy parks a message that keeps failing.
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_REGION } from './template-resolver.ts';

export type SqsMapping = {
  functionId: string;
  queueUrl: string;
  queueArn: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
  /** Batches in flight at once (the mapping's ScalingConfig.MaximumConcurrency); one when the template sets none. */
  maxConcurrency?: number;
};

export class SqsPoller {
  private readonly client: SQSClient;
  private readonly invoke: (functionId: string, event: unknown) => Promise<unknown>;
  private readonly log: (message: string) => void;
  private readonly loops: Promise<void>[] = [];
  private readonly abort = new AbortController();

  constructor(options: { client: SQSClient; invoke: SqsPoller['invoke']; log: (message: string) => void }) {
    this.client = options.client;
    this.invoke = options.invoke;
    this.log = options.log;
  }

  start(mapping: SqsMapping): void {
    // One receive loop per batch Lambda may run at once, so a queue worker meets the concurrency (and the races)
    // it has in the cloud; a mapping without a maximum keeps one, as before.
    for (let loop = 0; loop < Math.max(1, mapping.maxConcurrency ?? 1); loop++) this.loops.push(this.poll(mapping));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async poll(mapping: SqsMapping): Promise<void> {
    while (!this.abort.signal.aborted) {
      let messages: Message[];
      try {
        const received = await this.client.send(
          new ReceiveMessageCommand({ QueueUrl: mapping.queueUrl, MaxNumberOfMessages: Math.min(10, mapping.batchSize), WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }),
          { abortSignal: this.abort.signal },
        );
        messages = received.Messages ?? [];
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.log(`SQS poller for ${mapping.functionId}: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (messages.length === 0) continue;
      const event = { Records: messages.map((message) => record(message, mapping.queueArn)) };
      let failed = new Set<string>();
      try {
        const result = (await this.invoke(mapping.functionId, event)) as { batchItemFailures?: Array<{ itemIdentifier: string }> } | undefined;
        if (mapping.reportBatchItemFailures) failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch {
        // The whole batch failed: every message comes back after its visibility timeout.
        continue;
      }
      const done = messages.filter((message) => !failed.has(message.MessageId!));
      if (done.length === 0) continue;
      await this.client
        .send(new DeleteMessageBatchCommand({ QueueUrl: mapping.queueUrl, Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })) }))
        .catch((error) => this.log(`SQS poller for ${mapping.functionId} could not delete: ${(error as Error).message}`));
    }
  }
}

function record(message: Message, queueArn: string) {
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body,
    attributes: message.Attributes ?? {},
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, { dataType: value.DataType, stringValue: value.StringValue, binaryValue: value.BinaryValue }]),
    ),
    md5OfBody: message.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LOCAL_REGION,
  };
}
