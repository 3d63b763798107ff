import type { BookingView } from './booking-commands.ts';
import { waitingFor } from './decider.ts';

/**
 * A booking as the HTTP API shows it. `awaiting` says what it waits for now (the organizer's confirmation or a
 * payment), and is absent once it waits for nothing, so a confirmed or rejected request no longer shows
 * `awaiting: "confirmation"`, and a draft its workflow has not yet checked shows none.
 */
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
    awaiting: presentedAwaiting(view),
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

function presentedAwaiting(view: BookingView): 'confirmation' | 'payment' | undefined {
  const waiting = waitingFor(view);
  return waiting === 'workflow' ? undefined : waiting;
}
