import { z } from 'zod';
import { reasonText } from '../../events/primitives.ts';
import { bookingCommandRoute } from '../../shared/booking/booking-route.ts';
import { parseJsonBody } from '../../shared/http/handler.ts';

const body = z.strictObject({ reason: reasonText.optional() });

/** The organizer declines a booking that waits for their confirmation; its time is released. */
export const handler = bookingCommandRoute({
  allow: ['organizer'],
  command: (event) => ({ type: 'Reject', reason: parseJsonBody(event, body).reason }),
});
