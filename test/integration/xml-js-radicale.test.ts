// The lean xml-js (infra/bundling/xml-js.mjs) on what a real CalDAV server says: Radicale, driven by our
// CalDAV adapter (discovery, a write, full and incremental busy reads, a removal) and by tsdav's own calls
// (mkcalendar, calendars, a time-range query, multiget, sync-collection with a good and a bad token,
// free-busy). Every request body tsdav wrote and every answer it parsed is recorded with tsdav's own options
// and run through both the real xml-js and the lean one: the same text out, the same object in. Then tsdav's
// reads are made again on the lean one: the same results.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAVClient, freeBusyQuery, syncCollection } from 'tsdav';
import { radicaleInstalled, startCaldavServer, type CaldavServer } from '../../infra/local/caldav-server.ts';
import { caldavProvider, discoverCaldav } from '../../shared/calendars/providers/caldav.ts';
import type { BookingCalendarEvent } from '../../shared/calendars/provider.ts';
import { bothJs2xml, bothXml2js, canon, recordXmlJs, restoreXmlJs, useLeanXmlJs, type XmlCall } from '../support/xml-js-differential.ts';

const user = { username: 'xml-organizer', password: 'xml-secret' };
const dataDir = mkdtempSync(join(tmpdir(), 'xml-radicale-'));
let server: CaldavServer;
const recorded: XmlCall[] = [];
let client: DAVClient;
let calendarUrl: string;
const timeRange = { start: '2027-03-01T00:00:00Z', end: '2027-04-30T00:00:00Z' };
const ics = (uid: string, summary: string) =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//xml test//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20270101T000000Z', 'DTSTART:20270310T090000Z', 'DTEND:20270310T100000Z', `SUMMARY:${summary}`, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
const booking = (bookingId: string, start: string): BookingCalendarEvent => ({
  bookingId, sequence: 1, status: 'confirmed', title: 'Lunch & learn <b>', description: 'Café – ü 😀 "quoted"', start, end: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
  timeZone: 'Europe/Berlin', organizer: { email: 'host@example.com' }, attendee: { name: 'Ann', email: 'ann@example.org' }, manageUrl: 'https://app.example/bookings/x?a=1&b=2',
});

/** tsdav's reads that change nothing: made once on each xml-js, their results compared. */
const reads = () => [
  () => client.fetchCalendars(),
  () => client.fetchCalendarObjects({ calendar: { url: calendarUrl }, timeRange }),
  () => client.fetchCalendarObjects({ calendar: { url: calendarUrl } }),
  () => client.calendarMultiGet({ url: calendarUrl, props: { 'd:getetag': {}, 'c:calendar-data': {} }, objectUrls: [`${new URL(calendarUrl).pathname}plain.ics`, `${new URL(calendarUrl).pathname}second.ics`], depth: '1' }),
  () => client.propfind({ url: calendarUrl, props: { 'cs:getctag': {}, 'd:sync-token': {}, 'd:resourcetype': {}, 'd:displayname': {} }, depth: '0' }),
];

beforeAll(async () => {
  if (!radicaleInstalled()) throw new Error('radicale is not installed: apt-get install radicale (.ci/run does)');
  process.env.CALDAV_ALLOW_LOOPBACK = 'true';
  server = await startCaldavServer({ dataDir, users: { [user.username]: user.password } });
  const stop = recordXmlJs(recorded);
  try {
    // Our adapter, as the calendar functions use it.
    const found = await discoverCaldav({ serverUrl: server.url, ...user });
    const adapterCalendar = server.calendarUrl(user.username);
    const provider = caldavProvider(found.credentials);
    await provider.putBookingEvent(adapterCalendar, booking('xml-1', '2027-03-29T07:00:00Z'));
    const first = await provider.readBusy(adapterCalendar, { from: timeRange.start, to: timeRange.end, timeZone: 'Europe/Berlin' });
    await provider.putBookingEvent(adapterCalendar, { ...booking('xml-1', '2027-03-29T08:00:00Z'), sequence: 2 });
    const second = await provider.readBusy(adapterCalendar, { from: timeRange.start, to: timeRange.end, timeZone: 'Europe/Berlin', cursor: first.cursor });
    await provider.removeBookingEvent(adapterCalendar, 'xml-1');
    await provider.readBusy(adapterCalendar, { from: timeRange.start, to: timeRange.end, timeZone: 'Europe/Berlin', cursor: second.cursor });
    // tsdav's own calls.
    client = new DAVClient({ serverUrl: server.url, credentials: user, authMethod: 'Basic', defaultAccountType: 'caldav' });
    await client.login();
    calendarUrl = `${client.account!.homeUrl}xml-more/`;
    await client.makeCalendar({ url: calendarUrl, props: { 'd:displayname': 'XML & <more>', 'c:supported-calendar-component-set': { 'c:comp': [{ _attributes: { name: 'VEVENT' } }, { _attributes: { name: 'VTODO' } }] } } });
    await client.createCalendarObject({ calendar: { url: calendarUrl }, filename: 'plain.ics', iCalString: ics('plain-1', 'Plain & simple <ok>') });
    await client.createCalendarObject({ calendar: { url: calendarUrl }, filename: 'second.ics', iCalString: ics('second-1', ']]> inside') });
    for (const read of reads()) await read();
    const [calendar] = (await client.fetchCalendars()).filter((c) => c.url === new URL(calendarUrl).href);
    expect(calendar?.syncToken).toBeTruthy();
    await syncCollection({ url: calendarUrl, props: { 'd:getetag': {} }, syncLevel: 1, syncToken: String(calendar!.syncToken), headers: client.authHeaders });
    await syncCollection({ url: calendarUrl, props: { 'd:getetag': {} }, syncLevel: 1, syncToken: 'http://radicale.org/ns/sync/bogus', headers: client.authHeaders });
    await freeBusyQuery({ url: calendarUrl, timeRange, depth: '0', headers: client.authHeaders }).catch(() => undefined);
  } finally {
    stop();
  }
});

afterAll(async () => {
  restoreXmlJs();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the lean xml-js on Radicale', () => {
  it('reads every answer tsdav parsed as xml-js does', () => {
    const parsed = recorded.filter((call): call is Extract<XmlCall, { kind: 'xml2js' }> => call.kind === 'xml2js');
    expect(parsed.length).toBeGreaterThan(15);
    // The answers include multistatus with propstat, calendar-data, sync tokens and ctags (a bad token's 403 tsdav
    // does not parse).
    const all = parsed.map((call) => call.text).join('\n');
    for (const shape of ['<multistatus', 'propstat', 'calendar-data', 'sync-token', 'getctag', 'supported-calendar-component-set']) expect(all).toContain(shape);
    for (const call of parsed) {
      const { real, lean } = bothXml2js(call.text, call.options);
      expect(real.threw).toBe(false);
      expect(lean, call.text).toEqual(real);
    }
  });

  it('writes every request body tsdav built as xml-js does', () => {
    const written = recorded.filter((call): call is Extract<XmlCall, { kind: 'js2xml' }> => call.kind === 'js2xml');
    const roots = new Set(written.flatMap((call) => Object.keys(call.object as object)));
    for (const root of ['propfind', 'calendar-query', 'calendar-multiget', 'sync-collection', 'c:mkcalendar', 'free-busy-query']) expect(roots).toContain(root);
    for (const call of written) {
      const { real, lean } = bothJs2xml(call.object, call.options);
      expect(real.threw).toBe(false);
      expect(lean).toEqual(real);
    }
  });

  it("gives tsdav's reads the same results", async () => {
    const real: string[] = [];
    for (const read of reads()) real.push(canon(await read()));
    useLeanXmlJs();
    try {
      const lean: string[] = [];
      for (const read of reads()) lean.push(canon(await read()));
      expect(lean).toEqual(real);
      expect(real.join('')).toContain('Plain & simple <ok>');
    } finally {
      restoreXmlJs();
    }
  });
});
