// Real time without gaps on the local stack: every pushed message carries its listener's next position, and a
// client that reconnects with ?after= is sent exactly what it missed, in order, then live messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, futureSlot, startTestStack, type LiveSocket, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let token: string;
let eventTypeId: string;
const organizer = 'resume-organizer';

const api = (path: string, init: RequestInit & { json?: unknown; auth?: string } = {}) =>
  fetch(stack.httpUrl + path, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.auth ? { authorization: `Bearer ${init.auth}` } : {}), ...(init.headers as Record<string, string>) },
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
  });

const book = async (slot: number) =>
  (await (await api('/bookings', { method: 'POST', headers: { 'idempotency-key': crypto.randomUUID() }, json: { eventTypeId, start: futureSlot(slot).toISOString(), attendee: { name: 'Rae', email: 'rae@example.com', timeZone: 'UTC' } } })).json()) as any;

const events = (socket: LiveSocket) => socket.messages.filter((m) => m.type === 'event');
const untilPosition = (socket: LiveSocket, position: number) => socket.next((m) => m.type === 'event' && m.position === position);

beforeAll(async () => {
  stack = await startTestStack();
  token = await stack.issuer.sign(organizer);
  eventTypeId = ((await (await api('/event-types', { method: 'POST', auth: token, json: { title: 'Resume', slug: 'resume', lengthMinutes: 30 } })).json()) as any).id;
});
afterAll(async () => stack?.stop());

describe('positions and resume', () => {
  it("an organizer hears of their webhooks' changes on the same feed, positions running on", async () => {
    const socket = await connect(`${stack.wsUrl}/?token=${token}`);
    const created = await api('/webhooks', { method: 'POST', auth: token, headers: { 'idempotency-key': crypto.randomUUID() }, json: { url: 'http://127.0.0.1:9/hook' } });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as any;
    const first = await socket.next((m) => m.data?.aggregateId === id && m.data.type === 'webhook.created');
    expect(first.data.payload).not.toHaveProperty('secret');
    expect((await api(`/webhooks/${id}`, { method: 'DELETE', auth: token, headers: { 'idempotency-key': crypto.randomUUID() } })).status).toBe(204);
    const deleted = await socket.next((m) => m.data?.aggregateId === id && m.data.type === 'webhook.deleted');
    expect(deleted.position).toBe(first.position + 1);
    // Another organizer hears nothing of it.
    const stranger = await connect(`${stack.wsUrl}/?token=${await stack.issuer.sign('resume-stranger')}`);
    const resumed = stranger.next((m) => m.type === 'resumed' || m.type === 'reset');
    stranger.send({ action: 'resume', after: 0 });
    expect(await resumed).toMatchObject({ type: 'resumed', head: 0 });
    expect(events(stranger)).toEqual([]);
    socket.close();
    stranger.close();
  });

  it('an organizer who reconnects with ?after= gets exactly the missed messages, in order, then live ones, none twice', async () => {
    const first = await connect(`${stack.wsUrl}/?token=${token}`);
    const booking = await book(1);
    await first.next((m) => m.data?.aggregateId === booking.id && m.data.type === 'booking.confirmed');
    // Positions run on with no gap (the event type's own event took an earlier one).
    const seen = events(first).map((m) => m.position).sort((a, b) => a - b);
    expect(seen).toEqual(seen.map((_, i) => seen[0] + i));
    const last = seen.at(-1)!;
    first.close();

    // Missed while away: a cancel, and a new booking through its workflow.
    expect((await api(`/bookings/${booking.id}/cancel`, { method: 'POST', auth: token, json: {} })).status).toBe(200);
    const second = await book(2);
    const audit = await connect(`${stack.wsUrl}/?token=${token}`);
    await audit.next((m) => m.data?.aggregateId === second.id && m.data.type === 'booking.confirmed');
    const missedCount = events(audit).at(-1)!.position - last;
    audit.close();

    const resumed = await connect(`${stack.wsUrl}/?token=${token}&after=${last}`);
    const live = resumed.next((m) => m.type === 'resumed');
    resumed.send({ action: 'resume' });
    const marker = await live;
    const replayed = events(resumed).filter((m) => m.position <= marker.position);
    expect(replayed.map((m) => m.position)).toEqual(Array.from({ length: missedCount }, (_, i) => last + 1 + i));
    // Positions follow the order of pushing; within one booking that is the order of its versions.
    const named = replayed.map((m) => `${m.data.aggregateId === booking.id ? 'first' : 'second'}:${m.data.version}:${m.data.type}`);
    expect(named.filter((name) => name.startsWith('second'))).toEqual(['second:1:booking.requested', 'second:2:booking.created', 'second:3:booking.confirmed']);
    expect(named.filter((name) => name.startsWith('first'))).toEqual(['first:4:booking.cancelled']);
    // Then live: the next message takes the next position.
    expect((await api(`/bookings/${second.id}/cancel`, { method: 'POST', auth: token, json: {} })).status).toBe(200);
    const next = await untilPosition(resumed, marker.position + 1);
    expect(next.data).toMatchObject({ aggregateId: second.id, type: 'booking.cancelled' });
    const ids = events(resumed).map((m) => m.data.id);
    expect(new Set(ids).size).toBe(ids.length);
    resumed.close();
  });

  it('an attendee watching their booking resumes too; a position too old or unknown is answered with reset', async () => {
    const booking = await book(3);
    const watch = `${stack.wsUrl}/?booking=${booking.id}&bookingToken=${booking.manageToken}`;
    const first = await connect(watch);
    // The attendee's feed is the booking's alone, so its positions are the booking's versions here.
    await first.next((m) => m.data?.type === 'booking.confirmed');
    first.close();
    expect((await api(`/bookings/${booking.id}/cancel`, { method: 'POST', headers: { 'x-booking-token': booking.manageToken }, json: {} })).status).toBe(200);
    // The cancel is pushed to the attendee's feed shortly; wait for it through the organizer's socket.
    const organizerSocket = await connect(`${stack.wsUrl}/?token=${token}&after=0`);
    organizerSocket.send({ action: 'resume' });
    await organizerSocket.next((m) => m.data?.aggregateId === booking.id && m.data.type === 'booking.cancelled');
    organizerSocket.close();

    const resumed = await connect(`${watch}&after=3`);
    resumed.send({ action: 'resume' });
    const marker = await resumed.next((m) => m.type === 'resumed');
    expect(events(resumed).map((m) => [m.position, m.data.type])).toEqual([[4, 'booking.cancelled']]);
    expect(marker).toMatchObject({ position: 4, head: 4 });
    resumed.send({ action: 'resume', after: 99 });
    expect(await resumed.next((m) => m.type === 'reset')).toEqual({ type: 'reset', position: 4 });
    resumed.close();
    await expect(connect(`${watch}&after=minus-one`)).rejects.toThrow('400');
  });
});
