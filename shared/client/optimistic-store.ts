// A framework-neutral store of bookings with optimistic updates. Pure: no I/O, no timers; the caller feeds it
// server answers and pushed events and asks it to expire pending changes, so every path is a plain test.
import type { Booking } from './client.ts';

export type Problem = { status?: number; type: string; title?: string; detail?: string };
/** The expected effect of a command, shown at once. */
export type Intent = { kind: 'cancel'; reason?: string } | { kind: 'reschedule'; start: string; end: string };
export type Pending = { id: string; bookingId: string; intent: Intent; baseVersion: number; startedAt: number };
export type Outcome = { pendingId: string; bookingId: string; result: 'confirmed' | 'rolled_back'; problem?: Problem };
/** The part of a pushed event the store reads. */
export type PushedEvent = { id: string; type: string; aggregateId: string; version: number; payload: Record<string, unknown>; metadata?: { correlationId?: string } };

export type StoreState = {
  /** What the server last said (answers and events folded in). */
  confirmed: Record<string, Booking>;
  pending: Pending[];
  /** Settled changes, newest last, so a UI can say "cancelled" or show the refusal. */
  outcomes: Outcome[];
};

export const emptyStore: StoreState = { confirmed: {}, pending: [], outcomes: [] };

function overlay(booking: Booking, intent: Intent): Booking {
  switch (intent.kind) {
    case 'cancel':
      return { ...booking, status: 'cancelled', awaiting: undefined };
    case 'reschedule':
      return { ...booking, status: 'rescheduled', start: intent.start, end: intent.end };
  }
}

/** A booking as the user should see it now: the server's view with every pending change applied on top. */
export function view(state: StoreState, bookingId: string): Booking | undefined {
  const base = state.confirmed[bookingId];
  if (!base) return undefined;
  return state.pending.filter((p) => p.bookingId === bookingId).reduce((booking, p) => overlay(booking, p.intent), base);
}

/** Whether an event is the one a pending change expects (so it confirms it). */
function fulfils(pending: Pending, event: PushedEvent): boolean {
  if (pending.intent.kind === 'cancel') return event.type === 'booking.cancelled';
  return event.type === 'booking.rescheduled' && Date.parse(String(event.payload.start)) === Date.parse(pending.intent.start);
}

const settle = (state: StoreState, pending: Pending, result: Outcome['result'], problem?: Problem): StoreState => ({
  ...state,
  pending: state.pending.filter((p) => p.id !== pending.id),
  outcomes: [...state.outcomes.slice(-49), { pendingId: pending.id, bookingId: pending.bookingId, result, ...(problem ? { problem } : {}) }],
});

/** A booking loaded or answered by the server; a version older than the one held is ignored. */
export function received(state: StoreState, booking: Booking): StoreState {
  const held = state.confirmed[booking.id];
  if (held && held.version > booking.version) return state;
  return { ...state, confirmed: { ...state.confirmed, [booking.id]: booking } };
}

/** A command sent: its effect shows at once. */
export function begin(state: StoreState, pending: Omit<Pending, 'baseVersion'>): StoreState {
  const base = state.confirmed[pending.bookingId];
  if (!base) throw new Error(`booking ${pending.bookingId} is not in the store`);
  return { ...state, pending: [...state.pending, { ...pending, baseVersion: base.version }] };
}

/** The server accepted the command: its answer is the booking as it now is. */
export function accepted(state: StoreState, pendingId: string, booking: Booking): StoreState {
  const pending = state.pending.find((p) => p.id === pendingId);
  const next = received(state, booking);
  return pending ? settle(next, pending, 'confirmed') : next;
}

/** The server refused (a problem), or the command could not be delivered: the change is undone. */
export function refused(state: StoreState, pendingId: string, problem: Problem): StoreState {
  const pending = state.pending.find((p) => p.id === pendingId);
  return pending ? settle(state, pending, 'rolled_back', problem) : state;
}

/**
 * A pushed event. It folds into the server's view; the pending change it fulfils is confirmed; any other change
 * to the booking after the version a pending change was based on is someone else's, and rolls that change back
 * (the user sees what really happened, and why their change did not stick).
 */
export function pushed(state: StoreState, event: PushedEvent): StoreState {
  const held = state.confirmed[event.aggregateId];
  if (!held || event.version <= held.version) return state;
  let next: StoreState = { ...state, confirmed: { ...state.confirmed, [event.aggregateId]: evolve(held, event) } };
  for (const pending of state.pending.filter((p) => p.bookingId === event.aggregateId)) {
    if (fulfils(pending, event)) next = settle(next, pending, 'confirmed');
    else if (event.version > pending.baseVersion && changesWhatWeChange(event))
      next = settle(next, pending, 'rolled_back', { type: '/problems/conflicting-change', title: `changed by someone else (${event.type})` });
  }
  return next;
}

/** Pending changes older than `timeoutMs` are rolled back: without an answer, the screen must not keep guessing. */
export function expire(state: StoreState, now: number, timeoutMs: number): StoreState {
  return state.pending
    .filter((p) => now - p.startedAt > timeoutMs)
    .reduce((next, p) => settle(next, p, 'rolled_back', { type: '/problems/timeout', title: `no answer within ${timeoutMs} ms` }), state);
}

const changesWhatWeChange = (event: PushedEvent) =>
  ['booking.cancelled', 'booking.rejected', 'booking.rescheduled', 'booking.completed', 'booking.creation.failed'].includes(event.type);

/** The server's view after an event, for the fields events change (the next GET gives the rest). */
function evolve(booking: Booking, event: PushedEvent): Booking {
  const p = event.payload as Record<string, any>;
  const next = { ...booking, version: event.version };
  switch (event.type) {
    case 'booking.confirmed':
      return { ...next, status: 'confirmed', start: p.start, end: p.end, awaiting: undefined };
    case 'booking.cancelled':
      return { ...next, status: 'cancelled', awaiting: undefined, cancellation: { by: p.cancelledBy, reason: p.reason, kind: 'cancelled' } };
    case 'booking.rejected':
      return { ...next, status: 'cancelled', awaiting: undefined, cancellation: { by: 'organizer', reason: p.reason, kind: 'rejected' } };
    case 'booking.creation.failed':
      return { ...next, status: 'cancelled', awaiting: undefined, cancellation: { by: 'system', reason: p.reason, kind: 'creation_failed', step: p.step } };
    case 'booking.rescheduled':
      return { ...next, status: 'rescheduled', start: p.start, end: p.end, previousTimes: [...(booking.previousTimes ?? []), { start: p.previousStart, end: p.previousEnd }] };
    case 'booking.completed':
      return { ...next, status: 'completed' };
    default:
      return next;
  }
}
