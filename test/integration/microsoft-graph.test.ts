// The Microsoft adapter (the real @microsoft/microsoft-graph-client) against the local Graph over HTTPS:
// the OAuth round trip and refresh (rotating refresh tokens), calendars, full and delta busy reads (paging,
// @removed, 410 SyncStateNotFound, occurrences with an exception and a cancelled one, free, declined, cancelled,
// all-day across a DST change, our own events), idempotent writes (extended property lookup, transactionId),
// RetryHandler honouring Retry-After, and the errors the calendars slice acts on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GRAPH_CLIENT, startLocalGraph, trustLocalGraphCertificate, type LocalGraph } from '../../infra/local/microsoft-graph.ts';
import { BOOKING_PROPERTY_ID, microsoftOAuth, microsoftProvider } from '../../shared/calendars/providers/microsoft.ts';
import { oauthClientConfig } from '../../shared/calendars/providers/index.ts';
import { CalendarAuthError, CalendarUnavailableError, type BookingCalendarEvent, type OAuthClientConfig, type ProviderCredentials } from '../../shared/calendars/provider.ts';

let graph: LocalGraph;
let config: OAuthClientConfig;
const redirectUri = 'http://127.0.0.1:9/calendars/callback/microsoft';
const fastRetry = { attempts: 3, maxWaitSeconds: 5, baseDelayMs: 20 };

beforeAll(async () => {
  graph = await startLocalGraph();
  trustLocalGraphCertificate(graph.certificate);
  config = oauthClientConfig('microsoft', {
    MICROSOFT_CLIENT_ID: DEFAULT_GRAPH_CLIENT.clientId,
    MICROSOFT_CLIENT_SECRET: DEFAULT_GRAPH_CLIENT.clientSecret,
    MICROSOFT_AUTH_URL: `${graph.url}/common/oauth2/v2.0/authorize`,
    MICROSOFT_TOKEN_URL: `${graph.url}/common/oauth2/v2.0/token`,
    MICROSOFT_API_URL: graph.url,
  });
});
afterAll(async () => {
  await graph?.close();
});

async function connect(email: string): Promise<Extract<ProviderCredentials, { kind: 'oauth' }>> {
  const url = new URL(microsoftOAuth(config).authorizationUrl({ state: `state-${email}`, redirectUri }));
  url.searchParams.set('login_hint', email);
  const consent = await fetch(url, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  const back = new URL(consent.headers.get('location')!);
  expect(back.searchParams.get('state')).toBe(`state-${email}`);
  return microsoftOAuth(config).exchangeCode({ code: back.searchParams.get('code')!, redirectUri });
}

const dev = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${graph.url}/dev/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`dev ${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
};
const addEvent = (email: string, body: unknown) => dev('POST', `users/${email}/events`, body);
const at = (dateTime: string, timeZone = 'UTC') => ({ dateTime, timeZone });

const booking = (bookingId: string, start: string, minutes = 30, sequence = 1): BookingCalendarEvent => ({
  bookingId, sequence, status: 'confirmed', title: 'Intro call', description: 'Booked online', start, end: new Date(Date.parse(start) + minutes * 60_000).toISOString(),
  timeZone: 'Europe/Berlin', organizer: { email: 'host@example.com' }, attendee: { name: 'Ann', email: 'ann@example.org' }, manageUrl: 'https://app.example/bookings/x',
});
const window = { from: '2027-03-01T00:00:00Z', to: '2027-04-30T00:00:00Z', timeZone: 'Europe/Berlin' };

describe('Microsoft OAuth against the local Graph', () => {
  it('round-trips the consent with offline_access, exchanges a code once, and refuses unknown clients', async () => {
    const credentials = await connect('oauth@example.com');
    expect(credentials.refreshToken).toBeTruthy();
    const url = new URL(microsoftOAuth(config).authorizationUrl({ state: 's', redirectUri }));
    expect(url.pathname).toBe('/common/oauth2/v2.0/authorize');
    expect(url.searchParams.get('scope')).toContain('offline_access');
    const unknown = new URL(url);
    unknown.searchParams.set('client_id', 'someone-else');
    expect((await fetch(unknown, { redirect: 'manual' })).status).toBe(400);
    const code = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
    await microsoftOAuth(config).exchangeCode({ code, redirectUri });
    await expect(microsoftOAuth(config).exchangeCode({ code, redirectUri })).rejects.toBeInstanceOf(CalendarAuthError);
  });

  it('refreshes an expired token and hands out the rotated refresh token through onCredentials', async () => {
    const credentials = await connect('refresh@example.com');
    const seen: Array<{ accessToken?: string; refreshToken: string }> = [];
    const provider = microsoftProvider({ ...credentials, accessTokenExpiresAt: Date.now() - 1000 }, config, { onCredentials: (c) => void seen.push(c) });
    expect(await provider.account()).toEqual({ email: 'refresh@example.com' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.refreshToken).not.toBe(credentials.refreshToken);
    expect(seen[0]!.accessToken).not.toBe(credentials.accessToken);
    // An access token the server no longer knows (401) gets one refresh and the call goes through.
    const stale = microsoftProvider({ ...credentials, accessToken: 'unknown', accessTokenExpiresAt: Date.now() + 3_600_000 }, config);
    expect(await stale.account()).toEqual({ email: 'refresh@example.com' });
  });
});

describe('the Microsoft adapter against the local Graph', () => {
  it('lists the calendars with the default one marked', async () => {
    const provider = microsoftProvider(await connect('lists@example.com'), config);
    await dev('POST', 'users/lists@example.com/calendars', { name: 'Team' });
    const calendars = await provider.listCalendars();
    expect(calendars.map((c) => [c.name, c.primary, c.writable])).toEqual([['lists@example.com', true, true], ['Team', false, true]]);
  });

  it('reads busy time as the user sees it: occurrences with exceptions, free, declined, cancelled, all-day across DST, our own events', async () => {
    const email = 'busy@example.com';
    const provider = microsoftProvider(await connect(email), config);
    const [calendar] = await provider.listCalendars();
    const weekly = await addEvent(email, {
      subject: 'Standup', start: at('2027-03-22T10:00:00', 'Europe/Berlin'), end: at('2027-03-22T10:30:00', 'Europe/Berlin'),
      recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] }, range: { type: 'numbered', startDate: '2027-03-22', numberOfOccurrences: 3 } },
    });
    await dev('PATCH', `users/${email}/events/${weekly.id}_20270329T080000Z`, { start: at('2027-03-29T11:00:00', 'Europe/Berlin'), end: at('2027-03-29T11:30:00', 'Europe/Berlin') });
    await dev('DELETE', `users/${email}/events/${weekly.id}_20270322T090000Z`);
    await addEvent(email, { subject: 'Free', showAs: 'free', start: at('2027-03-23T12:00:00'), end: at('2027-03-23T13:00:00') });
    await addEvent(email, { subject: 'Declined', responseStatus: { response: 'declined' }, isOrganizer: false, start: at('2027-03-24T12:00:00'), end: at('2027-03-24T13:00:00') });
    await addEvent(email, { subject: 'Called off', isCancelled: true, isOrganizer: false, start: at('2027-03-24T14:00:00'), end: at('2027-03-24T15:00:00') });
    const away = await addEvent(email, { subject: 'Away', isAllDay: true, start: at('2027-03-27T00:00:00', 'Europe/Berlin'), end: at('2027-03-29T00:00:00', 'Europe/Berlin') });
    const written = await provider.putBookingEvent(calendar!.id, booking('b-own', '2027-03-25T09:00:00.000Z'));

    const read = await provider.readBusy(calendar!.id, window);
    expect(read.full).toBe(true);
    expect(read.cursor).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/.*\$deltatoken=/);
    const standups = read.events.filter((e) => e.summary === 'Standup');
    expect(standups.map((e) => e.spans)).toEqual([
      [{ start: '2027-03-29T09:00:00.000Z', end: '2027-03-29T09:30:00.000Z' }],
      [{ start: '2027-04-05T08:00:00.000Z', end: '2027-04-05T08:30:00.000Z' }],
    ]);
    for (const subject of ['Free', 'Declined', 'Called off']) expect(read.events.find((e) => e.summary === subject)?.spans).toEqual([]);
    expect(read.events.find((e) => e.externalEventId === away.id)?.spans).toEqual([{ start: '2027-03-26T23:00:00.000Z', end: '2027-03-28T22:00:00.000Z' }]);
    expect(read.events.find((e) => e.externalEventId === written.externalEventId)).toMatchObject({ bookingId: 'b-own' });
  });

  it('pages a full read, reads deltas with @removed, and starts over on 410 SyncStateNotFound', async () => {
    const email = 'sync@example.com';
    const provider = microsoftProvider(await connect(email), config);
    const [calendar] = await provider.listCalendars();
    const ids: string[] = [];
    for (let i = 0; i < 230; i++) {
      const day = String(1 + (i % 28)).padStart(2, '0');
      const hour = String(i % 24).padStart(2, '0');
      ids.push((await addEvent(email, { subject: `e${i}`, start: at(`2027-03-${day}T${hour}:00:00`), end: at(`2027-03-${day}T${hour}:20:00`) })).id);
    }
    const full = await provider.readBusy(calendar!.id, window);
    expect(full.events).toHaveLength(230);
    expect(full.requests).toBe(3);

    const logged = graph.requests.length;
    const unchanged = await provider.readBusy(calendar!.id, { ...window, cursor: full.cursor });
    // An unchanged calendar costs one request, as the server's own log counts it.
    expect(graph.requests.length - logged).toBe(1);
    expect(unchanged).toMatchObject({ full: false, events: [], removed: [], requests: 1 });

    await dev('PATCH', `users/${email}/events/${ids[0]}`, { start: at('2027-04-02T10:00:00'), end: at('2027-04-02T11:00:00') });
    await dev('DELETE', `users/${email}/events/${ids[1]}`);
    const changed = await provider.readBusy(calendar!.id, { ...window, cursor: unchanged.cursor });
    expect(changed.events.map((e) => [e.externalEventId, e.spans])).toEqual([[ids[0], [{ start: '2027-04-02T10:00:00.000Z', end: '2027-04-02T11:00:00.000Z' }]]]);
    expect(changed.removed).toEqual([ids[1]]);

    await dev('POST', `users/${email}/reset-sync`);
    const restarted = await provider.readBusy(calendar!.id, { ...window, cursor: changed.cursor });
    expect(restarted.full).toBe(true);
    expect(restarted.events).toHaveLength(229);
  });

  it('writes a booking once, however often and however concurrently, keeps its id on update, and removes it idempotently', async () => {
    const email = 'writes@example.com';
    const provider = microsoftProvider(await connect(email), config);
    const [calendar] = await provider.listCalendars();
    const first = await provider.putBookingEvent(calendar!.id, booking('b-42', '2027-03-10T09:00:00.000Z'));
    const again = await provider.putBookingEvent(calendar!.id, booking('b-42', '2027-03-10T09:00:00.000Z'));
    expect(first.created).toBe(true);
    expect(again).toEqual({ externalEventId: first.externalEventId, created: false });
    // Concurrent first writes all miss the lookup; Graph's transactionId dedupe leaves one event.
    const racing = await Promise.all([0, 1, 2].map(() => provider.putBookingEvent(calendar!.id, booking('b-43', '2027-03-11T09:00:00.000Z'))));
    expect(new Set(racing.map((r) => r.externalEventId)).size).toBe(1);
    const moved = await provider.putBookingEvent(calendar!.id, booking('b-42', '2027-03-12T15:00:00.000Z', 45, 2));
    expect(moved.externalEventId).toBe(first.externalEventId);
    const { events } = await dev('GET', `users/${email}/events`);
    expect(events).toHaveLength(2);
    const stored = events.find((e: any) => e.id === first.externalEventId);
    expect(stored).toMatchObject({ subject: 'Intro call', start: { dateTime: '2027-03-12T15:00:00Z' }, transactionId: 'booking-engine:b-42' });
    expect(stored.singleValueExtendedProperties).toEqual([{ id: BOOKING_PROPERTY_ID, value: 'b-42' }]);

    await provider.removeBookingEvent(calendar!.id, 'b-42');
    await provider.removeBookingEvent(calendar!.id, 'b-42');
    const read = await provider.readBusy(calendar!.id, window);
    expect(read.events.map((e) => e.bookingId)).toEqual(['b-43']);
  });

  it('lets the RetryHandler honour Retry-After on 429, retries 500 itself, and gives up with CalendarUnavailableError', async () => {
    const provider = microsoftProvider(await connect('faults@example.com'), config, {}, fastRetry);
    await provider.listCalendars();
    const before = graph.requests.length;
    await dev('POST', 'faults', { status: 429, count: 1, retryAfter: 1 });
    const started = Date.now();
    expect(await provider.account()).toEqual({ email: 'faults@example.com' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(graph.requests.length - before).toBe(2);

    await dev('POST', 'faults', { status: 500, count: 2 });
    expect((await provider.listCalendars()).length).toBe(1);

    await dev('POST', 'faults', { status: 503, count: 3, retryAfter: 0 });
    await expect(provider.listCalendars()).rejects.toBeInstanceOf(CalendarUnavailableError);
    await dev('POST', 'faults', { status: 429, count: 1, retryAfter: 120 });
    const error = await provider.listCalendars().catch((e) => e);
    expect(error).toBeInstanceOf(CalendarUnavailableError);
    expect(error.retryAfterSeconds).toBe(120);
    await dev('DELETE', 'faults');
  });

  it('turns a revoked grant into CalendarAuthError once the access token is refused', async () => {
    const credentials = await connect('revoked@example.com');
    const provider = microsoftProvider(credentials, config, {}, fastRetry);
    await provider.listCalendars();
    await dev('POST', 'users/revoked@example.com/revoke');
    await expect(provider.listCalendars()).rejects.toBeInstanceOf(CalendarAuthError);
  });
});

describe('the local Graph answers as Graph does where clients look', () => {
  it('pages calendarView by Prefer odata.maxpagesize, needs a time window, and sends 204 without a JSON content type', async () => {
    const credentials = await connect('wire@example.com');
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${graph.url}/v1.0/${path}`, { ...init, headers: { authorization: `Bearer ${credentials.accessToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    for (let i = 0; i < 3; i++) await addEvent('wire@example.com', { subject: `e${i}`, start: at(`2027-03-1${i}T09:00:00`), end: at(`2027-03-1${i}T10:00:00`) });
    const first = await (await api('me/calendarView?startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-04-01T00:00:00Z', { headers: { prefer: 'odata.maxpagesize=2' } })).json() as any;
    expect(first.value.map((e: any) => e.subject)).toEqual(['e0', 'e1']);
    expect(first['@odata.nextLink']).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/me\/calendarView\?/);
    const second = await (await fetch(first['@odata.nextLink'], { headers: { authorization: `Bearer ${credentials.accessToken}` } })).json() as any;
    expect(second.value.map((e: any) => e.subject)).toEqual(['e2']);
    expect(second['@odata.nextLink']).toBeUndefined();
    const noWindow = await api('me/calendarView');
    expect(noWindow.status).toBe(400);
    expect(((await noWindow.json()) as any).error.code).toBe('ErrorInvalidParameter');
    const deleted = await api(`me/events/${first.value[0].id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get('content-type')).toBeNull();
    expect((await api(`me/events/${first.value[0].id}`)).status).toBe(404);
  });
});
