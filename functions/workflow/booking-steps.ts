import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { explanation } from '../../events/booking.ts';
import { clip } from '../../events/primitives.ts';
import { fold } from '../../shared/domain/decider.ts';
import { executeBookingCommand } from '../../shared/booking/booking-commands.ts';
import { bookingDecider, waitingFor, type Booking, type BookingEvent } from '../../shared/booking/decider.ts';
import { claimCellKey, claimOf, planClaimChanges } from '../../shared/booking/time-claims.ts';
import { bookingTables } from '../../shared/config.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { readEventType } from '../../shared/event-types/read-model.ts';
import { paymentWindowSeconds } from '../../shared/payments/terms.ts';

/** What travels between the steps of the booking workflow. */
export type WorkflowInput = {
  bookingId: string;
  correlationId?: string;
  causationId?: string;
  error?: { Error: string; Cause?: string };
};

/** A step's reasoned "no": the state machine catches it and fails the booking. */
export class BookingRefused extends Error {
  constructor(step: string, reason: string) {
    super(`${step}: ${reason}`);
    this.name = 'BookingRefused';
  }
}

async function loadBooking(bookingId: string): Promise<Booking> {
  const tables = bookingTables();
  const history = (await new EventStore(tables.client, tables.eventsTable).load(bookingId)) as unknown as BookingEvent[];
  const state = fold(bookingDecider, history);
  if (state.status === 'none') throw new BookingRefused('Validate', 'booking not found');
  return state;
}

const metadataOf = (input: WorkflowInput) => ({ userId: 'system:booking-workflow', correlationId: input.correlationId, causationId: input.causationId });

/**
 * The booking is still a draft whose event type exists, is active, and whose time has not passed. EventBridge
 * may start the workflow twice for one request, and a parked booking.requested may be redriven long after: a
 * booking already taken past the draft (by another execution, by its organizer or attendee cancelling, or by
 * the settle sweep releasing it as stranded) is reported as handled, and the state machine ends there.
 */
export async function validate(input: WorkflowInput): Promise<WorkflowInput & { handled: boolean }> {
  const booking = await loadBooking(input.bookingId);
  if (waitingFor(booking) !== 'workflow') return { ...input, handled: true };
  const eventType = await readEventType(bookingTables(), booking.eventTypeId);
  if (!eventType) throw new BookingRefused('Validate', 'event type no longer exists');
  if (!eventType.active) throw new BookingRefused('Validate', 'event type is not active');
  if (Date.parse(booking.start) <= Date.now()) throw new BookingRefused('Validate', 'the booking time has passed');
  return { ...input, handled: false };
}

/**
 * Every minute the booking needs is held by this booking in the hosts' claim cells. The claim was taken with
 * the request, so this guards the invariant rather than racing for it. The CheckAvailability step
 * (functions/workflow/check-availability.ts) runs this, then asks the hosts' calendars live; it is a module of
 * its own so that only it carries the calendar providers' SDKs.
 */
export async function checkClaims(input: WorkflowInput): Promise<Booking> {
  const booking = await loadBooking(input.bookingId);
  const tables = bookingTables();
  const needed = planClaimChanges(null, claimOf(booking));
  const keys = needed.map((cell) => claimCellKey(cell.hostId, cell.hour));
  const { Responses } = await tables.client.send(new BatchGetCommand({ RequestItems: { [tables.stateTable]: { Keys: keys, ConsistentRead: true } } }));
  const cells = new Map((Responses?.[tables.stateTable] ?? []).map((item) => [`${item.pk}|${item.sk}`, item]));
  for (const cell of needed) {
    const key = claimCellKey(cell.hostId, cell.hour);
    const item = cells.get(`${key.pk}|${key.sk}`);
    const missing = cell.take.filter((minute) => item?.[`m${String(minute).padStart(2, '0')}`] !== input.bookingId);
    if (missing.length) throw new BookingRefused('CheckAvailability', `host ${cell.hostId} does not hold the booked time`);
  }
  return booking;
}

/**
 * Confirms the booking, or leaves it waiting for the organizer or a payment. A priced booking goes on to the
 * Payment step, which waits at most the payment window (its task timeout, hence the seconds here).
 */
export async function accept(input: WorkflowInput): Promise<WorkflowInput & { awaiting?: string; paymentWindowSeconds?: number; paymentHeartbeatSeconds?: number }> {
  const { booking } = await executeBookingCommand(bookingTables(), { bookingId: input.bookingId, command: { type: 'AcceptBooking' }, metadata: metadataOf(input) });
  if (booking.awaiting !== 'payment') return { ...input, awaiting: booking.awaiting };
  // ASL wants a heartbeat shorter than the timeout; the webhook beats on Stripe's processing notices.
  const seconds = paymentWindowSeconds(booking);
  return { ...input, awaiting: booking.awaiting, paymentWindowSeconds: seconds, paymentHeartbeatSeconds: seconds - 1 };
}

/**
 * Ends the booking in booking.creation.failed, which gives its time back. Should this step fail too (the table
 * throttled, say), the execution fails with the booking still a draft; the settle sweep releases it once it is
 * stranded.
 */
export async function failCreation(input: WorkflowInput): Promise<WorkflowInput & { reason: string }> {
  const { step, reason } = explain(input.error);
  await executeBookingCommand(bookingTables(), { bookingId: input.bookingId, command: { type: 'FailCreation', reason, step }, metadata: metadataOf(input) });
  return { ...input, reason };
}

function explain(error: WorkflowInput['error']): { step: string; reason: string } {
  let message = error?.Cause ?? error?.Error ?? 'unknown error';
  try {
    message = (JSON.parse(message) as { errorMessage?: string }).errorMessage ?? message;
  } catch {
    // A Cause that is not Lambda's JSON error document is already the message.
  }
  const match = /^(\w+): (.*)$/s.exec(message);
  // A Cause can be a whole stack trace; the event carries a bounded explanation of it.
  return match ? { step: clip(match[1]!, 100), reason: explanation(match[2]!) } : { step: 'Workflow', reason: explanation(message) };
}
