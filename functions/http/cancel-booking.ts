import { z } from 'zod';
import { reasonText } from '../../events/primitives.ts';
import { bookingCommandRoute } from '../../shared/booking/booking-route.ts';
import { parseJsonBody } from '../../shared/http/handler.ts';

const body = z.strictObject({ reason: reasonText.optional() });

export const handler = bookingCommandRoute({
  allow: ['organizer', 'attendee'],
  command: (event, caller) => ({ type: 'Cancel', by: caller.actor, reason: parseJsonBody(event, body).reason }),
});
