// Which booking events can change a host's calendar, and what the calendar should then hold. Pure, and light
// enough for the stack to import (the writes subscriber's event pattern).
import type { Booking, BookingEvent } from '../booking/decider.ts';

/** The booking events after which a host's calendar may need to change. */
export const bookingEventsWritten = ['booking.confirmed', 'booking.rescheduled', 'booking.updated', 'booking.cancelled'] as const;

/** What the hosts' calendars should hold for this booking now: the event, or nothing. */
export function calendarIntent(booking: Booking, history: BookingEvent[]): 'put' | 'remove' | 'none' {
  const everConfirmed = history.some((event) => event.type === 'booking.confirmed');
  if (!everConfirmed) return 'none';
  // A move waiting for the organizer's yes still holds the new time.
  if (booking.status === 'confirmed' || booking.status === 'rescheduled' || booking.status === 'completed') return 'put';
  return 'remove';
}
