import { z } from 'zod';
import { isValidTimeZone } from './booking.ts';

const timeZone = z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin');
const provider = z.enum(['google', 'microsoft', 'caldav']);

export const userCreated = z.object({
  name: z.string().min(1),
  email: z.email(),
  timeZone,
  organizationId: z.string().optional(),
});
export const userUpdated = z.object({
  changes: z.object({ name: z.string().min(1).optional(), email: z.email().optional(), timeZone: timeZone.optional() }),
});
export const userDeleted = z.object({ reason: z.string().optional() });

export const calendarConnected = z.object({ userId: z.string(), provider, accountEmail: z.email(), calendarIds: z.array(z.string()) });
export const calendarDisconnected = z.object({ userId: z.string(), provider });
export const calendarEventCreated = z.object({
  bookingId: z.string(),
  userId: z.string(),
  provider,
  calendarId: z.string(),
  externalEventId: z.string(),
});
export const calendarEventUpdated = calendarEventCreated.extend({ change: z.enum(['moved', 'cancelled', 'details']) });
