// Wall clock <-> instant in an IANA zone for the calendar adapters, on the scheduling slice's Intl-based zone
// arithmetic (shared/scheduling/time-zones.ts) instead of luxon (70 KB minified in every calendar bundle).
// Ambiguous and skipped wall-clock times follow RFC 5545 3.3.5 (and luxon): a repeated time is its first
// occurrence, a time in a gap is read with the offset before the gap (so 02:30 on a spring-forward night is
// 03:30). test/unit/zone-time.test.ts checks these against luxon on random cases.
import { DAY_MS, formatLocalIso, offsetAt } from '../scheduling/time-zones.ts';

const valid = new Map<string, boolean>();

/** Whether the platform knows the zone (an IANA name, UTC, or a fixed offset Intl accepts), as luxon's IANAZone.isValidZone. */
export function isKnownZone(zone: string): boolean {
  let known = valid.get(zone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone }).format();
      known = true;
    } catch {
      known = false;
    }
    if (valid.size < 1000) valid.set(zone, known);
  }
  return known;
}

export type WallClock = { year: number; month: number; day: number; hour?: number; minute?: number; second?: number; millisecond?: number };

/** The instant a wall-clock time in `zone` names (see the file comment for gaps and repeats); NaN for an unknown zone or an impossible date. */
export function wallClockToInstant(wall: WallClock, zone: string): number {
  if (!isKnownZone(zone)) return NaN;
  const { year, month, day, hour = 0, minute = 0, second = 0, millisecond = 0 } = wall;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
  const check = new Date(local);
  if (Number.isNaN(local) || check.getUTCDate() !== day || check.getUTCMonth() !== month - 1 || hour > 23 || minute > 59 || second > 59) return NaN;
  // Offsets within a day of the wall clock: the instants the wall clock could be at.
  const offsets = [...new Set([offsetAt(zone, local - DAY_MS), offsetAt(zone, local), offsetAt(zone, local + DAY_MS)])];
  const candidates = offsets.map((offset) => local - offset);
  const real = candidates.filter((instant) => local - offsetAt(zone, instant) === instant);
  // A repeated time: the first; a skipped one: the offset before the gap, the smaller one (clocks go forward).
  return real.length ? Math.min(...real) : local - Math.min(...offsets);
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;
const WITH_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * An ISO 8601 date or date-time without an offset ("2026-03-29", "2026-03-29T09:00:00.0000000"), read as the
 * wall clock of `zone`; one with an offset or Z is that instant whatever the zone. NaN when unreadable.
 */
export function localIsoToInstant(value: string, zone: string): number {
  if (WITH_OFFSET.test(value) && value.includes('T')) return isKnownZone(zone) ? Date.parse(value) : NaN;
  const match = LOCAL.exec(value);
  if (!match) return NaN;
  const [, y, mo, d, h, mi, s, fraction] = match;
  return wallClockToInstant(
    { year: Number(y), month: Number(mo), day: Number(d), hour: Number(h ?? 0), minute: Number(mi ?? 0), second: Number(s ?? 0), millisecond: fraction ? Number(fraction.padEnd(3, '0').slice(0, 3)) : 0 },
    zone,
  );
}

/** The wall clock of `instant` in `zone`, to the second, without an offset: "2026-03-29T09:00:00". */
export function instantToWallClock(instant: number, zone: string): string {
  return formatLocalIso(instant, zone).slice(0, 19);
}
