// Retries of one command with one Idempotency-Key, sent at the same moment, as a flaky network or an eager
// client does: every one of them gets the first answer (status and body), and exactly one write happens.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localAwsConfig } from '../../infra/local/dynamodb-local.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let token: string;
const attendee = { name: 'Ada Lovelace', email: 'ada@example.com', timeZone: 'Europe/London' };
const TWINS = 12;

type Answer = { status: number; body: any; replayed: boolean };

async function call(method: string, path: string, options: { token?: string; body?: unknown; key?: string; bookingToken?: string } = {}): Promise<Answer> {
  const response = await fetch(stack.httpUrl + path, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.key ? { 'idempotency-key': options.key } : {}),
      ...(options.bookingToken ? { 'x-booking-token': options.bookingToken } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, body: (await response.json()) as any, replayed: response.headers.get('idempotent-replayed') === 'true' };
}

/** The same request, `TWINS` times at once; all must carry the first answer, exactly one of them fresh. */
async function twins(method: string, path: string, options: Parameters<typeof call>[2]): Promise<Answer> {
  const answers = await Promise.all(Array.from({ length: TWINS }, () => call(method, path, options)));
  const [first] = answers;
  expect(first!.status).toBeLessThan(300);
  for (const answer of answers) {
    expect({ status: answer.status, body: answer.body }).toEqual({ status: first!.status, body: first!.body });
  }
  expect(answers.filter((answer) => !answer.replayed)).toHaveLength(1);
  return first!;
}

const historyOf = async (bookingId: string) => (await call('GET', `/bookings/${bookingId}/events`, { token })).body.events.map((e: { type: string }) => e.type);

/** Waits (by count of polls, not by the clock) until the workflow has taken the booking as far as it goes. */
async function settled(bookingId: string, done: (booking: any) => boolean): Promise<any> {
  for (let poll = 0; poll < 600; poll++) {
    const booking = (await call('GET', `/bookings/${bookingId}`, { token })).body;
    if (done(booking)) return booking;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`booking ${bookingId} never settled`);
}

let eventTypeId: string;
let vettedId: string;

beforeAll(async () => {
  stack = await startTestStack();
  token = await stack.issuer.sign('retry-organizer');
  eventTypeId = (await call('POST', '/event-types', { token, body: { title: 'Call', slug: 'call', lengthMinutes: 30 } })).body.id;
  vettedId = (await call('POST', '/event-types', { token, body: { title: 'Vetted', slug: 'vetted', lengthMinutes: 30, requiresConfirmation: true } })).body.id;
});
afterAll(async () => stack?.stop());

describe('concurrent retries with one Idempotency-Key', () => {
  it('POST /bookings: one booking, one claim, every twin answered with its id and token', async () => {
    const start = futureSlot(1).toISOString();
    const first = await twins('POST', '/bookings', { key: 'booking-retry-0123456789', body: { eventTypeId, start, attendee } });
    expect(first.status).toBe(202);
    const listed = (await call('GET', '/bookings', { token })).body.bookings.filter((b: { start: string }) => b.start === start);
    expect(listed.map((b: { id: string }) => b.id)).toEqual([first.body.id]);
    expect((await historyOf(first.body.id))[0]).toBe('booking.requested');
  });

  it('POST /event-types: one event type under the slug', async () => {
    const first = await twins('POST', '/event-types', { token, key: 'et-retry', body: { title: 'Twin', slug: 'twin', lengthMinutes: 45 } });
    expect(first.status).toBe(201);
    const mine = (await call('GET', '/event-types', { token })).body.eventTypes.filter((e: { slug: string }) => e.slug === 'twin');
    expect(mine.map((e: { id: string }) => e.id)).toEqual([first.body.id]);
  });

  it('POST /schedules: one schedule', async () => {
    // Another user: a first schedule becomes its owner's default and would change the hours the others book.
    const owner = await stack.issuer.sign('retry-schedule-owner');
    const before = (await call('GET', '/schedules', { token: owner })).body.schedules.length;
    const first = await twins('POST', '/schedules', { token: owner, key: 'schedule-retry', body: { name: 'Twin hours', timeZone: 'Europe/Berlin', weekly: [{ day: 'mon', start: '09:00', end: '12:00' }] } });
    expect(first.status).toBe(201);
    expect((await call('GET', '/schedules', { token: owner })).body.schedules.length).toBe(before + 1);
  });

  it('PATCH /event-types/{id} and PATCH /schedules/{id}: one update event each', async () => {
    const owner = await stack.issuer.sign('retry-patcher');
    const eventType = (await call('POST', '/event-types', { token: owner, body: { title: 'Patched', slug: 'patched', lengthMinutes: 30 } })).body;
    const schedule = (await call('POST', '/schedules', { token: owner, body: { name: 'Hours', timeZone: 'Europe/Berlin', weekly: [{ day: 'mon', start: '09:00', end: '17:00' }] } })).body;
    expect((await twins('PATCH', `/event-types/${eventType.id}`, { token: owner, key: 'patch-et', body: { slug: 'patched-again', bufferAfterMinutes: 10 } })).body.slug).toBe('patched-again');
    expect((await twins('PATCH', `/schedules/${schedule.id}`, { token: owner, key: 'patch-schedule', body: { name: 'New hours' } })).body.name).toBe('New hours');
    const store = new EventStore(DynamoDBDocumentClient.from(new DynamoDBClient({ ...localAwsConfig, endpoint: inject('dynamoEndpoint') })), process.env.EVENTS_TABLE!);
    expect((await store.load(eventType.id)).map((e) => e.type)).toEqual(['event-type.created', 'event-type.updated']);
    expect((await store.load(schedule.id)).map((e) => e.type)).toEqual(['schedule.created', 'schedule.updated']);
  });

  it('cancel, by organizer and by attendee: one booking.cancelled', async () => {
    for (const [n, by] of [[2, 'organizer'], [3, 'attendee']] as const) {
      const created = await call("POST", "/bookings", { body: { eventTypeId, start: futureSlot(n).toISOString(), attendee } });
      expect(created.body).toMatchObject({ status: "draft" });
      const booking = created.body;
      await settled(booking.id, (b) => b.status === 'confirmed');
      const auth = by === 'organizer' ? { token } : { bookingToken: booking.manageToken };
      const first = await twins('POST', `/bookings/${booking.id}/cancel`, { ...auth, key: `cancel-${by}`, body: { reason: 'twins' } });
      expect(first.body.status).toBe('cancelled');
      expect((await historyOf(booking.id)).filter((type: string) => type === 'booking.cancelled')).toHaveLength(1);
    }
  });

  it('reschedule: one booking.rescheduled, the claim moved once', async () => {
    const booking = (await call('POST', '/bookings', { body: { eventTypeId, start: futureSlot(4).toISOString(), attendee } })).body;
    await settled(booking.id, (b) => b.status === 'confirmed');
    const to = futureSlot(5).toISOString();
    const first = await twins('POST', `/bookings/${booking.id}/reschedule`, { token, key: 'move-once', body: { start: to } });
    expect(first.body).toMatchObject({ status: 'confirmed', start: to });
    expect((await historyOf(booking.id)).filter((type: string) => type === 'booking.rescheduled')).toHaveLength(1);
    // The old time is free again and the new one held by exactly this booking.
    expect((await call('POST', '/bookings', { body: { eventTypeId, start: futureSlot(4).toISOString(), attendee } })).status).toBe(202);
    expect((await call('POST', '/bookings', { body: { eventTypeId, start: to, attendee } })).status).toBe(409);
  });

  it('confirm and reject: one booking.confirmed, one booking.rejected', async () => {
    const toConfirm = (await call('POST', '/bookings', { body: { eventTypeId: vettedId, start: futureSlot(6).toISOString(), attendee } })).body;
    const toReject = (await call('POST', '/bookings', { body: { eventTypeId: vettedId, start: futureSlot(7).toISOString(), attendee } })).body;
    for (const booking of [toConfirm, toReject]) await settled(booking.id, (b) => b.awaiting === 'confirmation');
    expect((await twins('POST', `/bookings/${toConfirm.id}/confirm`, { token, key: 'confirm-once' })).body.status).toBe('confirmed');
    expect((await twins('POST', `/bookings/${toReject.id}/reject`, { token, key: 'reject-once', body: { reason: 'no' } })).body.status).toBe('cancelled');
    expect((await historyOf(toConfirm.id)).filter((type: string) => type === 'booking.confirmed')).toHaveLength(1);
    expect((await historyOf(toReject.id)).filter((type: string) => type === 'booking.rejected')).toHaveLength(1);
  });

  it('membership: one invitation, one acceptance, one team, one removal', async () => {
    const admin = await stack.issuer.sign('retry-admin');
    const invitee = await stack.issuer.sign('retry-invitee');
    const org = (await call('POST', '/organizations', { token: admin, body: { name: 'Twins Inc' } })).body;
    const store = new EventStore(DynamoDBDocumentClient.from(new DynamoDBClient({ ...localAwsConfig, endpoint: inject('dynamoEndpoint') })), process.env.EVENTS_TABLE!);
    const eventsOf = async (id: string) => (await store.load(id)).map((e) => e.type);
    await twins('POST', `/organizations/${org.id}/invitations`, { token: admin, key: 'invite-once', body: { userId: 'retry-invitee' } });
    expect((await twins('POST', `/organizations/${org.id}/invitations/accept`, { token: invitee, key: 'accept-once' })).body.members).toMatchObject({ 'retry-invitee': 'member' });
    const team = await twins('POST', `/organizations/${org.id}/teams`, { token: admin, key: 'team-once', body: { name: 'Pair', memberIds: ['retry-invitee'] } });
    await twins('DELETE', `/teams/${team.body.id}/members/retry-invitee`, { token: admin, key: 'remove-once' });
    const history = await eventsOf(org.id);
    expect(history.filter((type: string) => type === 'organization.member.invited')).toHaveLength(1);
    expect(history.filter((type: string) => type === 'organization.member.added')).toHaveLength(2); // the creator, then the invitee
    expect((await eventsOf(team.body.id)).filter((type: string) => type === 'team.created')).toHaveLength(1);
    expect((await eventsOf(team.body.id)).filter((type: string) => type === 'team.member.removed')).toHaveLength(1);
  });

  it('the same key with another body is refused, even while the first is being answered', async () => {
    const start = futureSlot(8).toISOString();
    const answers = await Promise.all([
      call('POST', '/bookings', { key: 'one-key-two-bodies-0001', body: { eventTypeId, start, attendee } }),
      call('POST', '/bookings', { key: 'one-key-two-bodies-0001', body: { eventTypeId, start, attendee: { ...attendee, name: 'Someone else' } } }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 422]);
  });
});

describe('concurrent changes without a key', () => {
  it('two PATCHes of one event type at once both land in its view, and a slug given up is free again', async () => {
    const created = (await call('POST', '/event-types', { token, body: { title: 'Moving', slug: 'moving', lengthMinutes: 30 } })).body;
    const answers = await Promise.all([
      call('PATCH', `/event-types/${created.id}`, { token, body: { description: 'now with notes' } }),
      call('PATCH', `/event-types/${created.id}`, { token, body: { bufferAfterMinutes: 15 } }),
      call('PATCH', `/event-types/${created.id}`, { token, body: { slug: 'moved' } }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const view = (await call('GET', `/event-types/${created.id}`, { token })).body;
    expect(view).toMatchObject({ description: 'now with notes', bufferAfterMinutes: 15, slug: 'moved', createdAt: created.createdAt });
    // The old slug was released in the same transaction that claimed the new one.
    expect((await call('POST', '/event-types', { token, body: { title: 'Reuse', slug: 'moving', lengthMinutes: 30 } })).status).toBe(201);
    expect((await call('POST', '/event-types', { token, body: { title: 'Clash', slug: 'moved', lengthMinutes: 30 } })).body.type).toBe('/problems/slug-taken');
  });
});

describe('a default schedule', () => {
  it('is one per user: making another the default switches the old one off, and it can be switched back', async () => {
    const me = await stack.issuer.sign('default-switcher');
    const body = (name: string) => ({ name, timeZone: 'Europe/Berlin', weekly: [{ day: 'tue', start: '09:00', end: '17:00' }] });
    const first = (await call('POST', '/schedules', { token: me, body: body('First') })).body;
    expect(first.isDefault).toBe(true);
    const second = (await call('POST', '/schedules', { token: me, body: { ...body('Second'), isDefault: true } })).body;
    expect(second.isDefault).toBe(true);
    const defaults = async () => (await call('GET', '/schedules', { token: me })).body.schedules.filter((s: any) => s.isDefault).map((s: any) => s.name);
    expect(await defaults()).toEqual(['Second']);
    expect((await call('PATCH', `/schedules/${first.id}`, { token: me, body: { isDefault: true } })).body.isDefault).toBe(true);
    expect(await defaults()).toEqual(['First']);
    expect((await call('GET', `/schedules/${second.id}`, { token: me })).body.isDefault).toBe(false);
    expect((await call('PATCH', `/schedules/${first.id}`, { token: me, body: { isDefault: false } })).body.isDefault).toBe(false);
    expect(await defaults()).toEqual([]);
  });
});

describe('the Authorization header', () => {
  it('must name the Bearer scheme', async () => {
    const bare = await fetch(`${stack.httpUrl}/event-types`, { headers: { authorization: token } });
    expect(bare.status).toBe(401);
    expect(bare.headers.get('content-type')).toBe('application/problem+json');
    expect(((await bare.json()) as any).detail).toContain('Bearer');
    expect((await fetch(`${stack.httpUrl}/event-types`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${stack.httpUrl}/event-types`, { headers: { authorization: `bearer ${token}` } })).status).toBe(200);
  });
});
