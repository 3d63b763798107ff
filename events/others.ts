import { z } from 'zod';
import { boundedList, email, externalId, id, personName, reasonText, timeZone } from './primitives.ts';

const provider = z.enum(['google', 'microsoft', 'caldav']);

export const userCreated = z.object({
  name: personName,
  email,
  timeZone,
  organizationId: id.optional(),
});
export const userUpdated = z.object({
  changes: z.object({ name: personName.optional(), email: email.optional(), timeZone: timeZone.optional() }),
});
export const userDeleted = z.object({ reason: reasonText.optional() });

export const calendarConnected = z.object({ userId: id, provider, accountEmail: email, calendarIds: boundedList(externalId, 20) });
export const calendarDisconnected = z.object({ userId: id, provider });
export const calendarEventCreated = z.object({
  bookingId: id,
  userId: id,
  provider,
  calendarId: externalId,
  externalEventId: externalId,
});
export const calendarEventUpdated = calendarEventCreated.extend({ change: z.enum(['moved', 'cancelled', 'details']) });
