// The Google adapter (the real googleapis client and google-auth-library) against the local Google Calendar:
// the OAuth round trip and refresh, calendars, full and incremental busy reads (paging, deletions, 410, recurrence
// with a moved and a cancelled instance, transparent, declined, all-day across a DST change, our own events),
// idempotent writes, retries that honour Retry-After, and the errors the calendars slice acts on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GOOGLE_CLIENT, startLocalGoogle, type LocalGoogle } from '../../infra/local/google-calendar.ts';
import { googleEventId, googleOAuth, googleProvider } from '../../shared/calendars/providers/google.ts';
import { oauthClientConfig } from '../../shared/calendars/providers/index.ts';
import { CalendarAuthError, CalendarUnavailableError, type BookingCalendarEvent, type OAuthClientConfig, type ProviderCredentials } from '../../shared/calendars/provider.ts';

let google: LocalGoogle;
let config: OAuthClientConfig;
const redirectUri = 'http://127.0.0.1:9/calendars/callback/google';
const fastRetry = { attempts: 3, maxWaitSeconds: 5, baseDelayMs: 20 };

beforeAll(async () => {
  google = await startLocalGoogle();
  config = oauthClientConfig('google', {
    GOOGLE_CLIENT_ID: DEFAULT_GOOGLE_CLIENT.clientId,
    GOOGLE_CLIENT_SECRET: DEFAULT_GOOGLE_CLIENT.clientSecret,
    GOOGLE_AUTH_URL: `${google.url}/o/oauth2/v2/auth`,
    GOOGLE_TOKEN_URL: `${google.url}/token`,
    GOOGLE_API_URL: google.url,
    GOOGLE_REVOKE_URL: `${google.url}/revoke`,
  });
});
afterAll(async () => {
  await google?.close();
});

/** The consent round trip as a browser (or curl -L) makes it, for the account `email`. */
async function connect(email: string): Promise<Extract<ProviderCredentials, { kind: 'oauth' }>> {
  const url = new URL(googleOAuth(config).authorizationUrl({ state: `state-${email}`, redirectUri }));
  url.searchParams.set('login_hint', email);
  const consent = await fetch(url, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  const back = new URL(consent.headers.get('location')!);
  expect(back.origin + back.pathname).toBe(redirectUri);
  expect(back.searchParams.get('state')).toBe(`state-${email}`);
  return googleOAuth(config).exchangeCode({ code: back.searchParams.get('code')!, redirectUri });
}

const dev = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${google.url}/dev/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`dev ${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
};
const addEvent = (email: string, body: unknown, calendarId = 'primary') => dev('POST', `users/${email}/calendars/${encodeURIComponent(calendarId)}/events`, body);

const booking = (bookingId: string, start: string, minutes = 30, sequence = 1): BookingCalendarEvent => ({
  bookingId, sequence, status: 'confirmed', title: 'Intro call', description: 'Booked online', start, end: new Date(Date.parse(start) + minutes * 60_000).toISOString(),
  timeZone: 'Europe/Berlin', organizer: { email: 'host@example.com' }, attendee: { name: 'Ann', email: 'ann@example.org' }, manageUrl: 'https://app.example/bookings/x',
});
const window = { from: '2027-03-01T00:00:00Z', to: '2027-04-30T00:00:00Z', timeZone: 'Europe/Berlin' };

describe('Google OAuth against the local Google', () => {
  it('round-trips the consent, exchanges the code once, and refuses bad clients and redirects', async () => {
    const credentials = await connect('oauth@example.com');
    expect(credentials.refreshToken).toMatch(/^1\/\//);
    expect(credentials.accessToken).toBeTruthy();
    const url = new URL(googleOAuth(config).authorizationUrl({ state: 's', redirectUri }));
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('scope')).toContain('calendar');
    // An unknown client is refused on the consent page itself; a code is good for one exchange.
    const unknown = new URL(url);
    unknown.searchParams.set('client_id', 'someone-else');
    expect((await fetch(unknown, { redirect: 'manual' })).status).toBe(401);
    const badRedirect = new URL(url);
    badRedirect.searchParams.set('redirect_uri', 'javascript:alert(1)');
    expect((await fetch(badRedirect, { redirect: 'manual' })).status).toBe(400);
    const consent = await fetch(url, { redirect: 'manual' });
    const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
    await googleOAuth(config).exchangeCode({ code, redirectUri });
    await expect(googleOAuth(config).exchangeCode({ code, redirectUri })).rejects.toBeInstanceOf(CalendarAuthError);
  });

  it('refreshes an expired access token and reports the new one through onCredentials', async () => {
    const credentials = await connect('refresh@example.com');
    const seen: string[] = [];
    const provider = googleProvider({ ...credentials, accessToken: 'stale', accessTokenExpiresAt: Date.now() - 1000 }, config, { onCredentials: (c) => void seen.push(c.accessToken!) });
    expect(await provider.account()).toEqual({ email: 'refresh@example.com' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toBe('stale');
    expect(seen[0]).not.toBe(credentials.accessToken);
  });
});

describe('the Google adapter against the local Google', () => {
  it('lists the calendars, the primary one first', async () => {
    const credentials = await connect('lists@example.com');
    await dev('POST', 'users/lists@example.com/calendars', { summary: 'Team', timeZone: 'Europe/Berlin' });
    const calendars = await googleProvider(credentials, config).listCalendars();
    expect(calendars).toHaveLength(2);
    expect(calendars[0]).toMatchObject({ id: 'lists@example.com', primary: true, writable: true });
    expect(calendars[1]).toMatchObject({ name: 'Team', primary: false, timeZone: 'Europe/Berlin' });
  });

  it('reads busy time as the user sees it: recurrence with exceptions, transparent, declined, all-day across DST, our own events', async () => {
    const email = 'busy@example.com';
    const credentials = await connect(email);
    const provider = googleProvider(credentials, config);
    const weekly = await addEvent(email, {
      summary: 'Standup', start: { dateTime: '2027-03-22T10:00:00', timeZone: 'Europe/Berlin' }, end: { dateTime: '2027-03-22T10:30:00', timeZone: 'Europe/Berlin' },
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE;TZID=Europe/Berlin:20270412T100000'],
    });
    // Move the second instance (after the DST change: 08:00Z) an hour later; cancel the first.
    await dev('PATCH', `users/${email}/calendars/primary/events/${weekly.id}_20270329T080000Z`, { start: { dateTime: '2027-03-29T11:00:00', timeZone: 'Europe/Berlin' }, end: { dateTime: '2027-03-29T11:30:00', timeZone: 'Europe/Berlin' } });
    await dev('DELETE', `users/${email}/calendars/primary/events/${weekly.id}_20270322T090000Z`);
    await addEvent(email, { summary: 'Focus (free)', transparency: 'transparent', start: { dateTime: '2027-03-23T12:00:00Z' }, end: { dateTime: '2027-03-23T13:00:00Z' } });
    await addEvent(email, { summary: 'Declined', attendees: [{ email, self: true, responseStatus: 'declined' }], start: { dateTime: '2027-03-24T12:00:00Z' }, end: { dateTime: '2027-03-24T13:00:00Z' } });
    const away = await addEvent(email, { summary: 'Away', start: { date: '2027-03-27' }, end: { date: '2027-03-29' } });
    const written = await provider.putBookingEvent('primary', booking('b-own', '2027-03-25T09:00:00.000Z'));

    const read = await provider.readBusy('primary', window);
    expect(read.full).toBe(true);
    expect(read.cursor).toBeTruthy();
    const byId = new Map(read.events.map((e) => [e.externalEventId, e]));
    const standups = read.events.filter((e) => e.summary === 'Standup');
    // Four weekly, one excluded (EXDATE), one cancelled: two left, one of them moved.
    expect(standups.map((e) => e.spans)).toEqual([
      [{ start: '2027-03-29T09:00:00.000Z', end: '2027-03-29T09:30:00.000Z' }],
      [{ start: '2027-04-05T08:00:00.000Z', end: '2027-04-05T08:30:00.000Z' }],
    ]);
    expect(read.events.find((e) => e.summary === 'Focus (free)')?.spans).toEqual([]);
    expect(read.events.find((e) => e.summary === 'Declined')?.spans).toEqual([]);
    // Two days in Berlin across the spring change: 47 hours, from midnight to midnight local time.
    expect(byId.get(away.id)?.spans).toEqual([{ start: '2027-03-26T23:00:00.000Z', end: '2027-03-28T22:00:00.000Z' }]);
    expect(byId.get(written.externalEventId)).toMatchObject({ bookingId: 'b-own', spans: [{ start: '2027-03-25T09:00:00.000Z', end: '2027-03-25T09:30:00.000Z' }] });
  });

  it('pages a full read, then reads only what changed, deletions included, and starts over on 410', async () => {
    const email = 'sync@example.com';
    const credentials = await connect(email);
    const provider = googleProvider(credentials, config);
    const ids: string[] = [];
    for (let i = 0; i < 260; i++) {
      const day = String(1 + (i % 28)).padStart(2, '0');
      const hour = String(i % 24).padStart(2, '0');
      ids.push((await addEvent(email, { summary: `e${i}`, start: { dateTime: `2027-03-${day}T${hour}:00:00Z` }, end: { dateTime: `2027-03-${day}T${hour}:20:00Z` } })).id);
    }
    const full = await provider.readBusy('primary', window);
    expect(full.events).toHaveLength(260);
    expect(full.requests).toBe(2);

    const logged = google.requests.length;
    const unchanged = await provider.readBusy('primary', { ...window, cursor: full.cursor });
    // An unchanged calendar costs one request, as the server's own log counts it.
    expect(google.requests.length - logged).toBe(1);
    expect(unchanged).toMatchObject({ full: false, events: [], removed: [], requests: 1 });

    await dev('PATCH', `users/${email}/calendars/primary/events/${ids[0]}`, { start: { dateTime: '2027-04-02T10:00:00Z' }, end: { dateTime: '2027-04-02T11:00:00Z' } });
    await dev('DELETE', `users/${email}/calendars/primary/events/${ids[1]}`);
    const changed = await provider.readBusy('primary', { ...window, cursor: unchanged.cursor });
    expect(changed.full).toBe(false);
    expect(changed.events.map((e) => [e.externalEventId, e.spans])).toEqual([[ids[0], [{ start: '2027-04-02T10:00:00.000Z', end: '2027-04-02T11:00:00.000Z' }]]]);
    expect(changed.removed).toEqual([ids[1]]);

    await dev('POST', `users/${email}/reset-sync`);
    const restarted = await provider.readBusy('primary', { ...window, cursor: changed.cursor });
    expect(restarted.full).toBe(true);
    expect(restarted.events).toHaveLength(259);
    expect(restarted.requests).toBe(3);
  });

  it('reports a cancelled instance and a changed series incrementally', async () => {
    const email = 'series@example.com';
    const provider = googleProvider(await connect(email), config);
    const daily = await addEvent(email, { summary: 'Daily', start: { dateTime: '2027-03-01T07:00:00Z' }, end: { dateTime: '2027-03-01T07:15:00Z' }, recurrence: ['RRULE:FREQ=DAILY;COUNT=5'] });
    const full = await provider.readBusy('primary', window);
    expect(full.events).toHaveLength(5);
    await dev('DELETE', `users/${email}/calendars/primary/events/${daily.id}_20270303T070000Z`);
    const afterCancel = await provider.readBusy('primary', { ...window, cursor: full.cursor });
    expect(afterCancel).toMatchObject({ events: [], removed: [`${daily.id}_20270303T070000Z`] });
    // The series shortened to three: the instances past the new end are gone, the others re-listed.
    await dev('PATCH', `users/${email}/calendars/primary/events/${daily.id}`, { recurrence: ['RRULE:FREQ=DAILY;COUNT=3'] });
    const afterShorten = await provider.readBusy('primary', { ...window, cursor: afterCancel.cursor });
    // (The instance cancelled before is listed as cancelled again with its changed series: removing it twice is harmless.)
    expect(afterShorten.removed.sort()).toEqual([`${daily.id}_20270303T070000Z`, `${daily.id}_20270304T070000Z`, `${daily.id}_20270305T070000Z`]);
    expect(afterShorten.events.map((e) => e.externalEventId).sort()).toEqual([`${daily.id}_20270301T070000Z`, `${daily.id}_20270302T070000Z`]);
  });

  it('writes a booking once, however often and however concurrently, keeps its id on update, and removes it idempotently', async () => {
    const email = 'writes@example.com';
    const provider = googleProvider(await connect(email), config);
    const first = await provider.putBookingEvent('primary', booking('b-42', '2027-03-10T09:00:00.000Z'));
    const again = await provider.putBookingEvent('primary', booking('b-42', '2027-03-10T09:00:00.000Z'));
    expect(first).toEqual({ externalEventId: googleEventId('b-42'), created: true });
    expect(again).toEqual({ externalEventId: first.externalEventId, created: false });
    const racing = await Promise.all([0, 1, 2].map(() => provider.putBookingEvent('primary', booking('b-43', '2027-03-11T09:00:00.000Z'))));
    expect(new Set(racing.map((r) => r.externalEventId)).size).toBe(1);
    expect(racing.filter((r) => r.created)).toHaveLength(1);
    const moved = await provider.putBookingEvent('primary', booking('b-42', '2027-03-12T15:00:00.000Z', 45, 2));
    expect(moved.externalEventId).toBe(first.externalEventId);
    const { events } = await dev('GET', `users/${email}/events`);
    expect(events).toHaveLength(2);
    const stored = events.find((e: any) => e.id === first.externalEventId);
    expect(stored).toMatchObject({ summary: 'Intro call', sequence: 2, start: { dateTime: '2027-03-12T15:00:00Z' }, extendedProperties: { private: { bookingId: 'b-42' } } });

    await provider.removeBookingEvent('primary', 'b-42');
    await provider.removeBookingEvent('primary', 'b-42');
    await provider.removeBookingEvent('primary', 'never-written');
    const read = await provider.readBusy('primary', window);
    expect(read.events.map((e) => e.bookingId)).toEqual(['b-43']);
    // A cancelled booking's write deletes its event; written again, it comes back under the same id.
    await provider.putBookingEvent('primary', { ...booking('b-43', '2027-03-11T09:00:00.000Z'), status: 'cancelled', sequence: 2 });
    expect((await provider.readBusy('primary', window)).events).toEqual([]);
    expect(await provider.putBookingEvent('primary', booking('b-42', '2027-03-12T15:00:00.000Z', 45, 3))).toEqual({ externalEventId: first.externalEventId, created: false });
  });

  it('honours Retry-After on 429, retries 403 rateLimitExceeded and 503, and gives up with CalendarUnavailableError', async () => {
    const provider = googleProvider(await connect('faults@example.com'), config, {}, fastRetry);
    await provider.listCalendars();
    const before = google.requests.length;
    await dev('POST', 'faults', { status: 429, count: 1, retryAfter: 1 });
    const started = Date.now();
    expect(await provider.account()).toEqual({ email: 'faults@example.com' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(google.requests.length - before).toBe(2);

    await dev('POST', 'faults', { status: 403, count: 1, reason: 'rateLimitExceeded' });
    await dev('POST', 'faults', { status: 503, count: 1 });
    expect((await provider.putBookingEvent('primary', booking('b-retry', '2027-03-15T09:00:00.000Z'))).created).toBe(true);

    await dev('POST', 'faults', { status: 503, count: 3 });
    await expect(provider.readBusy('primary', window)).rejects.toBeInstanceOf(CalendarUnavailableError);
    // A wait beyond the cap is not waited for: the caller is told how long.
    await dev('POST', 'faults', { status: 429, count: 1, retryAfter: 120 });
    const error = await provider.listCalendars().catch((e) => e);
    expect(error).toBeInstanceOf(CalendarUnavailableError);
    expect(error.retryAfterSeconds).toBe(120);
    await dev('DELETE', 'faults');
  });

  it('turns a revoked grant into CalendarAuthError, by the dev interface or by revoke()', async () => {
    const provider = googleProvider(await connect('revoked@example.com'), config, {}, fastRetry);
    await provider.listCalendars();
    await dev('POST', 'users/revoked@example.com/revoke');
    await expect(provider.listCalendars()).rejects.toBeInstanceOf(CalendarAuthError);

    const other = googleProvider(await connect('revokes@example.com'), config, {}, fastRetry);
    await other.listCalendars();
    await other.revoke();
    await other.revoke();
    await expect(other.readBusy('primary', window)).rejects.toBeInstanceOf(CalendarAuthError);
  });
});

describe('the local Google across a restart', () => {
  it('keeps its calendars and grants in its state file: a stored refresh token still works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-google-'));
    try {
      const first = await startLocalGoogle({ stateFile: join(dir, 'google.json') });
      const localConfig = { ...config, authorizeUrl: `${first.url}/o/oauth2/v2/auth`, tokenUrl: `${first.url}/token`, apiUrl: first.url };
      const url = new URL(googleOAuth(localConfig).authorizationUrl({ state: 's', redirectUri }));
      const code = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
      const credentials = await googleOAuth(localConfig).exchangeCode({ code, redirectUri });
      await googleProvider(credentials, localConfig).putBookingEvent('primary', booking('b-kept', '2027-03-10T09:00:00.000Z'));
      await first.close();

      const second = await startLocalGoogle({ stateFile: join(dir, 'google.json') });
      try {
        const againConfig = { ...localConfig, tokenUrl: `${second.url}/token`, apiUrl: second.url };
        // The access token is gone with the process; the refresh token is not.
        const read = await googleProvider({ kind: 'oauth', refreshToken: credentials.refreshToken }, againConfig).readBusy('primary', window);
        expect(read.events.map((e) => e.bookingId)).toEqual(['b-kept']);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the local Google answers as Google does where clients look', () => {
  it('refuses a syncToken with timeMin, serves freeBusy, and 401s an unknown token', async () => {
    const credentials = await connect('wire@example.com');
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${google.url}/calendar/v3/${path}`, { ...init, headers: { authorization: `Bearer ${credentials.accessToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    await addEvent('wire@example.com', { summary: 'Busy', start: { dateTime: '2027-03-10T09:00:00Z' }, end: { dateTime: '2027-03-10T10:00:00Z' } });
    await addEvent('wire@example.com', { summary: 'Free', transparency: 'transparent', start: { dateTime: '2027-03-10T11:00:00Z' }, end: { dateTime: '2027-03-10T12:00:00Z' } });
    const list = await (await api('calendars/primary/events?singleEvents=true')).json() as any;
    const restricted = await api(`calendars/primary/events?syncToken=${encodeURIComponent(list.nextSyncToken)}&timeMin=2027-03-01T00:00:00Z`);
    expect(restricted.status).toBe(400);
    expect(((await restricted.json()) as any).error.errors[0].reason).toBe('invalid');
    const busy = await (await api('freeBusy', { method: 'POST', body: JSON.stringify({ timeMin: '2027-03-10T00:00:00Z', timeMax: '2027-03-11T00:00:00Z', items: [{ id: 'primary' }] }) })).json() as any;
    expect(busy.calendars.primary.busy).toEqual([{ start: '2027-03-10T09:00:00Z', end: '2027-03-10T10:00:00Z' }]);
    const refused = await fetch(`${google.url}/calendar/v3/users/me/calendarList`, { headers: { authorization: 'Bearer made-up' } });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as any).error.code).toBe(401);
  });
});
