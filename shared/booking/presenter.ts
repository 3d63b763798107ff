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
    payment: view.payment && {
      paymentId: view.payment.paymentId,
      status: view.payment.state,
      amount: view.payment.amount,
      currency: view.payment.currency,
      attempt: view.payment.attempt,
      expiresAt: view.payment.expiresAt,
      failure: view.payment.failure,
      refundedAmount: view.payment.refundedAmount,
    },
    cancellation: view.cancellation,
    previousTimes: view.previousTimes,
    assignment: view.assignment,
    version: view.version,
    updatedAt: view.updatedAt,
  };
}
