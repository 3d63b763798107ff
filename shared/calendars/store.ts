// The calendars slice's items in the state table, their keys in one place, and the reads the routes and workers
// make of them. Beside each connection's read model sit its encrypted credentials and its sync state (with its
// entry in the sync due list); beside the organizer, the pointer to his one destination calendar.
import { createHash } from 'node:crypto';
import { GetCommand, paginateQuery, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TransactionItem } from '../eventstore/event-store.ts';
import type { ConnectionState } from './connection.ts';
import type { ProviderName } from './provider.ts';

export type CalendarTables = { client: DynamoDBDocumentClient; stateTable: string };

/** Spread of the sync due list over partition keys, as the booking due lists do (shared/booking). */
export const SYNC_DUE_SHARDS = 8;

const shardOf = (value: string, shards: number) => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % shards;
};

/** A short, key-safe stand-in for an external id (a CalDAV URL can be 512 characters; two would overflow a sort key). */
export const digest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

export const calendarKeys = {
  connection: (id: string) => ({ pk: `CALCONN#${id}`, sk: 'CONNECTION' }),
  credentials: (id: string) => ({ pk: `CALCONN#${id}`, sk: 'CREDENTIALS' }),
  sync: (id: string) => ({ pk: `CALCONN#${id}`, sk: 'SYNC' }),
  ownerOfConnections: (organizerId: string) => `CALCONNS#${organizerId}`,
  destination: (organizerId: string) => ({ pk: `CALDEST#${organizerId}`, sk: 'DESTINATION' }),
  oauthState: (nonce: string) => ({ pk: `CALOAUTH#${nonce}`, sk: 'STATE' }),
  /** Busy time: one item per host, connection, calendar and external event. */
  busyPartition: (hostId: string) => `CALBUSY#${hostId}`,
  busyPrefix: (connectionId: string, calendarId?: string) => (calendarId ? `${connectionId}#${digest(calendarId)}#` : `${connectionId}#`),
  busy: (hostId: string, connectionId: string, calendarId: string, externalEventId: string) => ({
    pk: `CALBUSY#${hostId}`,
    sk: `${connectionId}#${digest(calendarId)}#${digest(externalEventId)}`,
  }),
  /** The sync due list the scheduled dispatcher (the sync engine) queries: when each connection syncs next. */
  syncDue: (connectionId: string, nextRunAt: string) => ({ ownerKey: `DUE#CALSYNC#${shardOf(connectionId, SYNC_DUE_SHARDS)}`, ownerSort: `${nextRunAt}#${connectionId}` }),
  syncDueShards: () => Array.from({ length: SYNC_DUE_SHARDS }, (_, shard) => `DUE#CALSYNC#${shard}`),
};

/** The deterministic id of an organizer's connection to one account: connecting the same account again finds it. */
export function connectionIdOf(organizerId: string, provider: ProviderName, account: string): string {
  return `cal-${createHash('sha256').update(`${organizerId}\u0000${provider}\u0000${account.toLowerCase()}`).digest('hex').slice(0, 32)}`;
}

export type ConnectionView = Exclude<ConnectionState, { status: 'none' }> & { id: string; createdAt: string; updatedAt: string };

/** The read model and its entry in the organizer's list; a disconnected one leaves the list. */
export function connectionViewWrite(tableName: string, id: string, state: ConnectionState, times: { createdAt: string; now: Date }): TransactionItem {
  if (state.status === 'none') throw new Error('no connection to write');
  // The written-bookings map is the decider's memory, not the organizer's view.
  const { written: _written, ...rest } = state;
  const view = { ...rest, id, createdAt: times.createdAt, updatedAt: times.now.toISOString() };
  const owner = state.status === 'disconnected' ? {} : { ownerKey: calendarKeys.ownerOfConnections(state.organizerId), ownerSort: `${times.createdAt}#${id}` };
  return { item: { Put: { TableName: tableName, Item: { ...calendarKeys.connection(id), ...owner, view } } } };
}

export async function readConnection(tables: CalendarTables, id: string): Promise<Omit<ConnectionView, 'written'> | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: calendarKeys.connection(id), ConsistentRead: true }));
  const view = Item?.view as ConnectionView | undefined;
  return view && view.status !== 'disconnected' ? view : undefined;
}

export async function listConnections(tables: CalendarTables, organizerId: string): Promise<Array<Omit<ConnectionView, 'written'>>> {
  const views: ConnectionView[] = [];
  const pages = paginateQuery(
    { client: tables.client },
    {
      TableName: tables.stateTable,
      IndexName: 'byOwner',
      KeyConditionExpression: 'ownerKey = :owner',
      ExpressionAttributeValues: { ':owner': calendarKeys.ownerOfConnections(organizerId) },
    },
  );
  for await (const page of pages) views.push(...(page.Items ?? []).map((item) => item.view as ConnectionView));
  return views.filter((view) => view.status !== 'disconnected');
}

export type Destination = { connectionId: string; calendarId: string };

export async function readDestination(tables: CalendarTables, organizerId: string): Promise<Destination | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: calendarKeys.destination(organizerId), ConsistentRead: true }));
  return Item?.connectionId ? { connectionId: Item.connectionId as string, calendarId: Item.calendarId as string } : undefined;
}

/** The pointer write that goes with an event moving the destination (or a delete when it leaves the organizer). */
export function destinationWrite(tableName: string, organizerId: string, destination: Destination | undefined): TransactionItem {
  const Key = calendarKeys.destination(organizerId);
  return destination
    ? { item: { Put: { TableName: tableName, Item: { ...Key, ...destination } } } }
    : { item: { Delete: { TableName: tableName, Key } } };
}

// ---- sync state ----

export type SyncStateName = 'idle' | 'queued' | 'syncing' | 'ok' | 'failing' | 'needs_reauth';
export type SyncState = {
  state: SyncStateName;
  lastSuccessAt?: string;
  lastError?: string;
  lastErrorAt?: string;
  nextRunAt?: string;
  /** Consecutive failures: the backoff grows with them. */
  failures: number;
  /** Per calendar: what the next incremental read starts from. */
  cursors: Record<string, string | null>;
  /** When the last full read was (a full resync runs at least daily). */
  lastFullAt?: string;
  requests?: number;
  /** The first failure of the current streak (shared/calendar-sync/sync-policy.ts#failed). */
  failingSince?: string;
  /** Debounce (sync-policy.ts#triggered): a triggered read enqueued and not started, and its window's end. */
  pendingTriggerAt?: string;
  lastTriggerWindowEnd?: string;
  /** A trigger asked for a full read (a calendar newly busy-checked) and joined a pending read. */
  fullRequested?: boolean;
  /** Reconcile (shared/calendar-sync/reconcile.ts): our events found changed in the calendar, bookings written back last run. */
  drifted?: number;
  rewritten?: number;
};

export async function readSyncState(tables: CalendarTables, id: string): Promise<SyncState> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: calendarKeys.sync(id), ConsistentRead: true }));
  return { state: 'idle', failures: 0, cursors: {}, ...(Item?.sync as Partial<SyncState> | undefined) };
}

/**
 * Writes the sync state and moves its due-list entry with it: the item itself carries the index keys, so the
 * list never disagrees with the state. A connection that is not synced on schedule (needs_reauth, removed) is
 * on no list.
 */
export async function writeSyncState(tables: CalendarTables, id: string, sync: SyncState): Promise<void> {
  const due = sync.nextRunAt && sync.state !== 'needs_reauth' ? calendarKeys.syncDue(id, sync.nextRunAt) : undefined;
  await tables.client.send(
    new UpdateCommand({
      TableName: tables.stateTable,
      Key: calendarKeys.sync(id),
      UpdateExpression: due ? 'SET #sync = :sync, ownerKey = :ownerKey, ownerSort = :ownerSort, connectionId = :id' : 'SET #sync = :sync, connectionId = :id REMOVE ownerKey, ownerSort',
      ExpressionAttributeNames: { '#sync': 'sync' },
      ExpressionAttributeValues: { ':sync': sync, ':id': id, ...(due ? { ':ownerKey': due.ownerKey, ':ownerSort': due.ownerSort } : {}) },
    }),
  );
}

/** Changes a few fields of the sync state (queued, a write failure seen) without touching the rest. */
export async function patchSyncState(tables: CalendarTables, id: string, patch: Partial<SyncState>): Promise<SyncState> {
  const sync = { ...(await readSyncState(tables, id)), ...patch };
  await writeSyncState(tables, id, sync);
  return sync;
}

/** The connections due for a sync by `now`, across the due list's shards (the sync engine's dispatcher reads this). */
export async function dueConnections(tables: CalendarTables, now: Date, limit = 500): Promise<string[]> {
  const ids: string[] = [];
  for (const shard of calendarKeys.syncDueShards()) {
    const page = await tables.client.send(
      new QueryCommand({
        TableName: tables.stateTable,
        IndexName: 'byOwner',
        KeyConditionExpression: 'ownerKey = :shard AND ownerSort <= :now',
        ExpressionAttributeValues: { ':shard': shard, ':now': `${now.toISOString()}#\uffff` },
        Limit: limit,
      }),
    );
    ids.push(...(page.Items ?? []).map((item) => item.connectionId as string));
  }
  return ids;
}

/** The connection as its organizer sees it: calendars with their flags, sync state and status, never a credential. */
export function presentConnection(view: Omit<ConnectionView, 'written'>, sync: SyncState, destination: Destination | undefined) {
  return {
    id: view.id,
    provider: view.provider,
    accountEmail: view.accountEmail,
    status: view.status === 'needs_reauth' ? 'needs_reauth' : 'connected',
    reauthReason: view.status === 'needs_reauth' ? view.reauthReason : undefined,
    calendars: view.calendars.map((calendar) => ({
      id: calendar.id,
      name: calendar.name,
      primary: calendar.primary,
      writable: calendar.writable,
      busy: calendar.busy,
      destination: destination ? destination.connectionId === view.id && destination.calendarId === calendar.id : false,
    })),
    sync: {
      state: view.status === 'needs_reauth' ? 'needs_reauth' : sync.state,
      lastSuccessAt: sync.lastSuccessAt ?? null,
      lastError: sync.lastError ?? null,
      nextRunAt: sync.nextRunAt ?? null,
      // The sync engine's counts: requests the last read made (one per unchanged calendar), failures in a row.
      // Reconcile's: events of ours found changed by hand in the destination (reported as calendar.event.drifted),
      // bookings written back by the last read.
      counts: { requests: sync.requests ?? null, failures: sync.failures, drifted: sync.drifted ?? 0, rewritten: sync.rewritten ?? 0 },
    },
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
  };
}
