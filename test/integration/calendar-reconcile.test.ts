// Export and reconcile against the real calendars: Radicale (CalDAV), the local Google Calendar and the local
// Microsoft Graph, each through its real adapter, with real bookings (the booking command path and its time
// claims) and real connections in DynamoDB Local. The calendar is changed the way a person changes it: a CalDAV
// client's PUT and DELETE, the Google and Graph servers' own API as their apps call it.
// - a booking confirmed while the destination was failing is written at the next sync, once, even with the
//   subscriber's retry racing it;
// - an event of ours moved by hand is reported once (calendar.event.drifted, pushed to the organizer as any
//   calendar event) and not written over;
// - an event of ours deleted by hand is reported once and not written back (the policy: README, reconcile.ts);
// - an event that names a booking that does not exist, or is another host's, counts as busy (and conflicts),
//   in the synced busy time and in the workflow's live look alike.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as forward, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDomainEvent, type TypedEvent } from '../../events/catalog.ts';
import { DEFAULT_GOOGLE_CLIENT, startLocalGoogle, type LocalGoogle } from '../../infra/local/google-calendar.ts';
import { DEFAULT_GRAPH_CLIENT, startLocalGraph, trustLocalGraphCertificate, type LocalGraph } from '../../infra/local/microsoft-graph.ts';
import { radicaleInstalled, startCaldavServer, type CaldavServer } from '../../infra/local/caldav-server.ts';
import { executeBookingCommand, type BookingTables } from '../../shared/booking/booking-commands.ts';
import type { BookingCommand, BookingRequest } from '../../shared/booking/decider.ts';
import type { CalendarAdapters } from '../../shared/calendars/adapters.ts';
import { externalBusy } from '../../shared/calendars/busy-store.ts';
import { liveBusyConflicts } from '../../shared/calendars/live-busy.ts';
import { connectionCommand } from '../../shared/calendars/commands.ts';
import { caldavProvider } from '../../shared/calendars/providers/caldav.ts';
import { googleOAuth, googleProvider } from '../../shared/calendars/providers/google.ts';
import { oauthClientConfig } from '../../shared/calendars/providers/index.ts';
import { microsoftOAuth, microsoftProvider } from '../../shared/calendars/providers/microsoft.ts';
import type { CalendarProvider, OAuthClientConfig, ProviderCredentials, ProviderName } from '../../shared/calendars/provider.ts';
import { connectionIdOf, presentConnection, readConnection, readDestination, readSyncState } from '../../shared/calendars/store.ts';
import { syncConnection, type SyncPorts } from '../../shared/calendars/sync-worker.ts';
import { credentialsWrite, sealCredentials } from '../../shared/calendars/vault.ts';
import { writeBookingToCalendars } from '../../shared/calendars/writes.ts';
import { listConflicts, reconcileConnectionConflicts } from '../../shared/calendar-sync/conflict-store.ts';
import { driftAggregateIdOf } from '../../shared/calendar-sync/reconcile.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { inviteUid } from '../../shared/notifications/render.ts';
import { createTestTables, type TestTables } from '../support/tables.ts';

let test: TestTables;
let tables: BookingTables;
const keyDir = mkdtempSync(join(tmpdir(), 'reconcile-'));
const fastRetry = { attempts: 2, maxWaitSeconds: 2, baseDelayMs: 20 };
const HOUR = 3_600_000;
// Real time: the worker reads from now to 180 days ahead. Each calendar gets its own day, ten days or more out.
const dayOf = (n: number) => Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR + (10 + n) * 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

beforeAll(async () => {
  test = await createTestTables();
  tables = { client: test.client, eventsTable: test.events, stateTable: test.state };
  const key = join(keyDir, 'key');
  writeFileSync(key, randomBytes(32));
  process.env.CALENDAR_KEY_FILE = key;
});
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

/** One provider as the test drives it: its adapter, and what a person (or an outage) does to the calendar. */
type Calendar = {
  provider: ProviderName;
  account: string;
  credentials: ProviderCredentials;
  calendarId: string;
  adapters: CalendarAdapters;
  down(on: boolean): Promise<void>;
  move(externalEventId: string, start: number, end: number): Promise<void>;
  remove(externalEventId: string): Promise<void>;
  /** An invite from someone else that names `bookingId` the way our events do. */
  forge(name: string, bookingId: string, start: number, end: number): Promise<void>;
  close(): Promise<void>;
};

const adaptersOf = (make: (credentials: ProviderCredentials) => CalendarProvider): CalendarAdapters => ({
  providerFor: async (_provider, credentials) => make(credentials),
  oauthFlow: async () => {
    throw new Error('not used');
  },
  discoverCaldav: async () => {
    throw new Error('not used');
  },
});

async function caldavCalendar(): Promise<Calendar> {
  if (!radicaleInstalled()) throw new Error('radicale is not installed: apt-get install radicale (.ci/run does)');
  const dataDir = mkdtempSync(join(tmpdir(), 'reconcile-caldav-'));
  const users = { host: 'host-secret' };
  const radicale: CaldavServer = await startCaldavServer({ dataDir, users });
  const auth = `Basic ${Buffer.from(`host:${users.host}`).toString('base64')}`;
  // In front of Radicale, as a load balancer would be: while `down`, every request is a 503 for an hour.
  let down = false;
  const target = new URL(radicale.url);
  const proxy: Server = createServer((incoming, outgoing) => {
    if (down) {
      incoming.resume();
      outgoing.writeHead(503, { 'retry-after': '3600' }).end();
      return;
    }
    const upstream = forward({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: target.host } }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`;
  const credentials: ProviderCredentials = { kind: 'basic', serverUrl: proxyUrl, username: 'host', password: users.host, homeUrl: `${proxyUrl}host/` };
  const objectUrl = (externalEventId: string) => new URL(externalEventId, radicale.url).href;
  const dav = async (method: string, url: string, body?: string) => {
    const response = await fetch(url, { method, headers: { authorization: auth, ...(body ? { 'content-type': 'text/calendar; charset=utf-8' } : {}) }, body });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status}`);
    return text;
  };
  const stamp = (ms: number) => iso(ms).replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return {
    provider: 'caldav',
    account: 'host',
    credentials,
    calendarId: `${proxyUrl}host/calendar/`,
    adapters: adaptersOf((c) => caldavProvider(c as Extract<ProviderCredentials, { kind: 'basic' }>, { allowLoopback: true, attempts: 1 })),
    down: async (on) => void (down = on),
    async move(externalEventId, start, end) {
      // What a calendar client does: the object read, its times changed, written back under its name.
      const text = await dav('GET', objectUrl(externalEventId));
      // The VEVENT's own times (the VTIMEZONE before it has DTSTARTs of its own).
      const at = text.indexOf('BEGIN:VEVENT');
      const moved = text.slice(0, at) + text.slice(at)
        .replace(/^DTSTART[^:\r\n]*:[^\r\n]*$/m, `DTSTART:${stamp(start)}`)
        .replace(/^DTEND[^:\r\n]*:[^\r\n]*$/m, `DTEND:${stamp(end)}`);
      expect(moved).not.toBe(text);
      await dav('PUT', objectUrl(externalEventId), moved);
    },
    remove: async (externalEventId) => void (await dav('DELETE', objectUrl(externalEventId))),
    async forge(name, bookingId, start, end) {
      const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//someone else//EN', 'BEGIN:VEVENT', `UID:${inviteUid(bookingId)}`, `X-BOOKING-ID:${bookingId}`, 'DTSTAMP:20260101T000000Z', `DTSTART:${stamp(start)}`, `DTEND:${stamp(end)}`, 'SUMMARY:Looks like a booking', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
      await dav('PUT', `${radicale.calendarUrl('host')}${name}.ics`, ics);
    },
    async close() {
      await new Promise((resolve) => proxy.close(resolve));
      await radicale.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function oauthCredentials(flow: ReturnType<typeof googleOAuth>, email: string, redirectUri: string): Promise<ProviderCredentials> {
  const url = new URL(flow.authorizationUrl({ state: `state-${email}`, redirectUri }));
  url.searchParams.set('login_hint', email);
  const consent = await fetch(url, { redirect: 'manual' });
  const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
  return flow.exchangeCode({ code, redirectUri });
}

const devOf = (base: string) => async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}/dev/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`dev ${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
};

async function googleCalendar(): Promise<Calendar> {
  const google: LocalGoogle = await startLocalGoogle();
  const config: OAuthClientConfig = oauthClientConfig('google', {
    GOOGLE_CLIENT_ID: DEFAULT_GOOGLE_CLIENT.clientId,
    GOOGLE_CLIENT_SECRET: DEFAULT_GOOGLE_CLIENT.clientSecret,
    GOOGLE_AUTH_URL: `${google.url}/o/oauth2/v2/auth`,
    GOOGLE_TOKEN_URL: `${google.url}/token`,
    GOOGLE_API_URL: google.url,
    GOOGLE_REVOKE_URL: `${google.url}/revoke`,
  });
  const email = 'host@example.com';
  const credentials = await oauthCredentials(googleOAuth(config), email, 'http://127.0.0.1:9/calendars/callback/google');
  const dev = devOf(google.url);
  const event = (id: string) => `users/${email}/calendars/primary/events/${id}`;
  return {
    provider: 'google',
    account: email,
    credentials,
    calendarId: 'primary',
    adapters: adaptersOf((c) => googleProvider(c, config, {}, fastRetry)),
    down: async (on) => void (on ? await dev('POST', 'faults', { status: 503, count: 1000 }) : await dev('DELETE', 'faults')),
    move: async (id, start, end) => void (await dev('PATCH', event(id), { start: { dateTime: iso(start) }, end: { dateTime: iso(end) } })),
    remove: async (id) => void (await dev('DELETE', event(id))),
    forge: async (name, bookingId, start, end) =>
      void (await dev('POST', `users/${email}/calendars/primary/events`, { summary: name, start: { dateTime: iso(start) }, end: { dateTime: iso(end) }, extendedProperties: { private: { bookingId } } })),
    close: () => google.close(),
  };
}

async function graphCalendar(): Promise<Calendar> {
  const graph: LocalGraph = await startLocalGraph();
  trustLocalGraphCertificate(graph.certificate);
  const config: OAuthClientConfig = oauthClientConfig('microsoft', {
    MICROSOFT_CLIENT_ID: DEFAULT_GRAPH_CLIENT.clientId,
    MICROSOFT_CLIENT_SECRET: DEFAULT_GRAPH_CLIENT.clientSecret,
    MICROSOFT_AUTH_URL: `${graph.url}/common/oauth2/v2.0/authorize`,
    MICROSOFT_TOKEN_URL: `${graph.url}/common/oauth2/v2.0/token`,
    MICROSOFT_API_URL: graph.url,
  });
  const email = 'host@example.com';
  const credentials = await oauthCredentials(microsoftOAuth(config), email, 'http://127.0.0.1:9/calendars/callback/microsoft');
  const calendarId = (await microsoftProvider(credentials, config, {}, fastRetry).listCalendars())[0]!.id;
  const dev = devOf(graph.url);
  const at = (ms: number) => ({ dateTime: iso(ms).replace('.000Z', ''), timeZone: 'UTC' });
  return {
    provider: 'microsoft',
    account: email,
    credentials,
    calendarId,
    adapters: adaptersOf((c) => microsoftProvider(c, config, {}, fastRetry)),
    down: async (on) => void (on ? await dev('POST', 'faults', { status: 503, count: 1000 }) : await dev('DELETE', 'faults')),
    move: async (id, start, end) => void (await dev('PATCH', `users/${email}/events/${id}`, { start: at(start), end: at(end) })),
    remove: async (id) => void (await dev('DELETE', `users/${email}/events/${id}`)),
    forge: async (name, bookingId, start, end) =>
      void (await dev('POST', `users/${email}/events`, { subject: name, start: at(start), end: at(end), transactionId: `booking-engine:${bookingId}` })),
    close: () => graph.close(),
  };
}

const run = (bookingId: string, command: BookingCommand) => executeBookingCommand(tables, { bookingId, command, metadata: { correlationId: `corr-${bookingId}` } });

async function confirmedBooking(hostId: string, start: number, minutes = 30): Promise<string> {
  const bookingId = randomUUID();
  const request: BookingRequest = {
    eventTypeId: 'et-reconcile',
    organizerId: hostId,
    hostIds: [hostId],
    title: 'Intro call',
    start: iso(start),
    end: iso(start + minutes * 60_000),
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    attendee: { name: 'Ada Lovelace', email: 'ada@example.com', timeZone: 'Europe/London' },
    requiresConfirmation: false,
  };
  await run(bookingId, { type: 'RequestBooking', request });
  await run(bookingId, { type: 'AcceptBooking' });
  return bookingId;
}

/** The booking.confirmed the calendar-writes subscriber would receive for this booking. */
async function confirmation(bookingId: string): Promise<TypedEvent> {
  const events = await new EventStore(tables.client, tables.eventsTable).load(bookingId);
  return parseDomainEvent(events.find((e) => e.type === 'booking.confirmed')!) as TypedEvent;
}

const eventsOf = async (aggregateId: string) => (await new EventStore(tables.client, tables.eventsTable).load(aggregateId)).map((e) => parseDomainEvent(e));

describe.each([
  ['caldav', caldavCalendar],
  ['google', googleCalendar],
  ['microsoft', graphCalendar],
] as const)('reconcile against %s', (name, open) => {
  let calendar: Calendar;
  let connectionId: string;
  const hostId = `host-${name}-${randomUUID()}`;
  const base = dayOf(['caldav', 'google', 'microsoft'].indexOf(name));
  const hour = (h: number) => base + h * HOUR;
  let ports: SyncPorts;
  const writePorts = () => ({ tables, adapters: calendar.adapters, publicApiUrl: 'https://api.example.test' });
  const sync = (full = false) => syncConnection(ports, { connectionId, reason: 'request', full, requestedAt: new Date().toISOString() });
  /** What the calendar holds of our bookings (a full read through the adapter). */
  const ours = async (bookingId: string) => {
    const provider = await calendar.adapters.providerFor(calendar.provider, calendar.credentials);
    const read = await provider.readBusy(calendar.calendarId, { from: iso(base - 24 * HOUR), to: iso(base + 48 * HOUR), timeZone: 'UTC' });
    return read.events.filter((e) => e.bookingId === bookingId);
  };
  const writtenRecord = async (bookingId: string) => {
    const events = (await eventsOf(connectionId)).filter((e) => e.type.startsWith('calendar.event.') && (e.payload as { bookingId: string }).bookingId === bookingId);
    return { types: events.map((e) => e.type), externalEventId: (events[0]?.payload as { externalEventId?: string } | undefined)?.externalEventId };
  };

  beforeAll(async () => {
    calendar = await open();
    connectionId = connectionIdOf(hostId, calendar.provider, calendar.account);
    const sealed = await sealCredentials(connectionId, calendar.credentials);
    await connectionCommand(tables, connectionId, { userId: hostId }, {
      aggregateId: connectionId,
      command: { type: 'Connect', organizerId: hostId, provider: calendar.provider, accountEmail: calendar.provider === 'caldav' ? undefined : calendar.account, calendars: [{ id: calendar.calendarId, name: 'Calendar', primary: true, writable: true }], organizerHasDestination: false },
      alongside: [credentialsWrite(tables.stateTable, connectionId, sealed)],
      createdAt: new Date().toISOString(),
      pointer: undefined,
    });
    expect(await readDestination(tables, hostId)).toEqual({ connectionId, calendarId: calendar.calendarId });
    ports = { tables, adapters: calendar.adapters, enqueue: async () => {}, periodSeconds: 300, publicApiUrl: 'https://api.example.test' };
    expect((await sync(true)).outcome).toBe('synced');
  }, 60_000);
  afterAll(async () => {
    await calendar?.close();
  });

  it('writes a booking confirmed while the destination was failing at the next sync, once, with the subscriber retry racing it', async () => {
    const bookingId = await confirmedBooking(hostId, hour(9));
    await calendar.down(true);
    await expect(writeBookingToCalendars(writePorts(), await confirmation(bookingId))).rejects.toThrow();
    await calendar.down(false);
    expect(await ours(bookingId)).toEqual([]);
    expect((await writtenRecord(bookingId)).types).toEqual([]);

    // The next sync, and the subscriber's retry of the parked write, at the same moment.
    const [synced] = await Promise.all([sync(), writeBookingToCalendars(writePorts(), await confirmation(bookingId))]);
    expect(synced.outcome).toBe('synced');
    const there = await ours(bookingId);
    expect(there).toHaveLength(1);
    expect(there[0]!.spans).toEqual([{ start: iso(hour(9)), end: iso(hour(9) + 30 * 60_000) }]);
    expect((await writtenRecord(bookingId)).types).toEqual(['calendar.event.created']);
    // Nothing missing any more: the next syncs write nothing and record nothing.
    const again = await sync();
    expect(again.reconcile).toMatchObject({ rewritten: 0, drifted: 0, reported: 0 });
    expect((await writtenRecord(bookingId)).types).toEqual(['calendar.event.created']);
    expect(await ours(bookingId)).toHaveLength(1);
  }, 60_000);

  it('reports an event of ours moved by hand once, as calendar.event.drifted, and leaves it where the organizer put it', async () => {
    const bookingId = await confirmedBooking(hostId, hour(11));
    await writeBookingToCalendars(writePorts(), await confirmation(bookingId));
    const { externalEventId } = await writtenRecord(bookingId);
    await calendar.move(externalEventId!, hour(15), hour(16));

    const first = await sync();
    expect(first.reconcile).toMatchObject({ rewritten: 0, reported: 1 });
    const drifted = await eventsOf(driftAggregateIdOf(connectionId, bookingId));
    expect(drifted).toHaveLength(1);
    expect(drifted[0]).toMatchObject({
      type: 'calendar.event.drifted',
      aggregateType: 'calendar',
      payload: { userId: hostId, bookingId, connectionId, provider: calendar.provider, kind: 'moved', expected: { start: iso(hour(11)), end: iso(hour(11) + 30 * 60_000) }, found: { start: iso(hour(15)), end: iso(hour(16)) } },
    });
    // Not written over, and not reported again: by the next incremental read nor by the daily full one.
    await sync();
    const full = await sync(true);
    expect(full.reconcile).toMatchObject({ reported: 0, drifted: 1 });
    expect(await eventsOf(driftAggregateIdOf(connectionId, bookingId))).toHaveLength(1);
    expect((await ours(bookingId))[0]!.spans).toEqual([{ start: iso(hour(15)), end: iso(hour(16)) }]);
    expect((await writtenRecord(bookingId)).types).toEqual(['calendar.event.created']);
    // The organizer sees it on the connection.
    const view = (await readConnection(tables, connectionId))!;
    expect(presentConnection(view, await readSyncState(tables, connectionId), await readDestination(tables, hostId)).sync.counts).toMatchObject({ drifted: 1 });
  }, 60_000);

  it('reports an event of ours deleted by hand once, and does not write it back', async () => {
    const bookingId = await confirmedBooking(hostId, hour(13));
    await writeBookingToCalendars(writePorts(), await confirmation(bookingId));
    const { externalEventId } = await writtenRecord(bookingId);
    expect(await ours(bookingId)).toHaveLength(1);
    await calendar.remove(externalEventId!);

    const first = await sync();
    expect(first.reconcile).toMatchObject({ rewritten: 0, reported: 1 });
    await sync(true);
    await sync();
    const drifted = await eventsOf(driftAggregateIdOf(connectionId, bookingId));
    expect(drifted.map((e) => [e.type, (e.payload as { kind: string }).kind])).toEqual([['calendar.event.drifted', 'deleted']]);
    expect(await ours(bookingId)).toEqual([]);
    expect((await writtenRecord(bookingId)).types).toEqual(['calendar.event.created']);
  }, 60_000);

  it('counts an event that names a booking that is not this host\'s (or none) as busy, and as a conflict', async () => {
    const mine = await confirmedBooking(hostId, hour(17));
    await writeBookingToCalendars(writePorts(), await confirmation(mine));
    const someoneElses = await confirmedBooking(`other-${randomUUID()}`, hour(5));
    await calendar.forge('forged-other-host', someoneElses, hour(17), hour(18));
    await calendar.forge('forged-no-booking', randomUUID(), hour(20), hour(21));
    await sync();
    const busy = (await externalBusy(tables, [hostId], { start: base, end: base + 24 * HOUR })).get(hostId) ?? [];
    const hours = busy.map((s) => (s.start - base) / HOUR).sort((a, b) => a - b);
    // The two forged events block their time; our own events (9:00, 11:00 moved to 15:00, 17:00) do not.
    expect(hours).toEqual([17, 20]);
    await reconcileConnectionConflicts(tables, connectionId);
    const conflicts = (await listConflicts(tables, hostId, 'open')).filter((c) => c.booking.id === mine);
    expect(conflicts.map((c) => c.severity)).toEqual(['high']);
    // The workflow's live look before confirming a booking over that time sees the forged event as busy, and
    // not our own booking's event there.
    const live = await liveBusyConflicts({ tables, adapters: calendar.adapters }, { bookingId: randomUUID(), hostIds: [hostId], start: iso(hour(17)), end: iso(hour(17) + 30 * 60_000) });
    expect(live.unreachable).toEqual([]);
    expect(live.hits.map((h) => [h.start, h.end])).toEqual([[iso(hour(17)), iso(hour(18))]]);
  }, 60_000);
});
