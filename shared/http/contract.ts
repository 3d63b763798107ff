import { z } from 'zod';

/**
 * The request schemas of the HTTP routes, in one place the handlers import and the OpenAPI generator reads,
 * so the published contract is the one the handlers enforce. Keyed by operation id.
 */
export const contract = {
  getBooking: {
    query: z.object({
      /** The attendee's booking token, as an alternative to the X-Booking-Token header. */
      token: z.string().max(128).optional(),
      /** Time travel: the booking as it was right after event N of its stream. */
      version: z.coerce.number().int().min(1).max(1_000_000).optional(),
    }),
  },
};
