import type { EventBridgeEvent } from 'aws-lambda';
import { parseDomainEvent } from '../../events/catalog.ts';
import { readBooking } from '../../shared/booking/booking-commands.ts';
import { bookingTables } from '../../shared/config.ts';
import { reconcileHostConflicts } from '../../shared/calendar-sync/conflict-store.ts';
import { logger } from '../../shared/observability/logger.ts';

/**
 * A booking moved, ended or began to hold time: its hosts' conflicts are reconciled with their busy time (a
 * conflict whose booking is cancelled or moved away is resolved; a booking made over busy time the calendar
 * had while unreachable is detected). Reconciling compares state with state, so a redelivered event changes
 * nothing: no event-id bookkeeping is needed.
 */
export async function handler(busEvent: EventBridgeEvent<string, unknown>): Promise<void> {
  const event = parseDomainEvent(busEvent.detail);
  const tables = bookingTables();
  const stored = await readBooking(tables, event.aggregateId);
  if (!stored) return;
  for (const hostId of stored.booking.hostIds) {
    const tally = await reconcileHostConflicts(tables, hostId, new Date(), { correlationId: event.metadata.correlationId, causationId: event.id });
    if (tally.detected || tally.resolved) logger.info('calendar conflicts reconciled', { hostId, bookingId: event.aggregateId, trigger: event.type, ...tally });
  }
}
