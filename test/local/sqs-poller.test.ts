// The local event source mapping on SQS runs as many batches at once as the template's ScalingConfig
// MaximumConcurrency allows (the calendar sync worker's five), and one at a time when it sets none. Against the
// local SQS, with a function that holds each batch until the test lets it go.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startLocalSqs, type LocalSqs } from '../../infra/local/sqs.ts';
import { SqsPoller } from '../../infra/local/sqs-poller.ts';

let sqs: LocalSqs;
let client: SQSClient;
let queues = 0;

beforeAll(async () => {
  sqs = await startLocalSqs({});
  client = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, endpoint: sqs.endpoint, maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  await sqs.close();
});

/** A function whose invocations wait until released; it counts how many run at once. */
function heldFunction() {
  const held: Array<() => void> = [];
  const handled: string[] = [];
  let running = 0;
  let most = 0;
  const invoke = async (_functionId: string, event: unknown) => {
    running++;
    most = Math.max(most, running);
    await new Promise<void>((resolve) => held.push(resolve));
    for (const record of (event as { Records: Array<{ body: string }> }).Records) handled.push(record.body);
    running--;
    return { batchItemFailures: [] };
  };
  return { invoke, held, handled, running: () => running, most: () => most };
}

/** Polls `done` every 20 ms, at most `tries` times. */
async function until(done: () => boolean | Promise<boolean>, tries = 500) {
  for (let i = 0; i < tries && !(await done()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return done();
}

async function queueWith(messages: number) {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: `poller-${++queues}` }));
  await client.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: messages }, (_, i) => ({ Id: String(i), MessageBody: `m${i}` })) }));
  return QueueUrl!;
}

const notVisible = async (QueueUrl: string) => {
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
  return { visible: Number(Attributes!.ApproximateNumberOfMessages), inFlight: Number(Attributes!.ApproximateNumberOfMessagesNotVisible) };
};

describe('SQS event source mapping, locally', () => {
  it('runs up to MaximumConcurrency batches at once, never more, and handles each message once', async () => {
    const queueUrl = await queueWith(7);
    const fn = heldFunction();
    const poller = new SqsPoller({ client, invoke: fn.invoke, log: () => {} });
    poller.start({ functionId: 'Worker', queueUrl, queueArn: 'arn:aws:sqs:us-east-1:000000000000:poller', batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 3 });
    try {
      expect(await until(() => fn.running() === 3)).toBe(true);
      // Three batches are held; the other four messages stay in the queue, received by nobody.
      expect(await notVisible(queueUrl)).toEqual({ visible: 4, inFlight: 3 });
      // Let every batch go as it comes: the rest are received three at a time.
      expect(await until(() => (fn.held.splice(0).forEach((release) => release()), fn.handled.length === 7))).toBe(true);
      expect(fn.most()).toBe(3);
      expect([...fn.handled].sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
      expect(await until(async () => (await notVisible(queueUrl)).inFlight === 0)).toBe(true);
    } finally {
      for (const release of fn.held) release();
      await poller.stop();
    }
  });

  it('runs one batch at a time when the mapping sets no maximum', async () => {
    const queueUrl = await queueWith(3);
    const fn = heldFunction();
    const poller = new SqsPoller({ client, invoke: fn.invoke, log: () => {} });
    poller.start({ functionId: 'Worker', queueUrl, queueArn: 'arn:aws:sqs:us-east-1:000000000000:poller', batchSize: 1, reportBatchItemFailures: true });
    try {
      for (let n = 0; n < 3; n++) {
        expect(await until(() => fn.held.length === 1)).toBe(true);
        expect(fn.running()).toBe(1);
        expect((await notVisible(queueUrl)).inFlight).toBe(1);
        fn.held.shift()!();
        expect(await until(() => fn.handled.length === n + 1)).toBe(true);
      }
      expect(fn.most()).toBe(1);
    } finally {
      for (const release of fn.held) release();
      await poller.stop();
    }
  });
});
