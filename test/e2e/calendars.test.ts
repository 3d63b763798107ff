// The calendars slice end to end on the local stack: a CalDAV calendar on a real Radicale, connected over HTTP;
// an event put into it by a plain CalDAV client (fetch) blocks its slots after a sync; a booking is written into
// the destination calendar once, moved with its reschedule and removed with its cancellation. Then the Google
// and Microsoft OAuth round trips against the local servers, by following redirects, and a write made twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { startCaldavServer, type CaldavServer } from '../../infra/local/caldav-server.ts';
import type { LocalGoogle } from '../../infra/local/google-calendar.ts';
import type { LocalGraph } from '../../infra/local/microsoft-graph.ts';
import { reportPersistentFailure } from '../../shared/calendar-sync/sync-notices.ts';
import { syncAggregateIdOf } from '../../shared/calendar-sync/ids.ts';
import { readSyncState, writeSyncState } from '../../shared/calendars/store.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { connect, futureSlot, startTestStack, type LiveSocket, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let dav: CaldavServer;
let davDir: string;
const login = { username: 'cal-ann', password: 'ann-dav-secret' };
const otherLogin = { username: 'cal-olga', password: 'olga-dav-secret' };
const tokens: Record<'ann' | 'olga', string> = { ann: '', olga: '' };
let eventTypeId: string;
const attendee = { name: 'Grace Hopper', email: 'grace@example.com', timeZone: 'UTC' };

async function call(method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(stack.httpUrl + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: 'manual',
  });
  const text = await response.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, tries = 300): Promise<T> {
  let value = await read();
  for (let i = 0; i < tries && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

const basic = (who: { username: string; password: string }) => `Basic ${Buffer.from(`${who.username}:${who.password}`).toString('base64')}`;

/** The mails aws-ses-v2-local holds for an address (the local SES the notifications subscriber sends through). */
const storedMails = async (to: string) =>
  ((await (await fetch(`${stack.sesUrl}/store`)).json()) as { emails: Array<{ destination: { to: string[] }; subject: string; body: { text?: string; html?: string } }> }).emails.filter((m) => m.destination.to.some((d) => d.includes(to)));

/** Every VEVENT object of the calendar, read straight from Radicale (PROPFIND, then GET each). */
async function objectsIn(calendarUrl: string): Promise<Array<{ href: string; ics: string }>> {
  const listing = await fetch(calendarUrl, { method: 'PROPFIND', headers: { authorization: basic(login), depth: '1', 'content-type': 'application/xml' }, body: '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>' });
  const xml = await listing.text();
  const hrefs = [...xml.matchAll(/<(?:\w+:)?href>([^<]+\.ics)<\/(?:\w+:)?href>/g)].map((m) => m[1]!);
  return Promise.all(hrefs.map(async (href) => ({ href, ics: await (await fetch(new URL(href, calendarUrl), { headers: { authorization: basic(login) } })).text() })));
}

function ics(uid: string, start: Date, end: Date): string {
  const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//e2e//EN', 'BEGIN:VEVENT', `UID:${uid}`, `DTSTAMP:${stamp(new Date())}`, `DTSTART:${stamp(start)}`, `DTEND:${stamp(end)}`, 'SUMMARY:Dentist', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

const slotStarts = async (day: Date) => {
  const date = day.toISOString().slice(0, 10);
  const slots = await call('GET', `/slots?eventTypeId=${eventTypeId}&start=${date}&end=${date}&timeZone=UTC`);
  expect(slots.status).toBe(200);
  return ((slots.body.slots[date] ?? []) as Array<{ start: string } | string>).map((slot) => (typeof slot === 'string' ? slot : slot.start)).map((s) => new Date(s).toISOString());
};

beforeAll(async () => {
  davDir = mkdtempSync(join(tmpdir(), 'calendars-e2e-dav-'));
  [stack, dav] = await Promise.all([startTestStack(), startCaldavServer({ dataDir: davDir, users: { [login.username]: login.password, [otherLogin.username]: otherLogin.password } })]);
  tokens.ann = await stack.issuer.sign('cal-ann');
  tokens.olga = await stack.issuer.sign('cal-olga');
  for (const [who, token] of Object.entries(tokens)) expect((await call('POST', '/users/me', token, { name: who, email: `${who}@example.com`, timeZone: 'UTC' })).status).toBe(201);
  const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ day, start: '09:00', end: '17:00' }));
  const schedule = await call('POST', '/schedules', tokens.ann, { name: 'Hours', timeZone: 'UTC', weekly: weekdays });
  expect(schedule.status).toBe(201);
  const eventType = await call('POST', '/event-types', tokens.ann, { title: 'Intro', slug: 'cal-intro', lengthMinutes: 30, scheduleId: schedule.body.id });
  expect(eventType.status).toBe(201);
  eventTypeId = eventType.body.id;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await dav?.close();
  rmSync(davDir, { recursive: true, force: true });
});

describe('CalDAV, end to end', () => {
  let connectionId: string;
  let calendarUrl: string;
  const day = futureSlot(3, -10); // 00:00 UTC of a weekday ahead: its hours are 09:00-17:00

  it('a wrong password is a 422 naming password, and nothing is recorded', async () => {
    const refused = await call('POST', '/calendars/connections', tokens.ann, { provider: 'caldav', serverUrl: dav.url, username: login.username, password: 'wrong' });
    expect(refused.status).toBe(422);
    expect(refused.body.errors.map((e: any) => e.path)).toEqual(['password']);
    expect((await call('GET', '/calendars/connections', tokens.ann)).body.connections).toEqual([]);
  });

  it('bad input is a 400 with field paths', async () => {
    const bad = await call('POST', '/calendars/connections', tokens.ann, { provider: 'caldav', serverUrl: 'not a url', username: '', password: 'x', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.path).sort()).toEqual(['extra', 'serverUrl', 'username']);
  });

  it('connects with the right login: the primary calendar is busy-checked and the destination, credentials never shown', async () => {
    const made = await call('POST', '/calendars/connections', tokens.ann, { provider: 'caldav', serverUrl: dav.url, username: login.username, password: login.password });
    expect(made.status, made.text).toBe(201);
    expect(made.text).not.toContain(login.password);
    connectionId = made.body.id;
    expect(made.body).toMatchObject({ provider: 'caldav', status: 'connected' });
    expect(made.body.calendars).toHaveLength(1);
    expect(made.body.calendars[0]).toMatchObject({ busy: true, destination: true, writable: true });
    calendarUrl = made.body.calendars[0].id;
    // Its first read runs on its own.
    const synced = await until(() => call('GET', `/calendars/connections/${connectionId}`, tokens.ann), (r) => r.body.sync.state === 'ok');
    expect(synced.body.sync).toMatchObject({ state: 'ok', lastError: null });
    expect(synced.body.sync.lastSuccessAt).toEqual(expect.any(String));
    expect(synced.text).not.toContain(login.password);
  });

  it('an event put into the calendar by a plain CalDAV client leaves GET /slots after a sync', async () => {
    const start = new Date(day.getTime() + 10 * 3_600_000);
    expect(await slotStarts(day)).toContain(start.toISOString());
    const put = await fetch(`${calendarUrl}dentist.ics`, { method: 'PUT', headers: { authorization: basic(login), 'content-type': 'text/calendar' }, body: ics(`dentist-${randomUUID()}`, start, new Date(start.getTime() + 3_600_000)) });
    expect(put.status).toBe(201);
    const before = (await call('GET', `/calendars/connections/${connectionId}`, tokens.ann)).body.sync.lastSuccessAt;
    const asked = await call('POST', `/calendars/connections/${connectionId}/sync`, tokens.ann);
    expect(asked.status).toBe(202);
    await until(() => call('GET', `/calendars/connections/${connectionId}`, tokens.ann), (r) => r.body.sync.state === 'ok' && r.body.sync.lastSuccessAt !== before);
    const starts = await slotStarts(day);
    for (const taken of [10, 10.5]) expect(starts).not.toContain(new Date(day.getTime() + taken * 3_600_000).toISOString());
    expect(starts).toContain(new Date(day.getTime() + 11 * 3_600_000).toISOString());
    expect(starts).toContain(new Date(day.getTime() + 9.5 * 3_600_000).toISOString());
  });

  it('a booking appears once in the destination calendar, moves with its reschedule and goes with its cancellation', async () => {
    const start = new Date(day.getTime() + 13 * 3_600_000);
    const made = await call('POST', '/bookings', undefined, { eventTypeId, start: start.toISOString(), attendee });
    expect(made.status, made.text).toBe(202);
    const bookingId = made.body.id as string;
    const uid = `booking-${bookingId}@booking-engine`;
    const mine = async () => (await objectsIn(calendarUrl)).filter((o) => o.ics.includes(uid));
    const written = await until(mine, (objects) => objects.length > 0);
    expect(written).toHaveLength(1);
    expect(written[0]!.ics.match(/BEGIN:VEVENT/g)).toHaveLength(1);
    expect(written[0]!.ics).toContain(attendee.email);
    expect(written[0]!.ics).toContain(`/bookings/${bookingId}`);
    // The booking's own event is not busy time of its own: after a sync its slot is still only the booking's.
    const connection = await until(() => call('GET', `/calendars/connections/${connectionId}`, tokens.ann), (r) => r.body.sync.state === 'ok');
    expect(connection.body.sync.lastError).toBeNull();

    const moved = new Date(day.getTime() + 15 * 3_600_000);
    const rescheduled = await call('POST', `/bookings/${bookingId}/reschedule`, undefined, { start: moved.toISOString() }, { 'x-booking-token': made.body.manageToken });
    expect(rescheduled.status, rescheduled.text).toBe(200);
    const stampOf = (d: Date) => d.toISOString().replace(/[-:]/g, '').slice(0, 13);
    const after = await until(mine, (objects) => objects.length === 1 && objects[0]!.ics.includes(stampOf(moved).slice(9, 13)) && !objects[0]!.ics.match(new RegExp(`DTSTART[^\\n]*T${stampOf(start).slice(9, 13)}`)));
    expect(after).toHaveLength(1);
    expect(after[0]!.href).toBe(written[0]!.href);
    expect(after[0]!.ics).toMatch(/SEQUENCE:[1-9]/);

    const cancelled = await call('POST', `/bookings/${bookingId}/cancel`, undefined, {}, { 'x-booking-token': made.body.manageToken });
    expect(cancelled.status, cancelled.text).toBe(200);
    const gone = await until(mine, (objects) => objects.length === 0 || objects.every((o) => o.ics.includes('STATUS:CANCELLED')));
    expect(gone.every((o) => o.ics.includes('STATUS:CANCELLED'))).toBe(true);

    // Each write was recorded once, with the external ids.
    const history = await call('GET', `/bookings/${bookingId}/events`, tokens.ann);
    expect(history.status).toBe(200);
  });

  it('another organizer can neither read, change, sync nor delete the connection: 404, as for one that does not exist', async () => {
    for (const [method, path, body] of [
      ['GET', `/calendars/connections/${connectionId}`],
      ['PATCH', `/calendars/connections/${connectionId}`, { calendars: [{ id: calendarUrl, busy: false }] }],
      ['POST', `/calendars/connections/${connectionId}/sync`],
      ['DELETE', `/calendars/connections/${connectionId}`],
    ] as Array<[string, string, unknown?]>) {
      const stranger = await call(method, path, tokens.olga, body);
      expect(stranger.status, `${method} ${path}`).toBe(404);
      const ghost = await call(method, path.replace(connectionId, `cal-${'0'.repeat(32)}`), tokens.olga, body);
      expect({ ...stranger.body, instance: undefined }).toEqual({ ...ghost.body, instance: undefined });
    }
    expect((await call('GET', '/calendars/connections', tokens.olga)).body.connections).toEqual([]);
    expect((await call('GET', `/calendars/connections/${connectionId}`, tokens.ann)).body.calendars[0].busy).toBe(true);
  });

  it('PATCH flags: a calendar no longer busy-checked stops blocking at once; a flag on a calendar not of the connection is a 422', async () => {
    const wrong = await call('PATCH', `/calendars/connections/${connectionId}`, tokens.ann, { calendars: [{ id: 'https://elsewhere.example/cal/', busy: true }] });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors.map((e: any) => e.path)).toEqual(['calendars.0.id']);
    const off = await call('PATCH', `/calendars/connections/${connectionId}`, tokens.ann, { calendars: [{ id: calendarUrl, busy: false }] });
    expect(off.status, off.text).toBe(200);
    expect(off.body.calendars[0]).toMatchObject({ busy: false, destination: true });
    expect(await slotStarts(day)).toContain(new Date(day.getTime() + 10 * 3_600_000).toISOString());
    const on = await call('PATCH', `/calendars/connections/${connectionId}`, tokens.ann, { calendars: [{ id: calendarUrl, busy: true }] });
    expect(on.status).toBe(200);
    const back = await until(() => slotStarts(day), (starts) => !starts.includes(new Date(day.getTime() + 10 * 3_600_000).toISOString()));
    expect(back).not.toContain(new Date(day.getTime() + 10 * 3_600_000).toISOString());
  });

  it('reads that keep failing: the organizer gets one mail with the last error, and no CalDAV login in it', async () => {
    const notifier = [...stack.lambda.functions.values()].find((fn) => fn.entry === 'functions/subscribers/notifications.ts')!;
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
    const tables = { client, eventsTable: notifier.environment.EVENTS_TABLE!, stateTable: notifier.environment.STATE_TABLE! };
    const healthy = await readSyncState(tables, connectionId);
    // Three failed reads, as the sync worker leaves them (a server echoing the login in its URL), then the
    // sync engine's own recorder an hour on, when the streak counts as persistent.
    const echoed = dav.url.replace('://', `://${login.username}:${login.password}@`);
    await writeSyncState(tables, connectionId, { ...healthy, state: 'failing', failures: 3, lastError: `caldav 503 from ${echoed}`, lastErrorAt: new Date().toISOString() });
    try {
      expect(await reportPersistentFailure(tables, connectionId, new Date(Date.now() + 3_600_000))).toBe(true);
      const failingMails = async () => (await storedMails('ann@example.com')).filter((m) => m.subject === 'Your CalDAV calendar cannot be read');
      const found = await until(failingMails, (mails) => mails.length > 0, 600);
      expect(found).toHaveLength(1);
      const mail = found[0];
      expect(mail!.body.text).toContain(`caldav 503 from ${dav.url}`);
      expect(mail!.body.text).toContain(`${stack.httpUrl}/calendars/connections/${connectionId}`);
      for (const body of [mail!.body.text!, mail!.body.html!]) expect(body).not.toContain(login.password);
      // The same streak reported again records nothing more, and a redelivered event mails nothing more.
      expect(await reportPersistentFailure(tables, connectionId, new Date(Date.now() + 3_600_000))).toBe(false);
      const [failing] = (await new EventStore(client, tables.eventsTable).load(syncAggregateIdOf(connectionId))).filter((e) => e.type === 'calendar.sync.failing');
      await Promise.all([0, 1].map(() => stack.lambda.invoke(notifier.logicalId, { 'detail-type': 'calendar.sync.failing', source: 'booking-engine', detail: failing })));
      expect(await failingMails()).toHaveLength(1);
    } finally {
      await writeSyncState(tables, connectionId, healthy);
    }
  });

  it('DELETE disconnects: the busy time it brought is forgotten and the connection is gone', async () => {
    const removed = await call('DELETE', `/calendars/connections/${connectionId}`, tokens.ann);
    expect(removed.status, removed.text).toBe(204);
    expect((await call('GET', `/calendars/connections/${connectionId}`, tokens.ann)).status).toBe(404);
    expect((await call('GET', '/calendars/connections', tokens.ann)).body.connections).toEqual([]);
    expect(await slotStarts(day)).toContain(new Date(day.getTime() + 10 * 3_600_000).toISOString());
  });
});

describe('Google and Microsoft: the OAuth round trip by following redirects, then every booking written once', () => {
  let google: LocalGoogle;
  let graph: LocalGraph;
  const organizers: Record<'google' | 'microsoft', { token: string; eventTypeId: string; connectionId?: string }> = {} as never;

  /** Follows 302s by hand (redirect: 'manual'), sending the organizer's token to our API only, like a browser with its cookie. */
  async function roundTrip(provider: 'google' | 'microsoft', token: string): Promise<{ final: URL; hops: string[]; page: string; status: number }> {
    let url = new URL(`${stack.httpUrl}/calendars/connect/${provider}`);
    const hops: string[] = [];
    for (let hop = 0; hop < 10; hop++) {
      const ours = url.origin === new URL(stack.httpUrl).origin && url.pathname.startsWith('/calendars/connect/');
      const response = await fetch(url, { redirect: 'manual', headers: ours ? { authorization: `Bearer ${token}` } : {} });
      if (response.status !== 302) return { final: url, hops, page: await response.text(), status: response.status };
      await response.arrayBuffer();
      url = new URL(response.headers.get('location')!, url);
      hops.push(`${url.origin}${url.pathname}`);
    }
    throw new Error('too many redirects');
  }

  async function organizerWithEventType(userId: string) {
    const token = await stack.issuer.sign(userId);
    expect((await call('POST', '/users/me', token, { name: userId, email: `${userId}@example.com`, timeZone: 'UTC' })).status).toBe(201);
    const made = await call('POST', '/event-types', token, { title: 'Call', slug: `${userId}-call`, lengthMinutes: 30 });
    expect(made.status).toBe(201);
    return { token, eventTypeId: made.body.id as string };
  }

  const writer = () => [...stack.lambda.functions.values()].find((fn) => fn.entry === 'functions/subscribers/calendar-writes.ts')!;
  const notifier = () => [...stack.lambda.functions.values()].find((fn) => fn.entry === 'functions/subscribers/notifications.ts')!;
  const connectionEvents = async (connectionId: string) => {
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
    return new EventStore(client, writer().environment.EVENTS_TABLE!).load(connectionId);
  };

  beforeAll(async () => {
    // The local stack runs both (GOOGLE_PORT, GRAPH_PORT), and points the adapters at them.
    google = stack.google;
    graph = stack.graph;
    organizers.google = await organizerWithEventType('oauth-gail');
    organizers.microsoft = await organizerWithEventType('oauth-mo');
  }, 120_000);

  it.each(['google', 'microsoft'] as const)('%s: connect by following redirects; the result page says it worked', async (provider) => {
    const { final, hops, page, status } = await roundTrip(provider, organizers[provider].token);
    expect(hops[0]).toBe(provider === 'google' ? `${google.url}/o/oauth2/v2/auth` : `${graph.url}/common/oauth2/v2.0/authorize`);
    expect(hops).toContain(`${stack.httpUrl}/calendars/callback/${provider}`);
    expect(status).toBe(200);
    expect(final.pathname).toBe(`/calendars/callback/${provider}`);
    expect(final.searchParams.get('result')).toBe('connected');
    expect(final.searchParams.has('code')).toBe(false);
    expect(page).toContain('Calendar connected');
    const connectionId = final.searchParams.get('connection')!;
    organizers[provider].connectionId = connectionId;
    const connection = await until(() => call('GET', `/calendars/connections/${connectionId}`, organizers[provider].token), (r) => r.body?.sync?.state === 'ok');
    expect(connection.body).toMatchObject({ provider, status: 'connected', sync: { state: 'ok', lastError: null } });
    expect(connection.body.calendars.find((c: any) => c.primary)).toMatchObject({ busy: true, destination: true });
    expect(connection.text).not.toMatch(/refresh|access_token|accessToken/i);
  });

  it('a state used twice, forged, or for the other provider is refused on the result page', async () => {
    const start = await fetch(`${stack.httpUrl}/calendars/connect/google`, { redirect: 'manual', headers: { authorization: `Bearer ${organizers.google.token}` } });
    const consent = new URL(start.headers.get('location')!);
    const state = consent.searchParams.get('state')!;
    const refusedWith = async (query: string, provider = 'google') => {
      const response = await fetch(`${stack.httpUrl}/calendars/callback/${provider}?${query}`, { redirect: 'manual' });
      return new URL(response.headers.get('location')!).searchParams.get('reason');
    };
    expect(await refusedWith(`code=x&state=${encodeURIComponent(state)}`, 'microsoft')).toBe('invalid');
    expect(await refusedWith(`code=x&state=${encodeURIComponent(state.slice(0, -2))}xx`)).toBe('invalid');
    expect(await refusedWith('code=x')).toBe('invalid');
    // The first use spends the state (the code is bad, so nothing connects); the second finds it used.
    expect(await refusedWith(`code=not-a-code&state=${encodeURIComponent(state)}`)).toBe('refused');
    expect(await refusedWith(`code=not-a-code&state=${encodeURIComponent(state)}`)).toBe('used');
    expect((await call('GET', '/calendars/connect/google')).status).toBe(401);
    expect((await call('GET', '/calendars/connect/lotus', organizers.google.token)).status).toBe(404);
  });

  it.each(['google', 'microsoft'] as const)('%s: a booking appears once in the fake\'s calendar, even when the write runs twice at once', async (provider) => {
    const { token, eventTypeId: typeId, connectionId } = organizers[provider];
    const made = await call('POST', '/bookings', undefined, { eventTypeId: typeId, start: futureSlot(provider === 'google' ? 5 : 6).toISOString(), attendee });
    expect(made.status, made.text).toBe(202);
    const bookingId = made.body.id as string;
    const server = provider === 'google' ? google : graph;
    const account = server.devAccount;
    const inFake = async () => {
      const listed = await fetch(`${server.url}/dev/users/${encodeURIComponent(account)}/events`);
      return ((await listed.json()) as { events: unknown[] }).events.filter((e) => JSON.stringify(e).includes(bookingId));
    };
    expect(await until(inFake, (events) => events.length > 0)).toHaveLength(1);
    const recorded = async () => (await connectionEvents(connectionId!)).filter((e) => e.type.startsWith('calendar.event.') && (e.payload as { bookingId: string }).bookingId === bookingId);
    await until(recorded, (events) => events.length > 0);
    // The booking's confirmation delivered again, twice at once: still one event, one record.
    const history = await call('GET', `/bookings/${bookingId}/events`, token);
    const confirmed = history.body.events.find((e: any) => e.type === 'booking.confirmed');
    const busEvent = { 'detail-type': 'booking.confirmed', source: 'booking-engine', detail: confirmed };
    await Promise.all([stack.lambda.invoke(writer().logicalId, busEvent), stack.lambda.invoke(writer().logicalId, busEvent)]);
    expect(await inFake()).toHaveLength(1);
    expect((await recorded()).map((e) => e.type)).toEqual(['calendar.event.created']);
  });

  it('a revoked Google grant: the connection needs the organizer again, and his WebSocket hears of it', async () => {
    const { token, connectionId } = organizers.google;
    const socket: LiveSocket = await connect(`${stack.wsUrl}/?token=${token}`);
    try {
      const revoked = await fetch(`${google.url}/dev/users/${encodeURIComponent(google.devAccount)}/revoke`, { method: 'POST' });
      expect(revoked.status).toBe(200);
      expect((await call('POST', `/calendars/connections/${connectionId}/sync`, token)).status).toBe(202);
      const connection = await until(() => call('GET', `/calendars/connections/${connectionId}`, token), (r) => r.body.status === 'needs_reauth');
      expect(connection.body).toMatchObject({ status: 'needs_reauth', sync: { state: 'needs_reauth' } });
      const heard = await Promise.race([
        socket.next((m) => m.type === 'event' && m.data.type === 'calendar.reauth.required' && m.data.aggregateId === connectionId),
        new Promise((resolve) => setTimeout(() => resolve(undefined), 20_000)),
      ]);
      expect(heard).toBeDefined();
      // ...and his mailbox: one mail that says which calendar and where to connect it again, with no credential in it.
      const reconnectMails = async () => (await storedMails('oauth-gail@example.com')).filter((m) => m.subject === 'Reconnect your Google calendar');
      const found = await until(reconnectMails, (mails) => mails.length > 0, 600);
      expect(found).toHaveLength(1);
      const mail = found[0];
      expect(mail!.body.text).toContain(`${stack.httpUrl}/calendars/connect/google`);
      expect(mail!.body.html).toContain(`href="${stack.httpUrl}/calendars/connect/google"`);
      for (const body of [mail!.body.text!, mail!.body.html!]) expect(body).not.toMatch(/refresh_token|access_token|bearer|ya29\.|client_secret/i);
      // The event delivered again, twice at once: still exactly one mail.
      const reauth = (await connectionEvents(connectionId!)).filter((e) => e.type === 'calendar.reauth.required');
      expect(reauth).toHaveLength(1);
      const busEvent = { 'detail-type': 'calendar.reauth.required', source: 'booking-engine', detail: reauth[0] };
      await Promise.all([stack.lambda.invoke(notifier().logicalId, busEvent), stack.lambda.invoke(notifier().logicalId, busEvent)]);
      expect(await reconnectMails()).toHaveLength(1);
      // The Microsoft connection of another organizer syncs on.
      const other = organizers.microsoft;
      expect((await call('POST', `/calendars/connections/${other.connectionId}/sync`, other.token)).status).toBe(202);
      const fine = await until(() => call('GET', `/calendars/connections/${other.connectionId}`, other.token), (r) => r.body.sync.state === 'ok');
      expect(fine.body.status).toBe('connected');
    } finally {
      socket.close();
    }
  });
});
