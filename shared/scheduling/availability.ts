// The availability engine: working hours + busy times -> bookable slot starts. Pure: every clock reading comes in.
import {
  DAY_MS, MINUTE_MS, dayIndexOf, formatWithOffset, localDayIndex, offsetSegments, wallClockToInstants,
  weekdayOfDayIndex, type DayRange, type OffsetSegment,
} from './time-zones.ts';

export type Interval = { start: number; end: number }; // epoch ms, half-open [start, end)
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export type TimeRange = { start: string; end: string }; // "HH:MM" wall clock; end may be "24:00"; end > start
export type Schedule = {
  timeZone: string; // IANA
  weekly: Array<{ day: Weekday } & TimeRange>; // several ranges per day allowed, may overlap/touch
  overrides?: Array<{ date: string; ranges: TimeRange[] }>; // local date; REPLACES that day's weekly hours
  outOfOffice?: Array<{ start: string; end: string }>; // inclusive local dates: whole days unavailable
};
// busy: existing bookings (already extended by their buffers) + external calendar busy times; any order, may overlap.
export type HostAvailabilityInput = { hostId: string; schedule: Schedule; busy: Interval[] };
export type BookingWindow = { type: 'rolling'; days: number } | { type: 'range'; start: string; end: string };
export type SlotQuery = {
  hosts: HostAvailabilityInput[];
  schedulingType: 'single' | 'collective' | 'round_robin'; // single = exactly one host
  lengthMinutes: number;
  slotIntervalMinutes?: number; // default = lengthMinutes
  minimumNoticeMinutes?: number;
  bufferBeforeMinutes?: number;
  bufferAfterMinutes?: number;
  bookingWindow?: BookingWindow; // read in windowTimeZone; absent = unlimited
  windowTimeZone?: string; // the event type owner's zone (default: first host's schedule zone)
  range: Interval; // slot STARTS in [range.start, range.end)
  now: number;
};
export type Slot = { start: number; hostIds: string[] };

/**
 * How far before range.start blocks are looked for. A block reaching further back (round-the-clock hours) is
 * anchored at this horizon instead of its true start. The horizon is a UTC midnight so that, for intervals that
 * divide a day, the slots do not depend on where the query range starts (a listing and the re-check of one of
 * its slots agree).
 */
export const BLOCK_LOOKBACK_DAYS = 7;

export function blockHorizon(rangeStart: number): number {
  return (Math.floor(rangeStart / DAY_MS) - BLOCK_LOOKBACK_DAYS) * DAY_MS;
}

const WEEKDAY_INDEX: Record<Weekday, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const WHOLE_DAY: readonly DayRange[] = [[0, DAY_MS]];
const NO_HOURS: readonly DayRange[] = [];

type CompiledSchedule = { timeZone: string; rangesOn: (day: number) => readonly DayRange[] };

export function computeSlots(query: SlotQuery): Slot[] {
  const { hosts, schedulingType, range, now } = query;
  if (hosts.length === 0 || (schedulingType === 'single' && hosts.length !== 1)) {
    throw new RangeError(`${schedulingType} needs ${schedulingType === 'single' ? 'exactly one host' : 'hosts'}`);
  }
  const length = minutes('lengthMinutes', query.lengthMinutes, 1);
  const step = minutes('slotIntervalMinutes', query.slotIntervalMinutes ?? query.lengthMinutes, 1);
  const before = minutes('bufferBeforeMinutes', query.bufferBeforeMinutes ?? 0, 0);
  const after = minutes('bufferAfterMinutes', query.bufferAfterMinutes ?? 0, 0);
  const notice = minutes('minimumNoticeMinutes', query.minimumNoticeMinutes ?? 0, 0);
  if (!(range.start < range.end)) return [];

  const horizon: Interval = { start: blockHorizon(range.start), end: range.end + length };
  const segmentsByZone = new Map<string, OffsetSegment[]>();
  const segmentsOf = (zone: string) => {
    let segments = segmentsByZone.get(zone);
    if (!segments) segmentsByZone.set(zone, (segments = offsetSegments(zone, horizon)));
    return segments;
  };
  const windowZone = query.windowTimeZone ?? hosts[0].schedule.timeZone;
  const allowed = allowedStarts(query.bookingWindow, segmentsOf(windowZone), windowZone, {
    start: Math.max(range.start, now + notice),
    end: range.end,
  }, now);
  if (allowed.length === 0) return [];

  const sortedHosts = [...hosts].sort((a, b) => compareIds(a.hostId, b.hostId));
  const workingOf = (host: HostAvailabilityInput) => {
    const schedule = compileSchedule(host.schedule);
    return wallClockToInstants(segmentsOf(schedule.timeZone), horizon, schedule.rangesOn);
  };
  const startsOf = (blocks: Interval[], busy: Interval[]) =>
    freeStarts(blocks, mergeIntervals(busy), allowed, length, step, before, after);

  if (schedulingType !== 'round_robin') {
    const blocks = sortedHosts.map(workingOf).reduce(intersectIntervals);
    const hostIds = sortedHosts.map((host) => host.hostId);
    return startsOf(blocks, sortedHosts.flatMap((host) => host.busy)).map((start) => ({ start, hostIds: [...hostIds] }));
  }
  const hostsByStart = new Map<number, string[]>();
  for (const host of sortedHosts) {
    for (const start of startsOf(workingOf(host), host.busy)) {
      const ids = hostsByStart.get(start);
      if (ids) ids.push(host.hostId);
      else hostsByStart.set(start, [host.hostId]);
    }
  }
  return [...hostsByStart.keys()].sort((a, b) => a - b).map((start) => ({ start, hostIds: hostsByStart.get(start)! }));
}

export function groupSlotsByDay(slots: Slot[], timeZone: string): Record<string, Array<{ start: string }>> {
  const byDay = new Map<string, Array<{ start: string }>>();
  const sorted = [...slots].sort((a, b) => a.start - b.start);
  // The zone's offsets over the whole span once (a few Intl calls a month), then plain arithmetic per slot: a
  // month of a team's slots is thousands of starts, and one Intl format each was most of the endpoint's time.
  const segments = sorted.length ? offsetSegments(timeZone, { start: sorted[0]!.start, end: sorted.at(-1)!.start + 1 }) : [];
  let segment = 0;
  for (const slot of sorted) {
    while (slot.start >= segments[segment]!.end) segment++;
    const start = formatWithOffset(slot.start, segments[segment]!.offsetMs);
    const day = start.slice(0, 10);
    const list = byDay.get(day);
    if (list) list.push({ start });
    else byDay.set(day, [{ start }]);
  }
  // Sorted by instant above; keys sorted separately because a midnight fall-back can revisit a local date.
  return Object.fromEntries([...byDay.keys()].sort().map((day) => [day, byDay.get(day)!]));
}

export function workingIntervals(schedule: Schedule, range: Interval): Interval[] {
  if (!(range.start < range.end)) return [];
  const compiled = compileSchedule(schedule);
  return wallClockToInstants(offsetSegments(compiled.timeZone, range), range, compiled.rangesOn);
}

/** Starts in [a, b) allowed by notice, query range and booking window, as intervals. */
function allowedStarts(
  window: BookingWindow | undefined,
  segments: OffsetSegment[],
  zone: string,
  span: Interval,
  now: number,
): Interval[] {
  if (!(span.start < span.end)) return [];
  if (!window) return [span];
  let first = -Infinity;
  let last: number;
  if (window.type === 'rolling') {
    last = localDayIndex(zone, now) + window.days - 1;
  } else {
    first = dayIndexOf(window.start);
    last = dayIndexOf(window.end);
  }
  // A set of intervals, not one cut-off: where a zone falls back across midnight the local date goes backwards.
  return wallClockToInstants(segments, span, (day) => (day >= first && day <= last ? WHOLE_DAY : NO_HOURS));
}

/** Candidate starts (aligned to each block's start) that fit the block, are allowed, and clear busy with buffers. */
function freeStarts(
  blocks: Interval[], busy: Interval[], allowed: Interval[],
  length: number, step: number, before: number, after: number,
): number[] {
  const starts: number[] = [];
  let a = 0;
  let b = 0;
  for (const block of blocks) {
    const alignUp = (instant: number) => block.start + Math.ceil((instant - block.start) / step) * step;
    const last = block.end - length;
    let start = block.start;
    while (start <= last) {
      while (a < allowed.length && allowed[a].end <= start) a++;
      if (a === allowed.length) return starts;
      if (allowed[a].start > start) {
        start = alignUp(allowed[a].start);
        continue;
      }
      while (b < busy.length && busy[b].end <= start - before) b++;
      if (b < busy.length && busy[b].start < start + length + after) {
        start = alignUp(busy[b].end + before); // the first start whose leading buffer clears this busy interval
        continue;
      }
      starts.push(start);
      start += step;
    }
  }
  return starts;
}

function compileSchedule(schedule: Schedule): CompiledSchedule {
  const weekly: DayRange[][] = [[], [], [], [], [], [], []];
  for (const range of schedule.weekly) {
    const day = WEEKDAY_INDEX[range.day];
    if (day === undefined) throw new RangeError(`invalid weekday "${range.day}"`);
    weekly[day].push(dayRange(range));
  }
  const overrides = new Map<number, DayRange[]>();
  for (const override of schedule.overrides ?? []) {
    const day = dayIndexOf(override.date);
    overrides.set(day, [...(overrides.get(day) ?? []), ...override.ranges.map(dayRange)]);
  }
  const outOfOffice = (schedule.outOfOffice ?? []).map((period) => [dayIndexOf(period.start), dayIndexOf(period.end)]);
  const weeklyMerged = weekly.map(mergeDayRanges);
  const overridesMerged = new Map([...overrides].map(([day, ranges]) => [day, mergeDayRanges(ranges)]));
  return {
    timeZone: schedule.timeZone,
    rangesOn: (day) => {
      if (outOfOffice.some(([first, last]) => day >= first && day <= last)) return NO_HOURS;
      return overridesMerged.get(day) ?? weeklyMerged[weekdayOfDayIndex(day)];
    },
  };
}

const TIME = /^(\d{2}):(\d{2})$/;

function dayRange(range: TimeRange): DayRange {
  const toMs = (time: string) => {
    const match = TIME.exec(time);
    const ms = match && Number(match[2]) < 60 ? (Number(match[1]) * 60 + Number(match[2])) * MINUTE_MS : NaN;
    if (!(ms <= DAY_MS)) throw new RangeError(`invalid time "${time}"`);
    return ms;
  };
  const from = toMs(range.start);
  const to = toMs(range.end);
  if (!(from < to)) throw new RangeError(`empty time range ${range.start}-${range.end}`);
  return [from, to];
}

function mergeDayRanges(ranges: DayRange[]): DayRange[] {
  return mergeIntervals(ranges.map(([start, end]) => ({ start, end }))).map(({ start, end }) => [start, end] as const);
}

/** Sorted, disjoint, touching ones joined; empty ones dropped. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.start < i.end).sort((x, y) => x.start - y.start);
  const merged: Interval[] = [];
  for (const { start, end } of sorted) {
    const previous = merged[merged.length - 1];
    if (previous && previous.end >= start) previous.end = Math.max(previous.end, end);
    else merged.push({ start, end });
  }
  return merged;
}

/** Intersection of two sorted, disjoint lists. */
export function intersectIntervals(x: Interval[], y: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (let i = 0, j = 0; i < x.length && j < y.length; ) {
    const start = Math.max(x[i].start, y[j].start);
    const end = Math.min(x[i].end, y[j].end);
    if (start < end) out.push({ start, end });
    if (x[i].end < y[j].end) i++;
    else j++;
  }
  return out;
}

function minutes(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) throw new RangeError(`${name} must be a number >= ${min}, got ${value}`);
  return value * MINUTE_MS;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
