// Conflicts between a host's live bookings and the busy time imported from their calendars. Pure: given both
// sides as they are now, which pairs overlap and how badly; given the conflicts recorded open, which are new
// and which are resolved, and why. The conflict decider (conflict-decider.ts) records them as events.
import type { BusySpan, ExternalBusyEvent } from '../calendars/provider.ts';
import { derivedUuid } from './ids.ts';

/** A booking that still holds the host's time (requested, pending, confirmed; not cancelled, rejected, ended). */
export type LiveBooking = {
  bookingId: string;
  hostId: string;
  /** The meeting itself, [start, end). */
  meeting: BusySpan;
  /** The event type's buffers before and after the meeting, each [start, end); empty spans are ignored. */
  buffers: BusySpan[];
};

/** One external event of one busy-checked calendar, as the busy-time store holds it. */
export type ImportedBusyEvent = ExternalBusyEvent & { hostId: string; connectionId: string; calendarId: string };

/**
 * How a conflict is rated: `high` when an external event overlaps the meeting itself (the host is double
 * booked), `low` when it overlaps only the booking's buffers (the host loses preparation or travel time).
 */
export type ConflictSeverity = 'high' | 'low';

export type Conflict = {
  conflictId: string;
  hostId: string;
  bookingId: string;
  booking: BusySpan;
  connectionId: string;
  calendarId: string;
  externalEventId: string;
  severity: ConflictSeverity;
  /** The first overlapping stretch (of the meeting for `high`, of a buffer for `low`). */
  overlap: BusySpan;
};

export type ResolutionReason = 'booking_cancelled' | 'booking_moved' | 'external_removed' | 'external_moved';

/**
 * A conflict's identity: one booking against one external event of one calendar. Derived, so concurrent or
 * repeated detection of the same pair lands on the same aggregate (and the event store's version check keeps
 * it recorded once).
 */
export function conflictIdOf(input: { bookingId: string; connectionId: string; calendarId: string; externalEventId: string }): string {
  return derivedUuid('calendar-conflict', input.bookingId, input.connectionId, input.calendarId, input.externalEventId);
}

const overlapOf = (a: BusySpan, b: BusySpan): BusySpan | undefined => {
  const start = Math.max(Date.parse(a.start), Date.parse(b.start));
  const end = Math.min(Date.parse(a.end), Date.parse(b.end));
  return start < end ? { start: new Date(start).toISOString(), end: new Date(end).toISOString() } : undefined;
};

const firstOverlap = (spans: BusySpan[], against: BusySpan[]): BusySpan | undefined => {
  const found = spans.flatMap((span) => against.map((other) => overlapOf(span, other)).filter((o): o is BusySpan => o !== undefined));
  return found.sort((a, b) => Date.parse(a.start) - Date.parse(b.start))[0];
};

/**
 * Every conflict between these bookings and these imported events, of the same host. An event this system
 * wrote (`bookingId` set: the booking's own event, or another booking's) is never a conflict: our bookings
 * cannot overlap each other, the time claims see to that.
 */
export function detectConflicts(bookings: LiveBooking[], imported: ImportedBusyEvent[]): Conflict[] {
  const conflicts: Conflict[] = [];
  for (const booking of bookings) {
    for (const event of imported) {
      if (event.hostId !== booking.hostId || event.bookingId !== undefined) continue;
      const meeting = firstOverlap(event.spans, [booking.meeting]);
      const buffer = meeting ? undefined : firstOverlap(event.spans, booking.buffers);
      const overlap = meeting ?? buffer;
      if (!overlap) continue;
      const pair = { bookingId: booking.bookingId, connectionId: event.connectionId, calendarId: event.calendarId, externalEventId: event.externalEventId };
      conflicts.push({ conflictId: conflictIdOf(pair), hostId: booking.hostId, ...pair, booking: booking.meeting, severity: meeting ? 'high' : 'low', overlap });
    }
  }
  return conflicts;
}

/**
 * From the conflicts recorded open and the two sides as they are now: what to record. A pair that conflicts
 * now and was not open is detected; one open whose severity changed is detected again with the new severity;
 * an open one that no longer conflicts is resolved, with the reason read from what changed (the booking gone,
 * the booking at another time, the external event gone, or moved). The three inputs cover the same hosts: a
 * booking missing from `bookings` reads as cancelled.
 */
export function reconcileConflicts(input: {
  open: Conflict[];
  bookings: LiveBooking[];
  imported: ImportedBusyEvent[];
}): { detected: Conflict[]; resolved: Array<{ conflict: Conflict; reason: ResolutionReason }> } {
  const now = new Map(detectConflicts(input.bookings, input.imported).map((c) => [c.conflictId, c]));
  const open = new Map(input.open.map((c) => [c.conflictId, c]));
  const detected = [...now.values()].filter((c) => open.get(c.conflictId)?.severity !== c.severity);
  const resolved: Array<{ conflict: Conflict; reason: ResolutionReason }> = [];
  for (const conflict of open.values()) {
    if (now.has(conflict.conflictId)) continue;
    const booking = input.bookings.find((b) => b.bookingId === conflict.bookingId);
    const external = input.imported.find((e) => e.connectionId === conflict.connectionId && e.calendarId === conflict.calendarId && e.externalEventId === conflict.externalEventId);
    const reason: ResolutionReason = !booking
      ? 'booking_cancelled'
      : Date.parse(booking.meeting.start) !== Date.parse(conflict.booking.start) || Date.parse(booking.meeting.end) !== Date.parse(conflict.booking.end)
        ? 'booking_moved'
        : !external || external.spans.length === 0
          ? 'external_removed'
          : 'external_moved';
    resolved.push({ conflict, reason });
  }
  return { detected, resolved };
}
