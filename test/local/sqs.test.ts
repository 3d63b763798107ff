import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  TooManyEntriesInBatchRequest,
  BatchEntryIdsNotDistinct,
  InvalidAttributeName,
} from '@aws-sdk/client-sqs';
import { startLocalSqs, type LocalSqs } from '../../infra/local/sqs.ts';

const clientFor = (sqs: LocalSqs) =>
  new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoint: sqs.endpoint,
    maxAttempts: 1,
  });

let sqs: LocalSqs;
let client: SQSClient;
let queueCounter = 0;

beforeAll(async () => {
  sqs = await startLocalSqs({});
  client = clientFor(sqs);
});

afterAll(async () => {
  client.destroy();
  await sqs.close();
});

async function newQueue(attributes?: Record<string, string>): Promise<string> {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: `queue-${++queueCounter}`, Attributes: attributes }));
  return QueueUrl!;
}

const receive = (QueueUrl: string, extra: Partial<ConstructorParameters<typeof ReceiveMessageCommand>[0]> = {}) =>
  client.send(new ReceiveMessageCommand({ QueueUrl, MessageSystemAttributeNames: ['All'], ...extra })).then((result) => result.Messages ?? []);

const count = async (QueueUrl: string) => {
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
  return { visible: Number(Attributes!.ApproximateNumberOfMessages), inFlight: Number(Attributes!.ApproximateNumberOfMessagesNotVisible) };
};

describe('queues', () => {
  it('creates queues idempotently, with AWS-shaped URLs and ARNs', async () => {
    const first = await client.send(new CreateQueueCommand({ QueueName: 'bookings-dlq', Attributes: { VisibilityTimeout: '60' } }));
    const again = await client.send(new CreateQueueCommand({ QueueName: 'bookings-dlq', Attributes: { VisibilityTimeout: '60' } }));
    expect(first.QueueUrl).toBe(`http://127.0.0.1:${sqs.port}/000000000000/bookings-dlq`);
    expect(again.QueueUrl).toBe(first.QueueUrl);
    expect(sqs.queueUrl('bookings-dlq')).toBe(first.QueueUrl);
    expect(sqs.createQueue('bookings-dlq')).toBe(first.QueueUrl);

    const conflict = await client.send(new CreateQueueCommand({ QueueName: 'bookings-dlq', Attributes: { VisibilityTimeout: '5' } })).catch((e) => e);
    expect(conflict).toBeInstanceOf(QueueNameExists);

    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: 'bookings-dlq' }));
    expect(QueueUrl).toBe(first.QueueUrl);
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn', 'VisibilityTimeout'] }));
    expect(Attributes).toEqual({ QueueArn: 'arn:aws:sqs:us-east-1:000000000000:bookings-dlq', VisibilityTimeout: '60' });
  });

  it('answers unknown queues with QueueDoesNotExist, as the SDK models it', async () => {
    const byName = await client.send(new GetQueueUrlCommand({ QueueName: 'no-such-queue' })).catch((e) => e);
    expect(byName).toBeInstanceOf(QueueDoesNotExist);
    expect(byName.$metadata.httpStatusCode).toBe(400);
    expect(byName.message).toMatch(/no-such-queue/);
    const byUrl = await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl('no-such-queue'), MessageBody: 'x' })).catch((e) => e);
    expect(byUrl).toBeInstanceOf(QueueDoesNotExist);
  });

  it('lists queues by prefix', async () => {
    sqs.createQueue('list-a');
    sqs.createQueue('list-b');
    const { QueueUrls } = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'list-' }));
    expect(QueueUrls).toEqual([sqs.queueUrl('list-a'), sqs.queueUrl('list-b')]);
    const page = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'list-', MaxResults: 1 }));
    expect(page.QueueUrls).toEqual([sqs.queueUrl('list-a')]);
    const next = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'list-', MaxResults: 1, NextToken: page.NextToken }));
    expect(next.QueueUrls).toEqual([sqs.queueUrl('list-b')]);
    expect(next.NextToken).toBeUndefined();
    expect((await client.send(new ListQueuesCommand({ QueueNamePrefix: 'none-' }))).QueueUrls ?? []).toEqual([]);
  });

  it('rejects unknown attribute names and FIFO queues', async () => {
    const QueueUrl = await newQueue();
    const error = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['Nope' as 'All'] })).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidAttributeName);
    const fifo = await client.send(new CreateQueueCommand({ QueueName: 'orders.fifo', Attributes: { FifoQueue: 'true' } })).catch((e) => e);
    expect(fifo.name).toBe('UnsupportedOperation');
  });
});

describe('messages', () => {
  it('sends, receives and deletes, with MD5s the SDK accepts', async () => {
    const QueueUrl = await newQueue();
    const sent = await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'derp' }));
    expect(sent.MD5OfMessageBody).toBe('58fd9edd83341c29f1aebba81c31e257');

    const [message] = await receive(QueueUrl);
    expect(message).toMatchObject({ MessageId: sent.MessageId, Body: 'derp', MD5OfBody: sent.MD5OfMessageBody });
    expect(message!.Attributes!.ApproximateReceiveCount).toBe('1');
    expect(Number(message!.Attributes!.SentTimestamp)).toBeGreaterThan(0);
    expect(await count(QueueUrl)).toEqual({ visible: 0, inFlight: 1 });

    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message!.ReceiptHandle }));
    expect(await count(QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(sqs.messages(new URL(QueueUrl).pathname.split('/')[2]!)).toEqual([]);
  });

  it('computes MD5OfMessageAttributes as SQS does and filters attributes by name', async () => {
    const QueueUrl = await newQueue();
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'derp',
        MessageAttributes: { 'SOME_Valid.attribute-Name': { DataType: 'Number', StringValue: '1493147359900' } },
      }),
    );
    expect(sent.MD5OfMessageAttributes).toBe('36655e7e9d7c0e8479fa3f3f42247ae7'); // the value SQS returns

    await client.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'with attributes',
        MessageAttributes: {
          traceId: { DataType: 'String', StringValue: 't-1' },
          'trace.parent': { DataType: 'String', StringValue: 'p-1' },
          blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
        },
      }),
    );
    const all = await receive(QueueUrl, { MaxNumberOfMessages: 10, VisibilityTimeout: 0, MessageAttributeNames: ['All'] });
    expect(all[1]!.MessageAttributes).toEqual({
      traceId: { DataType: 'String', StringValue: 't-1' },
      'trace.parent': { DataType: 'String', StringValue: 'p-1' },
      blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
    });
    const some = await receive(QueueUrl, { MaxNumberOfMessages: 10, VisibilityTimeout: 0, MessageAttributeNames: ['trace.*'] });
    expect(Object.keys(some[1]!.MessageAttributes!)).toEqual(['trace.parent']);
    const none = await receive(QueueUrl, { MaxNumberOfMessages: 10, VisibilityTimeout: 0 });
    expect(none[1]!.MessageAttributes).toBeUndefined();
  });

  it('hides a received message until its visibility timeout ends, then redelivers with a higher receive count', async () => {
    const QueueUrl = await newQueue();
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'retry me' }));

    const [first] = await receive(QueueUrl, { VisibilityTimeout: 30 });
    expect(first!.Attributes!.ApproximateReceiveCount).toBe('1');
    expect(await receive(QueueUrl)).toEqual([]);

    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first!.ReceiptHandle, VisibilityTimeout: 0 }));
    const [second] = await receive(QueueUrl, { VisibilityTimeout: 1 });
    expect(second!.MessageId).toBe(first!.MessageId);
    expect(second!.Attributes!.ApproximateReceiveCount).toBe('2');
    expect(second!.ReceiptHandle).not.toBe(first!.ReceiptHandle);

    // The 1 s timeout runs out by itself; the long poll picks the message up again when it does.
    const [third] = await receive(QueueUrl, { WaitTimeSeconds: 20 });
    expect(third!.Attributes!.ApproximateReceiveCount).toBe('3');
    expect(third!.Attributes!.ApproximateFirstReceiveTimestamp).toBe(first!.Attributes!.ApproximateFirstReceiveTimestamp);
  });

  it('deleting with a stale receipt handle succeeds without deleting, as SQS documents', async () => {
    const QueueUrl = await newQueue();
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' }));
    const [first] = await receive(QueueUrl, { VisibilityTimeout: 0 });
    const [latest] = await receive(QueueUrl, { VisibilityTimeout: 30 });
    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first!.ReceiptHandle }));
    expect(await count(QueueUrl)).toEqual({ visible: 0, inFlight: 1 });
    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: latest!.ReceiptHandle }));
    expect(await count(QueueUrl)).toEqual({ visible: 0, inFlight: 0 });

    const garbage = await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'garbage' })).catch((e) => e);
    expect(garbage.name).toBe('ReceiptHandleIsInvalid');
  });

  it('long polling returns as soon as a message is sent', { timeout: 15_000 }, async () => {
    const QueueUrl = await newQueue();
    const polling = receive(QueueUrl, { WaitTimeSeconds: 20 });
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the poll reach the server first
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'wake up' }));
    expect((await polling).map((message) => message.Body)).toEqual(['wake up']);
  });

  it('a long poll with nothing to receive ends empty', async () => {
    const QueueUrl = await newQueue();
    expect(await receive(QueueUrl, { WaitTimeSeconds: 1 })).toEqual([]);
  });

  it('respects MaxNumberOfMessages and rejects values outside 1..10', async () => {
    const QueueUrl = await newQueue();
    for (let i = 0; i < 4; i++) await client.send(new SendMessageCommand({ QueueUrl, MessageBody: `m${i}` }));
    expect((await receive(QueueUrl, { MaxNumberOfMessages: 3 })).map((message) => message.Body)).toEqual(['m0', 'm1', 'm2']);
    const error = await receive(QueueUrl, { MaxNumberOfMessages: 11 }).catch((e) => e);
    expect(error.name).toBe('InvalidParameterValue');
    expect(error.message).toMatch(/MaxNumberOfMessages/);
  });

  it('delays messages by DelaySeconds', async () => {
    const QueueUrl = await newQueue();
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'later', DelaySeconds: 900 }));
    expect(await receive(QueueUrl)).toEqual([]);
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }));
    expect(Attributes!.ApproximateNumberOfMessagesDelayed).toBe('1');
  });

  it('purges a queue', async () => {
    const QueueUrl = await newQueue();
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' }));
    await client.send(new PurgeQueueCommand({ QueueUrl }));
    expect(await count(QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('rejects bodies with characters SQS does not allow', async () => {
    const QueueUrl = await newQueue();
    const error = await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'nul \u0000' })).catch((e) => e);
    expect(error.name).toBe('InvalidMessageContents');
  });
});

describe('batches', () => {
  it('sends and deletes in batches, reporting failed entries by Id', async () => {
    const QueueUrl = await newQueue();
    const sent = await client.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'first' },
          { Id: 'b', MessageBody: 'bad \u0001' },
          { Id: 'c', MessageBody: 'third', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } },
        ],
      }),
    );
    expect(sent.Successful!.map((entry) => entry.Id)).toEqual(['a', 'c']);
    expect(sent.Successful![1]!.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(sent.Failed).toEqual([{ Id: 'b', SenderFault: true, Code: 'InvalidMessageContents', Message: expect.any(String) }]);

    const messages = await receive(QueueUrl, { MaxNumberOfMessages: 10 });
    expect(messages.map((message) => message.Body)).toEqual(['first', 'third']);
    const deleted = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'x', ReceiptHandle: messages[0]!.ReceiptHandle },
          { Id: 'y', ReceiptHandle: 'not-a-handle' },
          { Id: 'z', ReceiptHandle: messages[1]!.ReceiptHandle },
        ],
      }),
    );
    expect(deleted.Successful!.map((entry) => entry.Id)).toEqual(['x', 'z']);
    expect(deleted.Failed).toEqual([{ Id: 'y', SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: expect.any(String) }]);
    expect(await count(QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('rejects batches over 10 entries or with repeated ids', async () => {
    const QueueUrl = await newQueue();
    const entries = Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' }));
    expect(await client.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries })).catch((e) => e)).toBeInstanceOf(TooManyEntriesInBatchRequest);
    const repeated = [{ Id: 'same', MessageBody: 'x' }, { Id: 'same', MessageBody: 'y' }];
    expect(await client.send(new SendMessageBatchCommand({ QueueUrl, Entries: repeated })).catch((e) => e)).toBeInstanceOf(BatchEntryIdsNotDistinct);
    expect(await count(QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe('dead-letter queues', () => {
  it('moves a message to the DLQ once it has been received maxReceiveCount times', async () => {
    const dlqUrl = await newQueue();
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
    const QueueUrl = await newQueue({ RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: 2 }) });
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison' }));

    expect(await receive(QueueUrl, { VisibilityTimeout: 0 })).toHaveLength(1);
    expect(await receive(QueueUrl, { VisibilityTimeout: 0 })).toHaveLength(1);
    expect(await receive(QueueUrl, { VisibilityTimeout: 0 })).toEqual([]);

    const [dead] = await receive(dlqUrl);
    expect(dead!.Body).toBe('poison');
    expect(dead!.Attributes!.DeadLetterQueueSourceArn).toMatch(/:queue-\d+$/);
  });

  it('refuses a redrive policy whose target queue does not exist', async () => {
    const error = await newQueue({
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:missing', maxReceiveCount: 3 }),
    }).catch((e) => e);
    expect(error.name).toBe('InvalidAttributeValue');
    expect(error.message).toMatch(/missing does not exist/);
  });
});

describe('protocol', () => {
  it('answers actions it does not implement with InvalidAction', async () => {
    const error = await client.send(new ListQueueTagsCommand({ QueueUrl: sqs.queueUrl('x') })).catch((e) => e);
    expect(error.name).toBe('InvalidAction');
    expect(error.message).toMatch(/ListQueueTags/);
  });
});

describe('persistence', () => {
  it('keeps queues and messages (receive counts included) across close and restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-sqs-'));
    const stateFile = join(dir, 'nested', 'sqs.json');
    try {
      const first = await startLocalSqs({ stateFile });
      const firstClient = clientFor(first);
      const QueueUrl = first.createQueue('dlq', { MessageRetentionPeriod: '1209600' });
      await firstClient.send(new SendMessageCommand({ QueueUrl, MessageBody: 'dead letter 1' }));
      await firstClient.send(new SendMessageCommand({ QueueUrl, MessageBody: 'dead letter 2' }));
      await firstClient.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 0 }));
      const pending = firstClient.send(new ReceiveMessageCommand({ QueueUrl: first.createQueue('empty'), WaitTimeSeconds: 20 }));
      firstClient.destroy();
      await first.close(); // ends the pending long poll and flushes the state file
      expect((await pending.catch(() => ({ Messages: [] }))).Messages ?? []).toEqual([]);

      const second = await startLocalSqs({ stateFile });
      const secondClient = clientFor(second);
      try {
        expect(second.messages('dlq').map(({ body, receiveCount, state }) => ({ body, receiveCount, state }))).toEqual([
          { body: 'dead letter 1', receiveCount: 1, state: 'visible' },
          { body: 'dead letter 2', receiveCount: 0, state: 'visible' },
        ]);
        const { QueueUrl: restartedUrl } = await secondClient.send(new GetQueueUrlCommand({ QueueName: 'dlq' }));
        const { Attributes } = await secondClient.send(new GetQueueAttributesCommand({ QueueUrl: restartedUrl, AttributeNames: ['All'] }));
        expect(Attributes).toMatchObject({ ApproximateNumberOfMessages: '2', MessageRetentionPeriod: '1209600' });
        const { Messages } = await secondClient.send(new ReceiveMessageCommand({ QueueUrl: restartedUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
        expect(Messages!.map((message) => message.Attributes!.ApproximateReceiveCount)).toEqual(['2', '1']);
      } finally {
        secondClient.destroy();
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
