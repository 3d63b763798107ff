// The connection's commands through the one command path (shared/domain/aggregate-commands.ts): the read model,
// the organizer's destination pointer and the sealed credentials are written in the events' transaction.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { EventMetadata } from '../../events/envelope.ts';
import type { BookingTables } from '../booking/booking-commands.ts';
import { executeCommand, type AggregateCommand } from '../domain/aggregate-commands.ts';
import type { TransactionItem } from '../eventstore/event-store.ts';
import { notFound } from '../domain/decider.ts';
import { connectionDecider, destinationOf, type ConnectionCommand, type ConnectionEvent, type ConnectionState } from './connection.ts';
import { calendarKeys, connectionViewWrite, destinationWrite, readDestination, type Destination } from './store.ts';

export type ConnectionCommandSpec = Omit<AggregateCommand<ConnectionCommand, ConnectionState, ConnectionEvent>, 'decider' | 'aggregateType' | 'metadata' | 'project'> & {
  createdAt: string;
  /** Where the organizer's destination pointed before this command (read by the caller). */
  pointer: Destination | undefined;
};

/** The stored createdAt of a connection, or now for a new one. */
export async function createdAtOf(tables: BookingTables, connectionId: string): Promise<string> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: calendarKeys.connection(connectionId), ConsistentRead: true }));
  return (Item?.view as { createdAt?: string } | undefined)?.createdAt ?? new Date().toISOString();
}

/**
 * The projection of every connection command: the view, and the pointer when this command moves the
 * organizer's destination onto this connection or off it.
 */
export function connectionProjection(tables: BookingTables, connectionId: string, createdAt: string, pointer: Destination | undefined) {
  return (after: ConnectionState, { before, now }: { before: ConnectionState; now: Date }): TransactionItem[] => {
    if (after.status === 'none') return [];
    const items = [connectionViewWrite(tables.stateTable, connectionId, after, { createdAt, now })];
    const was = destinationOf(before);
    const is = destinationOf(after);
    if (is && (is.id !== was?.id || pointer?.connectionId !== connectionId || pointer.calendarId !== is.id)) {
      items.push(destinationWrite(tables.stateTable, after.organizerId, { connectionId, calendarId: is.id }));
    } else if (!is && pointer?.connectionId === connectionId) {
      items.push(destinationWrite(tables.stateTable, after.organizerId, undefined));
    }
    return items;
  };
}

export function connectionCommand(tables: BookingTables, connectionId: string, metadata: Omit<EventMetadata, 'timestamp'>, spec: ConnectionCommandSpec) {
  const { createdAt, pointer, ...rest } = spec;
  return executeCommand(tables, {
    ...rest,
    decider: connectionDecider,
    aggregateType: 'calendar',
    aggregateId: connectionId,
    metadata,
    project: connectionProjection(tables, connectionId, createdAt, pointer),
  });
}

/**
 * After a command put the destination on `connectionId`: the connection that held it before records that it
 * no longer does (the pointer already moved, in the command's own transaction, so bookings go to one place).
 */
export async function clearPreviousDestination(tables: BookingTables, previous: Destination | undefined, connectionId: string, metadata: Omit<EventMetadata, 'timestamp'>): Promise<void> {
  if (!previous || previous.connectionId === connectionId) return;
  const pointer = await readDestination(tables, (await organizerOf(tables, previous.connectionId)) ?? '');
  await connectionCommand(tables, previous.connectionId, metadata, {
    aggregateId: previous.connectionId,
    command: { type: 'ClearDestination' },
    createdAt: await createdAtOf(tables, previous.connectionId),
    pointer,
  }).catch((error) => {
    // A connection that is gone meanwhile has nothing left to clear.
    if ((error as { kind?: string }).kind !== 'not_found') throw error;
  });
}

async function organizerOf(tables: BookingTables, connectionId: string): Promise<string | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: calendarKeys.connection(connectionId), ConsistentRead: true }));
  return (Item?.view as { organizerId?: string } | undefined)?.organizerId;
}

/** The organizer may only act on his own connections: anyone else's is a 404, like one that does not exist. */
export function ownedBy(organizerId: string) {
  return (state: ConnectionState) => {
    if (state.status !== 'none' && state.organizerId !== organizerId) throw notFound('CalendarConnectionNotFound', 'calendar connection does not exist');
  };
}
