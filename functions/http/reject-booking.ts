import { z } from 'zod';
import { bookingCommandRoute } from '../../shared/booking/booking-route.ts';
import { parseJsonBody } from '../../shared/http/handler.ts';

const body = z.object({ reason: z.string().trim().max(1000).optional() });

/** The organizer declines a booking that waits for their confirmation; its time is released. */
export const handler = bookingCommandRoute({
  allow: ['organizer'],
  command: (event) => ({ type: 'Reject', reason: parseJsonBody(event, body).reason }),
});
