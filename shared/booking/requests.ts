import { z } from 'zod';
import { attendeeSchema } from '../../events/booking.ts';
import { dateOrInstant, id, instant, reasonText, timeZone } from '../../events/primitives.ts';
import { MAX_CURSOR_LENGTH } from '../http/bounds.ts';
import { bookingStatuses } from './decider.ts';

/**
 * What the booking routes accept: the schemas their handlers parse with, and that shared/http/contract.ts
 * publishes. A module of their own (zod and the catalog's primitives only), so a handler bundles its own schema
 * and not the whole contract. Bodies are strict: a field we do not know (a typo, another version's) is a 400.
 */
export const createBookingBody = z.strictObject({ eventTypeId: id, start: instant, end: instant.optional(), attendee: attendeeSchema });
export const reasonBody = z.strictObject({ reason: reasonText.optional() });
export const rescheduleBody = z.strictObject({ start: instant });

export const listBookingsQuery = z.object({
  status: z.enum(bookingStatuses).optional(),
  /** A date-time, or a date: that day's start in `timeZone` (UTC unless given), as /slots reads dates. */
  from: dateOrInstant.optional(),
  timeZone: timeZone.default('UTC'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(MAX_CURSOR_LENGTH).optional(),
});

export const getBookingQuery = z.object({
  /** The attendee's booking (or mail link) token, as an alternative to the X-Booking-Token header. */
  token: z.string().max(128).optional(),
  /** Time travel: the booking as it was right after event N of its stream. */
  version: z.coerce.number().int().min(1).max(1_000_000).optional(),
});
