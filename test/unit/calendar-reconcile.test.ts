// Reconcile's pure parts: which events are ours (the booking exists and is this host's), what the plan does
// with each upcoming booking (write back, report a drift, nothing), and the drift decider's once per drift;
// and the sync policy's period jitter, which the worker now runs on.
import { describe, expect, it } from 'vitest';
import type { BookingView } from '../../shared/booking/booking-commands.ts';
import type { WrittenBooking } from '../../shared/calendars/connection.ts';
import type { BusyRead } from '../../shared/calendars/provider.ts';
import { driftDecider, planReconcile, type DestinationSnapshot } from '../../shared/calendar-sync/reconcile.ts';
import { ownEventsOnly } from '../../shared/calendar-sync/own-events.ts';
import { defaultSyncPolicy, nextPeriodSeconds, succeeded, initialSchedule } from '../../shared/calendar-sync/sync-policy.ts';
import { fold } from '../../shared/domain/decider.ts';

const CAL = 'https://dav.example/host/calendar/';
const view = (id: string, partial: Partial<BookingView> = {}): BookingView =>
  ({
    id,
    version: 3,
    status: 'confirmed',
    hostIds: ['host'],
    organizerId: 'host',
    start: '2030-03-07T09:00:00.000Z',
    end: '2030-03-07T09:30:00.000Z',
    ...partial,
  }) as BookingView;
const record = (partial: Partial<WrittenBooking> = {}): WrittenBooking => ({ calendarId: CAL, externalEventId: 'ev-1', sequence: 3, deleted: false, ...partial });
const read = (partial: Partial<BusyRead>): BusyRead => ({ full: false, events: [], removed: [], cursor: 'c', requests: 1, ...partial });
const at = (start: string, end: string) => ({ start, end });

describe('which events are ours', () => {
  it('keeps bookingId only where the booking exists and is this host\'s; any other event is busy like any other', () => {
    const bookings = new Map([
      ['b-mine', view('b-mine')],
      ['b-cohost', view('b-cohost', { hostIds: ['other', 'host'] })],
      ['b-theirs', view('b-theirs', { hostIds: ['other'] })],
    ]);
    const spans = [at('2030-03-07T09:00:00Z', '2030-03-07T10:00:00Z')];
    const out = ownEventsOnly(read({ events: [
      { externalEventId: 'a', spans, bookingId: 'b-mine' },
      { externalEventId: 'b', spans, bookingId: 'b-cohost' },
      { externalEventId: 'c', spans, bookingId: 'b-theirs' },
      { externalEventId: 'd', spans, bookingId: 'b-unknown' },
      { externalEventId: 'e', spans },
    ] }), 'host', bookings);
    expect(out.events.map((e) => [e.externalEventId, e.bookingId ?? null])).toEqual([['a', 'b-mine'], ['b', 'b-cohost'], ['c', null], ['d', null], ['e', null]]);
    expect(out.events[2]!.spans).toEqual(spans);
  });
});

describe('the reconcile plan', () => {
  const snapshot = (expected: BookingView[], written: Record<string, WrittenBooking>): DestinationSnapshot => ({ calendarId: CAL, expected, written });

  it('writes back a booking never recorded, recorded at an older version, deleted, or in another calendar; without any read', () => {
    const plan = planReconcile(
      snapshot([view('never'), view('older'), view('gone'), view('elsewhere'), view('current'), view('moving', { status: 'rescheduled' }), view('draft', { status: 'draft' })], {
        older: record({ sequence: 2 }),
        gone: record({ deleted: true }),
        elsewhere: record({ calendarId: 'https://dav.example/host/old/' }),
        current: record(),
      }),
      undefined,
    );
    expect(plan.rewrite).toEqual(['never', 'older', 'gone', 'elsewhere', 'moving']);
    expect(plan.drifts).toEqual([]);
  });

  it('reports a moved, freed or (full read / removed) deleted event of ours, and nothing for one as written', () => {
    const expected = [view('moved'), view('freed'), view('deleted'), view('same'), view('unseen')];
    const written = { moved: record({ externalEventId: 'ev-m' }), freed: record({ externalEventId: 'ev-f' }), deleted: record({ externalEventId: 'ev-d' }), same: record({ externalEventId: 'ev-s' }), unseen: record({ externalEventId: 'ev-u' }) };
    const events = [
      { externalEventId: 'ev-m', bookingId: 'moved', spans: [at('2030-03-07T11:00:00Z', '2030-03-07T11:30:00Z')] },
      { externalEventId: 'ev-f', bookingId: 'freed', spans: [] },
      { externalEventId: 'ev-s', bookingId: 'same', spans: [at('2030-03-07T09:00:00+00:00', '2030-03-07T09:30:00Z')] },
    ];
    const incremental = planReconcile(snapshot(expected, written), read({ events, removed: ['ev-d'] }));
    expect(incremental.rewrite).toEqual([]);
    expect(incremental.drifts.map((d) => [d.bookingId, d.kind])).toEqual([['moved', 'moved'], ['freed', 'freed'], ['deleted', 'deleted']]);
    expect(incremental.drifts[0]).toEqual({ bookingId: 'moved', externalEventId: 'ev-m', kind: 'moved', sequence: 3, expected: at('2030-03-07T09:00:00.000Z', '2030-03-07T09:30:00.000Z'), found: at('2030-03-07T11:00:00.000Z', '2030-03-07T11:30:00.000Z') });
    // A full read that does not list an event of ours: deleted too (an incremental read only says so when it names it).
    const full = planReconcile(snapshot(expected, written), read({ full: true, events }));
    expect(full.drifts.map((d) => [d.bookingId, d.kind])).toEqual([['moved', 'moved'], ['freed', 'freed'], ['deleted', 'deleted'], ['unseen', 'deleted']]);
  });

  it('removes an event of ours whose booking is cancelled, still blocking time', () => {
    const claimed = new Map([['cancelled', view('cancelled', { status: 'cancelled' })]]);
    const plan = planReconcile(snapshot([], {}), read({ events: [{ externalEventId: 'x', bookingId: 'cancelled', spans: [at('2030-03-07T09:00:00Z', '2030-03-07T09:30:00Z')] }] }), claimed);
    expect(plan.remove).toEqual(['cancelled']);
  });
});

describe('a drift is reported once', () => {
  const payload = (kind: 'moved' | 'deleted', found?: { start: string; end: string }, sequence = 3) => ({
    userId: 'host', bookingId: 'b', connectionId: 'cal-1', provider: 'caldav' as const, calendarId: CAL, externalEventId: 'ev', kind, sequence,
    expected: at('2030-03-07T09:00:00.000Z', '2030-03-07T09:30:00.000Z'), ...(found ? { found } : {}),
  });
  const decide = (history: ReturnType<typeof driftDecider.decide>, command: Parameters<typeof driftDecider.decide>[0]) => driftDecider.decide(command, fold(driftDecider, history as never));

  it('the same drift again records nothing; moved elsewhere, deleted, or at a new booking version is a new drift', () => {
    const first = decide([], { type: 'ReportDrift', payload: payload('moved', at('2030-03-07T11:00:00.000Z', '2030-03-07T11:30:00.000Z')) });
    expect(first.map((e) => e.type)).toEqual(['calendar.event.drifted']);
    expect(decide(first, { type: 'ReportDrift', payload: payload('moved', at('2030-03-07T11:00:00.000Z', '2030-03-07T11:30:00.000Z')) })).toEqual([]);
    expect(decide(first, { type: 'ReportDrift', payload: payload('moved', at('2030-03-07T12:00:00.000Z', '2030-03-07T12:30:00.000Z')) })).toHaveLength(1);
    expect(decide(first, { type: 'ReportDrift', payload: payload('deleted') })).toHaveLength(1);
    expect(decide(first, { type: 'ReportDrift', payload: payload('moved', at('2030-03-07T11:00:00.000Z', '2030-03-07T11:30:00.000Z'), 4) })).toHaveLength(1);
  });
});

describe('the period jitter', () => {
  it('brings the next read at most periodJitterSeconds early, never late, for every random in [0, 1)', () => {
    for (const period of [5, 20, 60, 300, 3600]) {
      const policy = defaultSyncPolicy(period);
      expect(policy.periodJitterSeconds).toBe(Math.min(30, Math.floor(period / 10)));
      const seen = new Set<number>();
      for (let i = 0; i < 1000; i++) {
        const seconds = nextPeriodSeconds(policy, i / 1000);
        expect(seconds).toBeLessThanOrEqual(period);
        expect(seconds).toBeGreaterThanOrEqual(Math.max(1, period - policy.periodJitterSeconds));
        seen.add(seconds);
      }
      // The spread is used, not one value.
      expect(seen.size).toBe(Math.min(policy.periodJitterSeconds, period - 1) + (policy.periodJitterSeconds > 0 ? 0 : 1));
    }
    const now = new Date('2030-03-05T12:00:00Z');
    const next = succeeded(initialSchedule(now), { now, full: true, policy: defaultSyncPolicy(300), random: 0.999 });
    expect(next.nextRunAt).toBe('2030-03-05T12:04:31.000Z');
  });
});
