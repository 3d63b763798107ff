// The payment steps of the booking workflow. The execution pauses on `Payment` (.waitForTaskToken) until the
// Stripe webhook resumes it or the payment window passes; a failed payment waits, in the same execution, for
// the attendee's retry (`AwaitRetry`, resumed by POST /bookings/{id}/payment/retry) until the window passes.
import { executeBookingCommand } from '../../shared/booking/booking-commands.ts';
import { bookingTables } from '../../shared/config.ts';
import { readConnectedAccount, readAttempt, saveAttempt, saveRetryToken, settleAttempt, takeRetryToken } from '../../shared/payments/attempts.ts';
import { LATE_PAYMENT, loadBookingState, paymentWindowSeconds, refundCharge } from '../../shared/payments/payments.ts';
import { resumeWithFailure, resumeWithSuccess } from '../../shared/payments/resume.ts';
import { cancelPaymentIntent, createPaymentIntent } from '../../shared/payments/stripe.ts';
import { BookingRefused, type WorkflowInput } from './booking-steps.ts';

export type PaymentInput = WorkflowInput & { taskToken: string };
/** What the webhook resumes the Payment task with, on failure as the error's Cause. */
export type PaymentOutcome = { paymentId: string; reason?: string; code?: string; declineCode?: string };

const metadataOf = (input: WorkflowInput) => ({ userId: 'system:booking-workflow', correlationId: input.correlationId, causationId: input.causationId });

/**
 * Starts the booking's next payment attempt: a PaymentIntent in the event type's amount and currency (on the
 * organizer's connected account when they have one), stored with this task's token, then payment.initiated.
 * A repeated step (Lambda timed out after writing) reuses the attempt: the same idempotency key gets the same
 * intent, and the decider records nothing new.
 */
export async function startPayment(input: PaymentInput): Promise<void> {
  const tables = bookingTables();
  const booking = await loadBookingState(tables, input.bookingId);
  if (booking.status === 'none' || !booking.price) throw new BookingRefused('Payment', 'the booking has no price to pay');
  const repeat = booking.status === 'pending_payment' ? booking.payment : undefined;
  const attempt = repeat?.attempt ?? (booking.status === 'payment_failed' ? booking.payment!.attempt + 1 : 1);
  const expiresAt = repeat?.expiresAt ?? new Date(Date.now() + paymentWindowSeconds(booking) * 1000).toISOString();
  const stripeAccount = await readConnectedAccount(tables, booking.organizerId);
  const intent = await createPaymentIntent({
    bookingId: input.bookingId,
    attempt,
    amount: booking.price.amount,
    currency: booking.price.currency,
    stripeAccount,
    description: booking.title,
  });
  const saved = await saveAttempt(tables, {
    paymentId: intent.id,
    bookingId: input.bookingId,
    attempt,
    amount: booking.price.amount,
    currency: booking.price.currency.toLowerCase(),
    clientSecret: intent.clientSecret,
    stripeAccount,
    taskToken: input.taskToken,
    windowEndsAt: expiresAt,
  });
  await executeBookingCommand(tables, {
    bookingId: input.bookingId,
    command: { type: 'InitiatePayment', paymentId: intent.id, amount: booking.price.amount, currency: booking.price.currency.toLowerCase(), attempt, expiresAt },
    metadata: metadataOf(input),
  });
  // The attempt settled while an earlier run of this step held the token: this run resumes itself.
  if (saved.state === 'succeeded') await resumeWithSuccess(input.taskToken, { paymentId: intent.id });
  if (saved.state === 'failed') await resumeWithFailure(input.taskToken, 'PaymentFailed', { paymentId: intent.id, ...saved.failure });
}

/** The payment succeeded: payment.completed, then booking.confirmed (or the organizer's confirmation). */
export async function completePayment(input: WorkflowInput & { paid: PaymentOutcome }): Promise<WorkflowInput> {
  await executeBookingCommand(bookingTables(), {
    bookingId: input.bookingId,
    command: { type: 'CompletePayment', paymentId: input.paid.paymentId },
    metadata: metadataOf(input),
  });
  const { paid: _, ...rest } = input;
  return rest;
}

/**
 * The payment failed (Stripe's code and decline code ride in the error's Cause): payment.failed, and the
 * intent is cancelled so that nobody pays it later; a retry makes a new one. Returns how long the booking
 * waits for a retry: what is left of the attempt's window.
 */
export async function recordPaymentFailure(input: WorkflowInput): Promise<WorkflowInput & { retryWaitSeconds: number }> {
  const tables = bookingTables();
  const outcome = JSON.parse(input.error?.Cause ?? '{}') as PaymentOutcome;
  await executeBookingCommand(tables, {
    bookingId: input.bookingId,
    command: { type: 'FailPayment', paymentId: outcome.paymentId, reason: outcome.reason ?? 'payment failed', code: outcome.code, declineCode: outcome.declineCode },
    metadata: metadataOf(input),
  });
  const attempt = await readAttempt(tables, outcome.paymentId);
  if (attempt && (await cancelPaymentIntent(attempt.paymentId, attempt.stripeAccount)) === 'succeeded') {
    // Paid after all, on a card retried against the same intent before the cancel: money without a booking attempt.
    await refundCharge(tables, { bookingId: input.bookingId, paymentId: attempt.paymentId, amount: attempt.amount, stripeAccount: attempt.stripeAccount, reason: LATE_PAYMENT }, metadataOf(input));
  }
  const left = attempt ? Math.ceil((Date.parse(attempt.windowEndsAt) - Date.now()) / 1000) : 1;
  const { error: _, ...rest } = input;
  return { ...rest, retryWaitSeconds: Math.max(1, left) };
}

/** Parks the token that POST /bookings/{id}/payment/retry resumes. */
export async function awaitRetry(input: PaymentInput): Promise<void> {
  const tables = bookingTables();
  const booking = await loadBookingState(tables, input.bookingId);
  if (booking.status !== 'payment_failed') throw new BookingRefused('AwaitRetry', `the booking is ${booking.status}, not payment_failed`);
  await saveRetryToken(tables, input.bookingId, booking.payment!.attempt, input.taskToken);
}

/**
 * The window passed unpaid (the Payment task timed out) or nobody retried in it (AwaitRetry timed out): the
 * intent is cancelled at Stripe, the attempt closed, and the booking records payment.failed (expired) and
 * booking.cancelled by the system, which releases its time. A payment that beat the cancel is refunded, here
 * or by the webhook that reports it, whichever finds it first.
 */
export async function expirePayment(input: WorkflowInput): Promise<WorkflowInput> {
  const tables = bookingTables();
  await takeRetryToken(tables, input.bookingId);
  const booking = await loadBookingState(tables, input.bookingId);
  // Paid at the last moment (the webhook's resume beat the timer) or already released: nothing to expire.
  const waiting = booking.status === 'pending_payment' || booking.status === 'payment_failed';
  const payment = waiting ? booking.payment : undefined;
  if (payment) {
    await settleAttempt(tables, payment.paymentId, 'expired');
    const attempt = await readAttempt(tables, payment.paymentId);
    const status = await cancelPaymentIntent(payment.paymentId, attempt?.stripeAccount);
    await executeBookingCommand(tables, { bookingId: input.bookingId, command: { type: 'ExpirePayment', now: new Date().toISOString() }, metadata: metadataOf(input) });
    if (status === 'succeeded' && attempt) {
      await refundCharge(tables, { bookingId: input.bookingId, paymentId: payment.paymentId, amount: attempt.amount, stripeAccount: attempt.stripeAccount, reason: LATE_PAYMENT }, metadataOf(input));
    }
  }
  const { error: _, ...rest } = input;
  return rest;
}
