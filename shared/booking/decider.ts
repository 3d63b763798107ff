import type * as z from '../../events/zod.ts';
import type { Event, EventMetadata } from '../../events/envelope.ts';
import type { EventTypeName, PayloadOf } from '../../events/catalog.ts';
import type { attendeeSchema, actorSchema, priceSchema } from '../../events/booking.ts';
import { DomainError, definedOnly, notFound, unreachable, type Decider } from '../domain/decider.ts';

/** The seed's booking states, as the API spells them. */
export const bookingStatuses = ['draft', 'pending_payment', 'confirmed', 'payment_failed', 'rescheduled', 'cancelled', 'completed'] as const;
export type BookingStatus = (typeof bookingStatuses)[number];
export type Actor = z.infer<typeof actorSchema>;

type BookingEventName = Extract<EventTypeName, `booking.${string}` | `payment.${string}`>;
/**
 * A booking event as decided, or as stored and loaded: a stored one carries its envelope's metadata, whose
 * timestamp tells the booking when it was requested (the stranded-draft rule counts from there).
 */
export type BookingEvent = { [T in BookingEventName]: Event<T, PayloadOf<T>> & { metadata?: Pick<EventMetadata, 'timestamp'> } }[BookingEventName];

export type BookingRequest = PayloadOf<'booking.requested'>;

export type Booking = BookingRequest & {
  status: BookingStatus;
  /** When booking.requested was recorded (its envelope's timestamp). */
  requestedAt?: string;
  /** Set by booking.created: the workflow's checks passed and the booking waits for nothing, a confirmation or a payment. */
  awaiting?: PayloadOf<'booking.created'>['awaiting'];
  /** The current payment attempt; `refundedPayments` names every attempt whose money went back. */
  payment?: {
    paymentId: string;
    amount: number;
    currency: string;
    attempt: number;
    expiresAt: string;
    state: 'initiated' | 'completed' | 'failed' | 'refunded';
    failure?: { reason: string; code?: string; declineCode?: string };
    refundedAmount?: number;
  };
  /** Every PaymentIntent the booking ever started, and those refunded: a late charge is refunded only once. */
  paymentIds?: string[];
  refundedPayments?: string[];
  cancellation?: { by: Actor; reason?: string; kind: 'cancelled' | 'rejected' | 'creation_failed'; step?: string };
  previousTimes?: Array<{ start: string; end: string }>;
  notes?: string;
  location?: string;
};
export type BookingState = { status: 'none' } | Booking;

export type BookingCommand =
  | { type: 'RequestBooking'; request: BookingRequest }
  | { type: 'AcceptBooking' }
  | { type: 'FailCreation'; reason: string; step: string }
  | { type: 'Confirm'; by: Actor }
  | { type: 'Reject'; reason?: string }
  | { type: 'InitiatePayment'; paymentId: string; amount: number; currency: string; attempt: number; expiresAt: string }
  | { type: 'CompletePayment'; paymentId: string }
  | { type: 'FailPayment'; paymentId: string; reason: string; code?: string; declineCode?: string }
  | { type: 'ExpirePayment'; now: string }
  | { type: 'RefundPayment'; paymentId: string; amount: number; reason?: string }
  | { type: 'Cancel'; by: Actor; reason?: string }
  | { type: 'Reschedule'; by: Actor; start: string; end: string }
  | { type: 'Complete'; now: string }
  | { type: 'Expire'; now: string }
  | { type: 'ReleaseStranded'; now: string }
  | { type: 'UpdateDetails'; changes: PayloadOf<'booking.updated'>['changes'] };

export type Attendee = z.infer<typeof attendeeSchema>;
export type Price = z.infer<typeof priceSchema>;

const refuse = (code: string, message: string): never => {
  throw new DomainError(code, message);
};

function existing(state: BookingState): Booking {
  if (state.status === 'none') throw notFound('BookingNotFound', 'booking does not exist');
  return state;
}

function invalidTransition(booking: Booking, command: BookingCommand['type']): never {
  return refuse('InvalidTransition', `cannot ${command} a booking that is ${booking.status}`);
}

/**
 * How long the workflow has to take a requested booking past its first step (accept it, or refuse it in
 * booking.creation.failed). Its steps take seconds; a draft still untouched after this is stranded (its
 * booking.requested was never published, the workflow never started, or it died before it could fail the
 * booking) and the settle sweep releases it.
 */
export const strandedAfterMinutes = 15;

/** When a draft the workflow has not yet taken up counts as stranded; unknown without the request's time. */
export function strandedAt(booking: Booking): string | undefined {
  if (!booking.requestedAt) return undefined;
  return new Date(Date.parse(booking.requestedAt) + strandedAfterMinutes * 60_000).toISOString();
}

/** What a booking waits for before it can move on; nothing once it is confirmed, cancelled or completed. */
export type Waiting = 'workflow' | 'confirmation' | 'payment';

/**
 * The one reading of "what is this booking waiting for": its workflow (a draft not yet accepted), the
 * organizer's confirmation (a request, or a move to a new time), or a payment (not yet made, or failed and open
 * to a retry). The state's `awaiting` is what booking.created said; this is what still holds.
 */
export function waitingFor(state: BookingState): Waiting | undefined {
  switch (state.status) {
    case 'draft':
      if (state.awaiting === undefined) return 'workflow';
      return state.awaiting === 'nothing' ? undefined : state.awaiting;
    case 'pending_payment':
    case 'payment_failed':
      return 'payment';
    case 'rescheduled':
      return 'confirmation';
    default:
      return undefined;
  }
}

function awaitingOf(request: BookingRequest): Booking['awaiting'] {
  if (request.price) return 'payment';
  return request.requiresConfirmation ? 'confirmation' : 'nothing';
}

/**
 * Commands the workflow sends may arrive twice (Step Functions retries a task whose Lambda timed out after
 * writing). They return no events when the booking is already where the command would take it; commands
 * from people are refused instead, so that a user learns their request changed nothing.
 */
export function decide(command: BookingCommand, state: BookingState): BookingEvent[] {
  if (command.type === 'RequestBooking') {
    if (state.status !== 'none') refuse('BookingExists', 'booking already exists');
    return [{ type: 'booking.requested', payload: command.request }];
  }
  const booking = existing(state);
  const times = { start: booking.start, end: booking.end };
  switch (command.type) {
    case 'AcceptBooking': {
      if (booking.status !== 'draft') return invalidTransition(booking, command.type);
      if (booking.awaiting) return [];
      const awaiting = awaitingOf(booking)!;
      const created: BookingEvent = {
        type: 'booking.created',
        payload: { eventTypeId: booking.eventTypeId, organizerId: booking.organizerId, hostIds: booking.hostIds, ...times, awaiting },
      };
      if (awaiting !== 'nothing') return [created];
      return [created, { type: 'booking.confirmed', payload: { confirmedBy: 'system', ...times } }];
    }
    case 'FailCreation':
      if (booking.cancellation?.kind === 'creation_failed') return [];
      // Cancelled (or rejected) before the workflow accepted it: its time is already given back, nothing to undo.
      if (booking.status === 'cancelled' && booking.awaiting === undefined) return [];
      // A booking whose workflow breaks while it waits for its payment never finished being created either.
      if (booking.status !== 'draft' && booking.status !== 'pending_payment' && booking.status !== 'payment_failed') {
        return invalidTransition(booking, command.type);
      }
      return [{ type: 'booking.creation.failed', payload: { reason: command.reason, step: command.step } }];
    case 'Confirm': {
      const confirmed: BookingEvent = { type: 'booking.confirmed', payload: { confirmedBy: command.by, ...times } };
      if (booking.status === 'rescheduled') return [confirmed];
      if (booking.status === 'draft' && booking.awaiting === 'confirmation') return [confirmed];
      if (booking.status === 'confirmed') {
        return command.by === 'system' ? [] : refuse('AlreadyConfirmed', 'booking is already confirmed');
      }
      return invalidTransition(booking, command.type);
    }
    case 'Reject': {
      // A request that needs the organizer's yes may be declined once the workflow has checked it, and also
      // before, if the workflow has not got to it (or never will).
      const request = booking.status === 'draft' && (booking.awaiting === 'confirmation' || (booking.awaiting === undefined && booking.requiresConfirmation));
      if (request) return [{ type: 'booking.rejected', payload: { reason: command.reason } }];
      return invalidTransition(booking, command.type);
    }
    case 'InitiatePayment': {
      // The workflow's payment step may run twice for one attempt: the same PaymentIntent records nothing new.
      if (booking.status === 'pending_payment' && booking.payment?.paymentId === command.paymentId) return [];
      const firstAttempt = booking.status === 'draft' && booking.awaiting === 'payment' && !booking.payment;
      const retry = booking.status === 'payment_failed' && command.attempt === booking.payment!.attempt + 1;
      if (!firstAttempt && !retry) return invalidTransition(booking, command.type);
      if (firstAttempt && command.attempt !== 1) refuse('WrongAttempt', 'the first payment attempt is attempt 1');
      const { paymentId, amount, currency, attempt, expiresAt } = command;
      return [{ type: 'payment.initiated', payload: { paymentId, provider: 'stripe', amount, currency, attempt, expiresAt } }];
    }
    case 'CompletePayment': {
      if (booking.payment?.paymentId === command.paymentId && booking.payment.state === 'completed') return [];
      if (booking.status !== 'pending_payment') return invalidTransition(booking, command.type);
      if (booking.payment?.paymentId !== command.paymentId) refuse('UnknownPayment', `payment ${command.paymentId} is not this booking's current attempt`);
      const { amount, currency } = booking.payment!;
      const completed: BookingEvent = { type: 'payment.completed', payload: { paymentId: command.paymentId, amount, currency } };
      // Paid, and the event type also wants the organizer's yes: it waits for them as an unpaid one would.
      if (booking.requiresConfirmation) return [completed];
      return [completed, { type: 'booking.confirmed', payload: { confirmedBy: 'system', ...times } }];
    }
    case 'FailPayment': {
      const payment = booking.payment;
      // Stripe delivers out of order: a failure reported after the payment succeeded, or twice, changes nothing.
      if (payment?.paymentId === command.paymentId && payment.state !== 'initiated') return [];
      if (booking.status !== 'pending_payment') return invalidTransition(booking, command.type);
      if (payment?.paymentId !== command.paymentId) refuse('UnknownPayment', `payment ${command.paymentId} is not this booking's current attempt`);
      const { paymentId, reason, code, declineCode } = command;
      return [{ type: 'payment.failed', payload: definedOnly({ paymentId, reason, code, declineCode }) as PayloadOf<'payment.failed'> }];
    }
    case 'ExpirePayment': {
      // The payment window of the current attempt passed: an open payment fails as expired, and the booking lets
      // its time go. Step Functions starts the task's timer a moment before the attempt is stamped, hence the slack.
      if (booking.status === 'cancelled') return [];
      const payment = booking.payment;
      if ((booking.status !== 'pending_payment' && booking.status !== 'payment_failed') || !payment) return invalidTransition(booking, command.type);
      if (Date.parse(command.now) + TIMER_SLACK_MS < Date.parse(payment.expiresAt)) refuse('WindowOpen', `the payment window is open until ${payment.expiresAt}`);
      const released: BookingEvent = { type: 'booking.cancelled', payload: { reason: 'payment window passed', cancelledBy: 'system' } };
      if (booking.status === 'payment_failed') return [released];
      return [{ type: 'payment.failed', payload: { paymentId: payment.paymentId, reason: 'expired' } }, released];
    }
    case 'RefundPayment': {
      const { paymentId, amount, reason } = command;
      if (booking.refundedPayments?.includes(paymentId)) return [];
      if (!booking.paymentIds?.includes(paymentId)) refuse('UnknownPayment', `payment ${paymentId} is not this booking's`);
      const payment = booking.payment!;
      const current = payment.paymentId === paymentId;
      // A completed payment is refunded only once the booking has let its time go. A charge the booking never
      // took (it succeeded after its attempt failed, expired or was superseded) is refunded whatever the booking does.
      if (current && payment.state === 'completed') {
        if (booking.status !== 'cancelled') return invalidTransition(booking, command.type);
        if (amount > payment.amount) refuse('RefundTooLarge', `at most ${payment.amount} can be refunded`);
      }
      return [{ type: 'payment.refunded', payload: { paymentId, amount, currency: payment.currency, reason } }];
    }
    case 'Cancel':
      // Whatever a booking still waits for (its workflow, a confirmation, a payment), whoever may manage it can
      // let it go: time held by a booking must always have a way out. Only an ended booking stays as it is.
      if (booking.status === 'cancelled') refuse('AlreadyCancelled', 'booking is already cancelled');
      if (booking.status === 'completed') return invalidTransition(booking, command.type);
      return [{ type: 'booking.cancelled', payload: { reason: command.reason, cancelledBy: command.by } }];
    case 'Reschedule':
      if (booking.status !== 'confirmed') refuse('InvalidTransition', 'only a confirmed booking can be rescheduled');
      if (command.start === booking.start && command.end === booking.end) refuse('SameTime', 'the booking is already at that time');
      {
        const moved: BookingEvent = {
          type: 'booking.rescheduled',
          payload: { previousStart: booking.start, previousEnd: booking.end, start: command.start, end: command.end, rescheduledBy: command.by },
        };
        // Rescheduled -> Confirmed needs the organizer only where the event type asks for confirmation.
        if (booking.requiresConfirmation) return [moved];
        return [moved, { type: 'booking.confirmed', payload: { confirmedBy: 'system', start: command.start, end: command.end } }];
      }
    case 'Complete':
      if (booking.status === 'completed') refuse('AlreadyCompleted', 'booking is already completed');
      if (booking.status !== 'confirmed') return invalidTransition(booking, command.type);
      if (Date.parse(command.now) < Date.parse(booking.end)) refuse('NotEnded', 'a booking is completed only after it ends');
      return [{ type: 'booking.completed', payload: { completedAt: command.now } }];
    case 'Expire':
      // A booking still waiting for the organizer when its meeting starts will not happen: it lets its time go.
      if (waitingFor(booking) !== 'confirmation') return invalidTransition(booking, command.type);
      if (Date.parse(command.now) < Date.parse(booking.start)) refuse('NotStarted', 'a booking expires only once its start has passed');
      return [{ type: 'booking.cancelled', payload: { reason: 'not confirmed before the meeting started', cancelledBy: 'system' } }];
    case 'ReleaseStranded': {
      // The workflow will not come for this draft any more; failing it as the workflow would gives the time back.
      // Should the workflow run after all (a redriven event, a late start), it finds no draft and ends.
      if (waitingFor(booking) !== 'workflow') return invalidTransition(booking, command.type);
      const due = strandedAt(booking);
      if (!due || Date.parse(command.now) < Date.parse(due)) refuse('NotStranded', 'the workflow still has time to take the booking up');
      const reason = `the booking workflow did not accept or refuse the booking within ${strandedAfterMinutes} minutes of the request`;
      return [{ type: 'booking.creation.failed', payload: { reason, step: 'Timeout' } }];
    }
    case 'UpdateDetails':
      if (booking.status === 'cancelled' || booking.status === 'completed') return invalidTransition(booking, command.type);
      return [{ type: 'booking.updated', payload: { changes: command.changes } }];
    default:
      return unreachable(command);
  }
}

export function evolve(state: BookingState, event: BookingEvent): BookingState {
  if (event.type === 'booking.requested') {
    return { ...event.payload, status: 'draft', ...(event.metadata ? { requestedAt: event.metadata.timestamp } : {}) };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'booking.created':
      return { ...state, awaiting: event.payload.awaiting };
    case 'booking.confirmed':
      return { ...state, status: 'confirmed', start: event.payload.start, end: event.payload.end };
    case 'booking.rejected':
      return { ...state, status: 'cancelled', cancellation: { by: 'organizer', reason: event.payload.reason, kind: 'rejected' } };
    case 'booking.creation.failed':
      return { ...state, status: 'cancelled', cancellation: { by: 'system', reason: event.payload.reason, kind: 'creation_failed', step: event.payload.step } };
    case 'booking.cancelled':
      return { ...state, status: 'cancelled', cancellation: { by: event.payload.cancelledBy, reason: event.payload.reason, kind: 'cancelled' } };
    case 'booking.rescheduled':
      return {
        ...state,
        status: 'rescheduled',
        start: event.payload.start,
        end: event.payload.end,
        previousTimes: [...(state.previousTimes ?? []), { start: event.payload.previousStart, end: event.payload.previousEnd }],
      };
    case 'booking.completed':
      return { ...state, status: 'completed' };
    case 'booking.updated':
      return { ...state, ...definedOnly(event.payload.changes) };
    case 'payment.initiated': {
      const { paymentId, amount, currency, attempt, expiresAt } = event.payload;
      return {
        ...state,
        status: 'pending_payment',
        payment: { paymentId, amount, currency, attempt, expiresAt, state: 'initiated' },
        paymentIds: [...(state.paymentIds ?? []), paymentId],
      };
    }
    case 'payment.completed': {
      const paid = { ...state, payment: { ...state.payment!, state: 'completed' as const } };
      return state.requiresConfirmation ? { ...paid, status: 'draft', awaiting: 'confirmation' } : paid;
    }
    case 'payment.failed': {
      const { reason, code, declineCode } = event.payload;
      return { ...state, status: 'payment_failed', payment: { ...state.payment!, state: 'failed', failure: definedOnly({ reason, code, declineCode }) as { reason: string } } };
    }
    case 'payment.refunded': {
      const refundedPayments = [...(state.refundedPayments ?? []), event.payload.paymentId];
      if (state.payment?.paymentId !== event.payload.paymentId) return { ...state, refundedPayments };
      return { ...state, refundedPayments, payment: { ...state.payment, state: 'refunded', refundedAmount: event.payload.amount } };
    }
    default:
      return unreachable(event);
  }
}

const TIMER_SLACK_MS = 10_000;

export const initialState: BookingState = { status: 'none' };
export const bookingDecider: Decider<BookingCommand, BookingState, BookingEvent> = { decide, evolve, initialState };

/** Statuses in which the booking holds its hosts' time. A cancelled booking (however it ended) has let it go. */
export function holdsTime(state: BookingState): state is Booking {
  return state.status !== 'none' && state.status !== 'cancelled';
}
