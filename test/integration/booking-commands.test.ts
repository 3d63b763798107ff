import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchGetCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { parseDomainEvent } from '../../events/catalog.ts';
import { bookingKey, executeBookingCommand, readBooking, SlotTakenError, type BookingTables } from '../../shared/booking/booking-commands.ts';
import type { BookingCommand, BookingRequest } from '../../shared/booking/decider.ts';
import { busyFromCells, claimCellKey } from '../../shared/booking/time-claims.ts';
import { createTestTables, type TestTables } from '../support/tables.ts';

let test: TestTables;
let tables: BookingTables;

beforeAll(async () => {
  test = await createTestTables();
  tables = { client: test.client, eventsTable: test.events, stateTable: test.state };
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const day = '2031-05-06';
const at = (time: string) => `${day}T${time}:00.000Z`;

function request(hostIds: string[], start: string, end: string, buffers: { before?: number; after?: number } = {}): BookingRequest {
  return {
    eventTypeId: 'et-1',
    organizerId: hostIds[0]!,
    hostIds,
    title: 'Intro call',
    start: at(start),
    end: at(end),
    bufferBeforeMinutes: buffers.before ?? 0,
    bufferAfterMinutes: buffers.after ?? 0,
    attendee: { name: 'Ada Lovelace', email: 'ada@example.com', timeZone: 'Europe/London' },
    requiresConfirmation: false,
  };
}

const run = (bookingId: string, command: BookingCommand) =>
  executeBookingCommand(tables, { bookingId, command, metadata: { correlationId: `corr-${bookingId}` } });

async function book(hostIds: string[], start: string, end: string, buffers?: { before?: number; after?: number }) {
  const bookingId = randomUUID();
  await run(bookingId, { type: 'RequestBooking', request: request(hostIds, start, end, buffers) });
  return bookingId;
}

/** A booking the workflow has accepted: with no confirmation or payment needed, that is confirmed. */
async function confirmedBooking(hostIds: string[], start: string, end: string) {
  const bookingId = await book(hostIds, start, end);
  const { booking } = await run(bookingId, { type: 'AcceptBooking' });
  expect(booking.status).toBe('confirmed');
  return bookingId;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('the command was expected to fail');
}

/** Who holds which minutes of a host's day, read back from the claim cells. */
async function busy(hostId: string) {
  const keys = Array.from({ length: 24 }, (_, hour) => claimCellKey(hostId, Date.parse(`${day}T00:00:00Z`) / HOUR + hour));
  const { Responses } = await test.client.send(new BatchGetCommand({ RequestItems: { [test.state]: { Keys: keys, ConsistentRead: true } } }));
  return busyFromCells(Responses?.[test.state] ?? []).map(({ start, end, bookingId }) => ({
    start: new Date(start).toISOString().slice(11, 16),
    end: new Date(end).toISOString().slice(11, 16),
    bookingId,
  }));
}

async function eventsOf(bookingId: string) {
  const { Items = [] } = await test.client.send(
    new QueryCommand({ TableName: test.events, KeyConditionExpression: 'aggregateId = :id', ExpressionAttributeValues: { ':id': bookingId }, ConsistentRead: true }),
  );
  return Items;
}

async function readModel(bookingId: string) {
  const { Item } = await test.client.send(new GetCommand({ TableName: test.state, Key: bookingKey(bookingId), ConsistentRead: true }));
  return Item;
}

describe('executeBookingCommand against DynamoDB Local', () => {
  it('a request appends booking.requested, writes the read model as draft and claims the time in the cells', async () => {
    const host = randomUUID();
    const bookingId = randomUUID();
    const result = await run(bookingId, { type: 'RequestBooking', request: request([host], '09:00', '09:30') });

    const item = await readModel(bookingId);
    expect(item).toMatchObject({
      pk: `BOOKING#${bookingId}`,
      sk: 'BOOKING',
      version: 1,
      booking: { id: bookingId, status: 'draft', version: 1, start: at('09:00'), end: at('09:30'), hostIds: [host] },
    });
    const { Item: listing } = await test.client.send(new GetCommand({ TableName: test.state, Key: { pk: `BOOKING#${bookingId}`, sk: `VIEWER#${host}` } }));
    expect(listing).toMatchObject({ ownerKey: `VIEWER#${host}`, ownerSort: `${at('09:00')}#${bookingId}`, booking: result.booking });
    expect(item!.booking).toEqual(result.booking);
    expect((await readBooking(tables, bookingId))?.booking).toEqual(result.booking);

    expect(await busy(host)).toEqual([{ start: '09:00', end: '09:30', bookingId }]);
    const { Item: cell } = await test.client.send(new GetCommand({ TableName: test.state, Key: claimCellKey(host, Date.parse(at('09:00')) / HOUR) }));
    expect(cell).toMatchObject({ hostId: host, hourStart: at('09:00'), m00: bookingId, m29: bookingId });
    expect(cell).not.toHaveProperty('m30');

    const stored = await eventsOf(bookingId);
    expect(stored).toHaveLength(1);
    expect(parseDomainEvent(stored[0])).toMatchObject({ type: 'booking.requested', version: 1, aggregateType: 'booking', metadata: { correlationId: `corr-${bookingId}` } });
    expect(result.events).toEqual([parseDomainEvent(stored[0])]);
  });

  it('an overlapping (not identical) request for the same host is SlotTakenError and writes nothing', async () => {
    const host = randomUUID();
    const first = await book([host], '09:00', '09:30');
    const before = await busy(host);
    const second = randomUUID();
    const error = await failure(run(second, { type: 'RequestBooking', request: request([host], '09:29', '09:59') }));
    expect(error).toBeInstanceOf(SlotTakenError);
    expect(await eventsOf(second)).toEqual([]);
    expect(await readModel(second)).toBeUndefined();
    expect(await busy(host)).toEqual(before);
    expect(before).toEqual([{ start: '09:00', end: '09:30', bookingId: first }]);
  });

  it('an identical request by another booking is refused too', async () => {
    const host = randomUUID();
    await book([host], '09:00', '09:30');
    expect(await failure(book([host], '09:00', '09:30'))).toBeInstanceOf(SlotTakenError);
  });

  it('the same time for another host is free', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const first = await book([a], '09:00', '09:30');
    const second = await book([b], '09:00', '09:30');
    expect(await busy(a)).toEqual([{ start: '09:00', end: '09:30', bookingId: first }]);
    expect(await busy(b)).toEqual([{ start: '09:00', end: '09:30', bookingId: second }]);
  });

  describe('buffers', () => {
    it("a booking that overlaps only the other's buffer is refused; one that only touches it is accepted", async () => {
      const host = randomUUID();
      const first = await book([host], '10:00', '10:30', { before: 10, after: 15 });
      expect(await busy(host)).toEqual([{ start: '09:50', end: '10:45', bookingId: first }]);

      expect(await failure(book([host], '10:40', '11:10'))).toBeInstanceOf(SlotTakenError); // into the after-buffer
      expect(await failure(book([host], '09:20', '09:51'))).toBeInstanceOf(SlotTakenError); // into the before-buffer
      const after = await book([host], '10:45', '11:15');
      const before = await book([host], '09:20', '09:50');
      expect(await busy(host)).toEqual([
        { start: '09:20', end: '09:50', bookingId: before },
        { start: '09:50', end: '10:45', bookingId: first },
        { start: '10:45', end: '11:15', bookingId: after },
      ]);
    });

    it("a booking whose own buffer reaches into another's meeting is refused; one whose buffer just touches it is accepted", async () => {
      const host = randomUUID();
      const first = await book([host], '10:00', '10:30');
      expect(await failure(book([host], '10:35', '11:00', { before: 10 }))).toBeInstanceOf(SlotTakenError);
      expect(await failure(book([host], '09:00', '09:55', { after: 10 }))).toBeInstanceOf(SlotTakenError);
      const next = await book([host], '10:40', '11:00', { before: 10 });
      expect(await busy(host)).toEqual([
        { start: '10:00', end: '10:30', bookingId: first },
        { start: '10:30', end: '11:00', bookingId: next },
      ]);
    });
  });

  it('cancelling releases the time: a new booking at that time succeeds', async () => {
    const host = randomUUID();
    const bookingId = await confirmedBooking([host], '13:00', '13:45');
    expect(await failure(book([host], '13:00', '13:45'))).toBeInstanceOf(SlotTakenError);

    const { booking } = await run(bookingId, { type: 'Cancel', by: 'attendee', reason: 'conflict' });
    expect(booking.status).toBe('cancelled');
    expect((await readModel(bookingId))!.booking.status).toBe('cancelled');
    expect(await busy(host)).toEqual([]);

    const next = await book([host], '13:00', '13:45');
    expect(await busy(host)).toEqual([{ start: '13:00', end: '13:45', bookingId: next }]);
  });

  it('a failed creation releases the time as well', async () => {
    const host = randomUUID();
    const bookingId = await book([host], '15:00', '15:30');
    await run(bookingId, { type: 'FailCreation', reason: 'calendar busy', step: 'CheckAvailability' });
    expect(await busy(host)).toEqual([]);
    await book([host], '15:00', '15:30');
  });

  describe('reschedule', () => {
    it('moves the claim within one hour cell: the old minutes are free, the new ones held, the shared ones kept', async () => {
      const host = randomUUID();
      const bookingId = await confirmedBooking([host], '09:00', '09:30');
      const { booking, events } = await run(bookingId, { type: 'Reschedule', by: 'attendee', start: at('09:20'), end: at('09:50') });
      expect(events.map((e) => e.type)).toEqual(['booking.rescheduled', 'booking.confirmed']);
      expect(booking).toMatchObject({ status: 'confirmed', start: at('09:20'), end: at('09:50') });
      expect((await readModel(bookingId))!.booking).toMatchObject({ status: 'confirmed', start: at('09:20'), end: at('09:50'), version: 5 });
      expect(await busy(host)).toEqual([{ start: '09:20', end: '09:50', bookingId }]);

      const before = await book([host], '09:00', '09:20');
      expect(await failure(book([host], '09:49', '10:00'))).toBeInstanceOf(SlotTakenError);
      expect(await busy(host)).toEqual([
        { start: '09:00', end: '09:20', bookingId: before },
        { start: '09:20', end: '09:50', bookingId },
      ]);
    });

    it('moves the claim across cells and days', async () => {
      const host = randomUUID();
      const bookingId = await confirmedBooking([host], '09:30', '10:30');
      await run(bookingId, { type: 'Reschedule', by: 'organizer', start: at('16:45'), end: at('17:45') });
      expect(await busy(host)).toEqual([{ start: '16:45', end: '17:45', bookingId }]);
      await book([host], '09:30', '10:30');
    });

    it('into a taken time is SlotTakenError and changes nothing: the old time stays held, no event is appended', async () => {
      const host = randomUUID();
      const bookingId = await confirmedBooking([host], '09:00', '09:30');
      const other = await book([host], '09:45', '10:15');
      // Up to the other booking is fine...
      await run(bookingId, { type: 'Reschedule', by: 'attendee', start: at('09:15'), end: at('09:45') });
      const held = [
        { start: '09:15', end: '09:45', bookingId },
        { start: '09:45', end: '10:15', bookingId: other },
      ];
      expect(await busy(host)).toEqual(held);
      const eventsBefore = await eventsOf(bookingId);
      const viewBefore = await readModel(bookingId);

      // ...into it is refused whole, although most of the new minutes (and all of the released ones) were free.
      const error = await failure(run(bookingId, { type: 'Reschedule', by: 'attendee', start: at('09:30'), end: at('10:00') }));
      expect(error).toBeInstanceOf(SlotTakenError);
      expect(await busy(host)).toEqual(held);
      expect(await eventsOf(bookingId)).toEqual(eventsBefore);
      expect(await readModel(bookingId)).toEqual(viewBefore);
      expect(viewBefore!.booking).toMatchObject({ start: at('09:15'), end: at('09:45'), status: 'confirmed' });
    });
  });

  it('50 concurrent requests for overlapping times of one host: exactly one wins, every other is SlotTakenError, no minute is held twice', async () => {
    const host = randomUUID();
    const attempts = Array.from({ length: 50 }, (_, i) => {
      const start = Date.parse(at('08:00')) + i * MINUTE;
      const req = { ...request([host], '08:00', '09:00'), start: new Date(start).toISOString(), end: new Date(start + HOUR).toISOString() };
      return { bookingId: randomUUID(), req };
    });
    const results = await Promise.allSettled(attempts.map(({ bookingId, req }) => run(bookingId, { type: 'RequestBooking', request: req })));

    const winners = attempts.filter((_, i) => results[i]!.status === 'fulfilled');
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(winners).toHaveLength(1);
    expect(errors).toHaveLength(49);
    for (const error of errors) expect(error, String(error)).toBeInstanceOf(SlotTakenError);

    const winner = winners[0]!;
    const start = winner.req.start.slice(11, 16);
    const end = winner.req.end.slice(11, 16);
    expect(await busy(host)).toEqual([{ start, end, bookingId: winner.bookingId }]);
    for (const { bookingId } of attempts.filter((a) => a !== winner)) {
      expect(await eventsOf(bookingId)).toEqual([]);
      expect(await readModel(bookingId)).toBeUndefined();
    }
    expect(await eventsOf(winner.bookingId)).toHaveLength(1);
  });

  it('a collective booking with two hosts claims both; either host being busy refuses it', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const bookingId = await book([a, b], '11:00', '12:00');
    expect(await busy(a)).toEqual([{ start: '11:00', end: '12:00', bookingId }]);
    expect(await busy(b)).toEqual([{ start: '11:00', end: '12:00', bookingId }]);
    expect(await failure(book([b], '11:30', '12:30'))).toBeInstanceOf(SlotTakenError);

    const onlyA = await book([a], '14:00', '14:30');
    const refused = randomUUID();
    expect(await failure(run(refused, { type: 'RequestBooking', request: request([b, a], '14:15', '14:45') }))).toBeInstanceOf(SlotTakenError);
    // b's free time was not taken either: the transaction is all or nothing.
    expect(await busy(b)).toEqual([{ start: '11:00', end: '12:00', bookingId }]);
    expect(await busy(a)).toEqual([
      { start: '11:00', end: '12:00', bookingId },
      { start: '14:00', end: '14:30', bookingId: onlyA },
    ]);
    expect(await eventsOf(refused)).toEqual([]);
  });
});

describe('racing collective and single bookings across a team', () => {
  it('never lets a host hold two overlapping bookings, whichever mix of hosts each request claims', async () => {
    const hostSets = [['team-x', 'team-y'], ['team-x'], ['team-y'], ['team-x', 'team-y', 'team-z'], ['team-z']];
    const starts = ['10:00', '10:15', '10:20', '10:45', '11:00', '11:10'];
    const attempts = Array.from({ length: 60 }, (_, i) => {
      const hostIds = hostSets[i % hostSets.length]!;
      const start = starts[(i * 7) % starts.length]!;
      const [h, m] = start.split(':').map(Number) as [number, number];
      const end = `${String(h + Math.floor((m + 30) / 60)).padStart(2, '0')}:${String((m + 30) % 60).padStart(2, '0')}`;
      return { hostIds, start: Date.parse(at(start)), end: Date.parse(at(end)), promise: book(hostIds, start, end).then(() => undefined, (error: unknown) => error) };
    });
    const outcomes = await Promise.all(attempts.map((a) => a.promise));
    outcomes.forEach((outcome) => expect(outcome === undefined || outcome instanceof SlotTakenError, String(outcome)).toBe(true));
    const winners = attempts.filter((_, i) => outcomes[i] === undefined);
    expect(winners.length).toBeGreaterThan(0);
    for (const host of ['team-x', 'team-y', 'team-z']) {
      const mine = winners.filter((w) => w.hostIds.includes(host));
      for (const a of mine) for (const b of mine) if (a !== b) expect(a.start < b.end && b.start < a.end).toBe(false);
    }
    // Each loser really collided: some winner shares a host and a minute with it.
    attempts.forEach((attempt, i) => {
      if (outcomes[i] === undefined) return;
      expect(winners.some((w) => w.hostIds.some((h) => attempt.hostIds.includes(h)) && w.start < attempt.end && attempt.start < w.end)).toBe(true);
    });
  });
});
