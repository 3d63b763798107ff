import { bookingCommandRoute } from '../../shared/booking/booking-route.ts';
import { parseJsonBody } from '../../shared/http/handler.ts';
import { reasonBody } from '../../shared/booking/requests.ts';

const body = reasonBody;

/**
 * The organizer declines a request that needs their confirmation, whether or not the workflow has checked it
 * yet; its time is released. Other pending bookings are cancelled rather than rejected.
 */
export const handler = bookingCommandRoute({
  allow: ['organizer'],
  command: (event) => ({ type: 'Reject', reason: parseJsonBody(event, body).reason }),
});
