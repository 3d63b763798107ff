// The engine against a brute-force minute grid. The oracle never converts local -> UTC: it asks Intl for the
// wall clock of every UTC minute and applies the rules of the brief literally (string dates, linear scans).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  computeSlots, groupSlotsByDay, workingIntervals,
  type BookingWindow, type HostAvailabilityInput, type Interval, type Schedule, type Slot, type SlotQuery,
  type TimeRange, type Weekday,
} from '../../shared/scheduling/availability.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
const WEEKDAYS: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const ZONES = [
  'UTC', 'Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Los_Angeles', 'America/St_Johns',
  'America/Havana', 'America/Santiago', 'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Tokyo', 'Australia/Adelaide',
  'Australia/Lord_Howe', 'Pacific/Auckland', 'Pacific/Chatham', 'Pacific/Kiritimati', 'Pacific/Pago_Pago',
];
// 2026 transition dates of the zones above (US, EU, Chile and Havana at midnight, Australia incl. Lord Howe, NZ).
const TRANSITION_DATES = [
  '2026-03-08', '2026-03-29', '2026-04-05', '2026-09-06', '2026-09-27', '2026-10-04', '2026-10-25', '2026-11-01',
];

// ---- oracle -------------------------------------------------------------------------------------------------

type Local = { date: string; minute: number };
const formatters = new Map<string, Intl.DateTimeFormat>();
// Memo of Intl's answers per zone and UTC minute (the generators revisit the same weeks around transitions).
const CACHE_FROM = Date.UTC(2024, 10, 1);
const CACHE_MINUTES = 1200 * 1440;
const localCache = new Map<string, Int32Array>();
const dates = new Map<number, string>();

function localOf(zone: string, instant: number): Local {
  let cache = localCache.get(zone);
  if (!cache) localCache.set(zone, (cache = new Int32Array(CACHE_MINUTES)));
  const slot = (instant - CACHE_FROM) / MINUTE;
  const cacheable = Number.isInteger(slot) && slot >= 0 && slot < CACHE_MINUTES;
  let packed = cacheable ? cache[slot] - 1 : -1; // day * 1440 + minute of day; -1 = not cached
  if (packed < 0) {
    let formatter = formatters.get(zone);
    if (!formatter) {
      formatter = new Intl.DateTimeFormat('en-CA', {
        timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
      });
      formatters.set(zone, formatter);
    }
    const parts: Record<string, string> = {};
    for (const part of formatter.formatToParts(instant)) parts[part.type] = part.value;
    const day = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)) / DAY;
    packed = day * 1440 + Number(parts.hour) * 60 + Number(parts.minute);
    if (cacheable) cache[slot] = packed + 1;
  }
  const day = Math.floor(packed / 1440);
  let date = dates.get(day);
  if (date === undefined) dates.set(day, (date = new Date(day * DAY).toISOString().slice(0, 10)));
  return { date, minute: packed - day * 1440 };
}

const clockMinutes = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
const weekdayOf = (date: string) => WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()];
const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);

// The rules for one local date, read literally from the schedule (memoized per schedule and date).
const hoursMemo = new WeakMap<Schedule, Map<string, Array<[number, number]>>>();
function hoursOn(schedule: Schedule, date: string): Array<[number, number]> {
  let memo = hoursMemo.get(schedule);
  if (!memo) hoursMemo.set(schedule, (memo = new Map()));
  let hours = memo.get(date);
  if (hours) return hours;
  const overrides = (schedule.overrides ?? []).filter((override) => override.date === date);
  const ranges: TimeRange[] = overrides.length > 0
    ? overrides.flatMap((override) => override.ranges)
    : schedule.weekly.filter((range) => range.day === weekdayOf(date));
  const away = (schedule.outOfOffice ?? []).some((period) => period.start <= date && date <= period.end);
  hours = away ? [] : ranges.map((range) => [clockMinutes(range.start), clockMinutes(range.end)]);
  memo.set(date, hours);
  return hours;
}

function isWorkingMinute(schedule: Schedule, instant: number): boolean {
  const { date, minute } = localOf(schedule.timeZone, instant);
  return hoursOn(schedule, date).some(([from, to]) => from <= minute && minute < to);
}

function oracleSlots(query: SlotQuery): Slot[] {
  const length = query.lengthMinutes * MINUTE;
  const step = (query.slotIntervalMinutes ?? query.lengthMinutes) * MINUTE;
  const before = (query.bufferBeforeMinutes ?? 0) * MINUTE;
  const after = (query.bufferAfterMinutes ?? 0) * MINUTE;
  const earliest = query.now + (query.minimumNoticeMinutes ?? 0) * MINUTE;
  const windowZone = query.windowTimeZone ?? query.hosts[0].schedule.timeZone;
  const today = localOf(windowZone, query.now).date;
  const window: BookingWindow | undefined = query.bookingWindow;
  const windowAllows = (start: number) => {
    if (!window) return true;
    const date = localOf(windowZone, start).date;
    return window.type === 'rolling' ? date < addDays(today, window.days) : window.start <= date && date <= window.end;
  };
  const { start: rangeStart, end: rangeEnd } = query.range;
  const horizon = Math.floor(rangeStart / DAY) * DAY - 7 * DAY; // documented look-back: UTC midnight, 7 days back

  const startsFor = (hosts: HostAvailabilityInput[]) => {
    const working = (minute: number) => hosts.every((host) => isWorkingMinute(host.schedule, minute));
    const busy = hosts.flatMap((host) => host.busy);
    const isSlot = (start: number) =>
      start >= rangeStart && start < rangeEnd && start >= earliest && windowAllows(start) &&
      !busy.some((b) => b.start < start + length + after && b.end > start - before);
    let minute = rangeStart;
    while (minute > horizon && working(minute - MINUTE)) minute -= MINUTE; // the block running into the range
    const starts: number[] = [];
    while (minute < rangeEnd + length) {
      if (!working(minute)) { minute += MINUTE; continue; }
      const blockStart = minute;
      while (minute < rangeEnd + length && working(minute)) minute += MINUTE;
      for (let start = blockStart; start + length <= minute; start += step) if (isSlot(start)) starts.push(start);
    }
    return starts;
  };

  const ids = query.hosts.map((host) => host.hostId).sort();
  if (query.schedulingType !== 'round_robin') return startsFor(query.hosts).map((start) => ({ start, hostIds: ids }));
  const byStart = new Map<number, string[]>();
  for (const host of [...query.hosts].sort((a, b) => (a.hostId < b.hostId ? -1 : 1))) {
    for (const start of startsFor([host])) byStart.set(start, [...(byStart.get(start) ?? []), host.hostId]);
  }
  return [...byStart].sort(([a], [b]) => a - b).map(([start, hostIds]) => ({ start, hostIds }));
}

function oracleWorking(schedule: Schedule, range: Interval): Interval[] {
  const out: Interval[] = [];
  for (let minute = range.start; minute < range.end; minute += MINUTE) {
    if (!isWorkingMinute(schedule, minute)) continue;
    const last = out[out.length - 1];
    if (last && last.end === minute) last.end += MINUTE;
    else out.push({ start: minute, end: minute + MINUTE });
  }
  return out;
}

// ---- generators ---------------------------------------------------------------------------------------------

const clock = (fiveMinutes: number) =>
  `${String(Math.floor(fiveMinutes / 12)).padStart(2, '0')}:${String((fiveMinutes % 12) * 5).padStart(2, '0')}`;

// Mostly quarter hours (realistic), sometimes 5-minute marks; 288 = "24:00".
const timeRange: fc.Arbitrary<TimeRange> = fc
  .tuple(fc.integer({ min: 0, max: 287 }), fc.integer({ min: 1, max: 288 }), fc.boolean())
  .map(([from, duration, quarter]) => {
    const start = quarter ? from - (from % 3) : from;
    const end = Math.min(288, start + (quarter ? Math.max(3, duration - (duration % 3)) : duration));
    return { start: clock(start), end: clock(end) };
  });

const zone = fc.constantFrom(...ZONES);

// A range start near a DST transition most of the time, otherwise anywhere in 2025-2027.
const rangeStart = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...TRANSITION_DATES), fc.integer({ min: -3 * 96, max: 2 * 96 }))
    .map(([date, quarters]) => Date.parse(`${date}T00:00:00Z`) + quarters * 15 * MINUTE) },
  { weight: 1, arbitrary: fc.integer({ min: Date.parse('2025-01-01') / MINUTE / 15, max: Date.parse('2027-12-31') / MINUTE / 15 })
    .map((quarters) => quarters * 15 * MINUTE) },
);
// Short ranges keep the minute grid cheap; a few reach 10 days.
const rangeMinutes = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 30, max: 1440 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1440, max: 3 * 1440 }) },
  { weight: 1, arbitrary: fc.integer({ min: 3 * 1440, max: 10 * 1440 }) },
);

const dateNear = (start: number) =>
  fc.integer({ min: -9, max: 11 }).map((days) => new Date(start + days * DAY).toISOString().slice(0, 10));

function scheduleNear(start: number): fc.Arbitrary<Schedule> {
  const weekly = fc.oneof(
    // Office hours: the same ranges on several weekdays, plus a few odd ones.
    { weight: 5, arbitrary: fc.tuple(fc.array(timeRange, { minLength: 1, maxLength: 2 }), fc.subarray(WEEKDAYS, { minLength: 3 }),
      fc.array(fc.record({ day: fc.constantFrom(...WEEKDAYS), range: timeRange }), { maxLength: 3 }))
      .map(([ranges, days, extra]) => [...days.flatMap((day) => ranges.map((range) => ({ day, range }))), ...extra]) },
    { weight: 3, arbitrary: fc.array(fc.record({ day: fc.constantFrom(...WEEKDAYS), range: timeRange }), { maxLength: 10 }) },
    // Round the clock on most days: long blocks that cross midnight and reach the look-back horizon.
    { weight: 1, arbitrary: fc.subarray(WEEKDAYS, { minLength: 5 }).map((days) => days.map((day) => ({ day, range: { start: '00:00', end: '24:00' } }))) },
  );
  return fc.record({
    timeZone: zone,
    weekly: weekly.map((ranges) => ranges.map(({ day, range }) => ({ day, ...range }))),
    overrides: fc.array(fc.record({ date: dateNear(start), ranges: fc.array(timeRange, { maxLength: 3 }) }), { maxLength: 3 }),
    outOfOffice: fc.array(fc.tuple(dateNear(start), fc.integer({ min: 0, max: 3 }))
      .map(([date, days]) => ({ start: date, end: addDays(date, days) })), { maxLength: 2 }),
  });
}

function busyNear(start: number, minutes: number): fc.Arbitrary<Interval[]> {
  return fc.array(
    fc.tuple(fc.integer({ min: -24 * 12, max: Math.floor((minutes + 24 * 60) / 5) }), fc.integer({ min: 1, max: 24 }))
      .map(([from, duration]) => ({ start: start + from * 5 * MINUTE, end: start + (from + duration) * 5 * MINUTE })),
    { maxLength: 12 },
  );
}

type Kind = SlotQuery['schedulingType'];
function slotQuery(kinds: Kind[]): fc.Arbitrary<SlotQuery> {
  return fc.tuple(rangeStart, rangeMinutes, fc.constantFrom(...kinds)).chain(([start, minutes, schedulingType]) => {
    const hostCount = schedulingType === 'single' ? 1 : 3;
    return fc.record({
      hosts: fc.tuple(
        fc.shuffledSubarray(['ann', 'bob', 'cyd'], { minLength: 1, maxLength: hostCount }),
        fc.array(fc.tuple(scheduleNear(start), busyNear(start, minutes)), { minLength: 3, maxLength: 3 }),
        fc.constantFrom('own', 'same hours', 'same hours and zone'),
      ).map(([ids, inputs, sharing]) => ids.map((hostId, i) => ({
        hostId,
        // Teams often share office hours; with independent ones collective intersections are mostly empty.
        schedule: sharing === 'own' ? inputs[i][0] : {
          ...inputs[i][0],
          weekly: inputs[0][0].weekly,
          timeZone: sharing === 'same hours' ? inputs[i][0].timeZone : inputs[0][0].timeZone,
        },
        busy: inputs[i][1],
      }))),
      schedulingType: fc.constant(schedulingType),
      lengthMinutes: fc.constantFrom(5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180),
      slotIntervalMinutes: fc.option(fc.constantFrom(5, 10, 15, 20, 30, 45, 60, 7), { nil: undefined }),
      minimumNoticeMinutes: fc.option(fc.oneof(fc.integer({ min: 0, max: 36 }), fc.integer({ min: 0, max: 48 * 12 })).map((n) => n * 5), { nil: undefined }),
      bufferBeforeMinutes: fc.option(fc.integer({ min: 0, max: 12 }).map((n) => n * 5), { nil: undefined }),
      bufferAfterMinutes: fc.option(fc.integer({ min: 0, max: 12 }).map((n) => n * 5), { nil: undefined }),
      bookingWindow: fc.oneof(
        { weight: 2, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.record({ type: fc.constant('rolling' as const), days: fc.integer({ min: 0, max: 21 }) }) },
        { weight: 1, arbitrary: fc.tuple(fc.integer({ min: -3, max: 3 }), fc.integer({ min: 0, max: 8 })).map(([offset, days]) => {
          const date = new Date(start + offset * DAY).toISOString().slice(0, 10);
          return { type: 'range' as const, start: date, end: addDays(date, days) };
        }) },
      ),
      windowTimeZone: fc.option(zone, { nil: undefined }),
      range: fc.constant({ start, end: start + minutes * MINUTE }),
      now: fc.integer({ min: -4 * 24 * 12, max: 24 * 12 }).map((n) => start + n * 5 * MINUTE),
    });
  });
}

// ---- properties ---------------------------------------------------------------------------------------------

// Each property is bounded by its number of cases, never by the clock: on a loaded 2-core machine a run may take
// several times as long as on an idle one, and that must not fail it.
const CASE_BOUNDED = { timeout: 15 * 60_000 };

describe('computeSlots equals the minute-grid oracle', CASE_BOUNDED, () => {
  it('single host', () => {
    fc.assert(fc.property(slotQuery(['single']), (query) => {
      expect(computeSlots(query)).toEqual(oracleSlots(query));
    }), { numRuns: 2000 });
  });

  it('collective', () => {
    fc.assert(fc.property(slotQuery(['collective']), (query) => {
      expect(computeSlots(query)).toEqual(oracleSlots(query));
    }), { numRuns: 1500 });
  });

  it('round robin', () => {
    fc.assert(fc.property(slotQuery(['round_robin']), (query) => {
      expect(computeSlots(query)).toEqual(oracleSlots(query));
    }), { numRuns: 1500 });
  });

  it('finds slots in a good share of cases (the generators are not vacuous)', () => {
    const samples = fc.sample(slotQuery(['single', 'collective', 'round_robin']), { numRuns: 300, seed: 42 });
    const withSlots = samples.filter((query) => computeSlots(query).length > 0).length;
    expect(withSlots).toBeGreaterThan(90);
  });
});

describe('workingIntervals equals the minute grid', CASE_BOUNDED, () => {
  it('for random schedules around transitions', () => {
    const input = fc.tuple(rangeStart, fc.integer({ min: 30, max: 3 * 1440 }))
      .chain(([start, minutes]) => fc.tuple(scheduleNear(start), fc.constant({ start, end: start + minutes * MINUTE })));
    fc.assert(fc.property(input, ([schedule, range]) => {
      expect(workingIntervals(schedule, range)).toEqual(oracleWorking(schedule, range));
    }), { numRuns: 1500 });
  });
});

describe('groupSlotsByDay', CASE_BOUNDED, () => {
  it('round-trips to the same instants, keyed by local date, sorted', () => {
    const instant = fc.oneof(
      fc.tuple(fc.constantFrom(...TRANSITION_DATES), fc.integer({ min: -3 * 96, max: 3 * 96 }))
        .map(([date, quarters]) => Date.parse(`${date}T00:00:00Z`) + quarters * 15 * MINUTE),
      fc.integer({ min: Date.parse('2024-01-01') / MINUTE, max: Date.parse('2030-01-01') / MINUTE }).map((m) => m * MINUTE),
    );
    const input = fc.tuple(fc.uniqueArray(instant, { maxLength: 40 }), zone);
    fc.assert(fc.property(input, ([instants, timeZone]) => {
      const grouped = groupSlotsByDay(instants.map((start) => ({ start, hostIds: ['x'] })), timeZone);
      const keys = Object.keys(grouped);
      expect(keys).toEqual([...keys].sort());
      const flattened = keys.flatMap((key) => grouped[key].map(({ start }) => {
        expect(start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
        expect(start.slice(0, 10)).toBe(key);
        const parsed = Date.parse(start);
        expect(localOf(timeZone, parsed).date).toBe(key);
        expect(clockMinutes(start.slice(11, 16))).toBe(localOf(timeZone, parsed).minute);
        return parsed;
      }));
      for (const key of keys) {
        const list = grouped[key].map(({ start }) => Date.parse(start));
        expect(list).toEqual([...list].sort((a, b) => a - b));
      }
      expect([...flattened].sort((a, b) => a - b)).toEqual([...instants].sort((a, b) => a - b));
    }), { numRuns: 1000 });
  });
});
