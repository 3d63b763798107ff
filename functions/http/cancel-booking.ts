import { z } from 'zod';
import { bookingCommandRoute } from '../../shared/booking/booking-route.ts';
import { parseJsonBody } from '../../shared/http/handler.ts';

const body = z.object({ reason: z.string().trim().max(1000).optional() });

export const handler = bookingCommandRoute({
  allow: ['organizer', 'attendee'],
  command: (event, caller) => ({ type: 'Cancel', by: caller.actor, reason: parseJsonBody(event, body).reason }),
});
