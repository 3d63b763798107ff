// The CalDAV adapter against a real Radicale (Debian's radicale, started by infra/local/caldav-server.ts on a
// port and directory of this file's own). Changes are made the way any CalDAV client makes them: plain PUT and
// DELETE over fetch. A small proxy in front of Radicale plays a server without sync-collection and one that
// is overloaded, since Radicale is neither.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ICAL from 'ical.js';
import { DEV_CALDAV_LOGIN, radicaleInstalled, startCaldavServer, type CaldavServer } from '../../infra/local/caldav-server.ts';
import { caldavProvider, discoverCaldav, type CaldavCredentials, type CaldavHooks } from '../../shared/calendars/providers/caldav.ts';
import { CalendarAuthError, CalendarRequestError, CalendarUnavailableError, type BookingCalendarEvent, type BusyRead } from '../../shared/calendars/provider.ts';
import { inviteUid } from '../../shared/notifications/render.ts';

const users = { alice: 'alice-secret', bob: 'bob-secret', 'carol@example.com': 'carol-secret' };
let server: CaldavServer;
let dataDir: string;
const auth = (user: keyof typeof users) => `Basic ${Buffer.from(`${user}:${users[user]}`).toString('base64')}`;

const ics = (uid: string, ...lines: string[]) =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//plain client//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
/** What any CalDAV client does: PUT an object, DELETE one. */
async function put(calendarUrl: string, name: string, text: string, user: keyof typeof users = 'alice') {
  const response = await fetch(`${calendarUrl}${name}`, { method: 'PUT', headers: { authorization: auth(user), 'content-type': 'text/calendar; charset=utf-8' }, body: text });
  await response.arrayBuffer();
  expect([201, 204]).toContain(response.status);
}
async function del(calendarUrl: string, name: string) {
  const response = await fetch(`${calendarUrl}${name}`, { method: 'DELETE', headers: { authorization: auth('alice') } });
  await response.arrayBuffer();
  expect(response.status).toBe(200);
}
async function mkcalendar(url: string, component: 'VEVENT' | 'VTODO', name: string) {
  const response = await fetch(url, {
    method: 'MKCALENDAR',
    headers: { authorization: auth('alice'), 'content-type': 'application/xml' },
    body: `<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>${name}</D:displayname><C:supported-calendar-component-set><C:comp name="${component}"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`,
  });
  await response.arrayBuffer();
  expect(response.status).toBe(201);
}
/** The object names in a collection, as Radicale lists them. */
async function members(calendarUrl: string): Promise<string[]> {
  const response = await fetch(calendarUrl, { method: 'PROPFIND', headers: { authorization: auth('alice'), depth: '1' } });
  const body = await response.text();
  return [...body.matchAll(/<href>([^<]+\.ics)<\/href>/g)].map((m) => decodeURIComponent(m[1]!.split('/').pop()!));
}
async function getObject(url: string) {
  const response = await fetch(url, { headers: { authorization: auth('alice') } });
  return { status: response.status, text: await response.text() };
}

/** Counts what goes over the wire: a fetch wrapper under the adapter, apart from the adapter's own count. */
function counting(): CaldavHooks & { sent: string[] } {
  const sent: string[] = [];
  const wire: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    sent.push(`${init?.method ?? 'GET'} ${new URL(input instanceof Request ? input.url : input).pathname} ${response.status}`);
    return response;
  };
  return { sent, allowLoopback: true, fetch: wire };
}

/** Radicale's own log lines for requests ("<METHOD> request for '<path>'") written since `offset`. */
async function radicaleRequestsSince(offset: number, expected: number): Promise<string[]> {
  let lines: string[] = [];
  // Radicale writes its log line as it answers; give the file a few looks for it to land.
  for (let look = 0; look < 40; look++) {
    lines = readFileSync(server.logFile, 'utf8').slice(offset).split('\n').filter((line) => / request for '/.test(line));
    if (lines.length >= expected) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return lines;
}

const window = { from: '2026-12-01T00:00:00Z', to: '2027-01-01T00:00:00Z', timeZone: 'Europe/Berlin' };
const spansById = (read: BusyRead) => Object.fromEntries(read.events.map((e) => [e.externalEventId.split('/').pop(), e.spans]));

beforeAll(async () => {
  if (!radicaleInstalled()) throw new Error('radicale is not installed: apt-get install radicale (.ci/run does)');
  dataDir = mkdtempSync(join(tmpdir(), 'caldav-test-'));
  server = await startCaldavServer({ dataDir, users });
});
afterAll(async () => {
  await server?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('discovery and login', () => {
  it('from the server root: the home, the account and the calendars that hold events', async () => {
    const found = await discoverCaldav({ serverUrl: server.url, username: 'alice', password: users.alice }, { allowLoopback: true });
    expect(found.credentials).toMatchObject({ kind: 'basic', serverUrl: server.url, username: 'alice', password: users.alice, homeUrl: `${server.url}alice/` });
    expect(found.account.email).toBe('alice');
    expect(found.calendars).toContainEqual({ id: server.calendarUrl('alice'), name: 'Calendar', primary: true, writable: true });
  });

  it('from a deeper URL (a calendar, an object below it) finds the same home', async () => {
    for (const deeper of [server.calendarUrl('alice'), `${server.calendarUrl('alice')}nothing-here.ics`, `${server.url}alice/`]) {
      const found = await discoverCaldav({ serverUrl: deeper, username: 'alice', password: users.alice }, { allowLoopback: true });
      expect(found.credentials.homeUrl).toBe(`${server.url}alice/`);
      expect(found.calendars.map((c) => c.id)).toContain(server.calendarUrl('alice'));
    }
  });

  it('a wrong password or an unknown user is a CalendarAuthError', async () => {
    await expect(discoverCaldav({ serverUrl: server.url, username: 'alice', password: 'wrong' }, { allowLoopback: true })).rejects.toBeInstanceOf(CalendarAuthError);
    await expect(discoverCaldav({ serverUrl: server.url, username: 'mallory', password: 'x' }, { allowLoopback: true })).rejects.toBeInstanceOf(CalendarAuthError);
    const provider = caldavProvider({ kind: 'basic', serverUrl: server.url, username: 'alice', password: 'wrong', homeUrl: `${server.url}alice/` }, { allowLoopback: true });
    await expect(provider.readBusy(server.calendarUrl('alice'), window)).rejects.toBeInstanceOf(CalendarAuthError);
  });

  it('refuses loopback and private servers unless told (SSRF), and URLs that are not http(s)', async () => {
    await expect(discoverCaldav({ serverUrl: server.url, username: 'alice', password: users.alice }, { allowLoopback: false })).rejects.toThrow(/loopback/);
    await expect(discoverCaldav({ serverUrl: 'http://169.254.169.254/', username: 'a', password: 'b' }, { allowLoopback: true })).rejects.toThrow(/link-local/);
    await expect(discoverCaldav({ serverUrl: 'file:///etc/passwd', username: 'a', password: 'b' })).rejects.toBeInstanceOf(CalendarRequestError);
  });

  it('lists the calendars that hold VEVENTs, not task lists', async () => {
    await mkcalendar(`${server.url}alice/work/`, 'VEVENT', 'Work');
    await mkcalendar(`${server.url}alice/tasks/`, 'VTODO', 'Tasks');
    const provider = caldavProvider({ kind: 'basic', serverUrl: server.url, username: 'alice', password: users.alice, homeUrl: `${server.url}alice/` }, { allowLoopback: true });
    const calendars = await provider.listCalendars();
    expect(calendars.map((c) => [c.name, c.primary])).toEqual([['Calendar', true], ['Work', false]]);
  });
});

describe('busy reads', () => {
  let credentials: CaldavCredentials;
  let calendar: string;
  beforeAll(async () => {
    credentials = (await discoverCaldav({ serverUrl: server.url, username: 'alice', password: users.alice }, { allowLoopback: true })).credentials;
    calendar = `${server.url}alice/reads/`;
    await mkcalendar(calendar, 'VEVENT', 'Reads');
  });

  it('full read, then incremental after an add, a change and a delete; an unchanged calendar costs exactly one request', async () => {
    await put(calendar, 'dentist.ics', ics('dentist', 'DTSTART;TZID=Europe/Berlin:20261210T100000', 'DTEND;TZID=Europe/Berlin:20261210T110000', 'SUMMARY:Dentist'));
    await put(calendar, 'free.ics', ics('free', 'DTSTART:20261211T100000Z', 'DTEND:20261211T110000Z', 'TRANSP:TRANSPARENT'));
    const hooks = counting();
    const provider = caldavProvider(credentials, hooks);
    const full = await provider.readBusy(calendar, window);
    expect(full.full).toBe(true);
    expect(spansById(full)).toEqual({ 'dentist.ics': [{ start: '2026-12-10T09:00:00.000Z', end: '2026-12-10T10:00:00.000Z' }], 'free.ics': [] });
    expect(full.events.find((e) => e.externalEventId.endsWith('dentist.ics'))!.summary).toBe('Dentist');
    // sync-collection from no token, then one multiget: no discovery, no listing.
    expect(full.requests).toBe(2);
    expect(hooks.sent).toEqual([`REPORT /alice/reads/ 207`, `REPORT /alice/reads/ 207`]);

    // Unchanged: one request, by our count and by Radicale's log.
    hooks.sent.length = 0;
    const offset = statSync(server.logFile).size;
    const unchanged = await provider.readBusy(calendar, { ...window, cursor: full.cursor });
    expect(unchanged).toEqual({ full: false, events: [], removed: [], cursor: full.cursor, requests: 1 });
    expect(hooks.sent).toHaveLength(1);
    const logged = await radicaleRequestsSince(offset, 1);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/REPORT request for '\/alice\/reads\/'/);

    // A plain client adds one, changes one, deletes one.
    await put(calendar, 'lunch.ics', ics('lunch', 'DTSTART:20261215T120000Z', 'DTEND:20261215T130000Z'));
    await put(calendar, 'dentist.ics', ics('dentist', 'DTSTART;TZID=Europe/Berlin:20261210T140000', 'DTEND;TZID=Europe/Berlin:20261210T150000', 'SEQUENCE:1'));
    await del(calendar, 'free.ics');
    const incremental = await provider.readBusy(calendar, { ...window, cursor: unchanged.cursor });
    expect(incremental.full).toBe(false);
    expect(spansById(incremental)).toEqual({
      'lunch.ics': [{ start: '2026-12-15T12:00:00.000Z', end: '2026-12-15T13:00:00.000Z' }],
      'dentist.ics': [{ start: '2026-12-10T13:00:00.000Z', end: '2026-12-10T14:00:00.000Z' }],
    });
    expect(incremental.removed).toEqual(['/alice/reads/free.ics']);
    expect(incremental.requests).toBe(2);
    expect(incremental.cursor).not.toBe(unchanged.cursor);

    const again = await provider.readBusy(calendar, { ...window, cursor: incremental.cursor });
    expect(again).toMatchObject({ full: false, events: [], removed: [], requests: 1 });
  });

  it('an invalid or foreign sync token, or a cursor that is not ours, is a full read', async () => {
    const provider = caldavProvider(credentials, { allowLoopback: true });
    for (const cursor of [JSON.stringify({ v: 1, sync: 'http://radicale.org/ns/sync/deadbeef' }), JSON.stringify({ v: 1, sync: 'not-a-token' }), 'garbage{', null]) {
      const read = await provider.readBusy(calendar, { ...window, cursor });
      expect(read.full).toBe(true);
      expect(read.events.length).toBeGreaterThan(0);
      expect(JSON.parse(read.cursor!).sync).toMatch(/^http:\/\/radicale.org\/ns\/sync\//);
    }
  });

  it('a recurring event is expanded here: EXDATE, a moved instance, a cancelled one; all-day days in the host zone', async () => {
    const series = [
      'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//plain client//EN',
      'BEGIN:VEVENT', 'UID:standup', 'DTSTAMP:20260101T000000Z', 'DTSTART;TZID=Europe/Berlin:20261201T090000', 'DTEND;TZID=Europe/Berlin:20261201T093000',
      'RRULE:FREQ=WEEKLY;COUNT=5', 'EXDATE;TZID=Europe/Berlin:20261208T090000', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:standup', 'DTSTAMP:20260101T000000Z', 'RECURRENCE-ID;TZID=Europe/Berlin:20261215T090000', 'DTSTART;TZID=Europe/Berlin:20261216T150000', 'DTEND;TZID=Europe/Berlin:20261216T160000', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:standup', 'DTSTAMP:20260101T000000Z', 'RECURRENCE-ID;TZID=Europe/Berlin:20261222T090000', 'DTSTART;TZID=Europe/Berlin:20261222T090000', 'DTEND;TZID=Europe/Berlin:20261222T093000', 'STATUS:CANCELLED', 'END:VEVENT',
      'END:VCALENDAR', '',
    ].join('\r\n');
    const recurring = `${server.url}alice/recurring/`;
    await mkcalendar(recurring, 'VEVENT', 'Recurring');
    await put(recurring, 'standup.ics', series);
    await put(recurring, 'holiday.ics', ics('holiday', 'DTSTART;VALUE=DATE:20261224', 'DTEND;VALUE=DATE:20261225'));
    const read = await caldavProvider(credentials, { allowLoopback: true }).readBusy(recurring, window);
    expect(spansById(read)).toEqual({
      'standup.ics': [
        { start: '2026-12-01T08:00:00.000Z', end: '2026-12-01T08:30:00.000Z' },
        { start: '2026-12-16T14:00:00.000Z', end: '2026-12-16T15:00:00.000Z' },
        { start: '2026-12-29T08:00:00.000Z', end: '2026-12-29T08:30:00.000Z' },
      ],
      'holiday.ics': [{ start: '2026-12-23T23:00:00.000Z', end: '2026-12-24T23:00:00.000Z' }],
    });
  });

  it("the account's own declined invitation blocks nothing (its login is its address)", async () => {
    const carol = await discoverCaldav({ serverUrl: server.url, username: 'carol@example.com', password: users['carol@example.com'] }, { allowLoopback: true });
    expect(carol.account.email).toBe('carol@example.com');
    const calendar = server.calendarUrl('carol@example.com');
    const invitation = (uid: string, partstat: string, day: string) =>
      ics(uid, `DTSTART:202612${day}T100000Z`, `DTEND:202612${day}T110000Z`, 'ORGANIZER:mailto:boss@example.com', `ATTENDEE;PARTSTAT=${partstat}:mailto:Carol@Example.com`);
    await put(calendar, 'declined.ics', invitation('declined', 'DECLINED', '08'), 'carol@example.com');
    await put(calendar, 'accepted.ics', invitation('accepted', 'ACCEPTED', '09'), 'carol@example.com');
    const read = await caldavProvider(carol.credentials, { allowLoopback: true }).readBusy(calendar, window);
    expect(spansById(read)).toEqual({ 'declined.ics': [], 'accepted.ics': [{ start: '2026-12-09T10:00:00.000Z', end: '2026-12-09T11:00:00.000Z' }] });
  });

  it("another account's calendar, or a calendar on another server, is refused", async () => {
    const provider = caldavProvider(credentials, { allowLoopback: true });
    await expect(provider.readBusy(server.calendarUrl('bob'), window)).rejects.toBeInstanceOf(CalendarRequestError);
    await expect(provider.readBusy('http://127.0.0.2:1/calendar/', window)).rejects.toThrow(/not on the connection's server/);
    await expect(provider.putBookingEvent(server.calendarUrl('bob'), booking('cross', 0))).rejects.toBeInstanceOf(CalendarRequestError);
  });
});

/** A stand-in for servers Radicale is not: forwards to it, except what `intercept` answers itself. */
type Answer = { status: number; headers?: Record<string, string>; body?: string } | undefined;
async function proxy(intercept: (method: string, body: string) => Answer | Promise<Answer>) {
  const target = new URL(server.url);
  const http: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const answer = await intercept(req.method!, body);
    if (answer) {
      res.writeHead(answer.status, answer.headers ?? {});
      return res.end(answer.body ?? '');
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length')) as Record<string, string>;
    const upstream = await fetch(new URL(req.url!, target), { method: req.method, headers, body: ['GET', 'HEAD'].includes(req.method!) ? undefined : body, redirect: 'manual' });
    const text = Buffer.from(await upstream.arrayBuffer());
    const passed: Record<string, string> = {};
    upstream.headers.forEach((value, key) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(key)) passed[key] = value;
    });
    res.writeHead(upstream.status, passed);
    res.end(text);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  return { url, close: () => new Promise<void>((resolve) => http.close(() => resolve())) };
}

describe('a server without sync-collection: getctag, then etags', () => {
  it('full read, unchanged = one PROPFIND, then only the changed and removed objects', async () => {
    const front = await proxy((method, body) =>
      method === 'REPORT' && body.includes('sync-collection')
        ? { status: 403, headers: { 'content-type': 'application/xml' }, body: '<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:supported-report/></D:error>' }
        : undefined,
    );
    try {
      const calendar = `${front.url}alice/etags/`;
      await mkcalendar(`${server.url}alice/etags/`, 'VEVENT', 'Etags');
      await put(`${server.url}alice/etags/`, 'one.ics', ics('one', 'DTSTART:20261203T100000Z', 'DTEND:20261203T110000Z'));
      await put(`${server.url}alice/etags/`, 'two.ics', ics('two', 'DTSTART:20261204T100000Z', 'DTEND:20261204T110000Z'));
      const hooks = counting();
      const provider = caldavProvider({ kind: 'basic', serverUrl: front.url, username: 'alice', password: users.alice, homeUrl: `${front.url}alice/` }, hooks);
      const full = await provider.readBusy(calendar, window);
      expect(full.full).toBe(true);
      expect(Object.keys(spansById(full)).sort()).toEqual(['one.ics', 'two.ics']);
      const cursor = JSON.parse(full.cursor!);
      expect(cursor.ctag).toBeTruthy();
      expect(Object.keys(cursor.etags)).toHaveLength(2);

      hooks.sent.length = 0;
      const unchanged = await provider.readBusy(calendar, { ...window, cursor: full.cursor });
      expect(unchanged).toEqual({ full: false, events: [], removed: [], cursor: full.cursor, requests: 1 });
      expect(hooks.sent).toEqual(['PROPFIND /alice/etags/ 207']);

      await put(`${server.url}alice/etags/`, 'two.ics', ics('two', 'DTSTART:20261204T150000Z', 'DTEND:20261204T160000Z', 'SEQUENCE:1'));
      await put(`${server.url}alice/etags/`, 'three.ics', ics('three', 'DTSTART:20261205T100000Z', 'DTEND:20261205T110000Z'));
      await del(`${server.url}alice/etags/`, 'one.ics');
      const changed = await provider.readBusy(calendar, { ...window, cursor: unchanged.cursor });
      expect(changed.full).toBe(false);
      expect(spansById(changed)).toEqual({
        'two.ics': [{ start: '2026-12-04T15:00:00.000Z', end: '2026-12-04T16:00:00.000Z' }],
        'three.ics': [{ start: '2026-12-05T10:00:00.000Z', end: '2026-12-05T11:00:00.000Z' }],
      });
      expect(changed.removed).toEqual(['/alice/etags/one.ics']);
      // getctag, the etag listing, one multiget.
      expect(changed.requests).toBe(3);
    } finally {
      await front.close();
    }
  });
});

describe('failures', () => {
  it('5xx and 429 are retried, honouring Retry-After; then CalendarUnavailableError with the wait', async () => {
    let refusals = 2;
    const front = await proxy(() => (refusals-- > 0 ? { status: refusals % 2 ? 503 : 429, headers: { 'retry-after': '2' } } : undefined));
    try {
      const waits: number[] = [];
      const hooks = { allowLoopback: true, sleep: async (ms: number) => void waits.push(ms) };
      const provider = caldavProvider({ kind: 'basic', serverUrl: front.url, username: 'alice', password: users.alice, homeUrl: `${front.url}alice/` }, hooks);
      const read = await provider.readBusy(`${front.url}alice/calendar/`, window);
      expect(read.full).toBe(true);
      expect(waits).toEqual([2000, 2000]);
      // Two refused, then the sync-collection of an empty calendar (nothing to multiget).
      expect(read.events).toEqual([]);
      expect(read.requests).toBe(3);

      refusals = 100;
      const error = await provider.readBusy(`${front.url}alice/calendar/`, window).catch((e) => e);
      expect(error).toBeInstanceOf(CalendarUnavailableError);
      expect(error.retryAfterSeconds).toBe(2);
      // A Retry-After longer than the adapter waits in place is handed up at once.
      const patient = caldavProvider({ kind: 'basic', serverUrl: front.url, username: 'alice', password: users.alice, homeUrl: `${front.url}alice/` }, { ...hooks, maxWaitMs: 1000 });
      waits.length = 0;
      await expect(patient.readBusy(`${front.url}alice/calendar/`, window)).rejects.toMatchObject({ name: 'CalendarUnavailableError', retryAfterSeconds: 2 });
      expect(waits).toEqual([]);
    } finally {
      await front.close();
    }
  });

  it('a response over the size bound is refused, not read', async () => {
    const provider = caldavProvider({ kind: 'basic', serverUrl: server.url, username: 'alice', password: users.alice, homeUrl: `${server.url}alice/` }, { allowLoopback: true, maxResponseBytes: 600 });
    // The reads calendar's objects come to more than 600 bytes in one multiget.
    await expect(provider.readBusy(`${server.url}alice/reads/`, window)).rejects.toThrow(/over the 600 byte limit/);
  });

  it('a redirect to a private address is not followed', async () => {
    const front = await proxy(() => ({ status: 301, headers: { location: 'http://169.254.169.254/latest/meta-data/' } }));
    try {
      const provider = caldavProvider({ kind: 'basic', serverUrl: front.url, username: 'alice', password: users.alice, homeUrl: `${front.url}alice/` }, { allowLoopback: true });
      await expect(provider.readBusy(`${front.url}alice/calendar/`, window)).rejects.toThrow(/169\.254\.169\.254.*link-local/);
    } finally {
      await front.close();
    }
  });

  it('an object deleted between the listing and the fetch is not an error', async () => {
    const racy = `${server.url}alice/racy/`;
    await mkcalendar(racy, 'VEVENT', 'Racy');
    await put(racy, 'stays.ics', ics('stays', 'DTSTART:20261203T100000Z', 'DTEND:20261203T110000Z'));
    await put(racy, 'vanishes.ics', ics('vanishes', 'DTSTART:20261204T100000Z', 'DTEND:20261204T110000Z'));
    // Someone deletes an object just as the multiget goes out.
    const front = await proxy(async (method, body) => {
      if (method === 'REPORT' && body.includes('calendar-multiget')) await fetch(`${racy}vanishes.ics`, { method: 'DELETE', headers: { authorization: auth('alice') } }).then((r) => r.arrayBuffer());
      return undefined;
    });
    try {
      const problems: string[] = [];
      const provider = caldavProvider({ kind: 'basic', serverUrl: front.url, username: 'alice', password: users.alice, homeUrl: `${front.url}alice/` }, { allowLoopback: true, onProblem: (p) => problems.push(p) });
      const read = await provider.readBusy(`${front.url}alice/racy/`, window);
      expect(read.full).toBe(true);
      expect(Object.keys(spansById(read))).toEqual(['stays.ics']);
    } finally {
      await front.close();
    }
  });

  it('an unreachable server is CalendarUnavailableError', async () => {
    const provider = caldavProvider({ kind: 'basic', serverUrl: 'http://127.0.0.1:9/', username: 'a', password: 'b', homeUrl: 'http://127.0.0.1:9/a/' }, { allowLoopback: true, sleep: async () => {} });
    await expect(provider.readBusy('http://127.0.0.1:9/a/calendar/', window)).rejects.toBeInstanceOf(CalendarUnavailableError);
  });
});

function booking(bookingId: string, sequence: number, start = '2026-12-10T09:00:00.000Z', end = '2026-12-10T09:30:00.000Z'): BookingCalendarEvent {
  return {
    bookingId,
    sequence,
    status: 'confirmed',
    title: 'Intro call with Ann',
    description: 'Booked online',
    start,
    end,
    timeZone: 'Europe/Berlin',
    organizer: { name: 'Alice', email: 'alice@example.com' },
    attendee: { name: 'Ann', email: 'ann@example.org' },
    manageUrl: `https://app.example.com/bookings/${bookingId}`,
  };
}

describe('writing bookings', () => {
  let provider: ReturnType<typeof caldavProvider>;
  let calendar: string;
  beforeAll(async () => {
    const { credentials } = await discoverCaldav({ serverUrl: server.url, username: 'alice', password: users.alice }, { allowLoopback: true });
    provider = caldavProvider(credentials, { allowLoopback: true });
    calendar = `${server.url}alice/bookings/`;
    await mkcalendar(calendar, 'VEVENT', 'Bookings');
  });

  it('put twice, and twice at once, leaves one object', async () => {
    const first = await provider.putBookingEvent(calendar, booking('b-1', 1));
    expect(first).toEqual({ externalEventId: '/alice/bookings/booking-b-1.ics', created: true });
    expect(await provider.putBookingEvent(calendar, booking('b-1', 1))).toEqual({ externalEventId: first.externalEventId, created: false });
    const concurrent = await Promise.all([1, 2, 3].map(() => provider.putBookingEvent(calendar, booking('b-2', 1))));
    expect(concurrent.filter((w) => w.created)).toHaveLength(1);
    expect(new Set(concurrent.map((w) => w.externalEventId))).toEqual(new Set(['/alice/bookings/booking-b-2.ics']));
    expect((await members(calendar)).sort()).toEqual(['booking-b-1.ics', 'booking-b-2.ics']);
    // Our own event reads back as ours: not counted twice, not a conflict.
    const read = await provider.readBusy(calendar, window);
    expect(read.events.map((e) => e.bookingId).sort()).toEqual(['b-1', 'b-2']);
  });

  it('an update moves the same UID with SEQUENCE up; an older write after it changes nothing', async () => {
    await provider.putBookingEvent(calendar, booking('b-3', 1));
    const moved = await provider.putBookingEvent(calendar, booking('b-3', 2, '2026-12-11T14:00:00.000Z', '2026-12-11T14:30:00.000Z'));
    expect(moved.created).toBe(false);
    const stale = await provider.putBookingEvent(calendar, booking('b-3', 1));
    expect(stale.created).toBe(false);
    const { text } = await getObject(`${calendar}booking-b-3.ics`);
    const vevent = new ICAL.Component(ICAL.parse(text)).getFirstSubcomponent('vevent')!;
    expect(vevent.getFirstPropertyValue('uid')).toBe(inviteUid('b-3'));
    expect(vevent.getFirstPropertyValue('sequence')).toBe(2);
    expect(text).toContain('DTSTART;TZID=Europe/Berlin:20261211T150000');
    expect((await members(calendar)).filter((n) => n.includes('b-3'))).toEqual(['booking-b-3.ics']);
  });

  it('an update racing a retried older write: the newer booking state is what stays', async () => {
    await provider.putBookingEvent(calendar, booking('b-8', 1));
    const later = booking('b-8', 3, '2026-12-15T10:00:00.000Z', '2026-12-15T10:30:00.000Z');
    await Promise.all([provider.putBookingEvent(calendar, booking('b-8', 2, '2026-12-14T10:00:00.000Z', '2026-12-14T10:30:00.000Z')), provider.putBookingEvent(calendar, later), provider.putBookingEvent(calendar, booking('b-8', 1))]);
    const vevent = new ICAL.Component(ICAL.parse((await getObject(`${calendar}booking-b-8.ics`)).text)).getFirstSubcomponent('vevent')!;
    expect(vevent.getFirstPropertyValue('x-booking-sequence')).toBe('3');
    expect(vevent.getFirstPropertyValue('dtstart')!.toString()).toBe('2026-12-15T11:00:00');
    expect((await members(calendar)).filter((n) => n.includes('b-8'))).toEqual(['booking-b-8.ics']);
  });

    it('SEQUENCE rises past one a calendar client set, so clients take the update', async () => {
    await provider.putBookingEvent(calendar, booking('b-4', 1));
    const url = `${calendar}booking-b-4.ics`;
    const { text } = await getObject(url);
    await put(calendar, 'booking-b-4.ics', text.replace('SEQUENCE:1', 'SEQUENCE:7'));
    await provider.putBookingEvent(calendar, booking('b-4', 2, '2026-12-12T09:00:00.000Z', '2026-12-12T09:30:00.000Z'));
    const after = new ICAL.Component(ICAL.parse((await getObject(url)).text)).getFirstSubcomponent('vevent')!;
    expect(after.getFirstPropertyValue('sequence')).toBe(8);
  });

  it('remove deletes; removing again is fine', async () => {
    await provider.putBookingEvent(calendar, booking('b-5', 1));
    await provider.removeBookingEvent(calendar, 'b-5');
    expect((await getObject(`${calendar}booking-b-5.ics`)).status).toBe(404);
    await provider.removeBookingEvent(calendar, 'b-5');
    await provider.removeBookingEvent(calendar, 'never-written');
  });

  it('where deletes are refused, the event is cancelled in place (STATUS:CANCELLED, SEQUENCE up)', async () => {
    await provider.putBookingEvent(calendar, booking('b-6', 1));
    const front = await proxy((method) => (method === 'DELETE' ? { status: 403 } : undefined));
    try {
      const viaProxy = caldavProvider({ kind: 'basic', serverUrl: front.url, username: 'alice', password: users.alice, homeUrl: `${front.url}alice/` }, { allowLoopback: true });
      await viaProxy.removeBookingEvent(`${front.url}alice/bookings/`, 'b-6');
      const { text } = await getObject(`${calendar}booking-b-6.ics`);
      expect(text).toContain('STATUS:CANCELLED');
      expect(text).toContain('SEQUENCE:2');
      const read = await provider.readBusy(calendar, window);
      expect(read.events.find((e) => e.bookingId === 'b-6')!.spans).toEqual([]);
    } finally {
      await front.close();
    }
  });

  it('a booking event a client re-saved under another name is updated there, not duplicated', async () => {
    await provider.putBookingEvent(calendar, booking('b-7', 1));
    const { text } = await getObject(`${calendar}booking-b-7.ics`);
    await del(calendar, 'booking-b-7.ics');
    await put(calendar, 'client-copy.ics', text);
    const written = await provider.putBookingEvent(calendar, booking('b-7', 2, '2026-12-14T09:00:00.000Z', '2026-12-14T09:30:00.000Z'));
    expect(written.externalEventId).toBe('/alice/bookings/client-copy.ics');
    expect((await members(calendar)).filter((n) => n.includes('b-7') || n === 'client-copy.ics')).toEqual(['client-copy.ics']);
    await provider.removeBookingEvent(calendar, 'b-7');
    expect((await getObject(`${calendar}client-copy.ics`)).status).toBe(404);
  });
});

describe('the local server (infra/local/caldav-server.ts)', () => {
  it('has the dev login and its calendar by default, keeps its data across restarts, and will not share a port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'caldav-dev-'));
    try {
      const first = await startCaldavServer({ dataDir: dir });
      const login = `Basic ${Buffer.from(`${DEV_CALDAV_LOGIN.username}:${DEV_CALDAV_LOGIN.password}`).toString('base64')}`;
      const object = `${first.calendarUrl(DEV_CALDAV_LOGIN.username)}kept.ics`;
      const created = await fetch(object, { method: 'PUT', headers: { authorization: login, 'content-type': 'text/calendar' }, body: ics('kept', 'DTSTART:20261210T100000Z', 'DTEND:20261210T110000Z') });
      expect(created.status).toBe(201);
      await expect(startCaldavServer({ dataDir: dir, port: first.port })).rejects.toThrow(/already in use/);
      await first.close();
      const second = await startCaldavServer({ dataDir: dir, port: first.port });
      try {
        expect((await fetch(object, { headers: { authorization: login } })).status).toBe(200);
        expect(readFileSync(second.logFile, 'utf8')).toMatch(/GET request for '\/dev-organizer\/calendar\/kept.ics'/);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
