import type { BookingView } from './booking-commands.ts';

/** A booking as the HTTP API shows it. */
export function presentBooking(view: BookingView) {
  return {
    id: view.id,
    status: view.status,
    eventTypeId: view.eventTypeId,
    title: view.title,
    organizerId: view.organizerId,
    hostIds: view.hostIds,
    start: view.start,
    end: view.end,
    bufferBeforeMinutes: view.bufferBeforeMinutes,
    bufferAfterMinutes: view.bufferAfterMinutes,
    attendee: view.attendee,
    requiresConfirmation: view.requiresConfirmation,
    awaiting: view.awaiting,
    price: view.price,
    payment: view.payment,
    cancellation: view.cancellation,
    previousTimes: view.previousTimes,
    assignment: view.assignment,
    version: view.version,
    updatedAt: view.updatedAt,
  };
}
