// What the payment functions share: the booking as its events say, the window, and the one way money goes back.
import type { EventMetadata } from '../../events/envelope.ts';
import { fold } from '../domain/decider.ts';
import { EventStore } from '../eventstore/event-store.ts';
import { executeBookingCommand, type BookingTables } from '../booking/booking-commands.ts';
import { bookingDecider, type BookingEvent, type BookingState } from '../booking/decider.ts';
import { refundPaymentIntent } from './stripe.ts';

export { DEFAULT_PAYMENT_WINDOW_MINUTES, paymentWindowSeconds } from './terms.ts';

/** The refund reason of a charge the booking never took (paid after its attempt closed). */
export const LATE_PAYMENT = 'late payment';

export async function loadBookingState(tables: BookingTables, bookingId: string): Promise<BookingState> {
  const history = (await new EventStore(tables.client, tables.eventsTable).load(bookingId)) as unknown as BookingEvent[];
  return fold(bookingDecider, history);
}

/** The payment window of a booking in seconds, as Step Functions' task timeout wants it. */

/**
 * Gives money back at Stripe, then records payment.refunded. Both halves are idempotent (the refund's key is
 * the PaymentIntent, the decider records one refund per payment), so a retried cancel, a redelivered event or
 * two callers at once end in one refund and one event.
 */
export async function refundCharge(
  tables: BookingTables,
  input: { bookingId: string; paymentId: string; amount: number; stripeAccount?: string; reason: string },
  metadata: Omit<EventMetadata, 'timestamp'>,
): Promise<void> {
  if (input.amount <= 0) return;
  await refundPaymentIntent({
    paymentIntentId: input.paymentId,
    amount: input.amount,
    stripeAccount: input.stripeAccount,
    // Stripe's own reasons: a charge nobody should have made is a duplicate, the rest the customer's wish.
    reason: input.reason === LATE_PAYMENT ? 'duplicate' : 'requested_by_customer',
  });
  await executeBookingCommand(tables, {
    bookingId: input.bookingId,
    command: { type: 'RefundPayment', paymentId: input.paymentId, amount: input.amount, reason: input.reason },
    metadata,
  });
}
