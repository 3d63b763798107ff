// Redrive on the local stack, with real failures: a subscriber whose table is gone parks its events, and
// `npm run dlq -- redrive` (the CLI itself, against this stack) hands each back to that subscriber once the
// cause is fixed; a batch the publisher parked while the bus refused it is redriven from the event table,
// by the stream position it names and, once that position is gone, by its arrival time.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localAwsConfig } from '../../infra/local/dynamodb-local.ts';
import { writeStackFile } from '../../infra/local/stack-file.ts';
import { tableDefinitions } from '../../infra/local/tables.ts';
import { busDenied, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let bus: FaultProxy;
let sqs: SQSClient;
let dynamo: DynamoDBClient;
let dataDir: string;
let token: string;
let eventTypeId: string;
const attendee = { name: 'Ada Lovelace', email: 'ada@example.com', timeZone: 'Europe/London' };

const api = async (path: string, init: { method?: string; json?: unknown; auth?: string } = {}) => {
  const response = await fetch(stack.httpUrl + path, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...(init.auth ? { authorization: `Bearer ${init.auth}` } : {}) },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  return { status: response.status, body: (await response.json()) as any };
};
const book = (n: number, who = attendee) => api('/bookings', { method: 'POST', json: { eventTypeId, start: futureSlot(n).toISOString(), attendee: who } });
const read = async (id: string) => (await api(`/bookings/${id}`, { auth: token })).body;
const historyOf = async (id: string) => ((await api(`/bookings/${id}/events`, { auth: token })).body.events as any[]).map((e) => e.type);
const queueId = (prefix: string) => Object.keys(stack.queues).find((id) => id.startsWith(prefix))!;
const waiting = async (prefix: string) => {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.queues[queueId(prefix)], AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
};
/** The operator's command, run as a separate process against this stack's .local/stack.json. */
const dlq = async (...args: string[]) =>
  (await promisify(execFile)(process.execPath, ['infra/local/dlq.ts', ...args], { env: { ...process.env, DATA_DIR: dataDir } })).stdout;

async function eventually<T>(read: () => Promise<T> | T, done: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  stack = await startTestStack();
  // The publisher creates its EventBridge client on its first batch, still to come: the proxy goes between.
  bus = await startFaultProxy(process.env.AWS_ENDPOINT_URL_EVENTBRIDGE!, busDenied);
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.endpoint;
  sqs = new SQSClient({ ...localAwsConfig, endpoint: stack.sqsEndpoint });
  dynamo = new DynamoDBClient({ ...localAwsConfig, endpoint: inject('dynamoEndpoint') });
  dataDir = mkdtempSync(join(tmpdir(), 'redrive-cli-'));
  writeStackFile(dataDir, { httpUrl: stack.httpUrl, wsUrl: stack.wsUrl, sqsEndpoint: stack.sqsEndpoint, controlUrl: stack.controlUrl, dynamoEndpoint: inject('dynamoEndpoint'), issuer: stack.issuer.issuer, pid: process.pid });
  token = await stack.issuer.sign('redrive-organizer');
  eventTypeId = (await api('/event-types', { method: 'POST', auth: token, json: { title: 'Intro call', slug: 'intro', lengthMinutes: 30 } })).body.id;
}, 120_000);

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
  sqs?.destroy();
  dynamo?.destroy();
  await stack?.stop();
  await bus?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run dlq -- redrive', () => {
  it('a failing subscriber parks its events; once fixed, redrive applies each parked event once and empties the queue', async () => {
    const auditTable = process.env.AUDIT_TABLE!;
    await dynamo.send(new DeleteTableCommand({ TableName: auditTable }));
    const created = (await book(1)).body;
    await eventually(() => read(created.id), (b) => b.status === 'confirmed', 'the booking to be confirmed');
    await eventually(() => waiting('AuditLogDLQ'), (n) => n >= 3, 'the audit log to park the three events');
    expect(await dlq('show', 'AuditLogDLQ')).toContain(created.id);

    // Fixing the cause: the table is back (empty, as a restored table without these entries would be).
    const definition = tableDefinitions(inject('template')).find((t) => t.logicalId.startsWith('AuditTable'))!;
    await dynamo.send(new CreateTableCommand({ ...definition.input, TableName: auditTable }));

    const output = await dlq('redrive', 'AuditLogDLQ');
    // The three of the booking, and the event type's creation if the subscriber had not got to it yet.
    expect(output).toMatch(/AuditLogDLQ\S*: [34] redriven, 0 kept/);
    expect(output).toMatch(/redriven .* -> AuditLogFunction\S*: booking.requested/);
    expect(await waiting('AuditLogDLQ')).toBe(0);
    const entries = (await api(`/bookings/${created.id}/audit`, { auth: token })).body.entries as any[];
    expect(entries.map((e) => e.type).sort()).toEqual(['booking.confirmed', 'booking.created', 'booking.requested']);

    // Redriving an empty queue does nothing; purge empties a queue without delivering.
    expect(await dlq('redrive', 'AuditLogDLQ')).toMatch(/0 redriven, 0 kept/);
    expect(await dlq('purge', 'AuditLogDLQ')).toMatch(/purged/);
  }, 120_000);

  it('a redrive that fails again keeps the message where it was, and says why', async () => {
    const auditTable = process.env.AUDIT_TABLE!;
    await dynamo.send(new DeleteTableCommand({ TableName: auditTable }));
    const created = (await book(2)).body;
    await eventually(() => waiting('AuditLogDLQ'), (n) => n >= 3, 'the audit log to park the three events');
    const outcomes = await stack.redriver.redrive(queueId('AuditLogDLQ'));
    expect(outcomes.filter((o) => o.delivered)).toEqual([]);
    expect(outcomes[0]!.detail).toMatch(/non-existent table|not found|ResourceNotFound/i);
    expect(await waiting('AuditLogDLQ')).toBe(outcomes.length);
    const definition = tableDefinitions(inject('template')).find((t) => t.logicalId.startsWith('AuditTable'))!;
    await dynamo.send(new CreateTableCommand({ ...definition.input, TableName: auditTable }));
    expect((await stack.redriver.redrive(queueId('AuditLogDLQ'))).every((o) => o.delivered)).toBe(true);
    const entries = (await api(`/bookings/${created.id}/audit`, { auth: token })).body.entries as any[];
    expect(entries).toHaveLength(3);
  }, 120_000);

  it('a batch the publisher parked is published again from the event table: the booking it held goes on through its workflow, once', async () => {
    const marked = { ...attendee, email: 'parked@example.com' };
    bus.refuse((operation, body) => operation === 'PutEvents' && body.includes(marked.email));
    const created = (await book(3, marked)).body;
    await eventually(() => waiting('PublisherDLQ'), (n) => n > 0, 'the publisher to park the batch');
    bus.refuse(undefined);
    expect(await read(created.id)).toMatchObject({ status: 'draft' });

    const outcomes = await stack.redriver.redrive(queueId('PublisherDLQ'));
    expect(outcomes).toEqual([expect.objectContaining({ delivered: true, detail: expect.stringContaining(`${created.id}@1`) })]);
    expect(await waiting('PublisherDLQ')).toBe(0);
    await eventually(() => read(created.id), (b) => b.status === 'confirmed', 'the redriven booking to be confirmed');
    expect(await historyOf(created.id)).toEqual(['booking.requested', 'booking.created', 'booking.confirmed']);
  }, 120_000);

  it('a parked batch whose stream position has expired (past 24 h) is found in the event table by its arrival time', async () => {
    const marked = { ...attendee, email: 'late@example.com' };
    bus.refuse((operation, body) => operation === 'PutEvents' && body.includes(marked.email));
    const created = (await book(4, marked)).body;
    await eventually(() => waiting('PublisherDLQ'), (n) => n > 0, 'the publisher to park the batch');
    bus.refuse(undefined);
    // The message as it reads a day later: its shard has been trimmed away.
    const QueueUrl = stack.queues[queueId('PublisherDLQ')]!;
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    for (const message of Messages) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      const parked = JSON.parse(message.Body!);
      parked.DDBStreamBatchInfo.shardId = 'shardId-00000000000000000000-trimmed';
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(parked) }));
    }

    const outcomes = await stack.redriver.redrive(queueId('PublisherDLQ'));
    expect(outcomes.every((o) => o.delivered)).toBe(true);
    expect(outcomes.map((o) => o.detail).join()).toContain(`${created.id}@1`);
    expect(stack.logs.some((line) => /stream position .* is gone/.test(line))).toBe(true);
    await eventually(() => read(created.id), (b) => b.status === 'confirmed', 'the redriven booking to be confirmed');
    expect(await historyOf(created.id)).toEqual(['booking.requested', 'booking.created', 'booking.confirmed']);
  }, 120_000);
});
