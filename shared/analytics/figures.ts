// Daily figures per organizer, built from the booking's events: what each event adds (pure), where it is kept,
// and how a range of days is read back and summed. An organization's figures are its members' figures summed
// when asked, so nothing is counted twice and each organizer's figures can be rebuilt on their own.
import { DateTime } from 'luxon';
import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TypedEvent } from '../../events/catalog.ts';
import type { Booking } from '../booking/decider.ts';
import { writeOnce } from '../subscribers/once.ts';

type Tables = { client: DynamoDBDocumentClient; stateTable: string };

export const analyticsKeys = {
  partition: (organizerId: string) => `ANALYTICS#USER#${organizerId}`,
  day: (organizerId: string, date: string) => ({ pk: analyticsKeys.partition(organizerId), sk: `DAY#${date}` }),
  seen: (organizerId: string, eventId: string) => ({ pk: analyticsKeys.partition(organizerId), sk: `SEEN#${eventId}` }),
};

/** Counter names as stored: flat attributes, so one ADD creates or bumps each. */
export type Counters = Record<string, number>;

/**
 * What one event adds to its day, in the organizer's zone: the day it happened, and for confirmations the
 * hour the meeting starts (busiest hours) and the lead time from request to meeting.
 */
export function contribution(event: TypedEvent, booking: Pick<Booking, 'start' | 'requestedAt'>, timeZone: string, previous?: { type: string; metadata?: { timestamp?: string } }): { date: string; counters: Counters } {
  const date = DateTime.fromISO(event.metadata.timestamp, { zone: timeZone }).toISODate()!;
  const counters: Counters = {};
  switch (event.type) {
    case 'booking.requested':
      counters.requested = 1;
      break;
    case 'booking.confirmed': {
      // The confirmation appended with a reschedule confirms a booking already counted: the move is counted.
      if (previous?.type === 'booking.rescheduled' && previous.metadata?.timestamp === event.metadata.timestamp) break;
      counters.confirmed = 1;
      counters[`hour_${DateTime.fromISO(event.payload.start, { zone: timeZone }).toFormat('HH')}`] = 1;
      if (booking.requestedAt) {
        counters.leadTimeCount = 1;
        counters.leadTimeMinutes = Math.max(0, Math.round((Date.parse(event.payload.start) - Date.parse(booking.requestedAt)) / 60_000));
      }
      break;
    }
    case 'booking.cancelled':
      counters.cancelled = 1;
      counters[`cancelledBy_${event.payload.cancelledBy}`] = 1;
      break;
    case 'booking.rescheduled':
      counters.rescheduled = 1;
      break;
    case 'booking.rejected':
      counters.rejected = 1;
      break;
    case 'booking.completed':
      counters.completed = 1;
      break;
    case 'payment.completed':
      counters[`revenue_${event.payload.currency.toUpperCase()}`] = event.payload.amount;
      break;
    case 'payment.refunded':
      counters[`refunds_${event.payload.currency.toUpperCase()}`] = event.payload.amount;
      break;
    default:
      break;
  }
  return { date, counters };
}

/** Adds an event's contribution to its day, exactly once per event: the marker rides in the same transaction. */
export async function record(tables: Tables, organizerId: string, eventId: string, date: string, counters: Counters): Promise<boolean> {
  const names = Object.keys(counters);
  if (names.length === 0) return false;
  return writeOnce(tables, 'analytics', eventId, [
    {
      Update: {
        TableName: tables.stateTable,
        Key: analyticsKeys.day(organizerId, date),
        UpdateExpression: `SET #date = :date ADD ${names.map((_, i) => `#c${i} :c${i}`).join(', ')}`,
        ExpressionAttributeNames: { '#date': 'date', ...Object.fromEntries(names.map((name, i) => [`#c${i}`, name])) },
        ExpressionAttributeValues: { ':date': date, ...Object.fromEntries(names.map((name, i) => [`:c${i}`, counters[name]!])) },
      },
    },
  ], { markerKey: analyticsKeys.seen(organizerId, eventId), keep: true });
}

/** Clears an organizer's figures and markers, so that replaying the event store rebuilds them. */
export async function clearFigures(tables: Tables, organizerId: string): Promise<void> {
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await tables.client.send(new QueryCommand({ TableName: tables.stateTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': analyticsKeys.partition(organizerId) }, ProjectionExpression: 'pk, sk', ExclusiveStartKey }));
    const keys = page.Items ?? [];
    for (let i = 0; i < keys.length; i += 25) {
      await tables.client.send(new BatchWriteCommand({ RequestItems: { [tables.stateTable]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) } }));
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
}

export async function readDays(tables: Tables, organizerId: string, from: string, to: string): Promise<Map<string, Counters>> {
  const days = new Map<string, Counters>();
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await tables.client.send(
      new QueryCommand({
        TableName: tables.stateTable,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': analyticsKeys.partition(organizerId), ':from': `DAY#${from}`, ':to': `DAY#${to}` },
        ExclusiveStartKey,
      }),
    );
    for (const { pk: _, sk: __, date, ...counters } of page.Items ?? []) days.set(date as string, counters as Counters);
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return days;
}

export function sum(into: Counters, add: Counters): Counters {
  for (const [name, value] of Object.entries(add)) into[name] = (into[name] ?? 0) + value;
  return into;
}

/** The figures as the API shows them. */
export function present(counters: Counters) {
  const prefixed = (prefix: string) =>
    Object.fromEntries(Object.entries(counters).filter(([name]) => name.startsWith(prefix)).map(([name, value]) => [name.slice(prefix.length), value]));
  const count = counters.leadTimeCount ?? 0;
  return {
    requested: counters.requested ?? 0,
    confirmed: counters.confirmed ?? 0,
    cancelled: counters.cancelled ?? 0,
    cancelledBy: { attendee: counters.cancelledBy_attendee ?? 0, organizer: counters.cancelledBy_organizer ?? 0, system: counters.cancelledBy_system ?? 0 },
    rescheduled: counters.rescheduled ?? 0,
    rejected: counters.rejected ?? 0,
    completed: counters.completed ?? 0,
    revenue: prefixed('revenue_'),
    refunds: prefixed('refunds_'),
    leadTime: { bookings: count, averageMinutes: count ? Math.round((counters.leadTimeMinutes ?? 0) / count) : null },
    busiestHours: Object.entries(prefixed('hour_'))
      .map(([hour, bookings]) => ({ hour: Number(hour), bookings }))
      .sort((a, b) => b.bookings - a.bookings || a.hour - b.hour),
  };
}
