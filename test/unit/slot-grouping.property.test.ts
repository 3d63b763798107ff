// groupSlotsByDay formats each start from the zone's offset segments instead of asking Intl per slot; this holds
// it to the per-slot answer (formatLocalIso, itself checked against Intl in availability.property.test.ts),
// across the 2026 transitions of zones with odd offsets, midnight changes and half-hour shifts.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { groupSlotsByDay } from '../../shared/scheduling/availability.ts';
import { formatLocalIso } from '../../shared/scheduling/time-zones.ts';

const MINUTE = 60_000;
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/St_Johns', 'America/Havana', 'America/Santiago', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Kiritimati'];
const TRANSITION_DATES = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-09-06', '2026-09-27', '2026-10-04', '2026-10-25', '2026-11-01'];

/** The grouping as it was: one Intl-backed format per slot. */
function perSlot(starts: number[], zone: string): Record<string, Array<{ start: string }>> {
  const byDay = new Map<string, Array<{ start: string }>>();
  for (const instant of [...starts].sort((a, b) => a - b)) {
    const start = formatLocalIso(instant, zone);
    byDay.set(start.slice(0, 10), [...(byDay.get(start.slice(0, 10)) ?? []), { start }]);
  }
  return Object.fromEntries([...byDay.keys()].sort().map((day) => [day, byDay.get(day)!]));
}

describe('groupSlotsByDay', () => {
  it('gives exactly the per-slot answer, around transitions and over months', () => {
    const nearTransition = fc
      .tuple(fc.constantFrom(...TRANSITION_DATES), fc.integer({ min: -4 * 96, max: 4 * 96 }))
      .map(([date, quarters]) => Date.parse(`${date}T00:00:00Z`) + quarters * 15 * MINUTE);
    const anywhere = fc.integer({ min: Date.parse('2025-01-01') / MINUTE, max: Date.parse('2028-01-01') / MINUTE }).map((m) => m * MINUTE);
    const input = fc.tuple(fc.uniqueArray(fc.oneof(nearTransition, anywhere), { maxLength: 120 }), fc.constantFrom(...ZONES));
    fc.assert(
      fc.property(input, ([starts, zone]) => {
        const slots = starts.map((start) => ({ start, hostIds: ['h'] }));
        expect(groupSlotsByDay(slots, zone)).toEqual(perSlot(starts, zone));
      }),
      { numRuns: 400 },
    );
  });

  it('a dense month across a spring-forward and a fall-back, every quarter hour', () => {
    const from = Date.parse('2026-03-01T00:00:00Z');
    const starts = Array.from({ length: 62 * 96 }, (_, i) => from + i * 15 * MINUTE).filter((_, i) => i % 7 !== 3);
    for (const zone of ['America/New_York', 'Australia/Lord_Howe', 'America/Santiago']) {
      const grouped = groupSlotsByDay(starts.map((start) => ({ start, hostIds: ['h'] })), zone);
      expect(grouped).toEqual(perSlot(starts, zone));
      expect(Object.values(grouped).flat()).toHaveLength(starts.length);
    }
  });

  it('an empty list is no days', () => {
    expect(groupSlotsByDay([], 'Europe/Berlin')).toEqual({});
  });
});
