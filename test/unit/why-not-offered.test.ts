// A time the event type never offers is refused with the rule that keeps it out, so a booker can fix it.
import { describe, expect, it } from 'vitest';
import { computeSlots, type SlotQuery, type Weekday } from '../../shared/scheduling/availability.ts';
import { whyNotOffered } from '../../shared/scheduling/slots.ts';

const at = (iso: string) => Date.parse(iso);
const NY = 'America/New_York';
const WORKWEEK: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
const monday = (time: string) => at(`2026-06-01T${time}:00-04:00`);

/** One host in New York, weekdays 09:00-17:00, hour-long meetings; the query asks about `start` alone. */
function askAbout(start: number, options: Partial<SlotQuery> = {}): SlotQuery {
  return {
    hosts: [{ hostId: 'ann', schedule: { timeZone: NY, weekly: WORKWEEK.map((day) => ({ day, start: '09:00', end: '17:00' })) }, busy: [] }],
    schedulingType: 'single',
    lengthMinutes: 60,
    range: { start, end: start + 60_000 },
    now: at('2026-05-01T00:00:00Z'),
    ...options,
  };
}

describe('why a time is not offered', () => {
  it('names the minimum notice when the start is too soon', () => {
    const query = askAbout(monday('10:00'), { now: monday('09:30'), minimumNoticeMinutes: 120 });
    expect(computeSlots(query)).toEqual([]);
    expect(whyNotOffered(query, monday('10:00'))).toBe('is within the minimum notice of 120 minutes');
  });

  it('names a rolling booking window the start is beyond', () => {
    const query = askAbout(monday('10:00'), { now: at('2026-05-25T08:00:00-04:00'), bookingWindow: { type: 'rolling', days: 3 } });
    expect(computeSlots(query)).toEqual([]);
    expect(whyNotOffered(query, monday('10:00'))).toBe('is beyond the booking window of 3 days');
  });

  it('names a date range the start is outside of', () => {
    const query = askAbout(monday('10:00'), { bookingWindow: { type: 'range', start: '2026-06-02', end: '2026-06-05' } });
    expect(whyNotOffered(query, monday('10:00'))).toBe('is outside the booking window 2026-06-02 to 2026-06-05');
  });

  it('names the slot grid when the start is in working hours but between two slots', () => {
    const query = askAbout(monday('10:15'));
    expect(computeSlots(query)).toEqual([]);
    expect(whyNotOffered(query, monday('10:15'))).toMatch(/^is not on the slot grid \(every 60 minutes/);
  });

  it('names the working hours when no host works then, or the meeting would run past their end', () => {
    expect(whyNotOffered(askAbout(monday('20:00')), monday('20:00'))).toMatch(/^is outside the working hours of the host/);
    expect(whyNotOffered(askAbout(monday('16:30'), { slotIntervalMinutes: 30 }), monday('16:30'))).toMatch(/^is outside the working hours/);
    const sunday = at('2026-06-07T10:00:00-04:00');
    expect(whyNotOffered(askAbout(sunday), sunday)).toMatch(/^is outside the working hours/);
  });

  it('prefers the notice over the window and the window over the hours, as a booker would fix them', () => {
    const query = askAbout(monday('20:00'), { now: monday('19:00'), minimumNoticeMinutes: 240, bookingWindow: { type: 'range', start: '2026-07-01', end: '2026-07-31' } });
    expect(whyNotOffered(query, monday('20:00'))).toBe('is within the minimum notice of 240 minutes');
    // Outside the window and outside the hours: lifting the window alone does not offer it, so the hours are named.
    expect(whyNotOffered({ ...query, now: at('2026-05-01T00:00:00Z') }, monday('20:00'))).toMatch(/working hours/);
  });
});
