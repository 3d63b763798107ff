// Every confirmed booking written into each host's destination calendar, once. Whatever booking event arrives
// (confirmed, rescheduled, cancelled; redelivered or not, in any order), the booking is written as it now is:
// the adapter's external id derives from the booking, so a repeat or a concurrent run updates the one event,
// and the connection records the write once per booking version (the decider's RecordWrite).
import type { TypedEvent } from '../../events/catalog.ts';
import { clip } from '../../events/primitives.ts';
import type { BookingTables } from '../booking/booking-commands.ts';
import { bookingDecider, type Booking, type BookingEvent } from '../booking/decider.ts';
import { fold } from '../domain/decider.ts';
import { EventStore } from '../eventstore/event-store.ts';
import { logger } from '../observability/logger.ts';
import { readUser } from '../scheduling/directory.ts';
import type { CalendarAdapters } from './adapters.ts';
import { connectionCommand } from './commands.ts';
import { CalendarAuthError, CalendarUnavailableError, type BookingCalendarEvent } from './provider.ts';
import { patchSyncState, readConnection, readDestination } from './store.ts';
import { requireReauth } from './sync-worker.ts';
import { readCredentials } from './vault.ts';
import { calendarIntent } from './booking-events.ts';

export type WritePorts = { tables: BookingTables; adapters: CalendarAdapters; publicApiUrl: string };

export type HostWrite = { hostId: string; outcome: 'written' | 'removed' | 'no_destination' | 'needs_reauth' | 'not_written' };

/** What a write is recorded as caused by: the booking event (the subscriber), or the sync's reconcile. */
type WriteCause = { bookingId: string; type?: string; correlationId?: string; causationId?: string; userId: string };

export async function writeBookingToCalendars(ports: WritePorts, event: TypedEvent): Promise<HostWrite[]> {
  if (event.aggregateType !== 'booking') return [];
  const { tables } = ports;
  const history = (await new EventStore(tables.client, tables.eventsTable).load(event.aggregateId)) as unknown as Array<BookingEvent & { version: number }>;
  const state = fold(bookingDecider, history);
  if (state.status === 'none') return [];
  const booking = state as Booking;
  const intent = calendarIntent(booking, history);
  if (intent === 'none') return [];
  // Completed is the booking having happened: nothing to change in the calendar.
  if (booking.status === 'completed' && event.type !== 'booking.confirmed') return [];
  const sequence = history.length;
  const results: HostWrite[] = [];
  let unavailable: Error | undefined;
  for (const hostId of [...new Set(booking.hostIds)]) {
    try {
      results.push({ hostId, outcome: await writeForHost(ports, causeOf(event), booking, hostId, intent, sequence) });
    } catch (error) {
      // One host's calendar down does not keep the others from theirs; the event comes back for the rest.
      if (!(error instanceof CalendarUnavailableError)) throw error;
      unavailable = error;
      results.push({ hostId, outcome: 'not_written' });
    }
  }
  if (unavailable) throw unavailable;
  return results;
}

const causeOf = (event: TypedEvent): WriteCause => ({ bookingId: event.aggregateId, type: event.type, correlationId: event.metadata.correlationId, causationId: event.id, userId: 'system:calendar-writes' });

/**
 * The booking as it now is, into one host's destination calendar, through the same keyed write and the same
 * RecordWrite as the subscriber: what the sync's reconcile calls for a booking missing from the calendar (never
 * written while the calendar was disconnected or failing), or for a cancelled booking's event still there. A
 * repeat, or a race with the subscriber, leaves one event and one record per booking version.
 */
export async function writeBookingForHost(ports: WritePorts, bookingId: string, hostId: string, cause: { correlationId?: string } = {}): Promise<HostWrite['outcome'] | 'none'> {
  const { tables } = ports;
  const history = (await new EventStore(tables.client, tables.eventsTable).load(bookingId)) as unknown as Array<BookingEvent & { version: number }>;
  const state = fold(bookingDecider, history);
  if (state.status === 'none') return 'none';
  const booking = state as Booking;
  if (!booking.hostIds.includes(hostId)) return 'none';
  const intent = calendarIntent(booking, history);
  // What the calendar should hold now: the booking's event, or (cancelled) none; one that ended is history.
  if (intent === 'none' || booking.status === 'completed') return 'none';
  return writeForHost(ports, { bookingId, correlationId: cause.correlationId ?? bookingId, userId: 'system:calendar-sync' }, booking, hostId, intent, history.length);
}

async function writeForHost(ports: WritePorts, event: WriteCause, booking: Booking, hostId: string, intent: 'put' | 'remove', sequence: number): Promise<HostWrite['outcome']> {
  const { tables } = ports;
  const destination = await readDestination(tables, hostId);
  if (!destination) return 'no_destination';
  const connection = await readConnection(tables, destination.connectionId);
  if (!connection) return 'no_destination';
  if (connection.status === 'needs_reauth') return 'needs_reauth';
  const credentials = await readCredentials(tables, connection.id);
  if (!credentials) return 'no_destination';
  const host = await readUser(tables, hostId);
  try {
    const provider = await ports.adapters.providerFor(connection.provider, credentials);
    let externalEventId: string;
    if (intent === 'put') {
      const written = await provider.putBookingEvent(destination.calendarId, bookingCalendarEvent(ports, event.bookingId, booking, sequence, host, connection.accountEmail));
      externalEventId = written.externalEventId;
    } else {
      await provider.removeBookingEvent(destination.calendarId, event.bookingId);
      externalEventId = event.bookingId;
    }
    await connectionCommand(tables, connection.id, { userId: event.userId, ...(event.correlationId ? { correlationId: event.correlationId } : {}), ...(event.causationId ? { causationId: event.causationId } : {}) }, {
      aggregateId: connection.id,
      command: {
        type: 'RecordWrite',
        bookingId: event.bookingId,
        calendarId: destination.calendarId,
        externalEventId: clip(externalEventId, 512),
        sequence,
        kind: intent === 'put' ? 'put' : 'deleted',
        change: event.type === 'booking.rescheduled' ? 'moved' : intent === 'remove' ? 'cancelled' : 'details',
      },
      createdAt: connection.createdAt,
      pointer: destination,
    });
    return intent === 'put' ? 'written' : 'removed';
  } catch (error) {
    if (error instanceof CalendarAuthError) {
      await requireReauth(tables, connection.id, connection.organizerId, error.message);
      return 'needs_reauth';
    }
    if (error instanceof CalendarUnavailableError) {
      // The connection shows the failing write; the subscriber's retries (then its DLQ) carry the booking.
      await patchSyncState(tables, connection.id, { lastError: clip(`writing booking ${event.bookingId} failed: ${error.message}`, 500), lastErrorAt: new Date().toISOString() });
      logger.warn('calendar write failed', { connectionId: connection.id, bookingId: event.bookingId, error: error.message });
    }
    throw error;
  }
}

function bookingCalendarEvent(ports: WritePorts, bookingId: string, booking: Booking, sequence: number, host: { name: string; email: string; timeZone: string } | undefined, accountEmail: string | undefined): BookingCalendarEvent {
  const manageUrl = `${ports.publicApiUrl.replace(/\/$/, '')}/bookings/${bookingId}`;
  const lines = [`${booking.attendee.name} <${booking.attendee.email}>`, booking.location ? `Where: ${booking.location}` : '', booking.notes ? `Notes: ${booking.notes}` : '', `Manage this booking: ${manageUrl}`];
  return {
    bookingId,
    sequence,
    status: 'confirmed',
    title: clip(`${booking.title} with ${booking.attendee.name}`, 500),
    description: clip(lines.filter(Boolean).join('\n'), 5000),
    start: booking.start,
    end: booking.end,
    timeZone: host?.timeZone ?? booking.attendee.timeZone ?? 'UTC',
    organizer: { name: host?.name, email: accountEmail ?? host?.email ?? 'bookings@example.com' },
    attendee: { name: booking.attendee.name, email: booking.attendee.email },
    manageUrl,
  };
}
