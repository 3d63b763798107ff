// One sync of one connection: read the busy time of each busy-checked calendar (incrementally from the stored
// cursor where the adapter gives one, in full at least daily) and merge it into the host's busy-time store.
// One read per connection at a time: a lease on its sync item. A request that finds the lease held is put back
// on the queue with a short delay, so it runs after the read in progress (never dropped, never concurrent).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { BookingTables } from '../booking/booking-commands.ts';
import { readUser } from '../scheduling/directory.ts';
import { logger } from '../observability/logger.ts';
import { clip } from '../../events/primitives.ts';
import type { CalendarAdapters } from './adapters.ts';
import { applyBusyRead } from './busy-store.ts';
import { connectionCommand } from './commands.ts';
import { CalendarAuthError } from './provider.ts';
import { calendarKeys, readConnection, readDestination, readSyncState, writeSyncState, type SyncState } from './store.ts';
import type { SyncMessage } from './sync-queue.ts';
import { readCredentials } from './vault.ts';

const DAY = 86_400_000;
/** How far ahead busy time is read: beyond the slots' longest query and most booking windows. */
export const BUSY_WINDOW_DAYS = 180;
/** A full read at least this often, whatever the cursors say (Cronofy's advice). */
const FULL_EVERY_MS = DAY;
/** How long one read may hold the connection; beyond it a crashed read's lease lapses. */
const LEASE_MS = 5 * 60_000;
/** When a held lease puts a request back: it runs after the read in progress. */
export const REQUEUE_DELAY_SECONDS = 5;

export type SyncPorts = {
  tables: BookingTables;
  adapters: CalendarAdapters;
  enqueue: (message: SyncMessage, delaySeconds: number) => Promise<void>;
  /** Seconds between scheduled syncs (the sync engine's schedule). */
  periodSeconds: number;
  now?: () => Date;
};

export type SyncOutcome = { outcome: 'synced' | 'requeued' | 'skipped' | 'needs_reauth'; requests?: number; calendars?: number };

/** Backoff after consecutive failures: 1, 2, 4 ... minutes, at most an hour. */
export const backoffMs = (failures: number) => Math.min(60 * 60_000, 60_000 * 2 ** Math.max(0, failures - 1));

async function takeLease(tables: BookingTables, connectionId: string, now: number): Promise<boolean> {
  try {
    await tables.client.send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key: calendarKeys.sync(connectionId),
        UpdateExpression: 'SET leaseUntil = :until, connectionId = :id',
        ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now',
        ExpressionAttributeValues: { ':until': now + LEASE_MS, ':now': now, ':id': connectionId },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

const releaseLease = (tables: BookingTables, connectionId: string) =>
  tables.client.send(new UpdateCommand({ TableName: tables.stateTable, Key: calendarKeys.sync(connectionId), UpdateExpression: 'REMOVE leaseUntil' }));

export async function syncConnection(ports: SyncPorts, message: SyncMessage): Promise<SyncOutcome> {
  const { tables } = ports;
  const now = ports.now?.() ?? new Date();
  const view = await readConnection(tables, message.connectionId);
  if (!view || view.status === 'needs_reauth') return { outcome: 'skipped' };
  if (!(await takeLease(tables, view.id, now.getTime()))) {
    await ports.enqueue({ ...message, reason: message.reason }, REQUEUE_DELAY_SECONDS);
    return { outcome: 'requeued' };
  }
  const before = await readSyncState(tables, view.id);
  await writeSyncState(tables, view.id, { ...before, state: 'syncing' });
  const started = Date.now();
  try {
    const credentials = await readCredentials(tables, view.id);
    if (!credentials) return { outcome: 'skipped' };
    const provider = await ports.adapters.providerFor(view.provider, credentials);
    const host = await readUser(tables, view.organizerId);
    const timeZone = host?.timeZone ?? 'UTC';
    const full = message.full === true || !before.lastFullAt || now.getTime() - Date.parse(before.lastFullAt) >= FULL_EVERY_MS;
    const cursors: SyncState['cursors'] = {};
    let requests = 0;
    const busyCalendars = view.calendars.filter((calendar) => calendar.busy);
    for (const calendar of busyCalendars) {
      const read = await provider.readBusy(calendar.id, {
        from: new Date(now.getTime() - DAY).toISOString(),
        to: new Date(now.getTime() + BUSY_WINDOW_DAYS * DAY).toISOString(),
        timeZone,
        cursor: full ? null : (before.cursors[calendar.id] ?? null),
      });
      await applyBusyRead(tables, { hostId: view.organizerId, connectionId: view.id, calendarId: calendar.id }, read);
      cursors[calendar.id] = read.cursor;
      requests += read.requests;
    }
    const after: SyncState = {
      state: 'ok',
      failures: 0,
      cursors,
      lastSuccessAt: new Date().toISOString(),
      lastFullAt: full ? now.toISOString() : before.lastFullAt,
      nextRunAt: new Date(now.getTime() + ports.periodSeconds * 1000).toISOString(),
      requests,
    };
    await writeSyncState(tables, view.id, after);
    logger.info('calendar sync', { connectionId: view.id, provider: view.provider, reason: message.reason, full, calendars: busyCalendars.length, requests, ms: Date.now() - started, outcome: 'ok' });
    return { outcome: 'synced', requests, calendars: busyCalendars.length };
  } catch (error) {
    if (error instanceof CalendarAuthError) {
      await requireReauth(tables, view.id, view.organizerId, error.message);
      logger.warn('calendar sync', { connectionId: view.id, provider: view.provider, reason: message.reason, ms: Date.now() - started, outcome: 'needs_reauth' });
      return { outcome: 'needs_reauth' };
    }
    const failures = before.failures + 1;
    await writeSyncState(tables, view.id, {
      ...before,
      state: 'failing',
      failures,
      lastError: clip(`reading busy time failed: ${(error as Error).message}`, 500),
      lastErrorAt: new Date().toISOString(),
      nextRunAt: new Date(now.getTime() + backoffMs(failures)).toISOString(),
    });
    logger.warn('calendar sync', { connectionId: view.id, provider: view.provider, reason: message.reason, ms: Date.now() - started, outcome: 'failing', failures, error: (error as Error).message });
    throw error;
  } finally {
    await releaseLease(tables, view.id);
  }
}

/** The grant stopped working: the connection says so (calendar.reauth.required, once) and is synced no more until reconnected. */
export async function requireReauth(tables: BookingTables, connectionId: string, organizerId: string, reason: string): Promise<void> {
  const view = await readConnection(tables, connectionId);
  if (!view) return;
  await connectionCommand(tables, connectionId, { userId: 'system:calendar-sync' }, {
    aggregateId: connectionId,
    command: { type: 'RequireReauth', reason: clip(reason || 'the provider no longer accepts the grant', 1000) },
    createdAt: view.createdAt,
    pointer: await readDestination(tables, organizerId),
  });
  const sync = await readSyncState(tables, connectionId);
  await writeSyncState(tables, connectionId, { ...sync, state: 'needs_reauth', lastError: clip(`the provider no longer accepts the grant: ${reason}`, 500), lastErrorAt: new Date().toISOString(), nextRunAt: undefined });
}
