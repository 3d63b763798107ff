import * as z from '../../events/zod.ts';
import { attendeeSchema } from '../../events/booking.ts';
import { dateOrInstant, id, instant, reasonText, timeZone } from '../../events/primitives.ts';
import { MAX_CURSOR_LENGTH } from '../http/bounds.ts';
import { bookingStatuses } from './decider.ts';

/**
 * What the booking routes accept: the schemas their handlers parse with, and that shared/http/contract.ts
 * publishes. A module of their own (zod and the catalog's primitives only), so a handler bundles its own schema
 * and not the whole contract. Bodies are strict: a field we do not know (a typo, another version's) is a 400.
 */
export const createBookingBody = z.strictObject({ eventTypeId: id, start: instant, end: z.optional(instant), attendee: attendeeSchema });
export const reasonBody = z.strictObject({ reason: z.optional(reasonText) });
export const rescheduleBody = z.strictObject({ start: instant });

export const listBookingsQuery = z.object({
  status: z.optional(z.enum(bookingStatuses)),
  /** A date-time, or a date: that day's start in `timeZone` (UTC unless given), as /slots reads dates. */
  from: z.optional(dateOrInstant),
  timeZone: z._default(timeZone, 'UTC'),
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 50),
  cursor: z.optional(z.string().check(z.maxLength(MAX_CURSOR_LENGTH))),
});

export const getBookingQuery = z.object({
  /** The attendee's booking (or mail link) token, as an alternative to the X-Booking-Token header. */
  token: z.optional(z.string().check(z.maxLength(128))),
  /** Time travel: the booking as it was right after event N of its stream. */
  version: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(1_000_000))),
});
