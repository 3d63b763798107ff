// Conflict detection and resolution between a host's live bookings and imported busy time, and the conflict
// decider that records them once.
import { describe, expect, it } from 'vitest';
import { conflictIdOf, detectConflicts, reconcileConflicts, type ImportedBusyEvent, type LiveBooking } from '../../shared/calendar-sync/conflicts.ts';
import { conflictDecider, type ConflictEvent } from '../../shared/calendar-sync/conflict-decider.ts';
import { syncAggregateIdOf } from '../../shared/calendar-sync/ids.ts';
import { eventCatalog } from '../../events/catalog.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const host = 'host-1';
const booking = (id: string, start: string, end: string, buffers: Array<[string, string]> = []): LiveBooking => ({
  bookingId: id,
  hostId: host,
  meeting: { start, end },
  buffers: buffers.map(([s, e]) => ({ start: s, end: e })),
});
const external = (id: string, spans: Array<[string, string]>, extra: Partial<ImportedBusyEvent> = {}): ImportedBusyEvent => ({
  hostId: host,
  connectionId: 'conn-1',
  calendarId: 'cal-1',
  externalEventId: id,
  spans: spans.map(([start, end]) => ({ start, end })),
  ...extra,
});

// A 09:00-09:30 meeting with 15-minute buffers either side.
const meeting = booking('b-1', '2030-03-07T09:00:00.000Z', '2030-03-07T09:30:00.000Z', [
  ['2030-03-07T08:45:00.000Z', '2030-03-07T09:00:00.000Z'],
  ['2030-03-07T09:30:00.000Z', '2030-03-07T09:45:00.000Z'],
]);

describe('conflict detection', () => {
  it('rates an overlap of the meeting high, of its buffers only low, and touching ends not at all', () => {
    const conflicts = detectConflicts([meeting], [
      external('dentist', [['2030-03-07T09:15:00.000Z', '2030-03-07T10:00:00.000Z']]),
      external('coffee', [['2030-03-07T08:30:00.000Z', '2030-03-07T08:50:00.000Z']]),
      external('before', [['2030-03-07T08:00:00.000Z', '2030-03-07T08:45:00.000Z']]),
      external('after', [['2030-03-07T09:45:00.000Z', '2030-03-07T10:30:00.000Z']]),
      external('free', []),
    ]);
    expect(conflicts.map((c) => [c.externalEventId, c.severity, c.overlap])).toEqual([
      ['dentist', 'high', { start: '2030-03-07T09:15:00.000Z', end: '2030-03-07T09:30:00.000Z' }],
      ['coffee', 'low', { start: '2030-03-07T08:45:00.000Z', end: '2030-03-07T08:50:00.000Z' }],
    ]);
    expect(conflicts[0]).toMatchObject({ hostId: host, bookingId: 'b-1', connectionId: 'conn-1', calendarId: 'cal-1', booking: meeting.meeting });
  });

  it('rates high when any instance of a recurring event hits the meeting, even if another only hits a buffer', () => {
    const [conflict] = detectConflicts([meeting], [
      external('standup', [['2030-03-07T08:50:00.000Z', '2030-03-07T08:55:00.000Z'], ['2030-03-07T09:25:00.000Z', '2030-03-07T09:35:00.000Z']]),
    ]);
    expect(conflict).toMatchObject({ severity: 'high', overlap: { start: '2030-03-07T09:25:00.000Z', end: '2030-03-07T09:30:00.000Z' } });
  });

  it('never counts an event of ours (the booking\'s own, or another booking\'s) nor another host\'s event', () => {
    expect(detectConflicts([meeting], [
      external('own', [['2030-03-07T09:00:00.000Z', '2030-03-07T09:30:00.000Z']], { bookingId: 'b-1' }),
      external('ours-too', [['2030-03-07T09:30:00.000Z', '2030-03-07T10:00:00.000Z']], { bookingId: 'b-2' }),
      external('someone-else', [['2030-03-07T09:00:00.000Z', '2030-03-07T09:30:00.000Z']], { hostId: 'host-2' }),
    ])).toEqual([]);
  });

  it('gives a pair one id whatever order or worker finds it, and distinct pairs distinct ids (UUIDs)', () => {
    const pair = { bookingId: 'b-1', connectionId: 'conn-1', calendarId: 'cal-1', externalEventId: 'dentist' };
    expect(conflictIdOf(pair)).toBe(conflictIdOf({ ...pair }));
    expect(conflictIdOf(pair)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const others = [{ ...pair, bookingId: 'b-2' }, { ...pair, connectionId: 'conn-2' }, { ...pair, calendarId: 'cal-2' }, { ...pair, externalEventId: 'other' }, { ...pair, bookingId: 'b-1conn-1', connectionId: '' }];
    expect(new Set([pair, ...others].map(conflictIdOf)).size).toBe(6);
    expect(syncAggregateIdOf('conn-1')).not.toBe(syncAggregateIdOf('conn-2'));
  });
});

describe('conflict resolution', () => {
  const dentist = external('dentist', [['2030-03-07T09:15:00.000Z', '2030-03-07T10:00:00.000Z']]);
  const open = detectConflicts([meeting], [dentist]);

  it('detects new conflicts only, and again when the severity changes', () => {
    expect(reconcileConflicts({ open: [], bookings: [meeting], imported: [dentist] }).detected).toEqual(open);
    expect(reconcileConflicts({ open, bookings: [meeting], imported: [dentist] })).toEqual({ detected: [], resolved: [] });
    const intoBuffer = external('dentist', [['2030-03-07T09:35:00.000Z', '2030-03-07T10:00:00.000Z']]);
    const { detected, resolved } = reconcileConflicts({ open, bookings: [meeting], imported: [intoBuffer] });
    expect(detected.map((c) => [c.conflictId, c.severity])).toEqual([[open[0]!.conflictId, 'low']]);
    expect(resolved).toEqual([]);
  });

  it('resolves with the reason read from what changed', () => {
    const reasons = (input: Omit<Parameters<typeof reconcileConflicts>[0], 'open'>) => reconcileConflicts({ open, ...input }).resolved.map((r) => r.reason);
    expect(reasons({ bookings: [], imported: [dentist] })).toEqual(['booking_cancelled']);
    const moved = booking('b-1', '2030-03-07T11:00:00.000Z', '2030-03-07T11:30:00.000Z');
    expect(reasons({ bookings: [moved], imported: [dentist] })).toEqual(['booking_moved']);
    expect(reasons({ bookings: [meeting], imported: [] })).toEqual(['external_removed']);
    expect(reasons({ bookings: [meeting], imported: [external('dentist', [])] })).toEqual(['external_removed']);
    expect(reasons({ bookings: [meeting], imported: [external('dentist', [['2030-03-07T13:00:00.000Z', '2030-03-07T14:00:00.000Z']])] })).toEqual(['external_moved']);
  });
});

describe('conflict decider', () => {
  const spec = deciderSpec(conflictDecider);
  const [conflict] = detectConflicts([meeting], [external('dentist', [['2030-03-07T09:15:00.000Z', '2030-03-07T10:00:00.000Z']])]);
  const detected: ConflictEvent = {
    type: 'calendar.conflict.detected',
    payload: {
      conflictId: conflict!.conflictId,
      userId: host,
      bookingId: 'b-1',
      connectionId: 'conn-1',
      calendarId: 'cal-1',
      externalEventId: 'dentist',
      severity: 'high',
      booking: meeting.meeting,
      overlap: { start: '2030-03-07T09:15:00.000Z', end: '2030-03-07T09:30:00.000Z' },
    },
  };
  const resolved: ConflictEvent = { type: 'calendar.conflict.resolved', payload: { conflictId: conflict!.conflictId, userId: host, bookingId: 'b-1', reason: 'booking_cancelled' } };

  it('records a detection once, and its payload is what the catalog accepts', () => {
    spec.given([]).when({ type: 'detect', conflict: conflict! }).then([detected]);
    spec.given([detected]).when({ type: 'detect', conflict: conflict! }).thenNothing();
    expect(eventCatalog['calendar.conflict.detected'].payload.parse(detected.payload)).toEqual(detected.payload);
    expect(eventCatalog['calendar.conflict.resolved'].payload.parse(resolved.payload)).toEqual(resolved.payload);
  });

  it('records a new severity, resolves an open conflict once, and reopens a resolved one', () => {
    const low = { ...conflict!, severity: 'low' as const };
    spec.given([detected]).when({ type: 'detect', conflict: low }).then([{ ...detected, payload: { ...detected.payload, severity: 'low' } }]);
    spec.given([detected]).when({ type: 'resolve', reason: 'booking_cancelled' }).then([resolved]);
    spec.given([detected, resolved]).when({ type: 'resolve', reason: 'booking_cancelled' }).thenNothing();
    spec.given([]).when({ type: 'resolve', reason: 'external_removed' }).thenNothing();
    spec.given([detected, resolved]).when({ type: 'detect', conflict: conflict! }).then([detected]);
  });
});
