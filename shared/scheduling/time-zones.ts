// Wall clock <-> instant for IANA zones, built on Intl's UTC->local direction only. Local->UTC goes through
// offset segments (spans of constant offset), which gives exact wall-clock-membership semantics: a gap has no
// instants, a repeated hour has two, and neither needs luxon's "shift forward by the gap" guess.
import type { Interval } from './availability.ts';

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

export type OffsetSegment = { start: number; end: number; offsetMs: number };
/** Milliseconds since local midnight, half-open [from, to); `to` may be DAY_MS. */
export type DayRange = readonly [from: number, to: number];

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23',
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    }); // throws RangeError for an unknown zone
    formatters.set(zone, formatter);
  }
  return formatter;
}

const FORMATTED = /^(\d{2})\/(\d{2})\/(\d+), (\d{2}):(\d{2}):(\d{2})$/;

/** Local minus UTC, in ms, at `instant`. */
export function offsetAt(zone: string, instant: number): number {
  const formatter = formatterFor(zone);
  const wholeSecond = instant - (((instant % 1000) + 1000) % 1000);
  // format() and a regex are about 3x faster than formatToParts; fall back if ICU ever changes the shape.
  const match = FORMATTED.exec(formatter.format(wholeSecond));
  const [month, day, year, hour, minute, second] = match
    ? [match[1], match[2], match[3], match[4], match[5], match[6]].map(Number)
    : partsOf(formatter, wholeSecond);
  return Date.UTC(year, month - 1, day, hour, minute, second) - wholeSecond;
}

function partsOf(formatter: Intl.DateTimeFormat, instant: number): number[] {
  const parts = Object.fromEntries(formatter.formatToParts(instant).map((part) => [part.type, Number(part.value)]));
  return [parts.month, parts.day, parts.year, parts.hour, parts.minute, parts.second];
}

// No zone has changed offset twice within 12 hours in modern tzdata; a coarser probe could miss a change
// that returns to the same offset.
const PROBE_MS = 12 * 3_600_000;

/** Maximal spans of constant offset covering `span`, in order. */
export function offsetSegments(zone: string, span: Interval): OffsetSegment[] {
  const segments: OffsetSegment[] = [];
  let segmentStart = span.start;
  let offset = offsetAt(zone, span.start);
  let probe = span.start;
  while (probe < span.end) {
    const next = Math.min(probe + PROBE_MS, span.end);
    if (offsetAt(zone, next) === offset) {
      probe = next;
      continue;
    }
    let before = probe;
    let after = next;
    while (after - before > 1) {
      const middle = Math.floor((before + after) / 2);
      if (offsetAt(zone, middle) === offset) before = middle;
      else after = middle;
    }
    segments.push({ start: segmentStart, end: after, offsetMs: offset });
    segmentStart = probe = after;
    offset = offsetAt(zone, after);
  }
  segments.push({ start: segmentStart, end: span.end, offsetMs: offset });
  return segments;
}

/**
 * All instants in `span` whose local date d and local time t satisfy t in rangesOn(d). Sorted and merged,
 * provided rangesOn returns sorted, disjoint ranges. `segments` must cover `span`. Days are counted as in
 * dayIndexOf.
 */
export function wallClockToInstants(
  segments: readonly OffsetSegment[],
  span: Interval,
  rangesOn: (day: number) => readonly DayRange[],
): Interval[] {
  const out: Interval[] = [];
  for (const segment of segments) {
    const from = Math.max(segment.start, span.start);
    const to = Math.min(segment.end, span.end);
    if (from >= to) continue;
    const offset = segment.offsetMs;
    const lastDay = Math.floor((to - 1 + offset) / DAY_MS);
    for (let day = Math.floor((from + offset) / DAY_MS); day <= lastDay; day++) {
      const midnight = day * DAY_MS - offset; // the instant local midnight would be at this offset
      for (const [rangeFrom, rangeTo] of rangesOn(day)) {
        const start = Math.max(midnight + rangeFrom, from);
        const end = Math.min(midnight + rangeTo, to);
        if (start >= end) continue;
        const previous = out[out.length - 1];
        if (previous && previous.end >= start) previous.end = Math.max(previous.end, end);
        else out.push({ start, end });
      }
    }
  }
  return out;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "YYYY-MM-DD" -> days since 1970-01-01. */
export function dayIndexOf(date: string): number {
  const match = DATE.exec(date);
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
  if (!match || new Date(ms).getUTCDate() !== Number(match[3])) throw new RangeError(`invalid date "${date}"`);
  return ms / DAY_MS;
}

export function dateOfDayIndex(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** 0 = Sunday, as Date.getUTCDay. */
export function weekdayOfDayIndex(day: number): number {
  return (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

/**
 * The first instant of local date `date` ("YYYY-MM-DD") in `zone`: its midnight, the earlier one where a clock
 * change repeats midnight, and the end of the gap where one skips it (Santiago, Havana).
 */
export function startOfLocalDay(date: string, zone: string): number {
  const midnight = dayIndexOf(date) * DAY_MS; // 00:00 of that wall-clock date, read as if it were UTC
  // Offsets lie within a day either way, so the day's first instant lies in this span.
  for (const segment of offsetSegments(zone, { start: midnight - DAY_MS - 2 * 3_600_000, end: midnight + DAY_MS + 2 * 3_600_000 })) {
    const instant = midnight - segment.offsetMs;
    if (instant >= segment.start && instant < segment.end) return instant;
    // The clock jumped over midnight: the day begins where this segment does.
    if (segment.start + segment.offsetMs > midnight) return segment.start;
  }
  throw new RangeError(`no first instant of ${date} in ${zone}`);
}

export function localDayIndex(zone: string, instant: number): number {
  return Math.floor((instant + offsetAt(zone, instant)) / DAY_MS);
}

/** ISO 8601 with the zone's offset at that instant, seconds included, no millis: 2026-03-29T09:00:00-04:00. */
export function formatLocalIso(instant: number, zone: string): string {
  return formatWithOffset(instant, offsetAt(zone, instant));
}

/** `instant` as local ISO 8601 with its offset, for an offset already known (from offsetSegments): no Intl call. */
export function formatWithOffset(instant: number, offset: number): string {
  const local = new Date(Math.floor((instant + offset) / 1000) * 1000).toISOString().slice(0, 19);
  const offsetMinutes = Math.round(Math.abs(offset) / MINUTE_MS);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${local}${offset < 0 ? '-' : '+'}${pad(Math.floor(offsetMinutes / 60))}:${pad(offsetMinutes % 60)}`;
}

/**
 * Whether another instant shows the same wall clock in `zone` (a clock change within three hours repeats it).
 * Written times use it: RFC 5545 reads such a wall clock with TZID as its first occurrence, ical.js (and the
 * clients built on it) as the second, so both invites and calendar objects write these in UTC.
 */
export function repeatedWallClock(instant: number, zone: string): boolean {
  const offset = offsetAt(zone, instant);
  for (const other of new Set([offsetAt(zone, instant - 3 * 3_600_000), offsetAt(zone, instant + 3 * 3_600_000)])) {
    if (other !== offset && offsetAt(zone, instant + offset - other) === other) return true;
  }
  return false;
}
