// The calendar sync engine end to end on the local stack, with the schedule shortened to 5 seconds
// (SYNC_PERIOD_SECONDS): nobody calls a sync. An event put into a connected CalDAV calendar (real Radicale, a
// plain CalDAV client) leaves GET /slots by the schedule alone, and comes back when deleted; an external event
// over a booking is a calendar.conflict.detected that reaches the organizer's WebSocket and GET
// /calendars/conflicts; cancelling the booking resolves it. The booking's own event is never a conflict. A
// booking's event moved by hand in the calendar is reported to the organizer (calendar.event.drifted) once, and
// left where he moved it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCaldavServer, type CaldavServer } from '../../infra/local/caldav-server.ts';
import { connect, futureSlot, startTestStack, type LiveSocket, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let dav: CaldavServer;
let davDir: string;
let socket: LiveSocket;
let otherSocket: LiveSocket;
const login = { username: 'sync-ann', password: 'ann-sync-secret' };
const tokens = { ann: '', olga: '' };
let eventTypeId: string;
let connectionId: string;
let calendarUrl: string;
const attendee = { name: 'Grace Hopper', email: 'grace@example.com', timeZone: 'UTC' };
const day = futureSlot(4, -10); // 00:00 UTC of a weekday ahead: its hours are 09:00-17:00
const hour = (h: number) => new Date(day.getTime() + h * 3_600_000);

async function call(method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(stack.httpUrl + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
}

/** Polls until `done`; bounded by a count of tries, each a real read. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, tries = 600): Promise<T> {
  let value = await read();
  for (let i = 0; i < tries && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

const basic = `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`;
const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
const ics = (uid: string, start: Date, end: Date) =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//sync//EN', 'BEGIN:VEVENT', `UID:${uid}`, `DTSTAMP:${stamp(new Date())}`, `DTSTART:${stamp(start)}`, `DTEND:${stamp(end)}`, 'SUMMARY:Dentist', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
const putEvent = (name: string, start: Date, end: Date) => fetch(`${calendarUrl}${name}.ics`, { method: 'PUT', headers: { authorization: basic, 'content-type': 'text/calendar' }, body: ics(`${name}-${randomUUID()}`, start, end) });
const deleteEvent = (name: string) => fetch(`${calendarUrl}${name}.ics`, { method: 'DELETE', headers: { authorization: basic } });

const slotStarts = async () => {
  const date = day.toISOString().slice(0, 10);
  const slots = await call('GET', `/slots?eventTypeId=${eventTypeId}&start=${date}&end=${date}&timeZone=UTC`);
  expect(slots.status).toBe(200);
  return ((slots.body.slots[date] ?? []) as Array<{ start: string } | string>).map((slot) => new Date(typeof slot === 'string' ? slot : slot.start).toISOString());
};

beforeAll(async () => {
  // Read by the local runtime when it starts: the template's 5-minute schedule runs every 5 seconds here.
  process.env.SYNC_PERIOD_SECONDS = '5';
  davDir = mkdtempSync(join(tmpdir(), 'calendar-sync-e2e-dav-'));
  [stack, dav] = await Promise.all([startTestStack(), startCaldavServer({ dataDir: davDir, users: { [login.username]: login.password } })]);
  process.env.CALDAV_ALLOW_LOOPBACK = 'true';
  tokens.ann = await stack.issuer.sign('sync-ann');
  tokens.olga = await stack.issuer.sign('sync-olga');
  for (const [who, token] of Object.entries(tokens)) expect((await call('POST', '/users/me', token, { name: who, email: `${who}@example.com`, timeZone: 'UTC' })).status).toBe(201);
  const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => ({ day: d, start: '09:00', end: '17:00' }));
  const schedule = await call('POST', '/schedules', tokens.ann, { name: 'Hours', timeZone: 'UTC', weekly: weekdays });
  expect(schedule.status).toBe(201);
  const eventType = await call('POST', '/event-types', tokens.ann, { title: 'Intro', slug: 'sync-intro', lengthMinutes: 30, scheduleId: schedule.body.id });
  expect(eventType.status).toBe(201);
  eventTypeId = eventType.body.id;
  socket = await connect(`${stack.wsUrl}/?token=${tokens.ann}`);
  otherSocket = await connect(`${stack.wsUrl}/?token=${tokens.olga}`);
  const made = await call('POST', '/calendars/connections', tokens.ann, { provider: 'caldav', serverUrl: dav.url, username: login.username, password: login.password });
  expect(made.status, made.text).toBe(201);
  connectionId = made.body.id;
  calendarUrl = made.body.calendars[0].id;
  const synced = await until(() => call('GET', `/calendars/connections/${connectionId}`, tokens.ann), (r) => r.body.sync.state === 'ok');
  expect(synced.body.sync.state).toBe('ok');
}, 180_000);

afterAll(async () => {
  socket?.close();
  otherSocket?.close();
  await stack?.stop();
  await dav?.close();
  rmSync(davDir, { recursive: true, force: true });
  delete process.env.SYNC_PERIOD_SECONDS;
});

describe('calendar sync by schedule', () => {
  it('runs the template\'s sync schedule at the local period, and says when the next run is', async () => {
    expect(stack.scheduler.schedules.find((s) => s.functionId.startsWith('CalendarSyncDispatchFunction'))?.everyMs).toBe(5_000);
    const connection = await call('GET', `/calendars/connections/${connectionId}`, tokens.ann);
    const next = Date.parse(connection.body.sync.nextRunAt);
    expect(next - Date.parse(connection.body.sync.lastSuccessAt)).toBeLessThanOrEqual(5_000);
  });

  it('an unchanged calendar costs one request per scheduled read', async () => {
    const first = (await call('GET', `/calendars/connections/${connectionId}`, tokens.ann)).body.sync.lastSuccessAt;
    // Two scheduled reads later, with nothing changed in the calendar.
    let runs = 0;
    let seen = first;
    const after = await until(() => call('GET', `/calendars/connections/${connectionId}`, tokens.ann), (r) => {
      if (r.body.sync.lastSuccessAt !== seen) [runs, seen] = [runs + 1, r.body.sync.lastSuccessAt];
      return runs >= 2;
    });
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(after.body.sync).toMatchObject({ state: 'ok', counts: { requests: 1, failures: 0 } });
  });

  it('an event put into the calendar leaves GET /slots with no API call, and comes back when deleted', async () => {
    expect(await slotStarts()).toContain(hour(10).toISOString());
    expect((await putEvent('dentist', hour(10), hour(11))).status).toBe(201);
    const without = await until(slotStarts, (starts) => !starts.includes(hour(10).toISOString()));
    expect(without).not.toContain(hour(10).toISOString());
    expect(without).not.toContain(hour(10.5).toISOString());
    expect(without).toContain(hour(11).toISOString());
    expect((await deleteEvent('dentist')).status).toBeLessThan(300);
    const back = await until(slotStarts, (starts) => starts.includes(hour(10).toISOString()));
    expect(back).toContain(hour(10).toISOString());
  });

  it('an external event over a booking is a conflict the organizer hears of and lists; cancelling resolves it', async () => {
    const made = await call('POST', '/bookings', undefined, { eventTypeId, start: hour(13).toISOString(), attendee });
    expect(made.status, made.text).toBe(202);
    const bookingId = made.body.id as string;
    await socket.next((m) => m.data?.type === 'booking.confirmed' && m.data.aggregateId === bookingId);
    // Its own event, written into the calendar, is read back by the schedule and is no conflict.
    await until(() => call('GET', `/calendars/connections/${connectionId}`, tokens.ann), (r) => r.body.sync.state === 'ok' && Date.parse(r.body.sync.lastSuccessAt) > Date.now() - 5_000);

    expect((await putEvent('school-run', hour(13.25), hour(14))).status).toBe(201);
    const detected = await socket.next((m) => m.data?.type === 'calendar.conflict.detected' && m.data.payload.bookingId === bookingId);
    expect(detected.data.payload).toMatchObject({ userId: 'sync-ann', connectionId, calendarId: calendarUrl, severity: 'high', overlap: { start: hour(13.25).toISOString(), end: hour(13.5).toISOString() } });
    const listed = await call('GET', '/calendars/conflicts', tokens.ann);
    expect(listed.status).toBe(200);
    expect(listed.body.conflicts).toEqual([
      expect.objectContaining({ conflictId: detected.data.payload.conflictId, status: 'open', severity: 'high', booking: { id: bookingId, start: hour(13).toISOString(), end: hour(13.5).toISOString() }, external: expect.objectContaining({ connectionId }) }),
    ]);
    // Nobody else sees it.
    expect((await call('GET', '/calendars/conflicts', tokens.olga)).body.conflicts).toEqual([]);
    expect(otherSocket.messages.filter((m) => m.data?.type?.startsWith('calendar.conflict'))).toEqual([]);

    const cancelled = await call('POST', `/bookings/${bookingId}/cancel`, undefined, {}, { 'x-booking-token': made.body.manageToken });
    expect(cancelled.status, cancelled.text).toBe(200);
    const resolved = await socket.next((m) => m.data?.type === 'calendar.conflict.resolved' && m.data.payload.conflictId === detected.data.payload.conflictId);
    expect(resolved.data.payload).toMatchObject({ bookingId, reason: 'booking_cancelled' });
    expect((await call('GET', '/calendars/conflicts?status=open', tokens.ann)).body.conflicts).toEqual([]);
    expect((await call('GET', '/calendars/conflicts?status=resolved', tokens.ann)).body.conflicts).toEqual([expect.objectContaining({ status: 'resolved', resolution: 'booking_cancelled' })]);
    expect((await call('GET', '/calendars/conflicts?status=maybe', tokens.ann)).status).toBe(400);
    // Detected once, resolved once, however many syncs ran meanwhile.
    expect(socket.messages.filter((m) => m.data?.type === 'calendar.conflict.detected')).toHaveLength(1);
    expect(socket.messages.filter((m) => m.data?.type === 'calendar.conflict.resolved')).toHaveLength(1);
  });

  it('a booking\'s event moved by hand in the calendar reaches the organizer as calendar.event.drifted, once, and stays where he put it', async () => {
    const made = await call('POST', '/bookings', undefined, { eventTypeId, start: hour(15).toISOString(), attendee });
    expect(made.status, made.text).toBe(202);
    const bookingId = made.body.id as string;
    await socket.next((m) => m.data?.type === 'calendar.event.created' && m.data.payload.bookingId === bookingId);
    // What a calendar client does: read the object, change its times, write it back.
    const objectUrl = `${calendarUrl}booking-${encodeURIComponent(bookingId)}.ics`;
    const text = await (await fetch(objectUrl, { headers: { authorization: basic } })).text();
    const at = text.indexOf('BEGIN:VEVENT');
    const moved = text.slice(0, at) + text.slice(at).replace(/^DTSTART[^:\r\n]*:[^\r\n]*$/m, `DTSTART:${stamp(hour(16))}`).replace(/^DTEND[^:\r\n]*:[^\r\n]*$/m, `DTEND:${stamp(hour(16.5))}`);
    expect((await fetch(objectUrl, { method: 'PUT', headers: { authorization: basic, 'content-type': 'text/calendar' }, body: moved })).status).toBeLessThan(300);

    const drifted = await socket.next((m) => m.data?.type === 'calendar.event.drifted' && m.data.payload.bookingId === bookingId);
    expect(drifted.data.payload).toMatchObject({ userId: 'sync-ann', connectionId, calendarId: calendarUrl, kind: 'moved', expected: { start: hour(15).toISOString(), end: hour(15.5).toISOString() }, found: { start: hour(16).toISOString(), end: hour(16.5).toISOString() } });
    // Two scheduled reads later: not reported again, not written over, counted on the connection.
    let runs = 0;
    let seen = (await call('GET', `/calendars/connections/${connectionId}`, tokens.ann)).body.sync.lastSuccessAt;
    const after = await until(() => call('GET', `/calendars/connections/${connectionId}`, tokens.ann), (r) => {
      if (r.body.sync.lastSuccessAt !== seen) [runs, seen] = [runs + 1, r.body.sync.lastSuccessAt];
      return runs >= 2;
    });
    expect(after.body.sync.counts).toMatchObject({ drifted: 1 });
    expect(socket.messages.filter((m) => m.data?.type === 'calendar.event.drifted')).toHaveLength(1);
    expect(otherSocket.messages.filter((m) => m.data?.type === 'calendar.event.drifted')).toEqual([]);
    expect(await (await fetch(objectUrl, { headers: { authorization: basic } })).text()).toContain(`DTSTART:${stamp(hour(16))}`);
  });
});
