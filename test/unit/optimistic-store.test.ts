// The optimistic store as a pure module: a change shows at once, is confirmed by its answer or its event, and is
// rolled back by a refusal, a timeout or someone else's conflicting change.
import { describe, expect, it } from 'vitest';
import type { Booking } from '../../shared/client/client.ts';
import { accepted, begin, emptyStore, expire, pushed, received, refused, view, type PushedEvent } from '../../shared/client/optimistic-store.ts';

const booking = { id: 'b1', status: 'confirmed', start: '2030-01-07T10:00:00.000Z', end: '2030-01-07T10:30:00.000Z', version: 3 } as Booking;
const loaded = received(emptyStore, booking);
const event = (version: number, type: string, payload: Record<string, unknown> = {}): PushedEvent => ({ id: `e${version}`, type, aggregateId: 'b1', version, payload });

describe('optimistic store', () => {
  it('shows a cancel at once and confirms it when the answer arrives', () => {
    const sent = begin(loaded, { id: 'p1', bookingId: 'b1', intent: { kind: 'cancel' }, startedAt: 0 });
    expect(view(sent, 'b1')!.status).toBe('cancelled');
    expect(sent.confirmed.b1!.status).toBe('confirmed');
    const done = accepted(sent, 'p1', { ...booking, status: 'cancelled', version: 4 });
    expect(done.pending).toEqual([]);
    expect(done.outcomes).toEqual([{ pendingId: 'p1', bookingId: 'b1', result: 'confirmed' }]);
    expect(view(done, 'b1')).toMatchObject({ status: 'cancelled', version: 4 });
  });

  it('shows a reschedule at once and confirms it by its event', () => {
    const intent = { kind: 'reschedule' as const, start: '2030-01-08T10:00:00.000Z', end: '2030-01-08T10:30:00.000Z' };
    const sent = begin(loaded, { id: 'p1', bookingId: 'b1', intent, startedAt: 0 });
    expect(view(sent, 'b1')).toMatchObject({ status: 'rescheduled', start: intent.start });
    const done = pushed(sent, event(4, 'booking.rescheduled', { start: intent.start, end: intent.end, previousStart: booking.start, previousEnd: booking.end }));
    expect(done.outcomes.at(-1)!.result).toBe('confirmed');
    expect(view(done, 'b1')).toMatchObject({ status: 'rescheduled', start: intent.start, version: 4, previousTimes: [{ start: booking.start, end: booking.end }] });
  });

  it('rolls back on a refusal and keeps the problem', () => {
    const sent = begin(loaded, { id: 'p1', bookingId: 'b1', intent: { kind: 'cancel' }, startedAt: 0 });
    const undone = refused(sent, 'p1', { status: 409, type: '/problems/invalid-transition' });
    expect(view(undone, 'b1')!.status).toBe('confirmed');
    expect(undone.outcomes.at(-1)).toMatchObject({ result: 'rolled_back', problem: { status: 409 } });
  });

  it('rolls back on a timeout, and only changes older than it', () => {
    let state = begin(loaded, { id: 'old', bookingId: 'b1', intent: { kind: 'cancel' }, startedAt: 0 });
    state = expire(state, 5_000, 10_000);
    expect(state.pending).toHaveLength(1);
    state = expire(state, 10_001, 10_000);
    expect(view(state, 'b1')!.status).toBe('confirmed');
    expect(state.outcomes.at(-1)).toMatchObject({ result: 'rolled_back', problem: { type: '/problems/timeout' } });
  });

  it('rolls back when someone else changes the booking first', () => {
    const intent = { kind: 'reschedule' as const, start: '2030-01-08T10:00:00.000Z', end: '2030-01-08T10:30:00.000Z' };
    const sent = begin(loaded, { id: 'p1', bookingId: 'b1', intent, startedAt: 0 });
    const theirs = pushed(sent, event(4, 'booking.cancelled', { cancelledBy: 'attendee' }));
    expect(view(theirs, 'b1')).toMatchObject({ status: 'cancelled', version: 4, start: booking.start });
    expect(theirs.outcomes.at(-1)).toMatchObject({ result: 'rolled_back', problem: { type: '/problems/conflicting-change' } });
  });

  it('ignores repeats and events older than what it holds', () => {
    expect(pushed(loaded, event(3, 'booking.cancelled', { cancelledBy: 'attendee' }))).toBe(loaded);
    expect(received(received(loaded, { ...booking, version: 5 }), booking).confirmed.b1!.version).toBe(5);
  });
});
