import { describe, it, expect } from 'vitest';
import { DomainError, fold } from '../../shared/domain/decider.ts';
import {
  bookingDecider,
  holdsTime,
  strandedAfterMinutes,
  strandedAt,
  waitingFor,
  type Booking,
  type BookingCommand,
  type BookingEvent,
  type BookingRequest,
  type BookingStatus,
} from '../../shared/booking/decider.ts';
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

const requestedAt = '2030-01-01T08:00:00.000Z';
/** What the decider returns for the request. */
const requestDecided: BookingEvent = { type: 'booking.requested', payload: request };
/** The same event as loaded from the store: its envelope says when it was recorded. */
const requested: BookingEvent = { ...requestDecided, metadata: { timestamp: requestedAt } };
const requestedWith = (changes: Partial<BookingRequest>): BookingEvent => ({ type: 'booking.requested', payload: { ...request, ...changes }, metadata: { timestamp: requestedAt } });
const created = (awaiting: 'nothing' | 'confirmation' | 'payment'): BookingEvent => ({
  type: 'booking.created',
  payload: { eventTypeId: 'et-1', organizerId: 'org-1', hostIds: ['org-1'], ...times, awaiting },
});
const confirmed = (by: 'system' | 'organizer' = 'system'): BookingEvent => ({ type: 'booking.confirmed', payload: { confirmedBy: by, ...times } });
const paymentExpiresAt = '2030-01-01T10:30:00.000Z';
const paymentInitiated: BookingEvent = { type: 'payment.initiated', payload: { paymentId: 'pay-1', provider: 'stripe', amount: 5000, currency: 'EUR', attempt: 1, expiresAt: paymentExpiresAt } };
const paymentFailed: BookingEvent = { type: 'payment.failed', payload: { paymentId: 'pay-1', reason: 'card_declined' } };
const later = { start: '2030-01-08T10:00:00.000Z', end: '2030-01-08T10:30:00.000Z' };
const rescheduled: BookingEvent = {
  type: 'booking.rescheduled',
  payload: { previousStart: start, previousEnd: end, ...later, rescheduledBy: 'attendee' },
};
const cancelled: BookingEvent = { type: 'booking.cancelled', payload: { reason: 'conflict', cancelledBy: 'attendee' } };
const paid = { ...request, price: { amount: 5000, currency: 'EUR' } };
const needingConfirmation: BookingEvent[] = [
  requestedWith({ requiresConfirmation: true }),
  created('confirmation'),
  confirmed('organizer'),
];

/** One history that ends in each state of the seed's diagram. */
const histories: Record<BookingStatus, BookingEvent[]> = {
  draft: [requested],
  pending_payment: [requestedWith({ price: paid.price }), created('payment'), paymentInitiated],
  confirmed: [requested, created('nothing'), confirmed()],
  payment_failed: [requestedWith({ price: paid.price }), created('payment'), paymentInitiated, paymentFailed],
  rescheduled: [...needingConfirmation, rescheduled],
  cancelled: [requested, created('nothing'), confirmed(), cancelled],
  completed: [requested, created('nothing'), confirmed(), { type: 'booking.completed', payload: { completedAt: '2030-01-07T10:00:00.000Z' } }],
};

describe('booking decider: the transitions of the seed diagram', () => {
  it('[*] -> Draft: a request records booking.requested', () => {
    spec.given([]).when({ type: 'RequestBooking', request }).then([requestDecided]);
  });

  it('Draft -> Confirmed (submit without payment): the workflow accepts and confirms at once', () => {
    spec.given([requested]).when({ type: 'AcceptBooking' }).then([created('nothing'), confirmed('system')]);
  });

  it('Draft -> PendingPayment (submit with payment)', () => {
    spec.given([requestedWith({ price: paid.price }), created('payment')])
      .when({ type: 'InitiatePayment', paymentId: 'pay-1', amount: 5000, currency: 'EUR', attempt: 1, expiresAt: paymentExpiresAt })
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
    const retry = { type: 'payment.initiated' as const, payload: { paymentId: 'pay-2', provider: 'stripe' as const, amount: 5000, currency: 'EUR', attempt: 2, expiresAt: paymentExpiresAt } };
    spec.given(histories.payment_failed).when({ type: 'InitiatePayment', paymentId: 'pay-2', amount: 5000, currency: 'EUR', attempt: 2, expiresAt: paymentExpiresAt }).then([retry]);
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
    const needsOk = requestedWith({ requiresConfirmation: true });
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
  const needsOk = requestedWith({ requiresConfirmation: true });
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
    spec.given([requestedWith({ price: paid.price }), created('payment')]).when({ type: 'AcceptBooking' }).thenNothing();
  });

  it('an organizer confirming a confirmed booking is told so', () => {
    spec.given(histories.confirmed).when({ type: 'Confirm', by: 'organizer' }).thenThrows('AlreadyConfirmed');
  });

  it('a second request for an existing booking is refused', () => {
    spec.given([requested]).when({ type: 'RequestBooking', request }).thenThrows('BookingExists');
  });
});

describe('booking decider: time held by a booking always has a way out', () => {
  const needsOk = requestedWith({ requiresConfirmation: true });
  const awaitingConfirmation = [needsOk, created('confirmation')];
  const awaitingPayment = [requestedWith({ price: paid.price }), created('payment')];
  const cancelledBy = (by: 'organizer' | 'attendee' | 'system', reason?: string): BookingEvent => ({ type: 'booking.cancelled', payload: { reason, cancelledBy: by } });
  const released: BookingEvent = {
    type: 'booking.creation.failed',
    payload: { step: 'Timeout', reason: 'the booking workflow did not accept or refuse the booking within 15 minutes of the request' },
  };

  it('the organizer cancels a draft the workflow has not taken up, or one awaiting confirmation or a payment', () => {
    spec.given([requested]).when({ type: 'Cancel', by: 'organizer', reason: 'stuck' }).then([cancelledBy('organizer', 'stuck')]);
    spec.given(awaitingConfirmation).when({ type: 'Cancel', by: 'organizer' }).then([cancelledBy('organizer')]);
    spec.given(awaitingPayment).when({ type: 'Cancel', by: 'organizer' }).then([cancelledBy('organizer')]);
    spec.given(histories.pending_payment).when({ type: 'Cancel', by: 'organizer' }).then([cancelledBy('organizer')]);
  });

  it('the attendee withdraws a request that waits for confirmation or a payment; the system (a deleted user) may too', () => {
    spec.given(awaitingConfirmation).when({ type: 'Cancel', by: 'attendee', reason: 'found another time' }).then([cancelledBy('attendee', 'found another time')]);
    spec.given(histories.pending_payment).when({ type: 'Cancel', by: 'attendee' }).then([cancelledBy('attendee')]);
    spec.given([requested]).when({ type: 'Cancel', by: 'system', reason: 'user deleted' }).then([cancelledBy('system', 'user deleted')]);
  });

  it('a cancelled pending booking holds no time and waits for nothing', () => {
    const state = fold(bookingDecider, [...awaitingConfirmation, cancelledBy('attendee')]);
    expect(holdsTime(state)).toBe(false);
    expect(waitingFor(state)).toBeUndefined();
    expect(state).toMatchObject({ status: 'cancelled', cancellation: { by: 'attendee', kind: 'cancelled' } });
  });

  it('the organizer rejects a request that needs confirmation even before the workflow has checked it, and nothing else', () => {
    spec.given([needsOk]).when({ type: 'Reject', reason: 'not a fit' }).then([{ type: 'booking.rejected', payload: { reason: 'not a fit' } }]);
    spec.given([requested]).when({ type: 'Reject' }).thenThrows('InvalidTransition');
    spec.given(awaitingPayment).when({ type: 'Reject' }).thenThrows('InvalidTransition');
    spec.given(histories.pending_payment).when({ type: 'Reject' }).thenThrows('InvalidTransition');
  });

  it('the system releases a draft its workflow has not taken up once it is stranded, and not a minute before', () => {
    spec.given([requested]).when({ type: 'ReleaseStranded', now: '2030-01-01T08:15:00.000Z' }).then([released]);
    spec.given([requested]).when({ type: 'ReleaseStranded', now: '2030-01-01T08:14:59.999Z' }).thenThrows('NotStranded');
    const state = fold(bookingDecider, [requested, released]);
    expect(state).toMatchObject({ status: 'cancelled', cancellation: { by: 'system', kind: 'creation_failed', step: 'Timeout' } });
    expect(holdsTime(state)).toBe(false);
  });

  it('counts the stranded bound from when the request was recorded; without that time it cannot tell', () => {
    expect(fold(bookingDecider, [requested])).toMatchObject({ requestedAt });
    expect(strandedAt(fold(bookingDecider, [requested]) as Booking)).toBe(`2030-01-01T08:${String(strandedAfterMinutes).padStart(2, '0')}:00.000Z`);
    spec.given([requestDecided]).when({ type: 'ReleaseStranded', now: '2031-01-01T00:00:00.000Z' }).thenThrows('NotStranded');
  });

  it('a draft the workflow took up, refused, or someone ended is not stranded', () => {
    const later = '2031-01-01T00:00:00.000Z';
    spec.given(awaitingConfirmation).when({ type: 'ReleaseStranded', now: later }).thenThrows('InvalidTransition');
    spec.given(awaitingPayment).when({ type: 'ReleaseStranded', now: later }).thenThrows('InvalidTransition');
    spec.given([requested, released]).when({ type: 'ReleaseStranded', now: later }).thenThrows('InvalidTransition');
    spec.given([requested, cancelledBy('attendee')]).when({ type: 'ReleaseStranded', now: later }).thenThrows('InvalidTransition');
  });

  it('a workflow that comes late changes nothing: its compensation is a no-op and it cannot accept', () => {
    spec.given([requested, released]).when({ type: 'FailCreation', reason: 'host busy', step: 'CheckAvailability' }).thenNothing();
    spec.given([requested, cancelledBy('organizer')]).when({ type: 'FailCreation', reason: 'host busy', step: 'CheckAvailability' }).thenNothing();
    spec.given([needsOk, { type: 'booking.rejected', payload: {} }]).when({ type: 'FailCreation', reason: 'x', step: 'Validate' }).thenNothing();
    spec.given([requested, released]).when({ type: 'AcceptBooking' }).thenThrows('InvalidTransition');
    spec.given([requested, cancelledBy('attendee')]).when({ type: 'AcceptBooking' }).thenThrows('InvalidTransition');
  });
});

describe('booking decider: what a booking waits for', () => {
  it('names what still holds the booking back, and nothing once it is settled', () => {
    const awaitingConfirmation = [requestedWith({ requiresConfirmation: true }), created('confirmation')];
    expect(waitingFor(fold(bookingDecider, [requested]))).toBe('workflow');
    expect(waitingFor(fold(bookingDecider, awaitingConfirmation))).toBe('confirmation');
    expect(waitingFor(fold(bookingDecider, [requestedWith({ price: paid.price }), created('payment')]))).toBe('payment');
    expect(waitingFor(fold(bookingDecider, histories.pending_payment))).toBe('payment');
    expect(waitingFor(fold(bookingDecider, histories.payment_failed))).toBe('payment');
    expect(waitingFor(fold(bookingDecider, histories.rescheduled))).toBe('confirmation');
    // The state keeps what booking.created said; what the booking waits for follows where it went since.
    for (const settled of [histories.confirmed, needingConfirmation, [...awaitingConfirmation, { type: 'booking.rejected', payload: {} } as BookingEvent], histories.cancelled, histories.completed]) {
      expect(waitingFor(fold(bookingDecider, settled))).toBeUndefined();
    }
  });
});

describe('booking decider: every transition outside the allowed set is refused', () => {
  // Each situation a booking can be in, and the commands of people and of the system that it accepts; a
  // workflow command that comes again, or too late, records nothing; every other command must throw a DomainError.
  type Situation = { history: BookingEvent[]; allowed: string[]; nothing?: string[] };
  const situations: Record<string, Situation> = {
    'draft, workflow not yet run': { history: [requested], allowed: ['FailCreation', 'Cancel', 'ReleaseStranded', 'UpdateDetails'] },
    'draft request, workflow not yet run': { history: [requestedWith({ requiresConfirmation: true })], allowed: ['FailCreation', 'Reject', 'Cancel', 'ReleaseStranded', 'UpdateDetails'] },
    'draft awaiting confirmation': {
      history: [requestedWith({ requiresConfirmation: true }), created('confirmation')],
      allowed: ['Confirm', 'Reject', 'Cancel', 'Expire', 'FailCreation', 'UpdateDetails'],
    },
    'draft awaiting payment': {
      history: [requestedWith({ price: paid.price }), created('payment')],
      allowed: ['InitiatePayment (attempt 1)', 'Cancel', 'FailCreation', 'UpdateDetails'],
    },
    // FailCreation from the payment states is the workflow's compensation when a step breaks mid-payment; a
    // refund of the current attempt is the late-charge case (paid after its attempt closed).
    pending_payment: { history: histories.pending_payment, allowed: ['CompletePayment', 'FailPayment', 'Cancel', 'ExpirePayment', 'RefundPayment', 'FailCreation', 'UpdateDetails'] },
    confirmed: { history: histories.confirmed, allowed: ['Cancel', 'Reschedule', 'Complete', 'UpdateDetails'] },
    payment_failed: { history: histories.payment_failed, allowed: ['InitiatePayment (attempt 2)', 'Cancel', 'ExpirePayment', 'RefundPayment', 'FailCreation', 'UpdateDetails'], nothing: ['FailPayment'] },
    rescheduled: { history: histories.rescheduled, allowed: ['Confirm', 'Cancel', 'Expire', 'UpdateDetails'] },
    cancelled: { history: histories.cancelled, allowed: [], nothing: ['ExpirePayment'] },
    'released as stranded': {
      history: [requested, { type: 'booking.creation.failed', payload: { step: 'Timeout', reason: 'stranded' } }],
      allowed: [],
      nothing: ['FailCreation', 'ExpirePayment'],
    },
    'cancelled before the workflow ran': { history: [requested, { type: 'booking.cancelled', payload: { cancelledBy: 'attendee' } }], allowed: [], nothing: ['FailCreation', 'ExpirePayment'] },
    completed: { history: histories.completed, allowed: [] },
  };
  const far = '2031-01-01T00:00:00.000Z';
  const commands: Array<[string, BookingCommand]> = [
    ['Confirm', { type: 'Confirm', by: 'organizer' }],
    ['Reject', { type: 'Reject', reason: 'no' }],
    ['InitiatePayment (attempt 1)', { type: 'InitiatePayment', paymentId: 'pay-9', amount: 5000, currency: 'EUR', attempt: 1, expiresAt: far }],
    ['InitiatePayment (attempt 2)', { type: 'InitiatePayment', paymentId: 'pay-9', amount: 5000, currency: 'EUR', attempt: 2, expiresAt: far }],
    ['CompletePayment', { type: 'CompletePayment', paymentId: 'pay-1' }],
    ['FailPayment', { type: 'FailPayment', paymentId: 'pay-1', reason: 'declined' }],
    ['ExpirePayment', { type: 'ExpirePayment', now: far }],
    ['RefundPayment', { type: 'RefundPayment', paymentId: 'pay-1', amount: 5000 }],
    ['Cancel', { type: 'Cancel', by: 'attendee' }],
    ['Cancel', { type: 'Cancel', by: 'organizer' }],
    ['Reschedule', { type: 'Reschedule', by: 'attendee', start: '2030-02-01T09:00:00.000Z', end: '2030-02-01T09:30:00.000Z' }],
    ['Complete', { type: 'Complete', now: far }],
    ['Expire', { type: 'Expire', now: far }],
    ['ReleaseStranded', { type: 'ReleaseStranded', now: far }],
    ['UpdateDetails', { type: 'UpdateDetails', changes: { notes: 'bring slides' } }],
    ['FailCreation', { type: 'FailCreation', reason: 'x', step: 'Validate' }],
  ];
  for (const [situation, { history, allowed, nothing = [] }] of Object.entries(situations)) {
    for (const [name, command] of commands) {
      const permitted = allowed.includes(name);
      const repeated = nothing.includes(name);
      const by = 'by' in command ? ` by the ${command.by}` : '';
      it(`${situation} ${permitted ? 'accepts' : repeated ? 'records nothing for' : 'refuses'} ${name}${by}`, () => {
        const state = fold(bookingDecider, history);
        if (repeated) {
          expect(bookingDecider.decide(command, state)).toEqual([]);
        } else if (permitted) {
          const events = bookingDecider.decide(command, state);
          expect(events.length).toBeGreaterThan(0);
          expect(bookingDecider.evolve(state, events[0]!).status).not.toBe('none');
        } else {
          expect(() => bookingDecider.decide(command, state)).toThrow(DomainError);
        }
      });
    }
  }
});
