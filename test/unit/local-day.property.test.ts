// startOfLocalDay (the bounds of date-only queries, shared/http/query.ts) against luxon's startOf('day'), which
// the query bounds used before: across the 2026 transitions of zones with midnight changes and odd offsets.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { startOfLocalDay } from '../../shared/scheduling/time-zones.ts';
import { boundOf } from '../../shared/http/query.ts';

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/St_Johns', 'America/Havana', 'America/Santiago', 'America/Asuncion', 'Asia/Beirut', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Kiritimati', 'Pacific/Apia'];
const DAY = 86_400_000;

describe('startOfLocalDay', () => {
  // Where a clock change repeats midnight (Havana falls back from 01:00 to 00:00), luxon's startOf('day') picks
  // the second midnight and loses the day's first hour; ours is the first. Everywhere else they agree.
  it('is luxon\'s start of the day, or the earlier of two midnights', () => {
    const date = fc.integer({ min: Date.UTC(2010, 0, 1) / DAY, max: Date.UTC(2035, 0, 1) / DAY }).map((day) => new Date(day * DAY).toISOString().slice(0, 10));
    fc.assert(
      fc.property(fc.oneof(date, fc.constant('2013-11-03')), fc.constantFrom(...ZONES), (day, zone) => {
        const ours = startOfLocalDay(day, zone);
        const luxon = DateTime.fromISO(day, { zone }).startOf('day').toMillis();
        if (ours !== luxon) {
          expect(ours, `${day} ${zone}`).toBeLessThan(luxon);
          for (const midnight of [ours, luxon]) expect(DateTime.fromMillis(midnight, { zone }).toFormat('yyyy-MM-dd HH:mm:ss'), `${day} ${zone}`).toBe(`${day} 00:00:00`);
          expect(DateTime.fromMillis(ours - 1, { zone }).toISODate()! < day, `${day} ${zone}`).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('is the first instant of that local date: the instant before it lies on an earlier date', () => {
    for (const zone of ZONES) {
      for (let day = Date.UTC(2026, 0, 1) / DAY; day < Date.UTC(2027, 0, 1) / DAY; day++) {
        const date = new Date(day * DAY).toISOString().slice(0, 10);
        const first = startOfLocalDay(date, zone);
        expect(DateTime.fromMillis(first, { zone }).toISODate(), `${date} ${zone}`).toBe(date);
        expect(DateTime.fromMillis(first - 1, { zone }).toISODate()! < date, `${date} ${zone}`).toBe(true);
      }
    }
  });

  it('bounds a date-only query by whole local days', () => {
    expect(boundOf('2026-03-29', 'Europe/Berlin', 'start')).toBe(Date.parse('2026-03-28T23:00:00Z'));
    expect(boundOf('2026-03-29', 'Europe/Berlin', 'end')).toBe(Date.parse('2026-03-29T22:00:00Z'));
    expect(boundOf('2026-09-06', 'America/Santiago', 'start')).toBe(Date.parse('2026-09-06T04:00:00Z'));
    // Havana's clocks went back from 01:00 to 00:00 that night: the day began at the first midnight.
    expect(boundOf('2013-11-03', 'America/Havana', 'start')).toBe(Date.parse('2013-11-03T04:00:00Z'));
    expect(boundOf('2013-11-02', 'America/Havana', 'end')).toBe(Date.parse('2013-11-03T04:00:00Z'));
    expect(boundOf('2026-03-29T09:00:00+02:00', 'Europe/Berlin', 'start')).toBe(Date.parse('2026-03-29T07:00:00Z'));
  });
});
