// What an iCalendar object means as busy time (shared/calendars/ics.ts), and the booking object we write.
import { describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import fc from 'fast-check';
import { bookingIdOfUid, bookingObjectName, busyFromIcs, expansionBudget } from '../../shared/calendars/ics.ts';
import { bookingToIcs } from '../../shared/calendars/booking-ics.ts';
import { inviteUid } from '../../shared/notifications/render.ts';
import type { BookingCalendarEvent } from '../../shared/calendars/provider.ts';

const calendar = (...body: string[]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//busy//EN', ...body, 'END:VCALENDAR', ''].join('\r\n');
const vevent = (...lines: string[]) => ['BEGIN:VEVENT', 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT'];
const december = { from: '2026-12-01T00:00:00Z', to: '2027-01-01T00:00:00Z', timeZone: 'Europe/Berlin' };
const spansOf = (text: string, window: Parameters<typeof busyFromIcs>[1] = december) => {
  const result = busyFromIcs(text, window);
  return result.events.flatMap((e) => e.spans);
};

// Europe/Berlin and America/New_York as Outlook/Apple ship them, trimmed to the current rules.
const VTIMEZONE_BERLIN = [
  'BEGIN:VTIMEZONE', 'TZID:Europe/Berlin',
  'BEGIN:DAYLIGHT', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'TZNAME:CEST', 'DTSTART:19700329T020000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT',
  'BEGIN:STANDARD', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'TZNAME:CET', 'DTSTART:19701025T030000', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD',
  'END:VTIMEZONE',
];

describe('busy semantics', () => {
  it('an opaque timed event in a VTIMEZONE blocks its UTC span', () => {
    const text = calendar(...VTIMEZONE_BERLIN, ...vevent('UID:plain', 'DTSTART;TZID=Europe/Berlin:20261210T100000', 'DTEND;TZID=Europe/Berlin:20261210T113000', 'SUMMARY:Dentist'));
    const { events, problems } = busyFromIcs(text, december);
    expect(problems).toEqual([]);
    expect(events).toEqual([{ uid: 'plain', spans: [{ start: '2026-12-10T09:00:00.000Z', end: '2026-12-10T10:30:00.000Z' }], bookingId: undefined, summary: 'Dentist' }]);
  });

  it('TRANSP:TRANSPARENT and STATUS:CANCELLED block nothing but the event is still listed', () => {
    const text = calendar(
      ...vevent('UID:free', 'DTSTART:20261210T100000Z', 'DTEND:20261210T110000Z', 'TRANSP:TRANSPARENT'),
      ...vevent('UID:gone', 'DTSTART:20261211T100000Z', 'DTEND:20261211T110000Z', 'STATUS:CANCELLED'),
      ...vevent('UID:busy', 'DTSTART:20261212T100000Z', 'DTEND:20261212T110000Z', 'TRANSP:OPAQUE'),
    );
    const { events } = busyFromIcs(text, december);
    expect(Object.fromEntries(events.map((e) => [e.uid, e.spans.length]))).toEqual({ free: 0, gone: 0, busy: 1 });
  });

  it("the account's own declined invitation blocks nothing; someone else's decline does not matter", () => {
    const invite = (partstat: string) =>
      calendar(
        ...vevent(
          'UID:invite',
          'DTSTART:20261210T100000Z',
          'DTEND:20261210T110000Z',
          'ORGANIZER:mailto:boss@example.com',
          `ATTENDEE;PARTSTAT=${partstat};CN=Host:mailto:Host@Example.com`,
          'ATTENDEE;PARTSTAT=DECLINED:mailto:other@example.com',
        ),
      );
    const window = { ...december, addresses: ['mailto:host@example.com'] };
    expect(spansOf(invite('DECLINED'), window)).toEqual([]);
    expect(spansOf(invite('ACCEPTED'), window)).toHaveLength(1);
    expect(spansOf(invite('TENTATIVE'), window)).toHaveLength(1);
    // Without knowing the account's address no invitation can be told apart: it blocks.
    expect(spansOf(invite('DECLINED'), december)).toHaveLength(1);
  });

  it('an all-day event blocks its day in the host zone, across the DST change in Berlin (23 h) and New York (25 h)', () => {
    const allDay = (date: string, next: string) => calendar(...vevent('UID:day', `DTSTART;VALUE=DATE:${date}`, `DTEND;VALUE=DATE:${next}`));
    const march = { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' };
    expect(spansOf(allDay('20260329', '20260330'), { ...march, timeZone: 'Europe/Berlin' })).toEqual([{ start: '2026-03-28T23:00:00.000Z', end: '2026-03-29T22:00:00.000Z' }]);
    const november = { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' };
    expect(spansOf(allDay('20261101', '20261102'), { ...november, from: '2026-10-31T00:00:00Z', timeZone: 'America/New_York' })).toEqual([
      { start: '2026-11-01T04:00:00.000Z', end: '2026-11-02T05:00:00.000Z' },
    ]);
    // Without DTEND an all-day event is one day.
    expect(spansOf(calendar(...vevent('UID:d', 'DTSTART;VALUE=DATE:20261224')), { ...december, timeZone: 'America/New_York' })).toEqual([
      { start: '2026-12-24T05:00:00.000Z', end: '2026-12-25T05:00:00.000Z' },
    ]);
  });

  it('a floating time is the host wall clock', () => {
    const text = calendar(...vevent('UID:float', 'DTSTART:20261210T090000', 'DTEND:20261210T100000'));
    expect(spansOf(text, { ...december, timeZone: 'America/New_York' })).toEqual([{ start: '2026-12-10T14:00:00.000Z', end: '2026-12-10T15:00:00.000Z' }]);
    expect(spansOf(text, { ...december, timeZone: 'Asia/Tokyo' })).toEqual([{ start: '2026-12-10T00:00:00.000Z', end: '2026-12-10T01:00:00.000Z' }]);
  });

  it('a TZID without its VTIMEZONE is still read in that zone, not as floating', () => {
    const text = calendar(...vevent('UID:nozone', 'DTSTART;TZID=America/New_York:20261210T090000', 'DTEND;TZID=America/New_York:20261210T100000'));
    const { events, problems } = busyFromIcs(text, { ...december, timeZone: 'Asia/Tokyo' });
    expect(problems).toEqual([]);
    expect(events[0]!.spans).toEqual([{ start: '2026-12-10T14:00:00.000Z', end: '2026-12-10T15:00:00.000Z' }]);
    // A Mozilla-style TZID ends in the IANA name.
    const mozilla = text.replaceAll('TZID=America/New_York', 'TZID=/mozilla.org/20050126_1/America/New_York');
    expect(spansOf(mozilla, { ...december, timeZone: 'Asia/Tokyo' })).toEqual(events[0]!.spans);
  });

  it('a non-IANA TZID uses the VTIMEZONE the file brings; one it does not know is read as the host zone, with a reason', () => {
    const windows = VTIMEZONE_BERLIN.map((line) => (line === 'TZID:Europe/Berlin' ? 'TZID:W. Europe Standard Time' : line));
    const text = calendar(...windows, ...vevent('UID:outlook', 'DTSTART;TZID=W. Europe Standard Time:20261210T100000', 'DTEND;TZID=W. Europe Standard Time:20261210T110000'));
    const window = { ...december, timeZone: 'America/New_York' };
    expect(busyFromIcs(text, window)).toMatchObject({ problems: [], events: [{ spans: [{ start: '2026-12-10T09:00:00.000Z', end: '2026-12-10T10:00:00.000Z' }] }] });
    const unknown = calendar(...vevent('UID:mystery', 'DTSTART;TZID=Mars/Olympus:20261210T100000', 'DTEND;TZID=Mars/Olympus:20261210T110000'));
    const read = busyFromIcs(unknown, window);
    expect(read.events[0]!.spans).toEqual([{ start: '2026-12-10T15:00:00.000Z', end: '2026-12-10T16:00:00.000Z' }]);
    expect(read.problems.join()).toMatch(/unknown time zone "Mars\/Olympus"/);
  });

  it('a weekly recurrence across the US DST change, with an EXDATE, a moved and a cancelled instance', () => {
    const text = calendar(
      ...vevent('UID:weekly', 'SUMMARY:Standup', 'DTSTART;TZID=America/New_York:20261019T090000', 'DTEND;TZID=America/New_York:20261019T093000', 'RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6', 'EXDATE;TZID=America/New_York:20261026T090000'),
      // 2 Nov moved to Tuesday 14:00; 9 Nov cancelled; 16 Nov made transparent.
      ...vevent('UID:weekly', 'RECURRENCE-ID;TZID=America/New_York:20261102T090000', 'DTSTART;TZID=America/New_York:20261103T140000', 'DTEND;TZID=America/New_York:20261103T150000'),
      ...vevent('UID:weekly', 'RECURRENCE-ID;TZID=America/New_York:20261109T090000', 'DTSTART;TZID=America/New_York:20261109T090000', 'DTEND;TZID=America/New_York:20261109T093000', 'STATUS:CANCELLED'),
      ...vevent('UID:weekly', 'RECURRENCE-ID;TZID=America/New_York:20261116T090000', 'DTSTART;TZID=America/New_York:20261116T090000', 'DTEND;TZID=America/New_York:20261116T093000', 'TRANSP:TRANSPARENT'),
    );
    const { events, problems } = busyFromIcs(text, { from: '2026-10-01T00:00:00Z', to: '2026-12-31T00:00:00Z', timeZone: 'Europe/Berlin' });
    expect(problems).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]!.summary).toBe('Standup');
    expect(events[0]!.spans).toEqual([
      { start: '2026-10-19T13:00:00.000Z', end: '2026-10-19T13:30:00.000Z' }, // EDT, UTC-4
      { start: '2026-11-03T19:00:00.000Z', end: '2026-11-03T20:00:00.000Z' }, // moved, EST, UTC-5
      { start: '2026-11-23T14:00:00.000Z', end: '2026-11-23T14:30:00.000Z' }, // EST
    ]);
  });

  it('only instances inside the window, including one moved into it from after it', () => {
    const text = calendar(
      ...vevent('UID:daily', 'DTSTART:20261101T080000Z', 'DTEND:20261101T090000Z', 'RRULE:FREQ=DAILY'),
      ...vevent('UID:daily', 'RECURRENCE-ID:20261220T080000Z', 'DTSTART:20261205T120000Z', 'DTEND:20261205T130000Z'),
    );
    const spans = spansOf(text, { from: '2026-12-04T00:00:00Z', to: '2026-12-07T00:00:00Z', timeZone: 'UTC' });
    expect(spans).toEqual([
      { start: '2026-12-04T08:00:00.000Z', end: '2026-12-04T09:00:00.000Z' },
      { start: '2026-12-05T08:00:00.000Z', end: '2026-12-05T09:00:00.000Z' },
      { start: '2026-12-06T08:00:00.000Z', end: '2026-12-06T09:00:00.000Z' },
      { start: '2026-12-05T12:00:00.000Z', end: '2026-12-05T13:00:00.000Z' },
    ]);
  });

  it('DTSTART and DTEND in different zones (a flight), once and weekly', () => {
    const flight = (...extra: string[]) => calendar(...vevent('UID:flight', 'DTSTART;TZID=Europe/Berlin:20261210T100000', 'DTEND;TZID=America/New_York:20261210T130000', ...extra));
    expect(spansOf(flight(), { ...december, timeZone: 'UTC' })).toEqual([{ start: '2026-12-10T09:00:00.000Z', end: '2026-12-10T18:00:00.000Z' }]);
    expect(spansOf(flight('RRULE:FREQ=WEEKLY;COUNT=2'), { ...december, timeZone: 'UTC' })).toEqual([
      { start: '2026-12-10T09:00:00.000Z', end: '2026-12-10T18:00:00.000Z' },
      { start: '2026-12-17T09:00:00.000Z', end: '2026-12-17T18:00:00.000Z' },
    ]);
  });

  it('RDATE adds instances; DURATION gives the length', () => {
    const text = calendar(...vevent('UID:rdate', 'DTSTART:20261201T100000Z', 'DURATION:PT45M', 'RDATE:20261215T160000Z,20261222T160000Z'));
    expect(spansOf(text)).toEqual([
      { start: '2026-12-01T10:00:00.000Z', end: '2026-12-01T10:45:00.000Z' },
      { start: '2026-12-15T16:00:00.000Z', end: '2026-12-15T16:45:00.000Z' },
      { start: '2026-12-22T16:00:00.000Z', end: '2026-12-22T16:45:00.000Z' },
    ]);
  });

  it('a hostile RRULE is bounded: per event, and across one read', () => {
    const secondly = calendar(...vevent('UID:spin', 'DTSTART:20000101T000000Z', 'DTEND:20000101T000001Z', 'RRULE:FREQ=SECONDLY'));
    const { events, problems } = busyFromIcs(secondly, december);
    expect(events).toEqual([{ uid: 'spin', spans: [], bookingId: undefined, summary: undefined }]);
    expect(problems.join()).toMatch(/cut short after 25000 steps/);
    // Inside the window: capped instances.
    const dense = calendar(...vevent('UID:dense', 'DTSTART:20261201T000000Z', 'DTEND:20261201T000001Z', 'RRULE:FREQ=MINUTELY'));
    const capped = busyFromIcs(dense, december);
    expect(capped.events[0]!.spans).toHaveLength(1000);
    expect(capped.problems.join()).toMatch(/more than 1000 instances/);
    // One budget over many objects: the read stops spending once it is gone.
    const budget = expansionBudget({ stepsPerRead: 30_000 });
    const problems2 = [1, 2, 3].flatMap(() => busyFromIcs(secondly, { ...december, budget }).problems);
    expect(problems2.filter((p) => /ran out of recurrence steps/.test(p)).length).toBeGreaterThanOrEqual(2);
    expect(budget.steps).toBeLessThan(0);
  });

  it('malformed text is a reason, not a crash; a bad VEVENT does not hide the good one beside it', () => {
    for (const bad of ['', 'hello', 'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n', 'BEGIN:VCARD\r\nVERSION:4.0\r\nEND:VCARD\r\n']) {
      const result = busyFromIcs(bad, december);
      expect(result.events).toEqual([]);
      expect(result.problems.join()).toMatch(/not iCalendar/);
    }
    const mixed = calendar(
      ...vevent('UID:nostart', 'SUMMARY:broken'),
      ...vevent('DTSTART:20261210T100000Z', 'DTEND:20261210T110000Z'),
      ...vevent('UID:good', 'DTSTART:20261210T100000Z', 'DTEND:20261210T110000Z'),
    );
    const result = busyFromIcs(mixed, december);
    expect(result.events.find((e) => e.uid === 'good')!.spans).toHaveLength(1);
    expect(result.events.find((e) => e.uid === 'nostart')!.spans).toEqual([]);
    expect(result.problems.join('|')).toMatch(/without UID/);
    expect(busyFromIcs('x'.repeat(1_000_001), december).problems.join()).toMatch(/over the 1000000 limit/);
  });

  it('never throws on mangled iCalendar: lines dropped, repeated, swapped or garbled; spans stay well-formed', () => {
    const base = calendar(
      ...VTIMEZONE_BERLIN,
      ...vevent('UID:m', 'DTSTART;TZID=Europe/Berlin:20261201T090000', 'DTEND;TZID=Europe/Berlin:20261201T100000', 'RRULE:FREQ=DAILY;COUNT=40', 'EXDATE;TZID=Europe/Berlin:20261203T090000'),
      ...vevent('UID:m', 'RECURRENCE-ID;TZID=Europe/Berlin:20261205T090000', 'DTSTART;TZID=Europe/Berlin:20261205T150000', 'DURATION:PT2H'),
      ...vevent('UID:d', 'DTSTART;VALUE=DATE:20261224', 'ATTENDEE;PARTSTAT=DECLINED:mailto:h@example.com'),
    ).split('\r\n');
    const garble = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('RRULE:FREQ=SECONDLY', 'RRULE:FREQ=YEARLY;BYDAY=-500MO', 'DTSTART:99999999T999999', 'DTEND;VALUE=DATE:2026', 'END:VEVENT', 'BEGIN:VEVENT', 'EXDATE:', 'RECURRENCE-ID:garbage', 'DURATION:P-1D'));
    const edit = fc.record({ at: fc.nat({ max: base.length - 1 }), kind: fc.constantFrom('drop', 'repeat', 'swap', 'replace'), text: garble });
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 6 }), (edits) => {
        const lines = [...base];
        for (const { at, kind, text } of edits) {
          const i = at % Math.max(1, lines.length);
          if (kind === 'drop') lines.splice(i, 1);
          else if (kind === 'repeat') lines.splice(i, 0, lines[i] ?? '');
          else if (kind === 'swap') [lines[i], lines[(i + 1) % lines.length]] = [lines[(i + 1) % lines.length]!, lines[i]!];
          else lines[i] = text;
        }
        const result = busyFromIcs(lines.join('\r\n'), { ...december, addresses: ['h@example.com'], budget: expansionBudget({ stepsPerEvent: 2000, stepsPerRead: 5000 }) });
        for (const span of result.events.flatMap((e) => e.spans)) {
          expect(Date.parse(span.start)).toBeLessThan(Date.parse(span.end));
          expect(Date.parse(span.end)).toBeGreaterThan(Date.parse(december.from));
          expect(Date.parse(span.start)).toBeLessThan(Date.parse(december.to));
        }
      }),
      { numRuns: 100, seed: 8 },
    );
  });

  it('recognises our booking events by UID or X-BOOKING-ID, and nothing else', () => {
    expect(bookingIdOfUid(inviteUid('3f1c-42'))).toBe('3f1c-42');
    expect(bookingIdOfUid(inviteUid('user@org|x'))).toBe('user@org|x');
    expect(bookingIdOfUid('booking-42@elsewhere.example')).toBeUndefined();
    expect(bookingIdOfUid('random', 'b-7')).toBe('b-7');
    expect(bookingIdOfUid('random', 'bad id with spaces')).toBeUndefined();
    const text = calendar(...vevent(`UID:${inviteUid('b-1')}`, 'DTSTART:20261210T100000Z', 'DTEND:20261210T110000Z'));
    expect(busyFromIcs(text, december).events[0]!.bookingId).toBe('b-1');
  });
});

describe('the booking object we write', () => {
  const booking: BookingCalendarEvent = {
    bookingId: 'b-42',
    sequence: 3,
    status: 'confirmed',
    title: 'Intro call with Ann',
    description: 'Booked through the engine',
    start: '2026-12-10T09:00:00.000Z',
    end: '2026-12-10T09:30:00.000Z',
    timeZone: 'Europe/Berlin',
    organizer: { name: 'Olga', email: 'olga@example.com' },
    attendee: { name: 'Ann', email: 'ann@example.org' },
    manageUrl: 'https://app.example.com/bookings/b-42',
  };

  it('has the invite UID, the SEQUENCE, the status, times in the zone with its VTIMEZONE, and reads back as the same busy span', () => {
    const text = bookingToIcs(booking, '2026-12-01T12:00:00.000Z');
    const root = new ICAL.Component(ICAL.parse(text));
    expect(root.getFirstPropertyValue('method')).toBeNull();
    expect(root.getFirstSubcomponent('vtimezone')!.getFirstPropertyValue('tzid')).toBe('Europe/Berlin');
    const ev = root.getFirstSubcomponent('vevent')!;
    expect(ev.getFirstPropertyValue('uid')).toBe(inviteUid('b-42'));
    expect(ev.getFirstPropertyValue('sequence')).toBe(3);
    expect(ev.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(ev.getFirstPropertyValue('x-booking-id')).toBe('b-42');
    expect(text).toContain('DTSTART;TZID=Europe/Berlin:20261210T100000');
    expect(text).toContain('DTSTAMP:20261201T120000Z');
    expect(String(ev.getFirstPropertyValue('description'))).toContain(booking.manageUrl);
    expect(ev.getFirstProperty('attendee')!.getParameter('schedule-agent')).toBe('CLIENT');
    const read = busyFromIcs(text, { ...december, timeZone: 'UTC' });
    expect(read.events).toEqual([{ uid: inviteUid('b-42'), bookingId: 'b-42', summary: 'Intro call with Ann', spans: [{ start: booking.start, end: booking.end }] }]);
  });

  it('a cancelled booking is STATUS:CANCELLED and blocks nothing; UTC bookings carry no VTIMEZONE', () => {
    const text = bookingToIcs({ ...booking, status: 'cancelled', sequence: 4, timeZone: 'UTC' }, '2026-12-01T12:00:00.000Z');
    expect(text).toContain('STATUS:CANCELLED');
    expect(text).toContain('SEQUENCE:4');
    expect(text).not.toContain('VTIMEZONE');
    expect(text).toContain('DTSTART:20261210T090000Z');
    expect(busyFromIcs(text, december).events[0]!.spans).toEqual([]);
  });

  it('a wall clock the zone repeats (clocks going back) is written in UTC, so any reader places it as booked', () => {
    // Chatham goes from +13:45 to +12:45 at 03:45 on 2024-04-07: 02:45-03:45 happens twice. The booking ends at
    // the first 02:45 (13:00Z); ical.js would read a TZID wall clock of 02:45 as the second one (14:00Z).
    const chatham = { ...booking, start: '2024-04-06T10:06:00.000Z', end: '2024-04-06T13:00:00.000Z', timeZone: 'Pacific/Chatham' };
    const text = bookingToIcs(chatham, '2024-04-01T00:00:00.000Z');
    expect(text).toContain('DTSTART;TZID=Pacific/Chatham:20240406T235100');
    expect(text).toContain('DTEND:20240406T130000Z');
    const root = new ICAL.Component(ICAL.parse(text));
    const zone = new ICAL.Timezone(root.getFirstSubcomponent('vtimezone')!);
    ICAL.TimezoneService.register(zone, 'Pacific/Chatham');
    try {
      const event = new ICAL.Event(root.getFirstSubcomponent('vevent')!);
      expect([event.startDate.toJSDate().toISOString(), event.endDate.toJSDate().toISOString()]).toEqual([chatham.start, chatham.end]);
    } finally {
      ICAL.TimezoneService.remove('Pacific/Chatham');
    }
    expect(busyFromIcs(text, { from: '2024-04-01T00:00:00Z', to: '2024-04-10T00:00:00Z', timeZone: 'UTC' }).events[0]!.spans).toEqual([{ start: chatham.start, end: chatham.end }]);
  });

  it('object names are derived from the booking id, one to one and URL-safe', () => {
    expect(bookingObjectName('3f1c-42')).toBe('booking-3f1c-42.ics');
    expect(bookingObjectName('a|b@c:d')).toBe('booking-a%7Cb%40c%3Ad.ics');
    expect(bookingObjectName('a|b')).not.toBe(bookingObjectName('a%7Cb'));
  });
});
