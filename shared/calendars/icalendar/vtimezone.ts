// A VTIMEZONE (RFC 5545 3.6.5) as a zone, pure: its STANDARD and DAYLIGHT observances, each with its onset
// (DTSTART, read in TZOFFSETFROM), RRULE (UNTIL in UTC) and RDATEs, become the list of offset changes; a wall
// clock becomes an instant as RFC 5545 3.3.5 says: a repeated time is its first occurrence, a time in a gap
// is read with the offset before the gap (so it moves forward by the gap). Used only for TZIDs the platform
// does not know (Outlook's "W. Europe Standard Time"); IANA names go to Intl (zone-time.ts).
import { all, first, subcomponents, type Component } from './content.ts';
import { expandRecur } from './recur.ts';
import { DAY_SECONDS, parseDateTime, parseRecur, parseUtcOffset } from './values.ts';

type Change = { at: number; from: number; to: number };
type Observance = { from: number; to: number; onsets: Generator<number>; next: IteratorResult<number> };

/** Offset changes one zone may expand (a yearly rule since 1601 to 2400 is 1,600). */
const MAX_CHANGES = 4000;
/** Recurrence steps one observance may spend (a yearly rule over 800 years is about 800). */
const STEPS_PER_OBSERVANCE = 20_000;

export type FileZone = {
  /** Local minus UTC, in seconds, at an instant (epoch seconds). */
  offsetAt: (instant: number) => number;
  /** The instant (epoch seconds) of a wall clock (local seconds). */
  toInstant: (local: number) => number;
};

/** The zone a VTIMEZONE describes; throws ValueError when an observance cannot be read. */
export function fileZone(vtimezone: Component): FileZone {
  const observances: Observance[] = [];
  const fixed: Change[] = [];
  for (const observance of [...subcomponents(vtimezone, 'STANDARD'), ...subcomponents(vtimezone, 'DAYLIGHT')]) {
    const dtstart = first(observance, 'DTSTART');
    const fromText = first(observance, 'TZOFFSETFROM');
    const toText = first(observance, 'TZOFFSETTO');
    if (!dtstart || !fromText || !toText) continue;
    const from = parseUtcOffset(fromText.value);
    const to = parseUtcOffset(toText.value);
    const start = parseDateTime(dtstart.value);
    fixed.push({ at: start.local - from, from, to });
    for (const rdate of all(observance, 'RDATE')) {
      for (const item of rdate.value.split(',')) {
        const value = parseDateTime(item.split('/')[0]!);
        const local = value.isDate ? value.local + (start.local % DAY_SECONDS) : value.local;
        fixed.push({ at: value.utc ? local : local - from, from, to });
      }
    }
    const rrule = first(observance, 'RRULE');
    if (rrule) {
      const rule = parseRecur(rrule.value);
      const until = rule.until;
      // Bounded like any rule: an observance whose RRULE never matches (or FREQ=SECONDLY) spends its steps and ends.
      let steps = 0;
      const onsets = expandRecur(rule, start.local, (local) => (until ? (until.utc ? local - from > until.local : local > until.local) : false), { spend: (n) => (steps += n) <= STEPS_PER_OBSERVANCE });
      onsets.next(); // DTSTART, already in `fixed`
      observances.push({ from, to, onsets, next: onsets.next() });
    }
  }
  const changes = fixed;
  let expandedTo = -Infinity;
  const ensure = (instant: number) => {
    if (instant <= expandedTo) return;
    // Two years ahead at a time: few refills, and the changes around `instant` are all known.
    const target = instant + 2 * 366 * DAY_SECONDS;
    for (const observance of observances) {
      while (!observance.next.done && changes.length < MAX_CHANGES && observance.next.value - observance.from <= target) {
        changes.push({ at: observance.next.value - observance.from, from: observance.from, to: observance.to });
        observance.next = observance.onsets.next();
      }
    }
    changes.sort((a, b) => a.at - b.at);
    expandedTo = changes.length >= MAX_CHANGES ? Infinity : target;
  };
  const offsetAt = (instant: number) => {
    ensure(instant);
    if (!changes.length) return 0;
    let low = 0;
    let high = changes.length - 1;
    if (instant < changes[0]!.at) return changes[0]!.from;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (changes[middle]!.at <= instant) low = middle;
      else high = middle - 1;
    }
    return changes[low]!.to;
  };
  const toInstant = (local: number) => {
    const offsets = [...new Set([offsetAt(local - 2 * DAY_SECONDS), offsetAt(local), offsetAt(local + 2 * DAY_SECONDS)])];
    const real = offsets.map((offset) => local - offset).filter((instant) => offsetAt(instant) === local - instant);
    // A repeated time: the first; a skipped one: the offset before the gap, the smaller one (clocks go forward).
    return real.length ? Math.min(...real) : local - Math.min(...offsets);
  };
  return { offsetAt, toInstant };
}
