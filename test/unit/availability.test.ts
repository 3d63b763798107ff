import { describe, expect, it } from 'vitest';
import {
  computeSlots, groupSlotsByDay, workingIntervals,
  type HostAvailabilityInput, type Interval, type Schedule, type SlotQuery, type Weekday,
} from '../../shared/scheduling/availability.ts';

const at = (iso: string) => Date.parse(iso);
const WORKWEEK: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
const weekdays = (start: string, end: string, days: Weekday[] = WORKWEEK) => days.map((day) => ({ day, start, end }));
const schedule = (timeZone: string, weekly: Schedule['weekly'], extra: Partial<Schedule> = {}): Schedule => ({ timeZone, weekly, ...extra });
const host = (hostId: string, hostSchedule: Schedule, busy: Interval[] = []): HostAvailabilityInput => ({ hostId, schedule: hostSchedule, busy });
const busy = (from: string, to: string): Interval => ({ start: at(from), end: at(to) });

const NY = 'America/New_York';
// Monday 2026-06-01 .. Sunday 2026-06-07, New York (EDT, -04:00).
const WEEK: Interval = { start: at('2026-06-01T00:00:00-04:00'), end: at('2026-06-08T00:00:00-04:00') };
const LONG_AGO = at('2026-01-01T00:00:00Z');

function query(hosts: HostAvailabilityInput[], range: Interval, options: Partial<SlotQuery> = {}): SlotQuery {
  const schedulingType = hosts.length === 1 ? 'single' : 'collective';
  return { hosts, schedulingType, lengthMinutes: 60, range, now: LONG_AGO, ...options };
}

/** Slot starts grouped by local day, in `zone`. */
function slotsIn(q: SlotQuery, zone = NY) {
  return groupSlotsByDay(computeSlots(q), zone);
}

/** Local wall-clock times of the slots, "HH:MM", for one day. */
function timesOn(q: SlotQuery, date: string, zone = NY) {
  return (slotsIn(q, zone)[date] ?? []).map(({ start }) => start.slice(11, 16));
}

/** "YYYY-MM-DDTHH:00:00<offset>" for `count` consecutive hours. */
function hourly(date: string, firstHour: number, count: number, offset: string) {
  return Array.from({ length: count }, (_, i) => ({ start: `${date}T${String(firstHour + i).padStart(2, '0')}:00:00${offset}` }));
}

describe('weekly hours', () => {
  const nineToFive = host('ann', schedule(NY, weekdays('09:00', '17:00')));

  it('gives hourly slots on working days only', () => {
    const byDay = slotsIn(query([nineToFive], WEEK));
    expect(Object.keys(byDay)).toEqual(['2026-06-01', '2026-06-02', '2026-06-03', '2026-06-04', '2026-06-05']);
    expect(byDay['2026-06-01']).toEqual(hourly('2026-06-01', 9, 8, '-04:00'));
    expect(computeSlots(query([nineToFive], WEEK)).every((slot) => slot.hostIds.join() === 'ann')).toBe(true);
  });

  it('merges several, overlapping and touching ranges a day', () => {
    const split = host('ann', schedule(NY, [
      ...weekdays('09:00', '12:00'), ...weekdays('11:00', '12:30'), ...weekdays('13:00', '15:00'), ...weekdays('15:00', '16:30'),
    ]));
    expect(timesOn(query([split], WEEK, { lengthMinutes: 90 }), '2026-06-02')).toEqual(['09:00', '10:30', '13:00', '14:30']);
  });

  it('joins ranges across midnight into one block', () => {
    const night = host('ann', schedule(NY, [{ day: 'mon', start: '22:00', end: '24:00' }, { day: 'tue', start: '00:00', end: '02:00' }]));
    const slots = slotsIn(query([night], WEEK, { lengthMinutes: 90 }));
    expect(slots).toEqual({
      '2026-06-01': [{ start: '2026-06-01T22:00:00-04:00' }, { start: '2026-06-01T23:30:00-04:00' }],
    });
  });

  it('aligns slots to the block start, also when the block starts before the range', () => {
    const range = { start: at('2026-06-01T12:00:00-04:00'), end: WEEK.end };
    expect(timesOn(query([nineToFive], range, { lengthMinutes: 50 }), '2026-06-01'))
      .toEqual(['12:20', '13:10', '14:00', '14:50', '15:40']);
  });

  it('honours a separate slot interval', () => {
    expect(timesOn(query([nineToFive], WEEK, { lengthMinutes: 60, slotIntervalMinutes: 150 }), '2026-06-01'))
      .toEqual(['09:00', '11:30', '14:00']);
  });
});

describe('overrides and out of office', () => {
  it('replaces a day\'s hours, or adds hours to a free day', () => {
    const hours = schedule(NY, weekdays('09:00', '17:00'), {
      overrides: [
        { date: '2026-06-01', ranges: [{ start: '07:00', end: '09:00' }, { start: '17:00', end: '19:00' }] },
        { date: '2026-06-06', ranges: [{ start: '10:00', end: '12:00' }] },
      ],
    });
    const q = query([host('ann', hours)], WEEK);
    expect(timesOn(q, '2026-06-01')).toEqual(['07:00', '08:00', '17:00', '18:00']);
    expect(timesOn(q, '2026-06-02')).toHaveLength(8);
    expect(timesOn(q, '2026-06-06')).toEqual(['10:00', '11:00']);
  });

  it('takes a day off with an empty override', () => {
    const hours = schedule(NY, weekdays('09:00', '17:00'), { overrides: [{ date: '2026-06-03', ranges: [] }] });
    expect(Object.keys(slotsIn(query([host('ann', hours)], WEEK)))).toEqual(['2026-06-01', '2026-06-02', '2026-06-04', '2026-06-05']);
  });

  it('removes whole out-of-office days, both ends inclusive, even over overrides', () => {
    const hours = schedule(NY, weekdays('09:00', '17:00'), {
      outOfOffice: [{ start: '2026-06-02', end: '2026-06-03' }],
      overrides: [{ date: '2026-06-03', ranges: [{ start: '08:00', end: '10:00' }] }],
    });
    expect(Object.keys(slotsIn(query([host('ann', hours)], WEEK)))).toEqual(['2026-06-01', '2026-06-04', '2026-06-05']);
  });
});

describe('busy time, buffers and notice', () => {
  const hours = schedule(NY, weekdays('09:00', '17:00'));

  it('keeps buffers clear of busy time, also outside working hours', () => {
    const ann = host('ann', hours, [
      busy('2026-06-01T10:00:00-04:00', '2026-06-01T11:00:00-04:00'),
      busy('2026-06-01T08:30:00-04:00', '2026-06-01T08:50:00-04:00'), // before hours; the leading buffer reaches it
      busy('2026-06-01T17:10:00-04:00', '2026-06-01T18:00:00-04:00'), // after hours; the trailing buffer reaches it
    ]);
    const q = query([ann], WEEK, { lengthMinutes: 30, bufferBeforeMinutes: 15, bufferAfterMinutes: 15 });
    expect(timesOn(q, '2026-06-01')).toEqual([
      '11:30', '12:00', '12:30', '13:00', '13:30', '14:00', '14:30', '15:00', '15:30', '16:00',
    ]);
  });

  it('does not re-anchor slots after busy time', () => {
    const ann = host('ann', hours, [busy('2026-06-01T09:00:00-04:00', '2026-06-01T09:30:00-04:00')]);
    expect(timesOn(query([ann], WEEK), '2026-06-01')).toEqual(['10:00', '11:00', '12:00', '13:00', '14:00', '15:00', '16:00']);
  });

  it('merges unsorted, overlapping busy intervals', () => {
    const ann = host('ann', hours, [
      busy('2026-06-01T13:00:00-04:00', '2026-06-01T15:00:00-04:00'),
      busy('2026-06-01T09:00:00-04:00', '2026-06-01T10:00:00-04:00'),
      busy('2026-06-01T12:30:00-04:00', '2026-06-01T13:30:00-04:00'),
    ]);
    expect(timesOn(query([ann], WEEK), '2026-06-01')).toEqual(['10:00', '11:00', '15:00', '16:00']);
  });

  it('applies minimum notice from now', () => {
    const q = query([host('ann', hours)], WEEK, { now: at('2026-06-01T10:20:00-04:00'), minimumNoticeMinutes: 60 });
    expect(timesOn(q, '2026-06-01')).toEqual(['12:00', '13:00', '14:00', '15:00', '16:00']);
  });
});

describe('booking windows', () => {
  const ann = host('ann', schedule(NY, weekdays('09:00', '17:00')));
  const mondayMorning = at('2026-06-01T08:00:00-04:00');

  it('rolling: today plus days-1 further calendar days', () => {
    const q = query([ann], WEEK, { now: mondayMorning, bookingWindow: { type: 'rolling', days: 2 } });
    expect(Object.keys(slotsIn(q))).toEqual(['2026-06-01', '2026-06-02']);
    expect(computeSlots({ ...q, bookingWindow: { type: 'rolling', days: 0 } })).toEqual([]);
  });

  it('rolling: counted in the window time zone', () => {
    // Monday 08:00 in New York is Monday 21:00 in Tokyo; two Tokyo days end at Tuesday 11:00 New York time.
    const q = query([ann], WEEK, { now: mondayMorning, bookingWindow: { type: 'rolling', days: 2 }, windowTimeZone: 'Asia/Tokyo' });
    expect(timesOn(q, '2026-06-02')).toEqual(['09:00', '10:00']);
    expect(Object.keys(slotsIn(q))).toEqual(['2026-06-01', '2026-06-02']);
  });

  it('range: local dates inclusive', () => {
    const q = query([ann], WEEK, { bookingWindow: { type: 'range', start: '2026-06-03', end: '2026-06-04' } });
    expect(Object.keys(slotsIn(q))).toEqual(['2026-06-03', '2026-06-04']);
  });
});

describe('teams', () => {
  it('collective: intersection of hours, union of busy, all hosts listed in order', () => {
    const berlin = host('bea', schedule('Europe/Berlin', weekdays('09:00', '17:00'))); // 07:00-15:00 UTC in June
    const newYork = host('al', schedule(NY, weekdays('09:00', '17:00')), [busy('2026-06-01T09:00:00-04:00', '2026-06-01T09:30:00-04:00')]);
    const q = query([berlin, newYork], WEEK, { schedulingType: 'collective', slotIntervalMinutes: 30 });
    expect(timesOn(q, '2026-06-01')).toEqual(['09:30', '10:00']);
    expect(timesOn(q, '2026-06-02')).toEqual(['09:00', '09:30', '10:00']);
    expect(computeSlots(q)[0].hostIds).toEqual(['al', 'bea']);
  });

  it('round robin: each host on its own, the free hosts listed per slot', () => {
    const zed = host('zed', schedule(NY, weekdays('09:00', '12:00')));
    const amy = host('amy', schedule(NY, weekdays('11:00', '14:00')), [busy('2026-06-01T12:00:00-04:00', '2026-06-01T13:00:00-04:00')]);
    const monday = { start: WEEK.start, end: at('2026-06-02T00:00:00-04:00') };
    const slots = computeSlots(query([zed, amy], monday, { schedulingType: 'round_robin' }));
    expect(slots).toEqual([
      { start: at('2026-06-01T09:00:00-04:00'), hostIds: ['zed'] },
      { start: at('2026-06-01T10:00:00-04:00'), hostIds: ['zed'] },
      { start: at('2026-06-01T11:00:00-04:00'), hostIds: ['amy', 'zed'] },
      { start: at('2026-06-01T13:00:00-04:00'), hostIds: ['amy'] },
    ]);
  });

  it('round robin: differently anchored hosts interleave', () => {
    const zed = host('zed', schedule(NY, weekdays('09:00', '11:00')));
    const amy = host('amy', schedule(NY, weekdays('09:30', '11:30')));
    const slots = computeSlots(query([zed, amy], WEEK, { schedulingType: 'round_robin', range: { start: WEEK.start, end: at('2026-06-02T00:00:00-04:00') } }));
    expect(slots.map((slot) => [new Date(slot.start).toISOString().slice(11, 16), slot.hostIds.join()])).toEqual([
      ['13:00', 'zed'], ['13:30', 'amy'], ['14:00', 'zed'], ['14:30', 'amy'],
    ]);
  });

  it('rejects a single query with more than one host', () => {
    const ann = host('ann', schedule(NY, weekdays('09:00', '17:00')));
    expect(() => computeSlots(query([ann, { ...ann, hostId: 'bob' }], WEEK, { schedulingType: 'single' }))).toThrow(RangeError);
  });
});

describe('Berlin 09:00-17:00 seen from New York across the 2026 transitions', () => {
  const berlin = host('bea', schedule('Europe/Berlin', weekdays('09:00', '17:00')));

  it('spring: US moves on 8 March, the EU on 29 March', () => {
    const march = { start: at('2026-03-05T00:00:00-05:00'), end: at('2026-03-31T00:00:00-04:00') };
    const byDay = slotsIn(query([berlin], march));
    expect(byDay['2026-03-06']).toEqual(hourly('2026-03-06', 3, 8, '-05:00')); // both on winter time
    expect(byDay['2026-03-09']).toEqual(hourly('2026-03-09', 4, 8, '-04:00')); // only the US on summer time
    expect(byDay['2026-03-27']).toEqual(hourly('2026-03-27', 4, 8, '-04:00'));
    expect(byDay['2026-03-30']).toEqual(hourly('2026-03-30', 3, 8, '-04:00')); // both on summer time
    expect(Object.keys(byDay)).toHaveLength(18);
    expect(byDay['2026-03-08']).toBeUndefined();
  });

  it('autumn: the EU moves back on 25 October, the US on 1 November', () => {
    const autumn = { start: at('2026-10-22T00:00:00-04:00'), end: at('2026-11-04T00:00:00-05:00') };
    const byDay = slotsIn(query([berlin], autumn));
    expect(byDay['2026-10-23']).toEqual(hourly('2026-10-23', 3, 8, '-04:00'));
    expect(byDay['2026-10-26']).toEqual(hourly('2026-10-26', 4, 8, '-04:00'));
    expect(byDay['2026-10-30']).toEqual(hourly('2026-10-30', 4, 8, '-04:00'));
    expect(byDay['2026-11-02']).toEqual(hourly('2026-11-02', 3, 8, '-05:00'));
  });
});

describe('ranges that cross a transition', () => {
  const onDay = (timeZone: string, date: string, start: string, end: string) =>
    host('ann', schedule(timeZone, [], { overrides: [{ date, ranges: [{ start, end }] }] }));
  const around = (date: string): Interval => ({ start: at(`${date}T00:00:00Z`) - 2 * 86_400_000, end: at(`${date}T00:00:00Z`) + 3 * 86_400_000 });

  it('New York spring forward: 01:00-04:00 lasts two real hours', () => {
    expect(slotsIn(query([onDay(NY, '2026-03-08', '01:00', '04:00')], around('2026-03-08'), { lengthMinutes: 30 }))).toEqual({
      '2026-03-08': [
        { start: '2026-03-08T01:00:00-05:00' }, { start: '2026-03-08T01:30:00-05:00' },
        { start: '2026-03-08T03:00:00-04:00' }, { start: '2026-03-08T03:30:00-04:00' },
      ],
    });
  });

  it('New York spring forward: a range starting in the gap starts right after it', () => {
    expect(slotsIn(query([onDay(NY, '2026-03-08', '02:30', '04:00')], around('2026-03-08'), { lengthMinutes: 30 }))).toEqual({
      '2026-03-08': [{ start: '2026-03-08T03:00:00-04:00' }, { start: '2026-03-08T03:30:00-04:00' }],
    });
  });

  it('New York fall back: 01:00-04:00 lasts four real hours', () => {
    const range = around('2026-11-01');
    expect(slotsIn(query([onDay(NY, '2026-11-01', '01:00', '04:00')], range))).toEqual({
      '2026-11-01': [
        { start: '2026-11-01T01:00:00-04:00' }, { start: '2026-11-01T01:00:00-05:00' },
        { start: '2026-11-01T02:00:00-05:00' }, { start: '2026-11-01T03:00:00-05:00' },
      ],
    });
    expect(workingIntervals(onDay(NY, '2026-11-01', '01:00', '02:00').schedule, range))
      .toEqual([busy('2026-11-01T05:00:00Z', '2026-11-01T07:00:00Z')]);
  });

  it('New York fall back: 00:30-01:30 is two separate blocks', () => {
    expect(slotsIn(query([onDay(NY, '2026-11-01', '00:30', '01:30')], around('2026-11-01'), { lengthMinutes: 30 }))).toEqual({
      '2026-11-01': [{ start: '2026-11-01T00:30:00-04:00' }, { start: '2026-11-01T01:00:00-04:00' }, { start: '2026-11-01T01:00:00-05:00' }],
    });
  });

  it('Santiago falls back at midnight: the last hour of 4 April happens twice', () => {
    const byDay = slotsIn(query([onDay('America/Santiago', '2026-04-04', '22:00', '24:00')], around('2026-04-05')), 'America/Santiago');
    expect(byDay).toEqual({
      '2026-04-04': [{ start: '2026-04-04T22:00:00-03:00' }, { start: '2026-04-04T23:00:00-03:00' }, { start: '2026-04-04T23:00:00-04:00' }],
    });
  });

  it('Lord Howe shifts by 30 minutes both ways', () => {
    const hours = schedule('Australia/Lord_Howe', [], {
      overrides: [{ date: '2026-04-05', ranges: [{ start: '01:00', end: '03:00' }] }, { date: '2026-10-04', ranges: [{ start: '01:00', end: '03:00' }] }],
    });
    const range = { start: at('2026-04-01T00:00:00Z'), end: at('2026-10-10T00:00:00Z') };
    expect(slotsIn(query([host('ann', hours)], range, { lengthMinutes: 30 }), 'Australia/Lord_Howe')).toEqual({
      '2026-04-05': [
        { start: '2026-04-05T01:00:00+11:00' }, { start: '2026-04-05T01:30:00+11:00' },
        { start: '2026-04-05T01:30:00+10:30' }, { start: '2026-04-05T02:00:00+10:30' }, { start: '2026-04-05T02:30:00+10:30' },
      ],
      '2026-10-04': [{ start: '2026-10-04T01:00:00+10:30' }, { start: '2026-10-04T01:30:00+10:30' }, { start: '2026-10-04T02:30:00+11:00' }],
    });
  });
});

describe('odd offsets', () => {
  const monday = { start: at('2026-06-01T00:00:00Z') - 86_400_000, end: at('2026-06-02T00:00:00Z') + 86_400_000 };

  it('Asia/Kolkata (+05:30)', () => {
    const q = query([host('ann', schedule('Asia/Kolkata', weekdays('09:00', '17:00', ['mon'])))], monday, { lengthMinutes: 120 });
    expect(slotsIn(q, 'UTC')).toEqual({
      '2026-06-01': ['03:30', '05:30', '07:30', '09:30'].map((time) => ({ start: `2026-06-01T${time}:00+00:00` })),
    });
    expect(timesOn(q, '2026-06-01', 'Asia/Kolkata')).toEqual(['09:00', '11:00', '13:00', '15:00']);
  });

  it('Asia/Kathmandu (+05:45)', () => {
    const q = query([host('ann', schedule('Asia/Kathmandu', weekdays('09:00', '11:00', ['mon'])))], monday);
    expect(slotsIn(q, 'UTC')).toEqual({ '2026-06-01': [{ start: '2026-06-01T03:15:00+00:00' }, { start: '2026-06-01T04:15:00+00:00' }] });
  });

  it('Australia/Adelaide (+09:30 in winter)', () => {
    const q = query([host('ann', schedule('Australia/Adelaide', weekdays('09:00', '10:00', ['mon'])))], monday);
    expect(slotsIn(q, 'Australia/Adelaide')).toEqual({ '2026-06-01': [{ start: '2026-06-01T09:00:00+09:30' }] });
  });
});

describe('round-the-clock hours', () => {
  const always = host('ann', schedule('UTC', weekdays('00:00', '24:00', ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])));

  it('anchors at the look-back horizon (UTC midnight 7 days before the range), whatever the range start that day', () => {
    const hour = { start: at('2026-06-10T12:00:00Z'), end: at('2026-06-10T13:00:00Z') };
    const short = computeSlots(query([always], hour, { lengthMinutes: 7 }));
    expect(new Date(short[0].start).toISOString()).toBe('2026-06-10T12:01:00.000Z'); // 10801 minutes = 1543 x 7 after 3 June 00:00
    const wholeDay = computeSlots(query([always], { start: at('2026-06-10T00:00:00Z'), end: hour.end }, { lengthMinutes: 7 }));
    expect(wholeDay.filter((slot) => slot.start >= hour.start)).toEqual(short);
  });
});

describe('input checks', () => {
  it('rejects unknown zones and malformed times', () => {
    expect(() => computeSlots(query([host('ann', schedule('Mars/Olympus', weekdays('09:00', '17:00')))], WEEK))).toThrow(RangeError);
    expect(() => computeSlots(query([host('ann', schedule(NY, weekdays('09:00', '25:00')))], WEEK))).toThrow(RangeError);
    expect(() => computeSlots(query([host('ann', schedule(NY, weekdays('10:00', '09:00')))], WEEK))).toThrow(RangeError);
  });

  it('returns nothing for an empty range', () => {
    expect(computeSlots(query([host('ann', schedule(NY, weekdays('09:00', '17:00')))], { start: WEEK.end, end: WEEK.start }))).toEqual([]);
  });
});
