// The calendar connection's events (aggregateType 'calendar', one aggregate per connection). Every payload names
// the organizer as `userId`, which is how the push subscriber finds who hears of it. Credentials never travel
// in an event: they sit encrypted in the state table beside the connection (shared/calendars/vault.ts).
import * as z from './zod.ts';
import { boundedList, email, externalId, id, reasonText, shortText } from './primitives.ts';

export const calendarProvider = z.enum(['google', 'microsoft', 'caldav']);

/** A calendar of the connection as the organizer sees it: whether it blocks slots and whether bookings go there. */
export const connectedCalendar = z.object({
  id: externalId,
  name: shortText(200),
  primary: z.boolean(),
  writable: z.boolean(),
  busy: z.boolean(),
  destination: z.boolean(),
});

/** A connection holds at most this many calendars; a provider listing more is cut to its first ones. */
export const MAX_CALENDARS = 30;

export const calendarConnected = z.object({
  userId: id,
  provider: calendarProvider,
  accountEmail: z.optional(email),
  calendars: boundedList(connectedCalendar, MAX_CALENDARS),
});

/** A change of flags (by the organizer's PATCH, or a destination moved to another connection). */
export const calendarCalendarsChanged = z.object({
  userId: id,
  changes: boundedList(z.object({ id: externalId, busy: z.optional(z.boolean()), destination: z.optional(z.boolean()) }), MAX_CALENDARS),
});

export const calendarReauthRequired = z.object({ userId: id, provider: calendarProvider, reason: reasonText });

export const calendarDisconnected = z.object({ userId: id, provider: calendarProvider });

/** A booking written into a host's calendar, and where it lives there (the id derived from the booking). */
export const calendarEventCreated = z.object({
  bookingId: id,
  userId: id,
  provider: calendarProvider,
  calendarId: externalId,
  externalEventId: externalId,
  /** The booking's version the write carried (its iCalendar SEQUENCE): a redelivered write at or below it is a repeat. */
  sequence: z.optional(z.int().check(z.gte(0), z.lte(1_000_000))),
});
export const calendarEventUpdated = z.extend(calendarEventCreated, { change: z.enum(['moved', 'cancelled', 'details']) });
export const calendarEventDeleted = calendarEventCreated;
