// One conflict (a booking against one external event) as an aggregate: its id is derived from the pair
// (conflicts.ts#conflictIdOf), so every worker that sees the pair decides against the same history, and the
// event store's version check lets one of two concurrent detections through. Detecting an open conflict of
// the same severity, or resolving one that is not open, decides nothing: a redelivered sync message is safe.
import type { Event } from '../../events/envelope.ts';
import type { PayloadOf } from '../../events/catalog.ts';
import { unreachable, type Decider } from '../domain/decider.ts';
import type { Conflict, ResolutionReason } from './conflicts.ts';

export type ConflictCommand = { type: 'detect'; conflict: Conflict } | { type: 'resolve'; reason: ResolutionReason };

export type ConflictEvent =
  | Event<'calendar.conflict.detected', PayloadOf<'calendar.conflict.detected'>>
  | Event<'calendar.conflict.resolved', PayloadOf<'calendar.conflict.resolved'>>;

export type ConflictState =
  | { status: 'none' }
  | { status: 'open'; conflict: Conflict }
  | { status: 'resolved'; conflict: Conflict; reason: ResolutionReason };

const detectedPayload = (c: Conflict): PayloadOf<'calendar.conflict.detected'> => ({
  conflictId: c.conflictId,
  userId: c.hostId,
  bookingId: c.bookingId,
  connectionId: c.connectionId,
  calendarId: c.calendarId,
  externalEventId: c.externalEventId,
  severity: c.severity,
  booking: c.booking,
  overlap: c.overlap,
});

export const conflictDecider: Decider<ConflictCommand, ConflictState, ConflictEvent> = {
  initialState: { status: 'none' },
  decide(command, state) {
    switch (command.type) {
      case 'detect':
        // Open with the same rating: already recorded. A new rating, or a pair that conflicts again after it
        // was resolved (the booking moved back), is recorded anew.
        if (state.status === 'open' && state.conflict.severity === command.conflict.severity) return [];
        return [{ type: 'calendar.conflict.detected', payload: detectedPayload(command.conflict) }];
      case 'resolve':
        if (state.status !== 'open') return [];
        return [{ type: 'calendar.conflict.resolved', payload: { conflictId: state.conflict.conflictId, userId: state.conflict.hostId, bookingId: state.conflict.bookingId, reason: command.reason } }];
      default:
        return unreachable(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'calendar.conflict.detected': {
        const p = event.payload;
        return {
          status: 'open',
          conflict: { conflictId: p.conflictId, hostId: p.userId, bookingId: p.bookingId, connectionId: p.connectionId, calendarId: p.calendarId, externalEventId: p.externalEventId, severity: p.severity, booking: p.booking, overlap: p.overlap },
        };
      }
      case 'calendar.conflict.resolved':
        return state.status === 'none' ? state : { status: 'resolved', conflict: state.conflict, reason: event.payload.reason };
      default:
        return unreachable(event);
    }
  },
};
