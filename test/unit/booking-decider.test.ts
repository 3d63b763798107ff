import { describe, it, expect } from 'vitest';
import { DomainError, fold } from '../../shared/domain/decider.ts';
import { bookingDecider, type BookingCommand, type BookingEvent, type BookingRequest, type BookingStatus } from '../../shared/booking/decider.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(bookingDecider);
const start = '2030-01-07T09:00:00.000Z';
const end = '2030-01-07T09:30:00.000Z';
const request: BookingRequest = {
  eventTypeId: 'et-1',
  organizerId: 'org-1',
  hostIds: ['org-1'],
  title: 'Intro call',
  start,
  end,
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 0,
  attendee: { name: 'Ada', email: 'ada@example.com', timeZone: 'Europe/Berlin' },
  requiresConfirmation: false,
};
const times = { start, end };

const requested: BookingEvent = { type: 'booking.requested', payload: request };
const created = (awaiting: 'nothing' | 'confirmation' | 'payment'): BookingEvent => ({
  type: 'booking.created',
  payload: { eventTypeId: 'et-1', organizerId: 'org-1', hostIds: ['org-1'], ...times, awaiting },
});
const confirmed = (by: 'system' | 'organizer' = 'system'): BookingEvent => ({ type: 'booking.confirmed', payload: { confirmedBy: by, ...times } });
const expiresAt = '2030-01-01T12:30:00.000Z';
const paymentInitiated: BookingEvent = { type: 'payment.initiated', payload: { paymentId: 'pay-1', provider: 'stripe', amount: 5000, currency: 'EUR', attempt: 1, expiresAt } };
const paymentFailed: BookingEvent = { type: 'payment.failed', payload: { paymentId: 'pay-1', reason: 'card_declined' } };
const later = { start: '2030-01-08T10:00:00.000Z', end: '2030-01-08T10:30:00.000Z' };
const rescheduled: BookingEvent = {
  type: 'booking.rescheduled',
  payload: { previousStart: start, previousEnd: end, ...later, rescheduledBy: 'attendee' },
};
const cancelled: BookingEvent = { type: 'booking.cancelled', payload: { reason: 'conflict', cancelledBy: 'attendee' } };
const paid = { ...request, price: { amount: 5000, currency: 'EUR' } };
const needingConfirmation: BookingEvent[] = [
  { type: 'booking.requested', payload: { ...request, requiresConfirmation: true } },
  created('confirmation'),
  confirmed('organizer'),
];

/** One history that ends in each state of the seed's diagram. */
const histories: Record<BookingStatus, BookingEvent[]> = {
  draft: [requested],
  pending_payment: [{ type: 'booking.requested', payload: paid }, created('payment'), paymentInitiated],
  confirmed: [requested, created('nothing'), confirmed()],
  payment_failed: [{ type: 'booking.requested', payload: paid }, created('payment'), paymentInitiated, paymentFailed],
  rescheduled: [...needingConfirmation, rescheduled],
  cancelled: [requested, created('nothing'), confirmed(), cancelled],
  completed: [requested, created('nothing'), confirmed(), { type: 'booking.completed', payload: { completedAt: '2030-01-07T10:00:00.000Z' } }],
};

describe('booking decider: the transitions of the seed diagram', () => {
  it('[*] -> Draft: a request records booking.requested', () => {
    spec.given([]).when({ type: 'RequestBooking', request }).then([requested]);
  });

  it('Draft -> Confirmed (submit without payment): the workflow accepts and confirms at once', () => {
    spec.given([requested]).when({ type: 'AcceptBooking' }).then([created('nothing'), confirmed('system')]);
  });

  it('Draft -> PendingPayment (submit with payment)', () => {
    spec.given([{ type: 'booking.requested', payload: paid }, created('payment')])
      .when({ type: 'InitiatePayment', paymentId: 'pay-1', amount: 5000, currency: 'EUR', attempt: 1, expiresAt })
      .then([paymentInitiated]);
  });

  it('PendingPayment -> Confirmed (payment successful)', () => {
    spec.given(histories.pending_payment).when({ type: 'CompletePayment', paymentId: 'pay-1' }).then([
      { type: 'payment.completed', payload: { paymentId: 'pay-1', amount: 5000, currency: 'EUR' } },
      confirmed('system'),
    ]);
  });

  it('PendingPayment -> PaymentFailed', () => {
    spec.given(histories.pending_payment).when({ type: 'FailPayment', paymentId: 'pay-1', reason: 'card_declined' }).then([paymentFailed]);
  });

  it('PaymentFailed -> PendingPayment (retry payment)', () => {
    const retry = { type: 'payment.initiated' as const, payload: { paymentId: 'pay-2', provider: 'stripe' as const, amount: 5000, currency: 'EUR', attempt: 2, expiresAt } };
    spec.given(histories.payment_failed).when({ type: 'InitiatePayment', paymentId: 'pay-2', amount: 5000, currency: 'EUR', attempt: 2, expiresAt }).then([retry]);
  });

  it('PaymentFailed -> Cancelled', () => {
    spec.given(histories.payment_failed).when({ type: 'Cancel', by: 'attendee', reason: 'conflict' }).then([cancelled]);
  });

  it('Confirmed -> Rescheduled, and only a confirmed booking can be rescheduled', () => {
    spec.given(needingConfirmation).when({ type: 'Reschedule', by: 'attendee', ...later }).then([rescheduled]);
    spec.given(histories.rescheduled).when({ type: 'Reschedule', by: 'attendee', ...later }).thenThrows('InvalidTransition');
  });

  it('Rescheduled -> Confirmed at once when the event type needs no confirmation', () => {
    spec.given(histories.confirmed).when({ type: 'Reschedule', by: 'attendee', ...later }).then([
      rescheduled,
      { type: 'booking.confirmed', payload: { confirmedBy: 'system', ...later } },
    ]);
  });

  it('Confirmed -> Cancelled', () => {
    spec.given(histories.confirmed).when({ type: 'Cancel', by: 'attendee', reason: 'conflict' }).then([cancelled]);
  });

  it('Rescheduled -> Confirmed (confirm new time) at the new time', () => {
    spec.given(histories.rescheduled).when({ type: 'Confirm', by: 'organizer' }).then([
      { type: 'booking.confirmed', payload: { confirmedBy: 'organizer', ...later } },
    ]);
  });

  it('Rescheduled -> Cancelled (cancel reschedule)', () => {
    spec.given(histories.rescheduled).when({ type: 'Cancel', by: 'organizer' }).then([
      { type: 'booking.cancelled', payload: { cancelledBy: 'organizer', reason: undefined } },
    ]);
  });

  it('Confirmed -> [*] (completed), only once the meeting has ended', () => {
    spec.given(histories.confirmed).when({ type: 'Complete', now: '2030-01-07T09:30:00.000Z' }).then([
      { type: 'booking.completed', payload: { completedAt: '2030-01-07T09:30:00.000Z' } },
    ]);
    spec.given(histories.confirmed).when({ type: 'Complete', now: '2030-01-07T09:29:00.000Z' }).thenThrows('NotEnded');
  });

  it('a cancelled booking cannot be cancelled again', () => {
    spec.given(histories.cancelled).when({ type: 'Cancel', by: 'attendee' }).thenThrows('AlreadyCancelled');
  });
});

describe('booking decider: the lifecycle around the diagram', () => {
  it('with requiresConfirmation the booking waits in Draft until the organizer confirms or rejects', () => {
    const needsOk: BookingEvent = { type: 'booking.requested', payload: { ...request, requiresConfirmation: true } };
    spec.given([needsOk]).when({ type: 'AcceptBooking' }).then([created('confirmation')]);
    spec.given([needsOk, created('confirmation')]).when({ type: 'Confirm', by: 'organizer' }).then([confirmed('organizer')]);
    spec.given([needsOk, created('confirmation')]).when({ type: 'Reject', reason: 'busy' }).then([{ type: 'booking.rejected', payload: { reason: 'busy' } }]);
    expect(fold(bookingDecider, [needsOk, created('confirmation'), { type: 'booking.rejected', payload: {} }]).status).toBe('cancelled');
  });

  it('a failed creation ends the draft as cancelled with the reason', () => {
    spec.given([requested]).when({ type: 'FailCreation', reason: 'host busy', step: 'CheckAvailability' }).then([
      { type: 'booking.creation.failed', payload: { reason: 'host busy', step: 'CheckAvailability' } },
    ]);
    const state = fold(bookingDecider, [requested, { type: 'booking.creation.failed', payload: { reason: 'host busy', step: 'CheckAvailability' } }]);
    expect(state).toMatchObject({ status: 'cancelled', cancellation: { kind: 'creation_failed', reason: 'host busy' } });
  });

  it('a cancelled paid booking can be refunded once', () => {
    const paidAndCancelled: BookingEvent[] = [
      ...histories.pending_payment,
      { type: 'payment.completed', payload: { paymentId: 'pay-1', amount: 5000, currency: 'EUR' } },
      confirmed(),
      cancelled,
    ];
    spec.given(paidAndCancelled).when({ type: 'RefundPayment', paymentId: 'pay-1', amount: 5000 }).then([
      { type: 'payment.refunded', payload: { paymentId: 'pay-1', amount: 5000, currency: 'EUR', reason: undefined } },
    ]);
    spec.given([...paidAndCancelled, { type: 'payment.refunded', payload: { paymentId: 'pay-1', amount: 5000, currency: 'EUR' } }])
      .when({ type: 'RefundPayment', paymentId: 'pay-1', amount: 5000 })
      .thenNothing();
  });

  it('folding a history gives the status named by its last transition', () => {
    for (const [status, history] of Object.entries(histories)) expect(fold(bookingDecider, history).status).toBe(status);
  });
});

describe('booking decider: expiry of bookings nobody confirmed', () => {
  const needsOk: BookingEvent = { type: 'booking.requested', payload: { ...request, requiresConfirmation: true } };
  const expired: BookingEvent = { type: 'booking.cancelled', payload: { reason: 'not confirmed before the meeting started', cancelledBy: 'system' } };
  it('cancels a booking still waiting for the organizer once it has started, not before', () => {
    spec.given([needsOk, created('confirmation')]).when({ type: 'Expire', now: start }).then([expired]);
    spec.given([needsOk, created('confirmation')]).when({ type: 'Expire', now: '2030-01-07T08:59:00.000Z' }).thenThrows('NotStarted');
    spec.given(histories.rescheduled).when({ type: 'Expire', now: '2031-01-01T00:00:00.000Z' }).then([expired]);
  });
  it('leaves confirmed and paid-for bookings alone', () => {
    spec.given(histories.confirmed).when({ type: 'Expire', now: '2031-01-01T00:00:00.000Z' }).thenThrows('InvalidTransition');
    spec.given(histories.pending_payment).when({ type: 'Expire', now: '2031-01-01T00:00:00.000Z' }).thenThrows('InvalidTransition');
  });
});

describe('booking decider: workflow commands are idempotent, people are told', () => {
  it('accepting twice records nothing the second time', () => {
    spec.given(histories.confirmed).when({ type: 'Confirm', by: 'system' }).thenNothing();
    spec.given([requested, created('nothing'), confirmed()]).when({ type: 'AcceptBooking' }).thenThrows('InvalidTransition');
    spec.given([{ type: 'booking.requested', payload: paid }, created('payment')]).when({ type: 'AcceptBooking' }).thenNothing();
  });

  it('an organizer confirming a confirmed booking is told so', () => {
    spec.given(histories.confirmed).when({ type: 'Confirm', by: 'organizer' }).thenThrows('AlreadyConfirmed');
  });

  it('a second request for an existing booking is refused', () => {
    spec.given([requested]).when({ type: 'RequestBooking', request }).thenThrows('BookingExists');
  });
});

describe('booking decider: every transition outside the diagram is refused', () => {
  // For each state, the people-facing commands it accepts; everything else must throw a DomainError.
  const allowed: Record<BookingStatus, Array<BookingCommand['type']>> = {
    draft: ['FailCreation', 'UpdateDetails'],
    // FailCreation from the payment states is the workflow's compensation when a step breaks mid-payment.
    pending_payment: ['CompletePayment', 'FailPayment', 'FailCreation', 'UpdateDetails'],
    confirmed: ['Cancel', 'Reschedule', 'Complete', 'UpdateDetails'],
    payment_failed: ['InitiatePayment', 'Cancel', 'FailCreation', 'UpdateDetails'],
    rescheduled: ['Confirm', 'Cancel', 'UpdateDetails'],
    cancelled: [],
    completed: [],
  };
  const commands: BookingCommand[] = [
    { type: 'Confirm', by: 'organizer' },
    { type: 'Reject', reason: 'no' },
    { type: 'InitiatePayment', paymentId: 'pay-9', amount: 5000, currency: 'EUR', attempt: 2, expiresAt },
    { type: 'CompletePayment', paymentId: 'pay-1' },
    { type: 'FailPayment', paymentId: 'pay-1', reason: 'declined' },
    { type: 'Cancel', by: 'attendee' },
    { type: 'Reschedule', by: 'attendee', start: '2030-02-01T09:00:00.000Z', end: '2030-02-01T09:30:00.000Z' },
    { type: 'Complete', now: '2031-01-01T00:00:00.000Z' },
    { type: 'UpdateDetails', changes: { notes: 'bring slides' } },
    { type: 'FailCreation', reason: 'x', step: 'Validate' },
  ];
  for (const [status, history] of Object.entries(histories) as Array<[BookingStatus, BookingEvent[]]>) {
    for (const command of commands) {
      const permitted = allowed[status].includes(command.type);
      it(`${status} ${permitted ? 'accepts' : 'refuses'} ${command.type}`, () => {
        const state = fold(bookingDecider, history);
        if (permitted) {
          const events = bookingDecider.decide(command, state);
          expect(events.length).toBeGreaterThan(0);
          expect(bookingDecider.evolve(state, events[0]!).status).not.toBe('none');
        } else if (status === 'payment_failed' && command.type === 'FailPayment') {
          // The same failure reported again (Stripe redelivers) is a workflow repeat: nothing new, nothing refused.
          expect(bookingDecider.decide(command, state)).toEqual([]);
        } else {
          expect(() => bookingDecider.decide(command, state)).toThrow(DomainError);
        }
      });
    }
  }
});
