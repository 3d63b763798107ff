// The backstop for payment holds: a booking still pending (or failed) after its payment window, with no
// workflow left to release it, is released by the settle sweep.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { executeBookingCommand, readBooking, type BookingTables } from '../../shared/booking/booking-commands.ts';
import type { BookingRequest } from '../../shared/booking/decider.ts';
import { handler } from '../../functions/scheduled/settle-bookings.ts';
import { createTestTables } from '../support/tables.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';

let tables: BookingTables;
beforeAll(async () => {
  const test = await createTestTables();
  tables = { client: test.client, eventsTable: test.events, stateTable: test.state };
});

const HOUR = 3_600_000;
const start = Math.floor(Date.now() / HOUR) * HOUR + 48 * HOUR;
const request = (host: string): BookingRequest => ({
  eventTypeId: 'et-paid',
  organizerId: host,
  hostIds: [host],
  title: 'Paid',
  start: new Date(start).toISOString(),
  end: new Date(start + HOUR / 2).toISOString(),
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 0,
  attendee: { name: 'Ada', email: 'ada@example.com', timeZone: 'UTC' },
  requiresConfirmation: false,
  price: { amount: 1000, currency: 'eur' },
  paymentTerms: { windowMinutes: 1 },
});

async function pendingPayment(host: string, expiresAt: Date, fail = false) {
  const bookingId = randomUUID();
  await executeBookingCommand(tables, { bookingId, command: { type: 'RequestBooking', request: request(host) }, metadata: {} });
  await executeBookingCommand(tables, { bookingId, command: { type: 'AcceptBooking' }, metadata: {} });
  const paymentId = `pi_${bookingId.slice(0, 8)}`;
  await executeBookingCommand(tables, { bookingId, command: { type: 'InitiatePayment', paymentId, amount: 1000, currency: 'eur', attempt: 1, expiresAt: expiresAt.toISOString() }, metadata: {} });
  if (fail) await executeBookingCommand(tables, { bookingId, command: { type: 'FailPayment', paymentId, reason: 'declined', code: 'card_declined' }, metadata: {} });
  return bookingId;
}

describe('the settle sweep and payment windows', () => {
  it('releases bookings whose payment window passed unpaid, and leaves open windows alone', async () => {
    const passed = await pendingPayment('pay-host-1', new Date(Date.now() - 5 * 60_000));
    const failed = await pendingPayment('pay-host-2', new Date(Date.now() - 5 * 60_000), true);
    const open = await pendingPayment('pay-host-3', new Date(Date.now() + 10 * 60_000));
    // Within the grace minute the workflow's own timer has the first go.
    const justPassed = await pendingPayment('pay-host-4', new Date(Date.now() - 10_000));

    expect(await handler()).toEqual({ completed: 0, expired: 2, released: 0, skipped: 0 });
    const types = async (id: string) => (await new EventStore(tables.client, tables.eventsTable).load(id)).map((e) => e.type);
    expect((await readBooking(tables, passed))?.booking).toMatchObject({ status: 'cancelled', cancellation: { by: 'system', reason: 'payment window passed' } });
    expect((await types(passed)).slice(-2)).toEqual(['payment.failed', 'booking.cancelled']);
    expect((await readBooking(tables, failed))?.booking.status).toBe('cancelled');
    expect((await readBooking(tables, open))?.booking.status).toBe('pending_payment');
    expect((await readBooking(tables, justPassed))?.booking.status).toBe('pending_payment');
    // Released: the same host and time can be booked again.
    const again = randomUUID();
    await executeBookingCommand(tables, { bookingId: again, command: { type: 'RequestBooking', request: request('pay-host-1') }, metadata: {} });
    expect(await handler()).toEqual({ completed: 0, expired: 0, released: 0, skipped: 0 });
  });
});
