// The calendar adapters' wall-clock arithmetic (shared/calendars/zone-time.ts), which replaced luxon in them,
// against luxon on random wall clocks: anywhere in 2000-2040, and within two hours of the zones' clock changes
// (gaps and repeated hours). A repeated time is its first occurrence (RFC 5545 3.3.5), where luxon's pick
// depends on the offset at the moment it runs; everywhere else they agree to the millisecond.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { offsetSegments } from '../../shared/scheduling/time-zones.ts';
import { instantToWallClock, isKnownZone, localIsoToInstant, wallClockToInstant } from '../../shared/calendars/zone-time.ts';

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/St_Johns', 'America/Havana', 'America/Santiago', 'Asia/Beirut', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Apia', 'Africa/Casablanca'];
const isoOf = (local: number) => new Date(local).toISOString().slice(0, 23);
const shown = (instant: number, zone: string) => DateTime.fromMillis(instant, { zone }).toFormat("yyyy-MM-dd'T'HH:mm:ss");

/**
 * Ours is luxon's instant; or, where the wall clock is repeated, the earlier of the two that show it; or, where
 * luxon's instant does not show the wall clock asked for and ours does, ours (luxon starts from the offset in
 * force today and corrects twice, which misses a zone whose offset changed by a day since, as Apia's in 2011).
 */
function agrees(ours: number, luxon: number, zone: string, wall: string) {
  if (ours === luxon) return;
  const what = `${wall} ${zone}: ours ${new Date(ours).toISOString()}, luxon ${new Date(luxon).toISOString()}`;
  expect(shown(ours, zone), what).toBe(wall);
  if (shown(luxon, zone) === wall) expect(ours, what).toBeLessThan(luxon);
}

/** A wall clock (as epoch ms read as UTC): a random one, or one near a clock change of `zone` in `year`. */
const wallClocks = fc.tuple(fc.constantFrom(...ZONES), fc.integer({ min: 2000, max: 2040 }), fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: -120, max: 120 }), fc.boolean()).map(([zone, year, pick, minutes, nearChange]) => {
  const span = { start: Date.UTC(year, 0, 1), end: Date.UTC(year + 1, 0, 1) };
  const segments = offsetSegments(zone, span);
  if (!nearChange || segments.length < 2) return { zone, local: span.start + (pick % 365) * 86_400_000 + (pick % 1440) * 60_000 };
  const after = segments[1 + (pick % (segments.length - 1))]!;
  const before = segments[segments.indexOf(after) - 1]!;
  return { zone, local: after.start + before.offsetMs + minutes * 60_000 };
});

describe('zone-time', () => {
  it('reads a wall clock as luxon does, a repeated one as its first occurrence', () => {
    fc.assert(
      fc.property(wallClocks, ({ zone, local }) => {
        const d = new Date(local);
        const wall = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() };
        const ours = wallClockToInstant(wall, zone);
        const luxon = DateTime.fromObject(wall, { zone }).toMillis();
        expect(localIsoToInstant(isoOf(local), zone)).toBe(ours);
        agrees(ours, luxon, zone, isoOf(local).slice(0, 19));
      }),
      { numRuns: 1500 },
    );
  });

  it('writes an instant as the zone\'s wall clock, as luxon formats it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }), (zone, instant) => {
        expect(instantToWallClock(instant, zone)).toBe(DateTime.fromMillis(instant, { zone }).toFormat("yyyy-MM-dd'T'HH:mm:ss"));
      }),
      { numRuns: 3000 },
    );
  });

  it('all-day dates start at the zone\'s midnight (or where a gap ends it), as luxon reads them', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: 0, max: 40 * 366 }), (zone, days) => {
        const date = new Date(Date.UTC(2000, 0, 1) + days * 86_400_000).toISOString().slice(0, 10);
        agrees(localIsoToInstant(date, zone), DateTime.fromISO(date, { zone }).toMillis(), zone, `${date}T00:00:00`);
      }),
      { numRuns: 3000 },
    );
  });

  it('an instant with an offset is that instant; unknown zones and impossible dates are NaN', () => {
    expect(localIsoToInstant('2026-03-29T09:00:00Z', 'Europe/Berlin')).toBe(Date.parse('2026-03-29T09:00:00Z'));
    expect(localIsoToInstant('2026-03-29T09:00:00+02:00', 'UTC')).toBe(Date.parse('2026-03-29T07:00:00Z'));
    expect(localIsoToInstant('2026-03-01T09:00:00.0000000', 'Pacific Standard Time')).toBeNaN();
    expect(localIsoToInstant('2026-02-30', 'UTC')).toBeNaN();
    expect(localIsoToInstant('2026-03-01T25:00:00', 'UTC')).toBeNaN();
    expect(localIsoToInstant('not a date', 'UTC')).toBeNaN();
    expect(localIsoToInstant('2026-03-01T09:00:00.1234567', 'UTC')).toBe(Date.parse('2026-03-01T09:00:00.123Z'));
    expect(isKnownZone('Europe/Berlin')).toBe(true);
    expect(isKnownZone('Mars/Olympus_Mons')).toBe(false);
  });
});
