// GET /bookings/{id}?version=N: the booking as it was after event N, folded from its events, for the
// organizer and the attendee; a version the stream does not have is a 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let token: string;
let eventTypeId: string;

const api = (path: string, init: RequestInit & { json?: unknown; auth?: string } = {}) =>
  fetch(stack.httpUrl + path, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.auth ? { authorization: `Bearer ${init.auth}` } : {}), ...(init.headers as Record<string, string>) },
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
  });

beforeAll(async () => {
  stack = await startTestStack();
  token = await stack.issuer.sign('time-traveller');
  const response = await api('/event-types', { method: 'POST', auth: token, json: { title: 'Travel', slug: 'travel', lengthMinutes: 30 } });
  eventTypeId = ((await response.json()) as any).id;
});
afterAll(async () => stack?.stop());

describe('time travel', () => {
  it('steps through a booking\'s versions as organizer and attendee', async () => {
    const socket = await connect(`${stack.wsUrl}/?token=${token}`);
    const start = futureSlot(2);
    const booking = (await (await api('/bookings', { method: 'POST', headers: { 'idempotency-key': crypto.randomUUID() }, json: { eventTypeId, start: start.toISOString(), attendee: { name: 'Tim', email: 'tim@example.com', timeZone: 'UTC' } } })).json()) as any;
    await socket.next((m) => m.data?.aggregateId === booking.id && m.data.type === 'booking.confirmed');
    const later = futureSlot(2, 2).toISOString();
    expect((await api(`/bookings/${booking.id}/reschedule`, { method: 'POST', auth: token, json: { start: later } })).status).toBe(200);
    expect((await api(`/bookings/${booking.id}/cancel`, { method: 'POST', auth: token, json: { reason: 'done' } })).status).toBe(200);
    socket.close();

    const at = async (version: number, init: { auth?: string; headers?: Record<string, string> } = { auth: token }) => {
      const response = await api(`/bookings/${booking.id}?version=${version}`, init);
      return { status: response.status, body: (await response.json()) as any };
    };
    expect((await at(1)).body).toMatchObject({ status: 'draft', version: 1, start: start.toISOString() });
    expect((await at(3)).body).toMatchObject({ status: 'confirmed', version: 3, start: start.toISOString() });
    const { events } = (await (await api(`/bookings/${booking.id}/events`, { auth: token })).json()) as any;
    const versionOf = (type: string) => events.find((e: any) => e.type === type).version;
    expect((await at(versionOf('booking.rescheduled'))).body).toMatchObject({ status: 'rescheduled', start: later });
    const now = (await (await api(`/bookings/${booking.id}`, { auth: token })).json()) as any;
    expect(now.status).toBe('cancelled');
    expect((await at(events.length)).body).toEqual(now);
    expect((await at(2, { headers: { 'x-booking-token': booking.manageToken } })).body).toMatchObject({ version: 2, status: 'draft' });

    const missing = await at(events.length + 1);
    expect(missing.status).toBe(404);
    expect(missing.body.type).toBe('/problems/not-found');
    expect((await at(0)).status).toBe(400);
    expect((await api(`/bookings/${booking.id}?version=2`)).status).toBe(401);
  });
});
