import type { EventBridgeEvent } from 'aws-lambda';
import { parseDomainEvent, type TypedEvent } from '../../events/catalog.ts';
import { bookingDecider, type Booking, type BookingEvent } from '../../shared/booking/decider.ts';
import { bookingTables } from '../../shared/config.ts';
import { fold } from '../../shared/domain/decider.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { contribution, record } from '../../shared/analytics/figures.ts';
import { readUser } from '../../shared/scheduling/directory.ts';

/** Counts each booking event on its day in the organizer's zone, once per event id. */
export async function handler(busEvent: EventBridgeEvent<string, unknown>): Promise<void> {
  await countEvent(parseDomainEvent(busEvent.detail));
}

export async function countEvent(event: TypedEvent): Promise<boolean> {
  if (event.aggregateType !== 'booking') return false;
  const tables = bookingTables();
  const history = ((await new EventStore(tables.client, tables.eventsTable).load(event.aggregateId)) as unknown as Array<BookingEvent & { version: number }>).filter((e) => e.version <= event.version);
  const state = fold(bookingDecider, history);
  if (state.status === 'none') return false;
  const booking = state as Booking;
  const organizer = await readUser(tables, booking.organizerId);
  const previous = history.find((e) => e.version === event.version - 1);
  const { date, counters } = contribution(event, booking, organizer?.timeZone ?? 'UTC', previous);
  return record(tables, booking.organizerId, event.id, date, counters);
}
