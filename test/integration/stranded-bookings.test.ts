// Drafts the workflow never takes up (its booking.requested parked by the publisher, its start parked by the
// rule, its execution dead before it could fail the booking) against real DynamoDB Local: the settle sweep
// releases them once stranded, and a workflow that comes after that changes nothing.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dueListKeys, dueLists, executeBookingCommand, readBooking, type BookingTables } from '../../shared/booking/booking-commands.ts';
import { strandedAfterMinutes, type BookingRequest } from '../../shared/booking/decider.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { DomainError } from '../../shared/domain/decider.ts';
import { settleBookings } from '../../functions/scheduled/settle-bookings.ts';
import { accept, failCreation, validate } from '../../functions/workflow/booking-steps.ts';
import { createTestTables } from '../support/tables.ts';

let tables: BookingTables;

beforeAll(async () => {
  const test = await createTestTables();
  tables = { client: test.client, eventsTable: test.events, stateTable: test.state };
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The sweep as it runs `minutes` from now. */
const sweepIn = (minutes: number) => settleBookings(new Date(Date.now() + minutes * MINUTE));

function request(host: string, startInHours: number, changes: Partial<BookingRequest> = {}): BookingRequest {
  const start = Math.floor(Date.now() / HOUR) * HOUR + startInHours * HOUR;
  return {
    eventTypeId: 'et-stranded',
    organizerId: host,
    hostIds: [host],
    title: 'Intro',
    start: new Date(start).toISOString(),
    end: new Date(start + HOUR / 2).toISOString(),
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    attendee: { name: 'Ada', email: 'ada@example.com', timeZone: 'UTC' },
    requiresConfirmation: false,
    ...changes,
  };
}

const run = (bookingId: string, command: Parameters<typeof executeBookingCommand>[1]['command']) =>
  executeBookingCommand(tables, { bookingId, command, metadata: { correlationId: bookingId } });

async function requested(booking: BookingRequest): Promise<string> {
  const bookingId = randomUUID();
  await run(bookingId, { type: 'RequestBooking', request: booking });
  return bookingId;
}

const viewOf = async (bookingId: string) => (await readBooking(tables, bookingId))!.booking;
const historyOf = async (bookingId: string) => (await new EventStore(tables.client, tables.eventsTable).load(bookingId)).map((event) => event.type);
async function strandedListed(bookingId: string): Promise<string[]> {
  const listed: string[] = [];
  for (const list of dueListKeys(dueLists.stranded)) {
    const { Items = [] } = await tables.client.send(
      new QueryCommand({ TableName: tables.stateTable, KeyConditionExpression: 'pk = :list', ExpressionAttributeValues: { ':list': list }, ConsistentRead: true }),
    );
    listed.push(...Items.filter((item) => item.bookingId === bookingId).map((item) => item.sk as string));
  }
  return listed;
}

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('a draft its workflow never took up', () => {
  it(`is released by the sweep once ${strandedAfterMinutes} minutes have passed since the request, not before, and its time is free again`, async () => {
    const booking = request('stranded-host', 3);
    const stranded = await requested(booking);
    const { requestedAt } = await viewOf(stranded);
    expect(await strandedListed(stranded)).toEqual([`${new Date(Date.parse(requestedAt!) + strandedAfterMinutes * MINUTE).toISOString()}#${stranded}`]);

    expect(await sweepIn(strandedAfterMinutes - 1)).toEqual({ completed: 0, expired: 0, released: 0, skipped: 0 });
    expect((await viewOf(stranded)).status).toBe('draft');
    // The time is still held: the same host and time cannot be booked.
    await expect(requested(booking)).rejects.toThrow(/overlaps/);

    expect(await sweepIn(strandedAfterMinutes + 1)).toEqual({ completed: 0, expired: 0, released: 1, skipped: 0 });
    expect(await viewOf(stranded)).toMatchObject({
      status: 'cancelled',
      cancellation: { by: 'system', kind: 'creation_failed', step: 'Timeout', reason: expect.stringContaining(`${strandedAfterMinutes} minutes`) },
    });
    expect(await historyOf(stranded)).toEqual(['booking.requested', 'booking.creation.failed']);
    expect(await strandedListed(stranded)).toEqual([]);
    const again = await requested(booking);
    expect((await viewOf(again)).status).toBe('draft');

    // A second run finds nothing more to do for it (only the new draft, not yet stranded).
    expect(await sweepIn(strandedAfterMinutes - 1)).toEqual({ completed: 0, expired: 0, released: 0, skipped: 0 });
    await run(again, { type: 'Cancel', by: 'attendee' });
  });

  it('is not stranded once the workflow has accepted it, nor once someone has ended it: each leaves the list in its own write', async () => {
    const waiting = await requested(request('busy-host', 4, { requiresConfirmation: true }));
    const unpaid = await requested(request('busy-host', 5, { price: { amount: 5000, currency: 'EUR' } }));
    const confirmed = await requested(request('busy-host', 6));
    const withdrawn = await requested(request('busy-host', 7));
    for (const id of [waiting, unpaid, confirmed, withdrawn]) expect(await strandedListed(id)).toHaveLength(1);
    await run(waiting, { type: 'AcceptBooking' });
    await run(unpaid, { type: 'AcceptBooking' });
    await run(confirmed, { type: 'AcceptBooking' });
    await run(withdrawn, { type: 'Cancel', by: 'attendee' });
    for (const id of [waiting, unpaid, confirmed, withdrawn]) expect(await strandedListed(id)).toEqual([]);

    expect(await sweepIn(strandedAfterMinutes + 1)).toEqual({ completed: 0, expired: 0, released: 0, skipped: 0 });
    expect(await viewOf(waiting)).toMatchObject({ status: 'draft', awaiting: 'confirmation' });
    expect(await viewOf(unpaid)).toMatchObject({ status: 'draft', awaiting: 'payment' });
    expect((await viewOf(confirmed)).status).toBe('confirmed');
    expect((await viewOf(withdrawn)).status).toBe('cancelled');
    for (const id of [waiting, unpaid, confirmed]) await run(id, { type: 'Cancel', by: 'organizer' });
  });

  it('released, it ignores a workflow that comes late: Validate finds it handled, FailCreation records nothing, Accept is refused', async () => {
    const stranded = await requested(request('late-host', 8));
    expect((await sweepIn(strandedAfterMinutes + 1)).released).toBe(1);
    const input = { bookingId: stranded, correlationId: stranded };

    expect(await validate(input)).toEqual({ ...input, handled: true });
    await failCreation({ ...input, error: { Error: 'BookingRefused', Cause: JSON.stringify({ errorMessage: 'CheckAvailability: host busy' }) } });
    expect(await refusal(accept(input))).toBeInstanceOf(DomainError);

    expect(await historyOf(stranded)).toEqual(['booking.requested', 'booking.creation.failed']);
    expect((await viewOf(stranded)).cancellation).toMatchObject({ kind: 'creation_failed', step: 'Timeout' });
  });

  it('cancelled by a person before the workflow got there, it ends a late workflow the same way', async () => {
    const withdrawn = await requested(request('late-host', 9, { requiresConfirmation: true }));
    await run(withdrawn, { type: 'Reject', reason: 'not a fit' });
    const input = { bookingId: withdrawn };
    expect(await validate(input)).toEqual({ ...input, handled: true });
    await failCreation({ ...input, error: { Error: 'BookingRefused', Cause: 'CheckAvailability: host busy' } });
    expect(await historyOf(withdrawn)).toEqual(['booking.requested', 'booking.rejected']);
    expect(await viewOf(withdrawn)).toMatchObject({ status: 'cancelled', cancellation: { kind: 'rejected' } });
  });
});
