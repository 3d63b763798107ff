// The delivery worker against real parts: DynamoDB Local, the local SQS (delays, a DLQ) and real receivers on
// 127.0.0.1 that fail in chosen ways. The schedule is shortened; its shape (and Svix's) is checked by value.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { localAwsConfig } from '../../infra/local/dynamodb-local.ts';
import { startLocalSqs, type LocalSqs } from '../../infra/local/sqs.ts';
import { executeCommand } from '../../shared/domain/aggregate-commands.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { readDelivery, RETRY_SCHEDULE_MS, nextAttemptAt, type DeliveryMessage } from '../../shared/webhooks/delivery.ts';
import { newSecret, readSubscription, secretsWrite, subscriptionView, webhookDecider } from '../../shared/webhooks/subscriptions.ts';
import { fanOut, processMessage, sqsPorts, type Outcome, type WorkerPorts } from '../../shared/webhooks/worker.ts';
import { createTestTables, type TestTables } from '../support/tables.ts';

let tables: TestTables;
let sqs: LocalSqs;
let client: SQSClient;
const servers: Server[] = [];

/** A receiver on 127.0.0.1 that answers as `answer` says; it keeps what it was sent. */
async function receiver(answer: (count: number, res: import('node:http').ServerResponse) => void) {
  const hits: Array<{ headers: Record<string, string>; body: string; at: number }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hits.push({ headers: req.headers as Record<string, string>, body, at: Date.now() });
      answer(hits.length, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`, hits };
}

function ports(queue: string, schedule: number[], extra: Partial<WorkerPorts> = {}): WorkerPorts {
  const url = sqs.createQueue(queue);
  const parked = sqs.createQueue(`${queue}-parked`);
  return { client: tables.client, stateTable: tables.state, eventsTable: tables.events, ...sqsPorts(client, url, parked), guard: { allowLoopback: true }, schedule, ...extra };
}

/** Plays the queue's event source: receives, runs the worker, deletes, until `done` or the time is up. */
async function drain(p: WorkerPorts, queue: string, until: (outcomes: Outcome[]) => boolean, ms = 30_000): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const deadline = Date.now() + ms;
  while (!until(outcomes) && Date.now() < deadline) {
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl(queue), WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
    for (const message of Messages) {
      outcomes.push(await processMessage(p, JSON.parse(message.Body!) as DeliveryMessage));
      await client.send(new DeleteMessageCommand({ QueueUrl: sqs.queueUrl(queue), ReceiptHandle: message.ReceiptHandle! }));
    }
  }
  return outcomes;
}

async function subscribe(url: string, organizerId = `org-${randomUUID()}`) {
  const id = randomUUID();
  const secret = newSecret();
  const createdAt = new Date().toISOString();
  await executeCommand({ client: tables.client, eventsTable: tables.events, stateTable: tables.state }, {
    decider: webhookDecider,
    aggregateType: 'webhook',
    aggregateId: id,
    command: { type: 'Create', subscription: { organizerId, url } },
    metadata: { userId: organizerId },
    project: (state, { now }) => [subscriptionView(tables.state, id, state, { createdAt, now }), secretsWrite(tables.state, id, { current: secret })],
  });
  return { id, secret, organizerId };
}

async function bookingEvent() {
  const [event] = await new EventStore(tables.client, tables.events).append({
    aggregateId: randomUUID(),
    aggregateType: 'booking',
    expectedVersion: 0,
    events: [{ type: 'booking.rejected', payload: { reason: 'full' } }],
    metadata: { userId: 'someone' },
  });
  return event!;
}

beforeAll(async () => {
  tables = await createTestTables();
  sqs = await startLocalSqs();
  client = new SQSClient({ ...localAwsConfig, endpoint: sqs.endpoint });
});

afterAll(async () => {
  for (const server of servers) server.close();
  client?.destroy();
  await sqs?.close();
});

describe('webhook delivery', () => {
  it('follows Svix\'s schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; over 24 h in all; Retry-After may only lengthen a wait', () => {
    expect(RETRY_SCHEDULE_MS.map((ms) => ms / 1000)).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(RETRY_SCHEDULE_MS.reduce((a, b) => a + b)).toBeGreaterThan(24 * 3_600_000);
    expect(nextAttemptAt(0, { durationMs: 1 }, 1000)).toBe(6000);
    expect(nextAttemptAt(0, { durationMs: 1, status: 429, retryAfterMs: 60_000 }, 1000)).toBe(61_000);
    expect(nextAttemptAt(0, { durationMs: 1, status: 429, retryAfterMs: 1 }, 1000)).toBe(6000);
    expect(nextAttemptAt(RETRY_SCHEDULE_MS.length - 1, { durationMs: 1 }, 1000)).toBeUndefined();
  });

  it('retries 5xx on the schedule, then parks the delivery in the DLQ, and disables a subscription that only fails', async () => {
    const target = await receiver((_, res) => res.writeHead(503).end());
    const sub = await subscribe(target.url);
    const event = await bookingEvent();
    const p = ports('fails', [0, 100, 100], { disableAfterMs: 0 });
    expect(await fanOut(p, event, sub.organizerId)).toBe(1);
    expect(await fanOut(p, event, sub.organizerId)).toBe(0); // a redelivered event makes nothing new
    const outcomes = await drain(p, 'fails', (o) => o.includes('parked'));
    expect(outcomes.filter((o) => o !== 'waiting')).toEqual(['retrying', 'retrying', 'parked']);
    expect(target.hits).toHaveLength(3);
    expect(new Set(target.hits.map((h) => h.headers['webhook-id']))).toEqual(new Set([event.id]));
    for (const hit of target.hits) expect(new Webhook(sub.secret).verify(hit.body, hit.headers)).toMatchObject({ id: event.id });
    const { delivery } = (await readDelivery(p, sub.id, event.id))!;
    expect(delivery.state).toBe('parked');
    expect(delivery.attempts.map((a) => a.status)).toEqual([503, 503, 503]);
    expect(sqs.messages('fails-parked')).toHaveLength(1);
    expect(JSON.parse(sqs.messages('fails-parked')[0]!.body)).toMatchObject({ subscriptionId: sub.id, eventId: event.id });
    expect((await readSubscription(p, sub.id))?.status).toBe('disabled');
    const stream = await new EventStore(tables.client, tables.events).load(sub.id);
    expect(stream.map((e) => e.type)).toEqual(['webhook.created', 'webhook.disabled']);
  });

  it('does not retry other 4xx or a redirect (never followed), and honours Retry-After on 429', async () => {
    const elsewhere = await receiver((_, res) => res.writeHead(200).end());
    const redirect = await receiver((_, res) => res.writeHead(307, { location: elsewhere.url }).end());
    const gone = await receiver((_, res) => res.writeHead(410).end());
    const busy = await receiver((count, res) => (count === 1 ? res.writeHead(429, { 'retry-after': '2' }).end() : res.writeHead(204).end()));
    const event = await bookingEvent();
    const p = ports('final', [0, 100, 100]);
    for (const target of [redirect, gone, busy]) {
      const sub = await subscribe(target.url);
      await fanOut(p, event, sub.organizerId);
    }
    await drain(p, 'final', (o) => o.filter((x) => x === 'failed').length === 2 && o.includes('delivered'));
    expect(redirect.hits).toHaveLength(1);
    expect(elsewhere.hits).toHaveLength(0);
    expect(gone.hits).toHaveLength(1);
    expect(busy.hits).toHaveLength(2);
    expect(busy.hits[1]!.at - busy.hits[0]!.at).toBeGreaterThanOrEqual(1900);
  });

  it('gives up on a receiver that does not answer in time, and tries again', async () => {
    const silent = await receiver(() => {});
    const sub = await subscribe(silent.url);
    const event = await bookingEvent();
    const p = ports('silent', [0, 100], { timeoutMs: 300 });
    await fanOut(p, event, sub.organizerId);
    await drain(p, 'silent', (o) => o.includes('parked'));
    const { delivery } = (await readDelivery(p, sub.id, event.id))!;
    expect(delivery.attempts).toHaveLength(2);
    expect(delivery.attempts[0]).toMatchObject({ error: expect.stringContaining('no answer') });
    expect(delivery.attempts[0]!.status).toBeUndefined();
  });

  it('refuses at delivery a target that now resolves to a loopback or private address (DNS can change)', async () => {
    const target = await receiver((_, res) => res.writeHead(200).end());
    const sub = await subscribe(target.url.replace('127.0.0.1', 'localhost'));
    const event = await bookingEvent();
    const p = ports('guarded', [0, 100], { guard: { allowLoopback: false } });
    await fanOut(p, event, sub.organizerId);
    await drain(p, 'guarded', (o) => o.includes('failed'));
    expect(target.hits).toHaveLength(0);
    const { delivery } = (await readDelivery(p, sub.id, event.id))!;
    expect(delivery.attempts[0]!.error).toMatch(/refused: localhost resolves to .*loopback/);
  });
});
