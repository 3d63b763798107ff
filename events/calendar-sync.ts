// Events of the calendar sync engine (issue 9): conflicts between a host's bookings and their external busy
// time, and sync failures that persist. How severity is computed is written in events/README.md.
import * as z from './zod.ts';
import { externalId, id, instant, reasonText } from './primitives.ts';

const span = z.object({ start: instant, end: instant });

export const calendarConflictDetected = z.object({
  conflictId: id,
  /** The host whose calendar holds the external event. */
  userId: id,
  bookingId: id,
  connectionId: id,
  calendarId: externalId,
  externalEventId: externalId,
  /** `high`: the external event overlaps the meeting itself; `low`: only the booking's buffers. */
  severity: z.enum(['high', 'low']),
  booking: span,
  overlap: span,
});

export const calendarConflictResolved = z.object({
  conflictId: id,
  userId: id,
  bookingId: id,
  reason: z.enum(['booking_cancelled', 'booking_moved', 'external_removed', 'external_moved']),
});

export const calendarSyncFailing = z.object({
  userId: id,
  connectionId: id,
  provider: z.enum(['google', 'microsoft', 'caldav']),
  failures: z.int().check(z.gte(1), z.lte(1_000_000)),
  /** The last success before this failure streak (or the connection's creation): the streak began after it, and names it. */
  failingSince: instant,
  lastError: reasonText,
});

/**
 * An event this system wrote into a host's destination calendar no longer shows the booking as it is, and the
 * change was made there, not by us (shared/calendar-sync/reconcile.ts): `moved` (its time differs), `freed` (it
 * is there but blocks nothing: marked free, declined or cancelled in the calendar), `deleted` (it is gone). The
 * booking is not changed and the event is not written over; reported once per drift (booking version, kind and
 * time found).
 */
export const calendarEventDrifted = z.object({
  userId: id,
  bookingId: id,
  connectionId: id,
  provider: z.enum(['google', 'microsoft', 'caldav']),
  calendarId: externalId,
  externalEventId: externalId,
  kind: z.enum(['moved', 'freed', 'deleted']),
  /** The booking's version the calendar's event was written at. */
  sequence: z.int().check(z.gte(0), z.lte(1_000_000)),
  /** The booking's time, as we wrote it. */
  expected: span,
  /** What the calendar holds now (`moved`): the event's first busy span. */
  found: z.optional(span),
});
