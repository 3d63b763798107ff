import { describe, expect, it } from 'vitest';
import { planBusyMerge } from '../../shared/calendars/busy-store.ts';
import { calendarKeys } from '../../shared/calendars/store.ts';
import type { BusyRead } from '../../shared/calendars/provider.ts';

const target = { hostId: 'host-1', connectionId: 'cal-1', calendarId: 'https://dav.example.com/u/work/' };
const sk = (externalEventId: string, calendarId = target.calendarId) => calendarKeys.busy(target.hostId, target.connectionId, calendarId, externalEventId).sk;
const span = (start: string, end: string) => ({ start: `2030-01-07T${start}:00Z`, end: `2030-01-07T${end}:00Z` });
const read = (partial: Partial<BusyRead>): BusyRead => ({ full: false, events: [], removed: [], cursor: null, requests: 1, ...partial });

describe('merging a busy read', () => {
  it('an incremental read touches only the events it lists: nothing else is lost', () => {
    const plan = planBusyMerge(target, read({ events: [{ externalEventId: 'a', spans: [span('09:00', '10:00')] }] }), [sk('b'), sk('c')]);
    expect(plan.puts.map((p) => p.sk)).toEqual([sk('a')]);
    expect(plan.deletes).toEqual([]);
    expect(plan.puts[0]).toMatchObject({ spans: [[Date.parse('2030-01-07T09:00:00Z'), Date.parse('2030-01-07T10:00:00Z')]], until: Date.parse('2030-01-07T10:00:00Z') });
  });

  it('removed events end their spans, and only theirs', () => {
    const plan = planBusyMerge(target, read({ removed: ['b'] }), [sk('a'), sk('b')]);
    expect(plan).toEqual({ puts: [], deletes: [sk('b')] });
  });

  it('a full read removes what it did not list, of its own calendar only', () => {
    const plan = planBusyMerge(target, read({ full: true, events: [{ externalEventId: 'a', spans: [span('09:00', '10:00')] }] }), [sk('a'), sk('gone')]);
    expect(plan.puts.map((p) => p.sk)).toEqual([sk('a')]);
    expect(plan.deletes).toEqual([sk('gone')]);
  });

  it('an event that blocks nothing (free, declined) leaves no busy time; one of our bookings is not counted twice', () => {
    const plan = planBusyMerge(target, read({ events: [{ externalEventId: 'free', spans: [] }, { externalEventId: 'ours', spans: [span('11:00', '12:00')], bookingId: 'b-1' }] }), []);
    expect(plan.puts).toEqual([]);
    expect(plan.deletes.sort()).toEqual([sk('free'), sk('ours')].sort());
  });

  it('every instance of a recurring event is kept, in order; empty or inverted spans are dropped', () => {
    const plan = planBusyMerge(target, read({ events: [{ externalEventId: 'weekly', spans: [span('14:00', '15:00'), span('09:00', '10:00'), span('12:00', '12:00'), { start: 'nonsense', end: 'x' }] }] }), []);
    expect(plan.puts[0]!.spans.map(([s]) => new Date(s).toISOString())).toEqual(['2030-01-07T09:00:00.000Z', '2030-01-07T14:00:00.000Z']);
  });

  it('an event listed and removed in one read stays (the listing is the newer word)', () => {
    const plan = planBusyMerge(target, read({ events: [{ externalEventId: 'a', spans: [span('09:00', '10:00')] }], removed: ['a'] }), []);
    expect(plan.puts.map((p) => p.sk)).toEqual([sk('a')]);
    expect(plan.deletes).toEqual([]);
  });

  it('keys stay short whatever the ids: a 512-character calendar URL and event id fit a sort key', () => {
    const key = calendarKeys.busy('host-1', 'cal-1', 'x'.repeat(512), 'y'.repeat(512));
    expect(key.sk.length).toBeLessThan(100);
    expect(key.sk.startsWith(calendarKeys.busyPrefix('cal-1', 'x'.repeat(512)))).toBe(true);
  });
});
