import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { executeBookingCommand, readBooking, type BookingTables } from '../../shared/booking/booking-commands.ts';
import type { BookingRequest } from '../../shared/booking/decider.ts';
import { handler } from '../../functions/scheduled/settle-bookings.ts';
import { createTestTables } from '../support/tables.ts';

let tables: BookingTables;

beforeAll(async () => {
  const test = await createTestTables();
  tables = { client: test.client, eventsTable: test.events, stateTable: test.state };
});

const HOUR = 3_600_000;
function request(startOffsetHours: number, host: string, requiresConfirmation = false): BookingRequest {
  const start = Math.floor(Date.now() / HOUR) * HOUR + startOffsetHours * HOUR;
  return {
    eventTypeId: 'et-1',
    organizerId: host,
    hostIds: [host],
    title: 'Intro',
    start: new Date(start).toISOString(),
    end: new Date(start + HOUR / 2).toISOString(),
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    attendee: { name: 'Ada', email: 'ada@example.com', timeZone: 'UTC' },
    requiresConfirmation,
  };
}

async function confirmed(startOffsetHours: number, host = 'sweep-host') {
  const bookingId = randomUUID();
  const metadata = { correlationId: bookingId };
  await executeBookingCommand(tables, { bookingId, command: { type: 'RequestBooking', request: request(startOffsetHours, host) }, metadata });
  await executeBookingCommand(tables, { bookingId, command: { type: 'AcceptBooking' }, metadata });
  return bookingId;
}

const status = async (bookingId: string) => (await readBooking(tables, bookingId))?.booking.status;

describe('the settle sweep', () => {
  it('completes the confirmed bookings that have ended, once, and leaves the rest alone', async () => {
    const ended = await confirmed(-5);
    const endedToo = await confirmed(-3);
    const upcoming = await confirmed(5);
    const cancelled = await confirmed(-7);
    await executeBookingCommand(tables, { bookingId: cancelled, command: { type: 'Cancel', by: 'organizer' }, metadata: {} });
    const movedIntoThePast = await confirmed(8, 'other-host');
    // A confirmed booking that is rescheduled leaves the due list at its old end and joins it at its new one.
    const past = request(-10, 'other-host');
    await executeBookingCommand(tables, { bookingId: movedIntoThePast, command: { type: 'Reschedule', by: 'organizer', start: past.start, end: past.end }, metadata: {} });

    expect(await handler()).toEqual({ completed: 3, expired: 0, released: 0, skipped: 0 });
    expect(await status(ended)).toBe('completed');
    expect(await status(endedToo)).toBe('completed');
    expect(await status(movedIntoThePast)).toBe('completed');
    expect(await status(upcoming)).toBe('confirmed');
    expect(await status(cancelled)).toBe('cancelled');

    expect(await handler()).toEqual({ completed: 0, expired: 0, released: 0, skipped: 0 });
  });

  it('expires bookings still waiting for the organizer once they start, and gives their time back', async () => {
    const metadata = {};
    const waiting = randomUUID();
    await executeBookingCommand(tables, { bookingId: waiting, command: { type: 'RequestBooking', request: request(-2, 'careful-host', true) }, metadata });
    await executeBookingCommand(tables, { bookingId: waiting, command: { type: 'AcceptBooking' }, metadata });
    const notYet = randomUUID();
    await executeBookingCommand(tables, { bookingId: notYet, command: { type: 'RequestBooking', request: request(3, 'careful-host', true) }, metadata });
    await executeBookingCommand(tables, { bookingId: notYet, command: { type: 'AcceptBooking' }, metadata });
    expect(await status(waiting)).toBe('draft');

    expect(await handler()).toEqual({ completed: 0, expired: 1, released: 0, skipped: 0 });
    expect((await readBooking(tables, waiting))?.booking).toMatchObject({ status: 'cancelled', cancellation: { by: 'system', reason: 'not confirmed before the meeting started' } });
    expect(await status(notYet)).toBe('draft');
    // Its time is free again: a new booking of the same host and time goes through.
    const again = randomUUID();
    await executeBookingCommand(tables, { bookingId: again, command: { type: 'RequestBooking', request: request(-2, 'careful-host') }, metadata });
    expect(await status(again)).toBe('draft');
  });
});
