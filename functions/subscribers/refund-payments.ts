import type { EventBridgeEvent } from 'aws-lambda';
import { parseDomainEvent } from '../../events/catalog.ts';
import { bookingTables } from '../../shared/config.ts';
import { readAttempt } from '../../shared/payments/attempts.ts';
import { LATE_PAYMENT, loadBookingState, refundCharge } from '../../shared/payments/payments.ts';
import { refundAmount } from '../../shared/payments/refund-policy.ts';
import { cancelPaymentIntent } from '../../shared/payments/stripe.ts';

/**
 * A paid booking that lets its time go (cancelled, rejected, or its creation failed) gets its money back as
 * its refund policy says, once: redeliveries and retried cancels find payment.refunded already recorded. An
 * unpaid attempt is cancelled at Stripe, so nothing is charged later.
 */
export async function handler(busEvent: EventBridgeEvent<string, unknown>): Promise<void> {
  const event = parseDomainEvent(busEvent.detail);
  const tables = bookingTables();
  const booking = await loadBookingState(tables, event.aggregateId);
  if (booking.status !== 'cancelled' || !booking.payment) return;
  const payment = booking.payment;
  const attempt = await readAttempt(tables, payment.paymentId);
  const metadata = { userId: 'system:payments', correlationId: event.metadata.correlationId, causationId: event.id };
  if (payment.state === 'initiated' || payment.state === 'failed') {
    // Not paid when the booking let go (creation failed, the window passed, the attendee gave up): the intent is
    // cancelled so nothing is charged later; one paid in the meantime is refunded.
    if ((await cancelPaymentIntent(payment.paymentId, attempt?.stripeAccount)) !== 'succeeded') return;
    const charge = { bookingId: event.aggregateId, paymentId: payment.paymentId, amount: payment.amount, stripeAccount: attempt?.stripeAccount };
    await refundCharge(tables, { ...charge, reason: LATE_PAYMENT }, metadata);
    return;
  }
  if (payment.state !== 'completed') return;
  const amount = refundAmount(booking, event.metadata.timestamp);
  const reason = booking.cancellation?.kind === 'rejected' ? 'rejected by the organizer' : `cancelled by the ${booking.cancellation?.by ?? 'system'}`;
  await refundCharge(tables, { bookingId: event.aggregateId, paymentId: payment.paymentId, amount, stripeAccount: attempt?.stripeAccount, reason }, metadata);
}
