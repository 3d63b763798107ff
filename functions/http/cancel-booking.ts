import { bookingCommandRoute } from '../../shared/booking/booking-route.ts';
import { parseJsonBody } from '../../shared/http/handler.ts';
import { reasonBody } from '../../shared/booking/requests.ts';

const body = reasonBody;

/**
 * The organizer (or a host) or the attendee lets a booking go, whatever it still waits for: its workflow, a
 * confirmation, a payment. Only an ended booking (cancelled, completed) stays as it is; its time is released.
 */
export const handler = bookingCommandRoute({
  allow: ['organizer', 'attendee'],
  command: (event, caller) => ({ type: 'Cancel', by: caller.actor, reason: parseJsonBody(event, body).reason }),
});
