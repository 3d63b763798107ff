// Daily figures from real events in DynamoDB Local: counted on the organizer's day, once per event id under
// redelivery, and rebuilt to the same sums by clearing and replaying the event store.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDomainEvent } from '../../events/catalog.ts';
import { countEvent } from '../../functions/subscribers/analytics.ts';
import { clearFigures, present, readDays } from '../../shared/analytics/figures.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { createTestTables, type TestTables } from '../support/tables.ts';

let tables: TestTables;
const state = () => ({ client: tables.client, stateTable: tables.state });
const organizerId = `analyst-${randomUUID()}`;
const t = (iso: string) => new Date(iso);

async function bookingStream(events: Array<{ type: string; payload: unknown; at: string }>) {
  const store = new EventStore(tables.client, tables.events);
  const id = randomUUID();
  const stored = [];
  for (const [index, event] of events.entries()) {
    stored.push(...(await store.append({ aggregateId: id, aggregateType: 'booking', expectedVersion: index, events: [{ type: event.type, payload: event.payload }], metadata: {}, now: t(event.at) })));
  }
  return stored.map((e) => parseDomainEvent(e));
}

const request = (start: string) => ({
  eventTypeId: 'et', organizerId, hostIds: [organizerId], title: 'Call', start, end: new Date(Date.parse(start) + 1_800_000).toISOString(),
  bufferBeforeMinutes: 0, bufferAfterMinutes: 0, attendee: { name: 'A', email: 'a@example.org', timeZone: 'UTC' }, requiresConfirmation: false,
});

beforeAll(async () => {
  tables = await createTestTables();
  // The organizer's zone decides the day: 23:30 UTC on 1 March is 2 March in Tokyo.
  await tables.client.send(new (await import('@aws-sdk/lib-dynamodb')).PutCommand({ TableName: tables.state, Item: { pk: `USER#${organizerId}`, sk: 'USER', view: { id: organizerId, status: 'active', name: 'An', email: 'an@example.com', timeZone: 'Asia/Tokyo' } } }));
});

describe('analytics', () => {
  it('counts each event once on its day in the organizer\'s zone, under redelivery, and rebuilds the same sums from the event store', async () => {
    const first = await bookingStream([
      { type: 'booking.requested', payload: request('2030-03-05T01:00:00.000Z'), at: '2030-03-01T23:30:00Z' },
      { type: 'booking.confirmed', payload: { confirmedBy: 'system', start: '2030-03-05T01:00:00.000Z', end: '2030-03-05T01:30:00.000Z' }, at: '2030-03-01T23:30:05Z' },
      { type: 'payment.completed', payload: { paymentId: 'pi', amount: 4500, currency: 'eur' }, at: '2030-03-02T00:10:00Z' },
      { type: 'booking.rescheduled', payload: { previousStart: '2030-03-05T01:00:00.000Z', previousEnd: '2030-03-05T01:30:00.000Z', start: '2030-03-06T01:00:00.000Z', end: '2030-03-06T01:30:00.000Z', rescheduledBy: 'attendee' }, at: '2030-03-02T03:00:00Z' },
      { type: 'booking.confirmed', payload: { confirmedBy: 'system', start: '2030-03-06T01:00:00.000Z', end: '2030-03-06T01:30:00.000Z' }, at: '2030-03-02T03:00:00Z' },
      { type: 'booking.cancelled', payload: { cancelledBy: 'attendee', reason: 'x' }, at: '2030-03-02T04:00:00Z' },
      { type: 'payment.refunded', payload: { paymentId: 'pi', amount: 4500, currency: 'eur' }, at: '2030-03-02T04:00:01Z' },
    ]);
    const second = await bookingStream([
      { type: 'booking.requested', payload: request('2030-03-04T05:00:00.000Z'), at: '2030-03-02T01:00:00Z' },
      { type: 'booking.rejected', payload: {}, at: '2030-03-02T02:00:00Z' },
    ]);
    const all = [...first, ...second];
    for (const event of all) await countEvent(event);
    for (const event of all) expect(await countEvent(event)).toBe(false); // redelivered: nothing more

    const figures = async () => {
      const days = await readDays(state(), organizerId, '2030-03-01', '2030-03-03');
      return Object.fromEntries([...days].map(([day, counters]) => [day, present(counters)]));
    };
    const counted = await figures();
    expect(Object.keys(counted)).toEqual(['2030-03-02']);
    expect(counted['2030-03-02']).toMatchObject({
      requested: 2, confirmed: 1, rescheduled: 1, cancelled: 1, cancelledBy: { attendee: 1, organizer: 0, system: 0 }, rejected: 1,
      revenue: { EUR: 4500 }, refunds: { EUR: 4500 },
      leadTime: { bookings: 1, averageMinutes: Math.round((Date.parse('2030-03-05T01:00:00Z') - Date.parse('2030-03-01T23:30:00Z')) / 60_000) },
      busiestHours: [{ hour: 10, bookings: 1 }],
    });

    await clearFigures(state(), organizerId);
    expect(await figures()).toEqual({});
    for (const event of all) await countEvent(event);
    expect(await figures()).toEqual(counted);
  });
});
