// No stranded time, on the whole local stack: a booking whose workflow never runs (its booking.requested
// parked by the publisher) or fails (FailCreation included) is released by the settle sweep; a parked event
// redriven after that changes nothing; and the organizer (or the attendee) can always let a pending booking go.
// Failures are real: the stack talks to DynamoDB Local and to its EventBridge endpoint through proxies that
// refuse chosen calls as AWS would (test/support/fault-proxy.ts).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import { localAwsConfig } from '../../infra/local/dynamodb-local.ts';
import { strandedAfterMinutes, type BookingRequest } from '../../shared/booking/decider.ts';
import { busDenied, startFaultProxy, tableThrottled, type FaultProxy } from '../support/fault-proxy.ts';
import { connect, futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let table: FaultProxy;
let bus: FaultProxy;
let sqs: SQSClient;
let token: string;
// Imported once the stack has set the log level: the logger reads it when first imported.
let settleBookings: (typeof import('../../functions/scheduled/settle-bookings.ts'))['settleBookings'];
let executeBookingCommand: (typeof import('../../shared/booking/booking-commands.ts'))['executeBookingCommand'];
let bookingTables: (typeof import('../../shared/config.ts'))['bookingTables'];
const organizerId = 'stranded-organizer';
const eventTypes: Record<'plain' | 'vetted' | 'paid', string> = { plain: '', vetted: '', paid: '' };
const attendee = { name: 'Ada Lovelace', email: 'ada@example.com', timeZone: 'Europe/London' };

const api = async (path: string, init: { method?: string; json?: unknown; auth?: string; headers?: Record<string, string> } = {}) => {
  const response = await fetch(stack.httpUrl + path, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...(init.auth ? { authorization: `Bearer ${init.auth}` } : {}), ...init.headers },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  return { status: response.status, body: (await response.json()) as any };
};

async function eventually<T>(read: () => Promise<T> | T, done: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const book = (kind: keyof typeof eventTypes, start: Date, who = attendee) => api('/bookings', { method: 'POST', json: { eventTypeId: eventTypes[kind], start: start.toISOString(), attendee: who } });
const read = async (bookingId: string) => (await api(`/bookings/${bookingId}`, { auth: token })).body;
const historyOf = async (bookingId: string) => (await api(`/bookings/${bookingId}/events`, { auth: token })).body.events as any[];
const executionsOf = (bookingId: string) => stack.stepFunctions.executions.filter((e) => (e.input as any)?.detail?.aggregateId === bookingId);
/** The sweep as the scheduler would run it once the draft is stranded and the next quarter hour has come. */
const sweepOnceStranded = () => settleBookings(new Date(Date.now() + (strandedAfterMinutes + 1) * 60_000));

async function offered(kind: keyof typeof eventTypes, start: Date): Promise<boolean> {
  const day = start.toISOString().slice(0, 10);
  const { body } = await api(`/slots?eventTypeId=${eventTypes[kind]}&start=${day}&end=${day}&timeZone=UTC`);
  return Object.values(body.slots as Record<string, Array<{ start: string }>>).flat().some((slot) => Date.parse(slot.start) === start.getTime());
}

/** Messages parked in the publisher's on-failure queue since the last call (taken off it): where the failed batch was in the stream. */
async function parkedByPublisher(): Promise<any[]> {
  const queue = Object.entries(stack.queues).find(([id]) => id.startsWith('PublisherDLQ'))![1];
  const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  for (const message of Messages) await sqs.send(new DeleteMessageCommand({ QueueUrl: queue, ReceiptHandle: message.ReceiptHandle }));
  return Messages.map((message) => JSON.parse(message.Body!));
}

/** What `npm run dlq -- redrive` will do for a parked stream batch: read its records back and publish them again. */
async function redrive(parked: any): Promise<unknown> {
  const info = parked.DDBStreamBatchInfo;
  const streams = new DynamoDBStreamsClient({ ...localAwsConfig, endpoint: inject('dynamoEndpoint') });
  const { ShardIterator } = await streams.send(
    new GetShardIteratorCommand({ StreamArn: info.streamArn, ShardId: info.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: info.startSequenceNumber }),
  );
  const records: _Record[] = [];
  let iterator = ShardIterator;
  while (iterator && records.length < info.batchSize) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
    if (!page.Records?.length) break;
    records.push(...page.Records.filter((r) => BigInt(r.dynamodb!.SequenceNumber!) <= BigInt(info.endSequenceNumber)));
    iterator = page.NextShardIterator;
  }
  streams.destroy();
  const publisher = [...stack.lambda.functions.keys()].find((id) => id.startsWith('PublishEventsFunction'))!;
  return stack.lambda.invoke(publisher, { Records: records.map((r) => ({ ...r, eventSourceARN: info.streamArn })) });
}

beforeAll(async () => {
  table = await startFaultProxy(inject('dynamoEndpoint'), tableThrottled);
  stack = await startTestStack({ dynamoEndpoint: table.endpoint });
  // The publisher creates its EventBridge client on its first batch, which is still to come: pointing the
  // endpoint variable at a proxy now puts the proxy between the publisher and the bus.
  bus = await startFaultProxy(process.env.AWS_ENDPOINT_URL_EVENTBRIDGE!, busDenied);
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.endpoint;
  sqs = new SQSClient({ ...localAwsConfig, endpoint: stack.sqsEndpoint });
  ({ settleBookings } = await import('../../functions/scheduled/settle-bookings.ts'));
  ({ executeBookingCommand } = await import('../../shared/booking/booking-commands.ts'));
  ({ bookingTables } = await import('../../shared/config.ts'));
  token = await stack.issuer.sign(organizerId);
  const create = async (slug: string, extra: Record<string, unknown>) =>
    (await api('/event-types', { method: 'POST', auth: token, json: { title: 'Intro call', slug, lengthMinutes: 30, ...extra } })).body.id as string;
  eventTypes.plain = await create('intro', {});
  eventTypes.vetted = await create('vetted', { requiresConfirmation: true });
  eventTypes.paid = await create('paid', { price: { amount: 5000, currency: 'EUR' } });
}, 120_000);

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
  sqs?.destroy();
  await stack?.stop();
  await bus?.close();
  await table?.close();
});

describe('a booking that cannot progress is released by the system', () => {
  it('an event too large for EventBridge is parked by the publisher; the sweep releases its draft and the slot is offered and bookable again', async () => {
    const start = futureSlot(2);
    expect(await offered('plain', start)).toBe(true);
    // What an oversized field makes of a booking: its booking.requested (over 256 KB) can never be put on the
    // bus. Written as POST /bookings writes it; the HTTP edge bounds its input, the domain does not.
    const request: BookingRequest = {
      eventTypeId: eventTypes.plain,
      organizerId,
      hostIds: [organizerId],
      title: 'x'.repeat(300_000),
      start: start.toISOString(),
      end: new Date(start.getTime() + 30 * 60_000).toISOString(),
      bufferBeforeMinutes: 0,
      bufferAfterMinutes: 0,
      attendee,
      requiresConfirmation: false,
    };
    const bookingId = randomUUID();
    await executeBookingCommand(bookingTables(), { bookingId, command: { type: 'RequestBooking', request }, metadata: { correlationId: bookingId } });

    const parked = await eventually(parkedByPublisher, (messages) => messages.length > 0, 'the publisher to park the batch');
    expect(parked[0]).toMatchObject({ requestContext: { condition: 'RetryAttemptsExhausted' }, DDBStreamBatchInfo: { shardId: expect.any(String), startSequenceNumber: expect.any(String) } });
    expect(executionsOf(bookingId)).toEqual([]);
    expect(await read(bookingId)).toMatchObject({ status: 'draft' });
    expect((await read(bookingId)).awaiting).toBeUndefined();
    expect(await offered('plain', start)).toBe(false);
    expect((await book('plain', start)).status).toBe(409);

    expect((await sweepOnceStranded()).released).toBe(1);
    expect(await read(bookingId)).toMatchObject({ status: 'cancelled', cancellation: { by: 'system', kind: 'creation_failed', step: 'Timeout' } });
    expect(await offered('plain', start)).toBe(true);
    const again = await book('plain', start);
    expect(again.status).toBe(202);
    await eventually(() => read(again.body.id), (b) => b.status === 'confirmed', 'the new booking to be confirmed');
  }, 90_000);

  it('a workflow whose writes all fail, FailCreation included (the table throttled), leaves a draft that the sweep releases', async () => {
    const start = futureSlot(3);
    const marked = { ...attendee, email: 'throttled@example.com' };
    // Every write for this booking after its request is throttled: the workflow cannot accept it, nor fail it.
    table.refuse((operation, body) => operation === 'TransactWriteItems' && body.includes(marked.email) && !body.includes('booking.requested'));
    const created = await book('plain', start, marked);
    expect(created.status).toBe(202);
    const [execution] = await eventually(() => executionsOf(created.body.id), (runs) => runs.length === 1 && runs[0]!.status !== 'RUNNING', 'the workflow to fail');
    expect(execution!.status).toBe('FAILED');
    expect(table.refused).toBeGreaterThan(0);
    expect(await read(created.body.id)).toMatchObject({ status: 'draft' });
    expect((await book('plain', start)).status).toBe(409);

    table.refuse(undefined);
    expect((await sweepOnceStranded()).released).toBe(1);
    expect(await read(created.body.id)).toMatchObject({ status: 'cancelled', cancellation: { by: 'system', kind: 'creation_failed', step: 'Timeout' } });
    expect((await historyOf(created.body.id)).map((e) => e.type)).toEqual(['booking.requested', 'booking.creation.failed']);
    const again = await book('plain', start);
    expect(again.status).toBe(202);
    await eventually(() => read(again.body.id), (b) => b.status === 'confirmed', 'the new booking to be confirmed');
  }, 90_000);

  it('a booking.requested parked while the bus refused it, redriven after the release, applies nothing: the late workflow ends as handled, consumers keep each event once', async () => {
    const start = futureSlot(4);
    const marked = { ...attendee, email: 'unpublished@example.com' };
    bus.refuse((operation, body) => operation === 'PutEvents' && body.includes(marked.email));
    const created = await book('plain', start, marked);
    expect(created.status).toBe(202);
    const [parked] = await eventually(parkedByPublisher, (messages) => messages.length > 0, 'the publisher to park the batch');
    bus.refuse(undefined);
    expect(bus.refused).toBeGreaterThan(0);
    expect(executionsOf(created.body.id)).toEqual([]);

    expect((await sweepOnceStranded()).released).toBe(1);
    const released = await historyOf(created.body.id);
    expect(released.map((e) => e.type)).toEqual(['booking.requested', 'booking.creation.failed']);
    const socket = await connect(`${stack.wsUrl}/?token=${token}`);

    // Redriven twice, as an operator retrying a redrive might: the same stored events, the same ids.
    for (const round of [1, 2]) {
      expect(await redrive(parked)).toEqual({ batchItemFailures: [] });
      const runs = await eventually(() => executionsOf(created.body.id), (r) => r.length === round && r.every((e) => e.status !== 'RUNNING'), 'the late workflow');
      expect(runs.map((run) => [run.status, (run.output as any)?.handled])).toEqual(Array(round).fill(['SUCCEEDED', true]));
    }
    expect(await historyOf(created.body.id)).toEqual(released);
    expect(await read(created.body.id)).toMatchObject({ status: 'cancelled', cancellation: { kind: 'creation_failed' } });
    // Subscribers see the redelivered event under its own id, and the audit log keeps it once.
    const pushed = await eventually(
      () => socket.messages.filter((m) => m.data?.id === released[0].id),
      (copies) => copies.length === 2,
      'both redeliveries to be pushed',
    );
    expect(pushed.map((m) => m.data.type)).toEqual(['booking.requested', 'booking.requested']);
    socket.close();
    const audit = await eventually(
      async () => (await api(`/bookings/${created.body.id}/audit`, { auth: token })).body.entries as any[],
      (entries) => entries.some((e) => e.type === 'booking.requested'),
      'the audit log to record the redriven request',
    );
    expect(audit.map((e) => e.eventId).sort()).toEqual(released.map((e) => e.id).sort());
    expect((await book('plain', start)).status).toBe(202);
  }, 90_000);
});

describe('the organizer, or the attendee, can always let a pending booking go', () => {
  it('the organizer cancels a request awaiting confirmation, rejects the next and confirms a third; each answer shows it awaits nothing more', async () => {
    const start = futureSlot(5);
    const waitingFor = async (bookingId: string, awaiting: string) => eventually(() => read(bookingId), (b) => b.awaiting === awaiting, `awaiting ${awaiting}`);

    const first = (await book('vetted', start)).body;
    expect(await waitingFor(first.id, 'confirmation')).toMatchObject({ status: 'draft' });
    const cancelled = await api(`/bookings/${first.id}/cancel`, { method: 'POST', auth: token, json: { reason: 'double-booked myself' } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancellation: { by: 'organizer', kind: 'cancelled', reason: 'double-booked myself' } });
    expect(cancelled.body.awaiting).toBeUndefined();
    expect(await offered('vetted', start)).toBe(true);

    const second = (await book('vetted', start)).body;
    await waitingFor(second.id, 'confirmation');
    const rejected = await api(`/bookings/${second.id}/reject`, { method: 'POST', auth: token, json: {} });
    expect(rejected.body).toMatchObject({ status: 'cancelled', cancellation: { kind: 'rejected' } });
    expect(rejected.body.awaiting).toBeUndefined();

    const third = (await book('vetted', start)).body;
    await waitingFor(third.id, 'confirmation');
    const confirmed = await api(`/bookings/${third.id}/confirm`, { method: 'POST', auth: token });
    expect(confirmed.body.status).toBe('confirmed');
    expect(confirmed.body.awaiting).toBeUndefined();
    expect((await read(third.id)).awaiting).toBeUndefined();
  }, 60_000);

  it('the attendee withdraws their request with the booking token, and the organizer cancels a booking awaiting payment', async () => {
    const start = futureSlot(6);
    const request = (await book('vetted', start)).body;
    await eventually(() => read(request.id), (b) => b.awaiting === 'confirmation', 'awaiting confirmation');
    const withdrawn = await api(`/bookings/${request.id}/cancel`, { method: 'POST', headers: { 'x-booking-token': request.manageToken }, json: {} });
    expect(withdrawn.body).toMatchObject({ status: 'cancelled', cancellation: { by: 'attendee' } });
    expect(await offered('vetted', start)).toBe(true);

    const unpaid = (await book('paid', start)).body;
    await eventually(() => read(unpaid.id), (b) => b.awaiting === 'payment', 'awaiting payment');
    const cancelled = await api(`/bookings/${unpaid.id}/cancel`, { method: 'POST', auth: token, json: {} });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancellation: { by: 'organizer' } });
    expect(cancelled.body.awaiting).toBeUndefined();
    expect(await offered('paid', start)).toBe(true);
  }, 60_000);

  it('the organizer cancels, or rejects, a draft whose workflow never started, without waiting for the sweep', async () => {
    const start = futureSlot(7);
    const marked = { ...attendee, email: 'never-started@example.com' };
    bus.refuse((operation, body) => operation === 'PutEvents' && body.includes(marked.email));
    const plain = (await book('plain', start, marked)).body;
    const vetted = (await book('vetted', futureSlot(7, 2), marked)).body;
    expect((await book('plain', start)).status).toBe(409);

    const cancelled = await api(`/bookings/${plain.id}/cancel`, { method: 'POST', auth: token, json: {} });
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled', cancellation: { by: 'organizer' } } });
    const rejected = await api(`/bookings/${vetted.id}/reject`, { method: 'POST', auth: token, json: { reason: 'no' } });
    expect(rejected).toMatchObject({ status: 200, body: { status: 'cancelled', cancellation: { kind: 'rejected' } } });
    expect(executionsOf(plain.id)).toEqual([]);
    expect(await offered('plain', start)).toBe(true);
    expect(await offered('vetted', futureSlot(7, 2))).toBe(true);
    // Let the stream move on (the refused requests are parked) before the stack stops.
    await eventually(parkedByPublisher, (messages) => messages.length > 0, 'the publisher to park the batch');
    bus.refuse(undefined);
  }, 60_000);
});
