// One booking through the whole local stack, over real HTTP and WebSocket: API Lambda -> events table ->
// stream -> publisher -> bus -> workflow (Step Functions) and subscribers -> WebSocket push.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { localAwsConfig } from '../../infra/local/dynamodb-local.ts';
import { connect, futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let token: string;
let eventTypeId: string;

const api = (path: string, init: RequestInit & { json?: unknown; auth?: string } = {}) =>
  fetch(stack.httpUrl + path, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(init.auth ? { authorization: `Bearer ${init.auth}` } : {}),
      ...(init.headers as Record<string, string>),
    },
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
  });

const attendee = { name: 'Ada Lovelace', email: 'ada@example.com', timeZone: 'Europe/London' };

beforeAll(async () => {
  stack = await startTestStack();
  token = await stack.issuer.sign('organizer-1');
  const response = await api('/event-types', { method: 'POST', auth: token, json: { title: 'Intro call', slug: 'intro-call', lengthMinutes: 30 } });
  expect(response.status).toBe(201);
  eventTypeId = (await response.json() as any).id;
});

afterAll(async () => {
  await stack?.stop();
});

describe('the booking spine on the local stack', () => {
  it('reports every resource type of the template as run (or deliberately not needed)', () => {
    expect(stack.notRun).toEqual([]);
  });

  it('follows a booking from POST to the WebSocket message that says it is confirmed, then cancels it', async () => {
    const socket = await connect(`${stack.wsUrl}/?token=${token}`);
    const start = futureSlot(3);
    const created = await api('/bookings', { method: 'POST', json: { eventTypeId, start: start.toISOString(), attendee } });
    expect(created.status).toBe(202);
    const booking = await created.json() as any;
    expect(booking).toMatchObject({ status: 'draft', organizerId: 'organizer-1', start: start.toISOString() });
    expect(booking.manageToken).toEqual(expect.any(String));

    const confirmed = await socket.next((m) => m.data?.aggregateId === booking.id && m.data.type === 'booking.confirmed');
    expect(confirmed.type).toBe('event');
    const pushed = socket.messages.filter((m) => m.data?.aggregateId === booking.id).map((m) => `${m.data.version}:${m.data.type}`);
    expect(pushed).toEqual(['1:booking.requested', '2:booking.created', '3:booking.confirmed']);

    const read = await (await api(`/bookings/${booking.id}`, { auth: token })).json() as any;
    expect(read.status).toBe('confirmed');
    const history = await (await api(`/bookings/${booking.id}/events`, { auth: token })).json() as any;
    expect(history.events.map((e: { version: number }) => e.version)).toEqual([1, 2, 3]);

    const cancelled = await api(`/bookings/${booking.id}/cancel`, { method: 'POST', headers: { 'x-booking-token': booking.manageToken }, json: { reason: 'plans changed' } });
    expect(cancelled.status).toBe(200);
    expect((await cancelled.json() as any).status).toBe('cancelled');
    await socket.next((m) => m.data?.aggregateId === booking.id && m.data.type === 'booking.cancelled');
    const again = await api(`/bookings/${booking.id}/cancel`, { method: 'POST', auth: token });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toBe('application/problem+json');
    socket.close();
  });

  it('survives the workflow being started twice for one request, as EventBridge may do', async () => {
    const booking = (await (await api('/bookings', { method: 'POST', json: { eventTypeId, start: futureSlot(10).toISOString(), attendee } })).json()) as any;
    const socket = await connect(`${stack.wsUrl}/?token=${token}`);
    await socket.next((m) => m.data?.aggregateId === booking.id && m.data.type === 'booking.confirmed');
    socket.close();
    const [requested] = ((await (await api(`/bookings/${booking.id}/events`, { auth: token })).json()) as any).events;
    const machine = Object.keys(inject('template').Resources).find((id) => inject('template').Resources[id]!.Type === 'AWS::StepFunctions::StateMachine')!;
    const again = stack.stepFunctions.start(machine, { 'detail-type': 'booking.requested', source: 'booking-engine', detail: requested });
    await stack.stepFunctions.drained();
    expect(again).toMatchObject({ status: 'SUCCEEDED', output: { handled: true } });
    const history = ((await (await api(`/bookings/${booking.id}/events`, { auth: token })).json()) as any).events;
    expect(history.map((e: { type: string }) => e.type)).toEqual(['booking.requested', 'booking.created', 'booking.confirmed']);
  });

  it('answers a second booking of the same time with 409 and a repeated Idempotency-Key with the first booking', async () => {
    const start = futureSlot(4).toISOString();
    const first = await api('/bookings', { method: 'POST', headers: { 'idempotency-key': 'spine-booking-0001' }, json: { eventTypeId, start, attendee } });
    const replay = await api('/bookings', { method: 'POST', headers: { 'idempotency-key': 'spine-booking-0001' }, json: { eventTypeId, start, attendee } });
    expect(first.status).toBe(202);
    expect(replay.status).toBe(202);
    expect((await replay.json() as any).id).toBe((await first.json() as any).id);
    const guessable = await api('/bookings', { method: 'POST', headers: { 'idempotency-key': 'k1' }, json: { eventTypeId, start, attendee } });
    expect(guessable.status).toBe(400);
    expect(((await guessable.json()) as any).errors[0].path).toBe('headers.idempotency-key');
    const clash = await api('/bookings', { method: 'POST', json: { eventTypeId, start, attendee: { ...attendee, email: 'bob@example.com' } } });
    expect(clash.status).toBe(409);
    expect((await clash.json() as any).type).toBe('/problems/slot-taken');
  });

  it('rejects a malformed body with a 400 naming the field, and stores nothing', async () => {
    const before = (await (await api('/bookings', { auth: token })).json() as any).bookings.length;
    const response = await api('/bookings', { method: 'POST', json: { eventTypeId, start: futureSlot(5).toISOString(), attendee: { ...attendee, email: 'not-an-email' } } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect((await response.json() as any).errors).toEqual([{ path: 'attendee.email', message: expect.any(String) }]);
    const after = (await (await api('/bookings', { auth: token })).json() as any).bookings.length;
    expect(after).toBe(before);
  });

  it('makes exactly one booking of 50 simultaneous POSTs for one slot; the rest get 409, none a 5xx', async () => {
    const start = futureSlot(6).toISOString();
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api('/bookings', { method: 'POST', json: { eventTypeId, start, attendee: { ...attendee, email: `guest${i}@example.com` } } })),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
  });

  it('answers a browser\'s CORS preflight as the template\'s CorsConfiguration says', async () => {
    const preflight = await fetch(`${stack.httpUrl}/bookings`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,idempotency-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('idempotency-key');
    const health = await fetch(`${stack.httpUrl}/health`, { headers: { origin: 'http://localhost:5173' } });
    expect(health.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('keeps event-type slugs unique per organizer', async () => {
    const again = await api('/event-types', { method: 'POST', auth: token, json: { title: 'Intro call', slug: 'intro-call', lengthMinutes: 30 } });
    expect(again.status).toBe(409);
    expect(((await again.json()) as any).type).toBe('/problems/slug-taken');
    const other = (await (await api('/event-types', { method: 'POST', auth: token, json: { title: 'Deep dive', slug: 'deep-dive', lengthMinutes: 60 } })).json()) as any;
    expect((await api(`/event-types/${other.id}`, { method: 'PATCH', auth: token, json: { slug: 'intro-call' } })).status).toBe(409);
    expect((await api(`/event-types/${other.id}`, { method: 'PATCH', auth: token, json: { slug: 'long-dive' } })).status).toBe(200);
    // The old slug is free again; someone else may use the same slug for their own event type.
    expect((await api('/event-types', { method: 'POST', auth: token, json: { title: 'Deep dive', slug: 'deep-dive', lengthMinutes: 60 } })).status).toBe(201);
    expect((await api('/event-types', { method: 'POST', auth: await stack.issuer.sign('organizer-2'), json: { title: 'Intro', slug: 'intro-call', lengthMinutes: 30 } })).status).toBe(201);
  });

  it('lets the attendee watch their booking, and only theirs, with the booking token', async () => {
    const booking = (await (await api('/bookings', { method: 'POST', json: { eventTypeId, start: futureSlot(9).toISOString(), attendee } })).json()) as any;
    const socket = await connect(`${stack.wsUrl}/?booking=${booking.id}&bookingToken=${booking.manageToken}`);
    await socket.next((m) => m.data?.aggregateId === booking.id && m.data.type === 'booking.confirmed');
    const other = (await (await api('/bookings', { method: 'POST', json: { eventTypeId, start: futureSlot(9, 2).toISOString(), attendee } })).json()) as any;
    const organizerSocket = await connect(`${stack.wsUrl}/?token=${token}`);
    await organizerSocket.next((m) => m.data?.aggregateId === other.id && m.data.type === 'booking.confirmed');
    expect(socket.messages.some((m) => m.data?.aggregateId === other.id)).toBe(false);
    socket.close();
    organizerSocket.close();
    await expect(connect(`${stack.wsUrl}/?booking=${booking.id}&bookingToken=wrong`)).rejects.toThrow(/401/);
  });

  it('refuses a WebSocket without a valid organizer token', async () => {
    await expect(connect(`${stack.wsUrl}/`)).rejects.toThrow(/401/);
    await expect(connect(`${stack.wsUrl}/?token=not-a-jwt`)).rejects.toThrow(/401/);
    const foreign = await new (await import('jose')).SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('x').sign(new TextEncoder().encode('some-other-key-of-32-bytes-long!'));
    await expect(connect(`${stack.wsUrl}/?token=${foreign}`)).rejects.toThrow(/401/);
  });

  it('keeps other users out of a booking', async () => {
    const booking = await (await api('/bookings', { method: 'POST', json: { eventTypeId, start: futureSlot(7).toISOString(), attendee } })).json() as any;
    const stranger = await stack.issuer.sign('someone-else');
    expect((await api(`/bookings/${booking.id}`, { auth: stranger })).status).toBe(404);
    expect((await api(`/bookings/${booking.id}/cancel`, { method: 'POST', auth: stranger })).status).toBe(404);
    expect((await api(`/bookings/${booking.id}`)).status).toBe(401);
    expect((await api(`/bookings/${booking.id}?token=wrong`)).status).toBe(404);
    expect((await api('/bookings')).status).toBe(401);
  });

  it('retries a subscriber that throws, then parks the event intact in its DLQ; the others still get it', async () => {
    // A real failure: the audit log's table disappears, so its subscriber throws on every event.
    const dynamo = new DynamoDBClient({ ...localAwsConfig, endpoint: inject('dynamoEndpoint') });
    await dynamo.send(new DeleteTableCommand({ TableName: process.env.AUDIT_TABLE }));
    const socket = await connect(`${stack.wsUrl}/?token=${token}`);
    const booking = await (await api('/bookings', { method: 'POST', json: { eventTypeId, start: futureSlot(8).toISOString(), attendee } })).json() as any;
    await socket.next((m) => m.data?.aggregateId === booking.id && m.data.type === 'booking.confirmed');
    socket.close();

    const { SQSClient, ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
    const sqs = new SQSClient({ ...localAwsConfig, endpoint: stack.sqsEndpoint });
    const queue = Object.entries(stack.queues).find(([id]) => id.startsWith('AuditLogDLQ'))![1];
    const parked: any[] = [];
    while (parked.filter((e) => e.detail.aggregateId === booking.id).length < 3) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      parked.push(...Messages.map((m) => JSON.parse(m.Body!)));
    }
    const mine = parked.filter((e) => e.detail.aggregateId === booking.id);
    expect(mine.map((e) => e['detail-type'])).toEqual(['booking.requested', 'booking.created', 'booking.confirmed']);
    expect(mine[0].detail).toMatchObject({ id: expect.any(String), version: 1, aggregateType: 'booking', payload: { attendee } });
    const attempts = stack.logs.filter((line) => line.startsWith('AuditLogFunction') && line.includes('failed'));
    expect(attempts.length).toBeGreaterThanOrEqual(9);
  });
});
