// The payment lifecycle of the seed diagram, given/when/then: Draft → PendingPayment → Confirmed | PaymentFailed,
// PaymentFailed → PendingPayment (retry) | Cancelled, the window's expiry, refunds; and the refund policy.
import { describe, expect, it } from 'vitest';
import { fold } from '../../shared/domain/decider.ts';
import { bookingDecider, type BookingEvent, type BookingRequest } from '../../shared/booking/decider.ts';
import { refundAmount } from '../../shared/payments/refund-policy.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(bookingDecider);
const start = '2030-01-07T09:00:00.000Z';
const end = '2030-01-07T09:30:00.000Z';
const times = { start, end };
const request: BookingRequest = {
  eventTypeId: 'et-1',
  organizerId: 'org-1',
  hostIds: ['org-1'],
  title: 'Paid call',
  start,
  end,
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 0,
  attendee: { name: 'Ada', email: 'ada@example.com', timeZone: 'Europe/Berlin' },
  requiresConfirmation: false,
  price: { amount: 4500, currency: 'eur' },
  paymentTerms: { windowMinutes: 30, refundPolicy: { fullRefundUntilHoursBefore: 24, laterRefundPercent: 50 } },
};
const expiresAt = '2030-01-01T12:30:00.000Z';
const expiresAt2 = '2030-01-01T13:30:00.000Z';
const requested: BookingEvent = { type: 'booking.requested', payload: request };
const created: BookingEvent = { type: 'booking.created', payload: { eventTypeId: 'et-1', organizerId: 'org-1', hostIds: ['org-1'], ...times, awaiting: 'payment' } };
const initiated = (paymentId = 'pi_1', attempt = 1, at = expiresAt): BookingEvent => ({
  type: 'payment.initiated',
  payload: { paymentId, provider: 'stripe', amount: 4500, currency: 'eur', attempt, expiresAt: at },
});
const completed = (paymentId = 'pi_1'): BookingEvent => ({ type: 'payment.completed', payload: { paymentId, amount: 4500, currency: 'eur' } });
const confirmed: BookingEvent = { type: 'booking.confirmed', payload: { confirmedBy: 'system', ...times } };
const declined: BookingEvent = { type: 'payment.failed', payload: { paymentId: 'pi_1', reason: 'Your card was declined.', code: 'card_declined', declineCode: 'insufficient_funds' } };
const released: BookingEvent = { type: 'booking.cancelled', payload: { reason: 'payment window passed', cancelledBy: 'system' } };

const draft = [requested, created];
const pending = [...draft, initiated()];
const failed = [...pending, declined];
const paid = [...pending, completed(), confirmed];

describe('payment lifecycle: the transitions of the diagram', () => {
  it('Draft → PendingPayment: the first attempt records payment.initiated with its window', () => {
    spec.given(draft).when({ type: 'InitiatePayment', paymentId: 'pi_1', amount: 4500, currency: 'eur', attempt: 1, expiresAt }).then([initiated()]);
    expect(fold(bookingDecider, pending)).toMatchObject({ status: 'pending_payment', payment: { state: 'initiated', attempt: 1, expiresAt } });
  });

  it('PendingPayment → Confirmed: payment.completed, then booking.confirmed', () => {
    spec.given(pending).when({ type: 'CompletePayment', paymentId: 'pi_1' }).then([completed(), confirmed]);
  });

  it('PendingPayment → (paid) → waits for the organizer when the event type requires confirmation', () => {
    const needsOk: BookingEvent = { type: 'booking.requested', payload: { ...request, requiresConfirmation: true } };
    spec.given([needsOk, created, initiated()]).when({ type: 'CompletePayment', paymentId: 'pi_1' }).then([completed()]);
    const state = fold(bookingDecider, [needsOk, created, initiated(), completed()]);
    expect(state).toMatchObject({ status: 'draft', awaiting: 'confirmation', payment: { state: 'completed' } });
    spec.given([needsOk, created, initiated(), completed()]).when({ type: 'Confirm', by: 'organizer' }).then([
      { type: 'booking.confirmed', payload: { confirmedBy: 'organizer', ...times } },
    ]);
    spec.given([needsOk, created, initiated(), completed()]).when({ type: 'Reject', reason: 'no' }).then([{ type: 'booking.rejected', payload: { reason: 'no' } }]);
  });

  it('PendingPayment → PaymentFailed, with Stripe\'s code and decline code', () => {
    spec.given(pending)
      .when({ type: 'FailPayment', paymentId: 'pi_1', reason: 'Your card was declined.', code: 'card_declined', declineCode: 'insufficient_funds' })
      .then([declined]);
    expect(fold(bookingDecider, failed)).toMatchObject({ status: 'payment_failed', payment: { failure: { code: 'card_declined', declineCode: 'insufficient_funds' } } });
  });

  it('PaymentFailed → PendingPayment: a retry is a new attempt with a new PaymentIntent and window', () => {
    spec.given(failed).when({ type: 'InitiatePayment', paymentId: 'pi_2', amount: 4500, currency: 'eur', attempt: 2, expiresAt: expiresAt2 }).then([initiated('pi_2', 2, expiresAt2)]);
    spec.given(failed).when({ type: 'InitiatePayment', paymentId: 'pi_2', amount: 4500, currency: 'eur', attempt: 3, expiresAt: expiresAt2 }).thenThrows('InvalidTransition');
  });

  it('PaymentFailed → Cancelled by the attendee', () => {
    spec.given(failed).when({ type: 'Cancel', by: 'attendee' }).then([{ type: 'booking.cancelled', payload: { cancelledBy: 'attendee' } }]);
  });

  it('the window passes unpaid: payment.failed (expired), then booking.cancelled by the system; not while it is open', () => {
    spec.given(pending).when({ type: 'ExpirePayment', now: expiresAt }).then([{ type: 'payment.failed', payload: { paymentId: 'pi_1', reason: 'expired' } }, released]);
    spec.given(pending).when({ type: 'ExpirePayment', now: '2030-01-01T12:00:00.000Z' }).thenThrows('WindowOpen');
  });

  it('a PaymentFailed booking nobody retried is cancelled by the system once the window passes', () => {
    spec.given(failed).when({ type: 'ExpirePayment', now: expiresAt }).then([released]);
    expect(fold(bookingDecider, [...failed, released]).status).toBe('cancelled');
  });
});

describe('payment lifecycle: out of order, twice, or outside the diagram', () => {
  it('a failure reported after the success changes nothing, and neither does a second report of either', () => {
    spec.given(paid).when({ type: 'FailPayment', paymentId: 'pi_1', reason: 'late' }).thenNothing();
    spec.given(paid).when({ type: 'CompletePayment', paymentId: 'pi_1' }).thenNothing();
    spec.given(failed).when({ type: 'FailPayment', paymentId: 'pi_1', reason: 'again' }).thenNothing();
    spec.given(pending).when({ type: 'InitiatePayment', paymentId: 'pi_1', amount: 4500, currency: 'eur', attempt: 1, expiresAt }).thenNothing();
  });

  it('a success after the payment failed or expired confirms nothing', () => {
    spec.given(failed).when({ type: 'CompletePayment', paymentId: 'pi_1' }).thenThrows('InvalidTransition');
    spec.given([...failed, released]).when({ type: 'CompletePayment', paymentId: 'pi_1' }).thenThrows('InvalidTransition');
  });

  it('refuses a payment that is not the current attempt\'s, and payments of an unpriced or settled booking', () => {
    spec.given(pending).when({ type: 'CompletePayment', paymentId: 'pi_other' }).thenThrows('UnknownPayment');
    spec.given(pending).when({ type: 'FailPayment', paymentId: 'pi_other', reason: 'x' }).thenThrows('UnknownPayment');
    spec.given([requested]).when({ type: 'InitiatePayment', paymentId: 'pi_1', amount: 4500, currency: 'eur', attempt: 1, expiresAt }).thenThrows('InvalidTransition');
    spec.given(paid).when({ type: 'InitiatePayment', paymentId: 'pi_2', amount: 4500, currency: 'eur', attempt: 2, expiresAt }).thenThrows('InvalidTransition');
    spec.given(paid).when({ type: 'ExpirePayment', now: '2031-01-01T00:00:00.000Z' }).thenThrows('InvalidTransition');
  });

  it('lets the attendee give up a payment in progress: the booking is cancelled and its time released', () => {
    // The refund subscriber then cancels the open PaymentIntent at Stripe.
    spec.given(pending).when({ type: 'Cancel', by: 'attendee' }).then([{ type: 'booking.cancelled', payload: { cancelledBy: 'attendee', reason: undefined } }]);
  });

  it('expiring an already cancelled booking records nothing (the attendee cancelled while the workflow waited)', () => {
    spec.given([...failed, { type: 'booking.cancelled', payload: { cancelledBy: 'attendee' } }]).when({ type: 'ExpirePayment', now: expiresAt }).thenNothing();
  });
});

describe('payment lifecycle: refunds', () => {
  const cancelledPaid = [...paid, { type: 'booking.cancelled', payload: { cancelledBy: 'attendee' } } as BookingEvent];
  it('a cancelled paid booking records payment.refunded once, however often it is asked', () => {
    const refunded: BookingEvent = { type: 'payment.refunded', payload: { paymentId: 'pi_1', amount: 4500, currency: 'eur', reason: 'cancelled' } };
    spec.given(cancelledPaid).when({ type: 'RefundPayment', paymentId: 'pi_1', amount: 4500, reason: 'cancelled' }).then([refunded]);
    spec.given([...cancelledPaid, refunded]).when({ type: 'RefundPayment', paymentId: 'pi_1', amount: 4500 }).thenNothing();
    expect(fold(bookingDecider, [...cancelledPaid, refunded])).toMatchObject({ payment: { state: 'refunded', refundedAmount: 4500 } });
  });

  it('a live booking\'s payment is not refunded, nor more than was paid', () => {
    spec.given(paid).when({ type: 'RefundPayment', paymentId: 'pi_1', amount: 4500 }).thenThrows('InvalidTransition');
    spec.given(cancelledPaid).when({ type: 'RefundPayment', paymentId: 'pi_1', amount: 9000 }).thenThrows('RefundTooLarge');
    spec.given(cancelledPaid).when({ type: 'RefundPayment', paymentId: 'pi_nope', amount: 1 }).thenThrows('UnknownPayment');
  });

  it('a charge that arrived after its attempt closed (late webhook) is refunded, whatever the booking does', () => {
    const expired = [...pending, { type: 'payment.failed', payload: { paymentId: 'pi_1', reason: 'expired' } } as BookingEvent, released];
    spec.given(expired).when({ type: 'RefundPayment', paymentId: 'pi_1', amount: 4500, reason: 'late payment' }).then([
      { type: 'payment.refunded', payload: { paymentId: 'pi_1', amount: 4500, currency: 'eur', reason: 'late payment' } },
    ]);
    // The first attempt paid late while the second is pending: the first is refunded, the booking pays on.
    const retrying = [...failed, initiated('pi_2', 2, expiresAt2)];
    spec.given(retrying).when({ type: 'RefundPayment', paymentId: 'pi_1', amount: 4500, reason: 'late payment' }).then([
      { type: 'payment.refunded', payload: { paymentId: 'pi_1', amount: 4500, currency: 'eur', reason: 'late payment' } },
    ]);
  });
});

describe('refund policy', () => {
  const paidBooking = fold(bookingDecider, paid) as any;
  const cancelledBy = (by: 'attendee' | 'organizer' | 'system', kind: 'cancelled' | 'rejected' = 'cancelled') => ({ ...paidBooking, cancellation: { by, kind } });
  it('the attendee gets everything until the policy\'s hours before the start, its percentage after', () => {
    expect(refundAmount(cancelledBy('attendee'), '2030-01-06T09:00:00.000Z')).toBe(4500);
    expect(refundAmount(cancelledBy('attendee'), '2030-01-06T09:00:00.001Z')).toBe(2250);
    expect(refundAmount(cancelledBy('attendee'), '2030-01-07T10:00:00.000Z')).toBe(2250);
  });
  it('the organizer cancelling or rejecting, and the system, always refund in full', () => {
    expect(refundAmount(cancelledBy('organizer'), '2030-01-07T08:59:00.000Z')).toBe(4500);
    expect(refundAmount(cancelledBy('organizer', 'rejected'), '2030-01-07T08:59:00.000Z')).toBe(4500);
    expect(refundAmount(cancelledBy('system'), '2030-01-07T09:00:00.000Z')).toBe(4500);
  });
  it('no policy: a full refund; nothing paid: nothing back', () => {
    expect(refundAmount({ ...cancelledBy('attendee'), paymentTerms: { windowMinutes: 30 } }, '2030-01-07T08:59:00.000Z')).toBe(4500);
    expect(refundAmount({ ...cancelledBy('attendee'), payment: { ...paidBooking.payment, state: 'failed' } }, '2030-01-01T00:00:00.000Z')).toBe(0);
    expect(refundAmount({ ...cancelledBy('attendee'), paymentTerms: { windowMinutes: 30, refundPolicy: { fullRefundUntilHoursBefore: 48, laterRefundPercent: 0 } } }, '2030-01-06T09:00:00.000Z')).toBe(0);
  });
});
