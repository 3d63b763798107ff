// The workflow's second look before a booking is confirmed: the hosts' busy-checked calendars read live from the
// providers over the booking's time (with its buffers). Busy there refuses the booking; a provider that cannot
// be reached does not (the busy-time store was checked when the time was offered, and the sync engine flags a
// conflict later if one shows up).
import type { BookingTables } from '../booking/booking-commands.ts';
import { claimedBookings, ownEventsOnly } from '../calendar-sync/own-events.ts';
import { logger } from '../observability/logger.ts';
import { readUser } from '../scheduling/directory.ts';
import type { CalendarAdapters } from './adapters.ts';
import { listConnections } from './store.ts';
import { readCredentials } from './vault.ts';

export type LiveBusyHit = { hostId: string; connectionId: string; calendarId: string; start: string; end: string };

export async function liveBusyConflicts(
  ports: { tables: BookingTables; adapters: CalendarAdapters },
  booking: { bookingId: string; hostIds: string[]; start: string; end: string; bufferBeforeMinutes?: number; bufferAfterMinutes?: number },
): Promise<{ hits: LiveBusyHit[]; unreachable: string[] }> {
  const from = Date.parse(booking.start) - (booking.bufferBeforeMinutes ?? 0) * 60_000;
  const to = Date.parse(booking.end) + (booking.bufferAfterMinutes ?? 0) * 60_000;
  const hits: LiveBusyHit[] = [];
  const unreachable: string[] = [];
  await Promise.all(
    [...new Set(booking.hostIds)].map(async (hostId) => {
      const [connections, host] = await Promise.all([listConnections(ports.tables, hostId), readUser(ports.tables, hostId)]);
      for (const connection of connections) {
        const calendars = connection.calendars.filter((calendar) => calendar.busy);
        if (connection.status !== 'connected' || calendars.length === 0) continue;
        try {
          const credentials = await readCredentials(ports.tables, connection.id);
          if (!credentials) continue;
          const provider = await ports.adapters.providerFor(connection.provider, credentials);
          for (const calendar of calendars) {
            const raw = await provider.readBusy(calendar.id, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), timeZone: host?.timeZone ?? 'UTC' });
            // Only an event naming a booking of this host is ours (the claims see to those); a forged one is busy.
            const read = ownEventsOnly(raw, hostId, await claimedBookings(ports.tables, [raw]));
            for (const event of read.events) {
              if (event.bookingId) continue;
              for (const span of event.spans) {
                if (Date.parse(span.start) < to && from < Date.parse(span.end)) hits.push({ hostId, connectionId: connection.id, calendarId: calendar.id, ...span });
              }
            }
          }
        } catch (error) {
          unreachable.push(connection.id);
          logger.warn('live busy check skipped a calendar connection', { bookingId: booking.bookingId, connectionId: connection.id, error: (error as Error).message });
        }
      }
    }),
  );
  return { hits, unreachable };
}
