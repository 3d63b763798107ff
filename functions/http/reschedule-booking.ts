import { z } from 'zod';
import { bookingCommandRoute } from '../../shared/booking/booking-route.ts';
import { parseJsonBody } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';

const MINUTE = 60_000;
const body = z.object({ start: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with an offset' }) });

/** The new time keeps the booking's length; the claim moves with it in one transaction. */
export const handler = bookingCommandRoute({
  allow: ['organizer', 'attendee'],
  command: (event, caller, booking) => {
    const start = Date.parse(parseJsonBody(event, body).start);
    if (start % MINUTE !== 0) throw problems.unprocessable([{ path: 'start', message: 'must be on a whole minute' }]);
    if (start <= Date.now()) throw problems.unprocessable([{ path: 'start', message: 'cannot move a booking into the past' }]);
    const length = Date.parse(booking.end) - Date.parse(booking.start);
    return { type: 'Reschedule', by: caller.actor, start: new Date(start).toISOString(), end: new Date(start + length).toISOString() };
  },
});
