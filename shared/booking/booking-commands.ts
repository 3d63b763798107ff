import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DomainEvent, EventMetadata } from '../../events/envelope.ts';
import { fold, ruleViolated } from '../domain/decider.ts';
import { ConcurrencyError, EventStore, type TransactionItem } from '../eventstore/event-store.ts';
import { bookingDecider, holdsTime, strandedAt, waitingFor, type Booking, type BookingCommand, type BookingEvent, type BookingState } from './decider.ts';
import { busyDayUpdate, claimOf, claimUpdate, planBusyDayChanges, planClaimChanges } from './time-claims.ts';
import { uncountAssignment } from '../scheduling/round-robin.ts';

export type BookingTables = { client: DynamoDBDocumentClient; eventsTable: string; stateTable: string };

/** The read model of a booking, kept in the state table beside its claims. */
export type BookingView = Booking & { id: string; version: number; updatedAt: string };

export const bookingKey = (bookingId: string) => ({ pk: `BOOKING#${bookingId}`, sk: 'BOOKING' });

// Its own module, so the slot readers need not bundle the booking commands to throw it.
export { SlotTakenError } from './slot-taken.ts';
import { SlotTakenError } from './slot-taken.ts';

export type ExecuteOptions = {
  bookingId: string;
  command: BookingCommand;
  metadata: Omit<EventMetadata, 'timestamp'>;
  /** Refuses the command for this caller before anything is decided (e.g. not their booking). */
  authorize?: (state: BookingState) => void;
  /** Written with the events, or not at all (idempotency record, first-time read-model fields). */
  alongside?: (after: BookingView) => TransactionItem[];
  /** Fields only the read model holds, set when the booking is first written. */
  createOnly?: Record<string, unknown>;
};

export type ExecuteResult = { booking: BookingView; events: DomainEvent[] };

/**
 * Load, decide, append: one command against one booking. The time claim follows the state: whatever the
 * booking holds before and after the command, the difference is taken or given back in the same transaction
 * as the events and the read model, so the table can never show a booking without its time or time without
 * its booking.
 */
export async function executeBookingCommand(tables: BookingTables, options: ExecuteOptions): Promise<ExecuteResult> {
  // A writer that lost the race for the next version decides again on the newer state: the decider judges the
  // command afresh (a cancel after a confirm is still a cancel; a cancel after a cancel is refused).
  for (let attempt = 1; ; attempt++) {
    try {
      return await executeOnce(tables, options);
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || options.command.type === 'RequestBooking' || attempt >= CONFLICT_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
    }
  }
}

const CONFLICT_ATTEMPTS = 5;

async function executeOnce(tables: BookingTables, options: ExecuteOptions): Promise<ExecuteResult> {
  const store = new EventStore(tables.client, tables.eventsTable);
  // A request opens a stream under an id just minted, so there is nothing to read; the conditional put of
  // version 1 would still refuse a reused id.
  const history = options.command.type === 'RequestBooking' ? [] : ((await store.load(options.bookingId)) as unknown as BookingEvent[]);
  const before = fold(bookingDecider, history);
  options.authorize?.(before);
  const decided = bookingDecider.decide(options.command, before);
  const version = history.length;
  if (decided.length === 0) {
    // Nothing to record (a workflow step repeated): the booking is as its read model already shows it.
    const stored = await readBooking(tables, options.bookingId);
    return { booking: stored?.booking ?? { ...(before as Booking), id: options.bookingId, version, updatedAt: new Date().toISOString() }, events: [] };
  }
  const now = new Date();
  // Folded as they will be stored, with the timestamp the store gives them (a request learns its requestedAt).
  const recorded = decided.map((event) => ({ ...event, metadata: { timestamp: now.toISOString() } }) as BookingEvent);
  const after = recorded.reduce(bookingDecider.evolve, before) as Booking;
  const view: BookingView = { ...after, id: options.bookingId, version: version + decided.length, updatedAt: now.toISOString() };
  const claimBefore = holdsTime(before) ? claimOf(before) : null;
  const claimAfter = holdsTime(after) ? claimOf(after) : null;
  const claimChanges = planClaimChanges(claimBefore, claimAfter);
  const alongside: TransactionItem[] = [
    readModelWrite(tables.stateTable, view, options.createOnly),
    ...listingWrites(tables.stateTable, view),
    ...dueWrites(tables.stateTable, options.bookingId, before, after),
    ...claimChanges.map((change) => ({
      item: claimUpdate(tables.stateTable, options.bookingId, change),
      onConditionFailed: () => new SlotTakenError(),
    })),
    ...planBusyDayChanges(claimBefore, claimAfter).map((change) => ({ item: busyDayUpdate(tables.stateTable, options.bookingId, change) })),
    ...(holdsTime(before) && !holdsTime(after) && before.assignment?.strategy === 'round_robin'
      ? before.hostIds.map((hostId) => uncountAssignment(tables.stateTable, before.eventTypeId, hostId))
      : []),
    ...(options.alongside?.(view) ?? []),
  ];
  if (alongside.length + decided.length > 100) {
    throw ruleViolated('TooLongToClaim', [{ path: 'end', message: 'the booking spans too much time to claim at once; shorten it' }]);
  }
  const events = await store.append({
    aggregateId: options.bookingId,
    aggregateType: 'booking',
    expectedVersion: version,
    events: decided,
    metadata: options.metadata,
    alongside,
    now,
  });
  return { booking: view, events };
}

function readModelWrite(tableName: string, view: BookingView, createOnly: Record<string, unknown> = {}): TransactionItem {
  // An update rather than a put, so fields that only the read model holds (the attendee's token hash) survive.
  const fields: Record<string, unknown> = { booking: view, version: view.version };
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  }
  for (const [name, value] of Object.entries(createOnly)) {
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = if_not_exists(#${name}, :${name})`);
  }
  return {
    item: { Update: { TableName: tableName, Key: bookingKey(view.id), UpdateExpression: `SET ${sets.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values } },
  };
}

/** Everyone who sees a booking in their GET /bookings: its organizer and its hosts. */
export function bookingViewers(view: Pick<BookingView, 'organizerId' | 'hostIds'>): string[] {
  return [...new Set([view.organizerId, ...view.hostIds])];
}

/**
 * One listing entry per viewer, indexed by (viewer, start), so a host of a team booking finds it as readily as
 * the organizer. Entries carry the whole booking and change in the same transaction as it.
 */
function listingWrites(tableName: string, view: BookingView): TransactionItem[] {
  return bookingViewers(view).map((userId) => ({
    item: {
      Put: {
        TableName: tableName,
        Item: { pk: `BOOKING#${view.id}`, sk: `VIEWER#${userId}`, ownerKey: `VIEWER#${userId}`, ownerSort: `${view.start}#${view.id}`, booking: view },
      },
    },
  }));
}

/**
 * Bookings that something must happen to at a known time, one list per kind, sorted by that time, so the
 * scheduled sweep finds what is due with one query each: a confirmed booking is completed once it ends, one
 * still waiting for the organizer expires once it starts, and a draft its workflow has not taken up is
 * released once it is stranded. A booking is on at most one list, and moves between them in its own
 * transactions, so a draft the workflow accepts leaves the stranded list in the very write that accepts it.
 */
export const dueLists = { completion: 'DUE#COMPLETION', expiry: 'DUE#EXPIRY', stranded: 'DUE#STRANDED', payment: 'DUE#PAYMENT' } as const;

/**
 * Each list is spread over this many partition keys (`DUE#COMPLETION#0` ... `#15`), by a hash of the booking id:
 * one key takes at most 1,000 write units a second, a transactional write costs two, and every booking passes
 * through two lists, so one key per list would cap the system near 250 bookings a second. Sixteen carry 4,000;
 * the sweep reads every shard (48 small queries a quarter hour). See the README's "Scale on paper".
 */
export const DUE_LIST_SHARDS = 16;

/** The partition keys the sweep reads for a list: its shards, and the unsharded key earlier versions wrote. */
export function dueListKeys(list: string): string[] {
  return [...Array.from({ length: DUE_LIST_SHARDS }, (_, shard) => `${list}#${shard}`), list];
}

/** FNV-1a of the booking id: the same shard for the same booking on every write, spread evenly. */
function dueShard(bookingId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bookingId.length; i++) hash = Math.imul(hash ^ bookingId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % DUE_LIST_SHARDS;
}

export function dueEntry(state: BookingState, bookingId: string): { pk: string; sk: string } | undefined {
  if (state.status === 'none') return undefined;
  const shard = dueShard(bookingId);
  if (state.status === 'confirmed') return { pk: `${dueLists.completion}#${shard}`, sk: `${state.end}#${bookingId}` };
  const waiting = waitingFor(state);
  if (waiting === 'confirmation') return { pk: `${dueLists.expiry}#${shard}`, sk: `${state.start}#${bookingId}` };
  const stranded = waiting === 'workflow' ? strandedAt(state) : undefined;
  if (stranded) return { pk: `${dueLists.stranded}#${shard}`, sk: `${stranded}#${bookingId}` };
  // A payment's window ends the hold: the workflow's timer releases it, this list is the backstop.
  if (waiting === 'payment' && state.status !== 'draft' && state.payment) {
    return { pk: `${dueLists.payment}#${shard}`, sk: `${state.payment.expiresAt}#${bookingId}` };
  }
  return undefined;
}

function dueWrites(tableName: string, bookingId: string, before: BookingState, after: BookingState): TransactionItem[] {
  const was = dueEntry(before, bookingId);
  const is = dueEntry(after, bookingId);
  if (was?.pk === is?.pk && was?.sk === is?.sk) return [];
  return [
    ...(was ? [{ item: { Delete: { TableName: tableName, Key: was } } }] : []),
    ...(is ? [{ item: { Put: { TableName: tableName, Item: { ...is, bookingId } } } }] : []),
  ];
}

export type StoredBooking = { booking: BookingView; manageTokenHash?: string };

export async function readBooking(tables: Pick<BookingTables, 'client' | 'stateTable'>, bookingId: string): Promise<StoredBooking | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: bookingKey(bookingId), ConsistentRead: true }));
  if (!Item) return undefined;
  return { booking: Item.booking as BookingView, manageTokenHash: Item.manageTokenHash as string | undefined };
}
