// Recurrence and zones as RFC 5545 says, for the shapes the ical.js oracle gets wrong or does not cover
// (test/unit/ics-differential.property.test.ts lists them): the RFC's own examples of 3.8.5.3, BYWEEKNO,
// INTERVAL beside BYxxx, BYSETPOS on WEEKLY, RANGE=THISANDFUTURE, RDATE periods, exact DURATION hours,
// a VTIMEZONE's gap and overlap, and the cancel rewrite and booking object as ical.js reads them.
import { describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import { busyFromIcs } from '../../shared/calendars/ics.ts';
import { bookingToIcs, cancelledCopy } from '../../shared/calendars/booking-ics.ts';
import { parse, stringify } from '../../shared/calendars/icalendar/content.ts';
import type { BookingCalendarEvent } from '../../shared/calendars/provider.ts';

const calendar = (...body: string[]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//rfc//EN', ...body, 'END:VCALENDAR', ''].join('\r\n');
const NY = 'America/New_York';

/** The local start dates (YYYY-MM-DD HH:MM in New York) of a rule from a DTSTART in New York, 1997-2000. */
function starts(dtstart: string, rrule: string, extra: string[] = []): string[] {
  const text = calendar('BEGIN:VEVENT', 'UID:rfc', 'DTSTAMP:19970101T000000Z', `DTSTART;TZID=${NY}:${dtstart}`, 'DURATION:PT1H', `RRULE:${rrule}`, ...extra, 'END:VEVENT');
  const result = busyFromIcs(text, { from: '1997-01-01T00:00:00Z', to: '2001-01-01T00:00:00Z', timeZone: 'UTC' });
  expect(result.problems).toEqual([]);
  const local = new Intl.DateTimeFormat('sv-SE', { timeZone: NY, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  return result.events[0]!.spans.map((s) => local.format(new Date(s.start)));
}
const days = (list: string[]) => list.map((s) => s.slice(0, 10));

describe('the examples of RFC 5545 3.8.5.3 (DTSTART 1997 in America/New_York)', () => {
  it('daily, every 10 days, every other week on two days with WKST', () => {
    expect(days(starts('19970902T090000', 'FREQ=DAILY;COUNT=10'))).toEqual(['1997-09-02', '1997-09-03', '1997-09-04', '1997-09-05', '1997-09-06', '1997-09-07', '1997-09-08', '1997-09-09', '1997-09-10', '1997-09-11']);
    expect(days(starts('19970902T090000', 'FREQ=DAILY;INTERVAL=10;COUNT=5'))).toEqual(['1997-09-02', '1997-09-12', '1997-09-22', '1997-10-02', '1997-10-12']);
    expect(days(starts('19970805T090000', 'FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO'))).toEqual(['1997-08-05', '1997-08-10', '1997-08-19', '1997-08-24']);
    expect(days(starts('19970805T090000', 'FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU'))).toEqual(['1997-08-05', '1997-08-17', '1997-08-19', '1997-08-31']);
  });

  it('monthly by ordinal weekday, by negative month day, and BYSETPOS', () => {
    expect(days(starts('19970905T090000', 'FREQ=MONTHLY;COUNT=10;BYDAY=1FR'))).toEqual(['1997-09-05', '1997-10-03', '1997-11-07', '1997-12-05', '1998-01-02', '1998-02-06', '1998-03-06', '1998-04-03', '1998-05-01', '1998-06-05']);
    expect(days(starts('19970922T090000', 'FREQ=MONTHLY;COUNT=6;BYDAY=-2MO'))).toEqual(['1997-09-22', '1997-10-20', '1997-11-17', '1997-12-22', '1998-01-19', '1998-02-16']);
    expect(days(starts('19970928T090000', 'FREQ=MONTHLY;BYMONTHDAY=-3;COUNT=6'))).toEqual(['1997-09-28', '1997-10-29', '1997-11-28', '1997-12-29', '1998-01-29', '1998-02-26']);
    expect(days(starts('19970904T090000', 'FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3'))).toEqual(['1997-09-04', '1997-10-07', '1997-11-06']);
    expect(days(starts('19970929T090000', 'FREQ=MONTHLY;COUNT=7;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2'))).toEqual(['1997-09-29', '1997-10-30', '1997-11-27', '1997-12-30', '1998-01-29', '1998-02-26', '1998-03-30']);
    // Invalid dates are skipped, not moved: no 30 February.
    expect(days(starts('19970115T090000', 'FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5'))).toEqual(['1997-01-15', '1997-01-30', '1997-02-15', '1997-03-15', '1997-03-30']);
  });

  it('yearly: Monday of week 20, the 20th Monday, every Thursday in March, Friday the 13th', () => {
    expect(days(starts('19970512T090000', 'FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO'))).toEqual(['1997-05-12', '1998-05-11', '1999-05-17', '2000-05-15']);
    expect(days(starts('19970519T090000', 'FREQ=YEARLY;BYDAY=20MO'))).toEqual(['1997-05-19', '1998-05-18', '1999-05-17', '2000-05-15']);
    expect(days(starts('19970313T090000', 'FREQ=YEARLY;BYMONTH=3;BYDAY=TH;UNTIL=19990101T000000Z'))).toEqual(['1997-03-13', '1997-03-20', '1997-03-27', '1998-03-05', '1998-03-12', '1998-03-19', '1998-03-26']);
    // The RFC's own example starts on a Tuesday its rule does not match and removes that DTSTART with EXDATE.
    expect(days(starts('19970902T090000', 'FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13', [`EXDATE;TZID=${NY}:19970902T090000`]))).toEqual(['1998-02-13', '1998-03-13', '1998-11-13', '1999-08-13', '2000-10-13']);
  });

  it('sub-daily: every 15 minutes, every 20 minutes of the working day, INTERVAL beside BYHOUR', () => {
    expect(starts('19970902T090000', 'FREQ=MINUTELY;INTERVAL=15;COUNT=6').map((s) => s.slice(11))).toEqual(['09:00', '09:15', '09:30', '09:45', '10:00', '10:15']);
    const day = starts('19970902T090000', 'FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40;COUNT=24');
    expect(day).toHaveLength(24);
    expect([day[0], day[1], day[23]]).toEqual(['1997-09-02 09:00', '1997-09-02 09:20', '1997-09-02 16:40']);
    // INTERVAL counts hours; BYHOUR only limits them (ical.js walks the BYHOUR list instead).
    expect(starts('19970902T010000', 'FREQ=HOURLY;INTERVAL=5;BYHOUR=1,2,3,4,5,6,7,8,9,10;COUNT=5')).toEqual(['1997-09-02 01:00', '1997-09-02 06:00', '1997-09-03 02:00', '1997-09-03 07:00', '1997-09-04 03:00']);
    // BYSETPOS on WEEKLY picks within each week.
    expect(days(starts('19970907T090000', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,TH;BYSETPOS=1;WKST=SU;COUNT=3'))).toEqual(['1997-09-07', '1997-09-21', '1997-10-05']);
  });

  it('a rule that never matches spends its steps and stops (no spin)', () => {
    const text = calendar('BEGIN:VEVENT', 'UID:never', 'DTSTART:20000101T000000Z', 'DURATION:PT1S', 'RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30', 'END:VEVENT');
    const result = busyFromIcs(text, { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', timeZone: 'UTC' });
    expect(result.problems.join()).toMatch(/cut short after 25000 steps/);
    const never = calendar('BEGIN:VEVENT', 'UID:never', 'DTSTART:20000101T000000Z', 'DURATION:PT1S', 'RRULE:FREQ=MONTHLY;BYMONTHDAY=1,2;BYSETPOS=3', 'END:VEVENT');
    expect(busyFromIcs(never, { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', timeZone: 'UTC' }).problems.join()).toMatch(/cut short/);
  });
  it("a hostile VTIMEZONE (observances of FREQ=SECONDLY, or never matching) is bounded too", () => {
    const zone = ['BEGIN:VTIMEZONE', 'TZID:Evil', 'BEGIN:STANDARD', 'DTSTART:16010101T030000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30', 'END:STANDARD',
      'BEGIN:DAYLIGHT', 'DTSTART:16010101T020000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'RRULE:FREQ=SECONDLY', 'END:DAYLIGHT', 'END:VTIMEZONE'];
    const text = calendar(...zone, 'BEGIN:VEVENT', 'UID:evil', 'DTSTART;TZID=Evil:20261210T100000', 'DTEND;TZID=Evil:20261210T110000', 'RRULE:FREQ=DAILY;COUNT=30', 'END:VEVENT');
    const spans = busyFromIcs(text, { from: '2026-12-01T00:00:00Z', to: '2027-01-01T00:00:00Z', timeZone: 'UTC' }).events[0]!.spans;
    expect(spans).toHaveLength(22);
    for (const span of spans) expect(Date.parse(span.end) - Date.parse(span.start)).toBe(3_600_000);
  });
});

describe('instances beyond the rule', () => {
  const window = { from: '2026-12-01T00:00:00Z', to: '2027-01-01T00:00:00Z', timeZone: 'UTC' };
  it('RANGE=THISANDFUTURE moves that instance and every later one as it moved, with its length (RFC 5545 3.8.4.4)', () => {
    const text = calendar(
      'BEGIN:VEVENT', 'UID:r', 'DTSTART:20261201T090000Z', 'DTEND:20261201T100000Z', 'RRULE:FREQ=DAILY;COUNT=5', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:r', 'RECURRENCE-ID;RANGE=THISANDFUTURE:20261203T090000Z', 'DTSTART:20261203T140000Z', 'DTEND:20261203T143000Z', 'END:VEVENT',
    );
    expect(busyFromIcs(text, window).events[0]!.spans.map((s) => `${s.start.slice(8, 16)}-${s.end.slice(11, 16)}`)).toEqual(['01T09:00-10:00', '02T09:00-10:00', '03T14:00-14:30', '04T14:00-14:30', '05T14:00-14:30']);
  });

  it('an RDATE PERIOD is an instance with its own end (RFC 5545 3.8.5.2); DURATION hours are exact across DST (3.3.6)', () => {
    const text = calendar('BEGIN:VEVENT', 'UID:p', 'DTSTART:20261201T090000Z', 'DURATION:PT1H', 'RDATE;VALUE=PERIOD:20261210T090000Z/20261210T120000Z,20261211T090000Z/PT30M', 'END:VEVENT');
    expect(busyFromIcs(text, window).events[0]!.spans).toEqual([
      { start: '2026-12-01T09:00:00.000Z', end: '2026-12-01T10:00:00.000Z' },
      { start: '2026-12-10T09:00:00.000Z', end: '2026-12-10T12:00:00.000Z' },
      { start: '2026-12-11T09:00:00.000Z', end: '2026-12-11T09:30:00.000Z' },
    ]);
    // 01:30 on the night New York falls back, for two hours: 05:30Z to 07:30Z (the wall clock says 02:30).
    const fall = calendar('BEGIN:VEVENT', 'UID:f', `DTSTART;TZID=${NY}:20261101T013000`, 'DURATION:PT2H', 'END:VEVENT');
    expect(busyFromIcs(fall, { from: '2026-10-01T00:00:00Z', to: '2026-12-01T00:00:00Z', timeZone: 'UTC' }).events[0]!.spans).toEqual([{ start: '2026-11-01T05:30:00.000Z', end: '2026-11-01T07:30:00.000Z' }]);
    // P1D is nominal: the same wall clock the next day (23 hours on the spring-forward day).
    const spring = calendar('BEGIN:VEVENT', 'UID:s', `DTSTART;TZID=${NY}:20260307T120000`, 'DURATION:P1D', 'END:VEVENT');
    expect(busyFromIcs(spring, { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z', timeZone: 'UTC' }).events[0]!.spans).toEqual([{ start: '2026-03-07T17:00:00.000Z', end: '2026-03-08T16:00:00.000Z' }]);
  });

  it("a VTIMEZONE's gap moves a time forward and its overlap reads the first occurrence (RFC 5545 3.3.5)", () => {
    const zone = [
      'BEGIN:VTIMEZONE', 'TZID:Eastern Standard Time',
      'BEGIN:STANDARD', 'DTSTART:16011104T020000', 'TZOFFSETFROM:-0400', 'TZOFFSETTO:-0500', 'RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11', 'END:STANDARD',
      'BEGIN:DAYLIGHT', 'DTSTART:16010311T020000', 'TZOFFSETFROM:-0500', 'TZOFFSETTO:-0400', 'RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3', 'END:DAYLIGHT',
      'END:VTIMEZONE',
    ];
    const at = (wall: string) =>
      busyFromIcs(calendar(...zone, 'BEGIN:VEVENT', 'UID:z', `DTSTART;TZID=Eastern Standard Time:${wall}`, 'DURATION:PT1M', 'END:VEVENT'), { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', timeZone: 'Asia/Tokyo' }).events[0]!.spans[0]!.start;
    expect(at('20260308T023000')).toBe('2026-03-08T07:30:00.000Z'); // 02:30 does not exist: 03:30 EDT
    expect(at('20261101T013000')).toBe('2026-11-01T05:30:00.000Z'); // 01:30 twice: the first, EDT
    expect(at('20260701T120000')).toBe('2026-07-01T16:00:00.000Z');
    expect(at('20261201T120000')).toBe('2026-12-01T17:00:00.000Z');
  });
});

describe('writing', () => {
  it('a cancel rewrite changes STATUS, SEQUENCE and DTSTAMP and keeps every other line as it was', () => {
    const long = `DESCRIPTION:${'A long line with ünïcödé, escapes\\, and more '.repeat(4)}`;
    const stored = [
      'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Someone//Client 1.0//EN', 'X-WR-CALNAME:Work',
      'BEGIN:VTIMEZONE', 'TZID:W. Europe Standard Time', 'BEGIN:STANDARD', 'DTSTART:16010101T030000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', 'END:STANDARD', 'END:VTIMEZONE',
      'BEGIN:VEVENT', 'UID:booking-b-1@booking-engine', 'DTSTAMP:20260101T000000Z', 'SEQUENCE:2', 'STATUS:CONFIRMED',
      'DTSTART;TZID=W. Europe Standard Time:20261210T100000', 'DTEND;TZID=W. Europe Standard Time:20261210T110000',
      'ATTENDEE;CN="Ann, B.";PARTSTAT=ACCEPTED;X-CUSTOM=a,b:mailto:ann@example.org',
      'X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC', 'x-lower-case;x-param="q:v":keep me',
      ...foldAt60(long),
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-PT15M', 'DESCRIPTION:Reminder', 'END:VALARM',
      'END:VEVENT', 'END:VCALENDAR', '',
    ].join('\r\n');
    const rewritten = cancelledCopy(stored, 3, new Date('2026-12-05T08:00:00Z'));
    const changed = new Set(['STATUS', 'SEQUENCE', 'DTSTAMP']);
    const unfold = (text: string) => text.replace(/\r\n[ \t]/g, '').split('\r\n').filter(Boolean);
    const kept = (lines: string[]) => lines.filter((l) => !changed.has(l.split(/[;:]/)[0]!.toUpperCase()) || !inVevent(lines, l));
    expect(kept(unfold(rewritten))).toEqual(kept(unfold(stored)));
    expect(unfold(rewritten)).toEqual(expect.arrayContaining(['STATUS:CANCELLED', 'SEQUENCE:3', 'DTSTAMP:20261205T080000Z']));
    for (const line of rewritten.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    // ical.js reads the same object, but for the three properties.
    const vevent = new ICAL.Component(ICAL.parse(rewritten)).getFirstSubcomponent('vevent')!;
    expect(vevent.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(vevent.getFirstPropertyValue('sequence')).toBe(3);
    expect(vevent.getFirstProperty('attendee')!.getParameter('cn')).toBe('Ann, B.');
    expect(vevent.getFirstPropertyValue('description')).toBe(new ICAL.Component(ICAL.parse(stored)).getFirstSubcomponent('vevent')!.getFirstPropertyValue('description'));
    expect(vevent.getFirstSubcomponent('valarm')!.getFirstPropertyValue('trigger')!.toString()).toBe('-PT15M');
    // Parse and write again: the same text.
    expect(stringify(parse(rewritten)[0]!)).toBe(rewritten);
  });

  it('the booking object reads in ical.js as the booking: times, UID, SEQUENCE, parameters, text', () => {
    const booking: BookingCalendarEvent = {
      bookingId: 'b-7', sequence: 2, status: 'confirmed', title: 'Intro, call; with "Ann" – ✓', description: 'Line one\nLine two\\ok',
      start: '2026-03-29T00:30:00.000Z', end: '2026-03-29T01:30:00.000Z', timeZone: 'Europe/Berlin',
      organizer: { name: 'Olga "O", Jr.', email: 'olga@example.com' }, attendee: { name: 'Ann', email: 'ann@example.org' }, manageUrl: 'https://app.example.com/b/b-7',
    };
    const text = bookingToIcs(booking, '2026-03-01T00:00:00.000Z');
    const root = new ICAL.Component(ICAL.parse(text));
    const zone = new ICAL.Timezone(root.getFirstSubcomponent('vtimezone')!);
    const event = new ICAL.Event(root.getFirstSubcomponent('vevent')!);
    event.startDate.zone = zone;
    event.endDate.zone = zone;
    expect([event.startDate.toJSDate().toISOString(), event.endDate.toJSDate().toISOString()]).toEqual([booking.start, booking.end]);
    expect(event.summary).toBe(booking.title);
    expect(event.description).toBe(`${booking.description}\n\nManage this booking: ${booking.manageUrl}`);
    expect(event.organizer).toBe('mailto:olga@example.com');
    expect(event.component.getFirstProperty('organizer')!.getParameter('cn')).toBe('Olga "O", Jr.');
    expect(event.sequence).toBe(2);
    expect(event.component.getFirstPropertyValue('x-booking-sequence')).toBe('2');
    for (const line of text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
  });
});

/** `line` folded every 60 characters, as some client might have stored it. */
const foldAt60 = (line: string) => line.match(/.{1,60}/gu)!.map((part, i) => (i ? ` ${part}` : part));
function inVevent(lines: string[], line: string): boolean {
  const index = lines.indexOf(line);
  const begin = lines.lastIndexOf('BEGIN:VEVENT', index);
  const end = lines.lastIndexOf('END:VEVENT', index);
  const alarm = lines.lastIndexOf('BEGIN:VALARM', index) > lines.lastIndexOf('END:VALARM', index);
  return begin > end && !alarm;
}
