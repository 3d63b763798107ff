import { bookingCommandRoute } from '../../shared/booking/booking-route.ts';
import { bookingTables } from '../../shared/config.ts';
import { readEventType } from '../../shared/event-types/read-model.ts';
import { parseJsonBody } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';
import { offeredHostsAt } from '../../shared/scheduling/slots.ts';
import { rescheduleBody } from '../../shared/booking/requests.ts';

const MINUTE = 60_000;
const body = rescheduleBody;

/**
 * The new time keeps the booking's length and hosts, and must be one the event type offers them, counting
 * everything they are busy with except this booking itself; the claim then moves in one transaction.
 */
export const handler = bookingCommandRoute({
  allow: ['organizer', 'attendee'],
  command: async (event, caller, booking) => {
    const start = Date.parse(parseJsonBody(event, body).start);
    if (start % MINUTE !== 0) throw problems.unprocessable([{ path: 'start', message: 'must be on a whole minute' }]);
    if (start <= Date.now()) throw problems.unprocessable([{ path: 'start', message: 'cannot move a booking into the past' }]);
    const tables = bookingTables();
    const eventType = await readEventType(tables, booking.eventTypeId);
    if (booking.status === 'confirmed' && eventType) {
      const offered = await offeredHostsAt(tables, eventType, start, { excludeBookingId: booking.id });
      if (!booking.hostIds.every((host) => offered.includes(host))) {
        throw problems.conflict('slot-taken', 'That time is taken', 'the booking\'s host is not free at that time');
      }
    }
    const length = Date.parse(booking.end) - Date.parse(booking.start);
    return { type: 'Reschedule', by: caller.actor, start: new Date(start).toISOString(), end: new Date(start + length).toISOString() };
  },
});
