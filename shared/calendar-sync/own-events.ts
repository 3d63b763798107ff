// Which events of a calendar are ours: an event names a booking (Google's private extended property, Graph's
// transactionId or extended property, the CalDAV UID or X-BOOKING-ID), but anyone can send an invite that does.
// It only counts as ours when that booking exists and has this host as a host; any other event is busy time like
// every external event (and can be a conflict). Used by the sync worker before it merges a read, and by the
// workflow's live busy check.
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { bookingKey, type BookingTables, type BookingView } from '../booking/booking-commands.ts';
import type { BusyRead } from '../calendars/provider.ts';

/** Bookings' views by id (consistent batch reads); an id with no booking is absent from the map. */
export async function bookingViewsById(tables: Pick<BookingTables, 'client' | 'stateTable'>, ids: string[]): Promise<Map<string, BookingView>> {
  const bookings = new Map<string, BookingView>();
  const all = [...new Set(ids)];
  for (let i = 0; i < all.length; i += 100) {
    let keys: Array<Record<string, unknown>> | undefined = all.slice(i, i + 100).map(bookingKey);
    for (let attempt = 0; keys?.length; attempt++) {
      const out = await tables.client.send(new BatchGetCommand({ RequestItems: { [tables.stateTable]: { Keys: keys, ConsistentRead: true } } }));
      for (const item of out.Responses?.[tables.stateTable] ?? []) {
        const view = item.booking as BookingView | undefined;
        if (view?.id) bookings.set(view.id, view);
      }
      keys = out.UnprocessedKeys?.[tables.stateTable]?.Keys as Array<Record<string, unknown>> | undefined;
      if (keys?.length) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
    }
  }
  return bookings;
}

/**
 * The read with `bookingId` kept only where the booking exists and this host is one of its hosts. Pure. An
 * event that names another host's booking, or none we know, is someone else's event: its time is busy.
 */
export function ownEventsOnly(read: BusyRead, hostId: string, bookings: Map<string, BookingView>): BusyRead {
  return {
    ...read,
    events: read.events.map((event) => {
      if (!event.bookingId) return event;
      const booking = bookings.get(event.bookingId);
      if (booking && booking.hostIds.includes(hostId)) return event;
      const { bookingId: _forged, ...rest } = event;
      return rest;
    }),
  };
}

/** The bookings the reads' events name, as their views (one batch read); what ownEventsOnly needs. */
export async function claimedBookings(tables: Pick<BookingTables, 'client' | 'stateTable'>, reads: BusyRead[]): Promise<Map<string, BookingView>> {
  const ids = reads.flatMap((read) => read.events.flatMap((event) => (event.bookingId ? [event.bookingId] : [])));
  return ids.length ? bookingViewsById(tables, ids) : new Map();
}
