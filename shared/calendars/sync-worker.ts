// One sync of one connection: read the busy time of each busy-checked calendar (incrementally from the stored
// cursor where the adapter gives one, in full at least daily) and merge it into the host's busy-time store;
// then reconcile the destination calendar (shared/calendar-sync/reconcile.ts): bookings missing there written
// back, events of ours changed by hand reported. When the next read is, what a failure backs off to and when
// a read is full are the sync policy's (shared/calendar-sync/sync-policy.ts); its state lives with the
// connection (store.ts SyncState).
// One read per connection at a time: a lease on its sync item. A request that finds the lease held is put back
// on the queue with a short delay, so it runs after the read in progress (never dropped, never concurrent).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { BookingTables } from '../booking/booking-commands.ts';
import { readUser } from '../scheduling/directory.ts';
import { logger } from '../observability/logger.ts';
import { clip } from '../../events/primitives.ts';
import { claimedBookings, ownEventsOnly } from '../calendar-sync/own-events.ts';
import { destinationSnapshot, reconcileDestination, type ReconcileTally } from '../calendar-sync/reconcile.ts';
import { defaultSyncPolicy, failed, needsFullRead, succeeded, type SyncFailure, type SyncPolicy, type SyncSchedule } from '../calendar-sync/sync-policy.ts';
import type { CalendarAdapters } from './adapters.ts';
import { applyBusyRead } from './busy-store.ts';
import { connectionCommand } from './commands.ts';
import { CalendarAuthError, CalendarUnavailableError, type BusyRead } from './provider.ts';
import { calendarKeys, readConnection, readDestination, readSyncState, writeSyncState, type SyncState } from './store.ts';
import type { SyncMessage } from './sync-queue.ts';
import { readCredentials } from './vault.ts';

const DAY = 86_400_000;
/** How far ahead busy time is read: beyond the slots' longest query and most booking windows. */
export const BUSY_WINDOW_DAYS = 180;
/** How long one read may hold the connection; beyond it a crashed read's lease lapses. */
const LEASE_MS = 5 * 60_000;
/** When a held lease puts a request back: it runs after the read in progress. */
export const REQUEUE_DELAY_SECONDS = 5;

export type SyncPorts = {
  tables: BookingTables;
  adapters: CalendarAdapters;
  /** Puts a message back on the queue as it is (no debounce: it is a trigger already counted). */
  enqueue: (message: SyncMessage, delaySeconds: number) => Promise<void>;
  /** Seconds between scheduled syncs (the sync engine's schedule). */
  periodSeconds: number;
  /** The scheduling policy; `defaultSyncPolicy(periodSeconds)` unless given. */
  policy?: SyncPolicy;
  /** The API's public URL (the manage link in a booking's event): reconcile writes bookings back only with it. */
  publicApiUrl?: string;
  now?: () => Date;
  /** In [0, 1): the jitter of the next run and of backoff. */
  random?: () => number;
};

export type SyncOutcome = { outcome: 'synced' | 'requeued' | 'skipped' | 'needs_reauth'; requests?: number; calendars?: number; reconcile?: ReconcileTally };

/** The policy's view of the stored sync state. */
export function scheduleOf(sync: SyncState): SyncSchedule {
  return {
    nextRunAt: sync.nextRunAt ?? null,
    consecutiveFailures: sync.failures,
    ...(sync.failingSince ? { failingSince: sync.failingSince } : {}),
    ...(sync.state === 'needs_reauth' ? { needsReauth: true } : {}),
    ...(sync.lastSuccessAt ? { lastSuccessAt: sync.lastSuccessAt } : {}),
    ...(sync.lastFullAt ? { lastFullReadAt: sync.lastFullAt } : {}),
    ...(sync.lastError ? { lastError: sync.lastError } : {}),
    ...(sync.pendingTriggerAt ? { pendingTriggerAt: sync.pendingTriggerAt } : {}),
    ...(sync.lastTriggerWindowEnd ? { lastTriggerWindowEnd: sync.lastTriggerWindowEnd } : {}),
  };
}

/** How a failed read is seen by the policy: Retry-After honoured, auth never retried. */
function failureOf(error: unknown): SyncFailure {
  const message = (error as Error)?.message ?? String(error);
  if (error instanceof CalendarAuthError) return { kind: 'auth', message };
  if (error instanceof CalendarUnavailableError) return { kind: 'unavailable', message, ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}) };
  return { kind: 'request', message };
}

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

/** A connection that is gone (disconnected) leaves the due list, so the dispatcher stops finding it. */
const leaveSchedule = (tables: BookingTables, connectionId: string) =>
  tables.client.send(new UpdateCommand({ TableName: tables.stateTable, Key: calendarKeys.sync(connectionId), UpdateExpression: 'REMOVE ownerKey, ownerSort' }));

export async function syncConnection(ports: SyncPorts, message: SyncMessage): Promise<SyncOutcome> {
  const { tables } = ports;
  const now = ports.now?.() ?? new Date();
  const random = ports.random ?? Math.random;
  const policy = ports.policy ?? defaultSyncPolicy(ports.periodSeconds);
  const view = await readConnection(tables, message.connectionId);
  if (!view) {
    await leaveSchedule(tables, message.connectionId);
    return { outcome: 'skipped' };
  }
  if (view.status === 'needs_reauth') return { outcome: 'skipped' };
  if (!(await takeLease(tables, view.id, now.getTime()))) {
    await ports.enqueue({ ...message, reason: message.reason }, REQUEUE_DELAY_SECONDS);
    return { outcome: 'requeued' };
  }
  const before = await readSyncState(tables, view.id);
  // The read starts: a trigger pending until now is served by it (later ones enqueue another).
  const { pendingTriggerAt: _served, ...started } = before;
  await writeSyncState(tables, view.id, { ...started, state: 'syncing' });
  const startedMs = Date.now();
  const full = message.full === true || before.fullRequested === true || needsFullRead(scheduleOf(before), now, policy);
  try {
    const credentials = await readCredentials(tables, view.id);
    if (!credentials) return { outcome: 'skipped' };
    const provider = await ports.adapters.providerFor(view.provider, credentials);
    const host = await readUser(tables, view.organizerId);
    const timeZone = host?.timeZone ?? 'UTC';
    // What the destination should hold, before the read (reconcile.ts says why).
    const snapshot = ports.publicApiUrl !== undefined ? await destinationSnapshot(tables, view, now) : undefined;
    const window = { from: new Date(now.getTime() - DAY).toISOString(), to: new Date(now.getTime() + BUSY_WINDOW_DAYS * DAY).toISOString(), timeZone };
    const cursors: SyncState['cursors'] = {};
    let requests = 0;
    const busyCalendars = view.calendars.filter((calendar) => calendar.busy);
    const reads = new Map<string, BusyRead>();
    for (const calendar of busyCalendars) {
      const read = await provider.readBusy(calendar.id, { ...window, cursor: full ? null : (before.cursors[calendar.id] ?? null) });
      reads.set(calendar.id, read);
      cursors[calendar.id] = read.cursor;
      requests += read.requests;
    }
    // A destination that is not busy-checked is read for reconcile only, on the full read (daily).
    let destinationRead = snapshot ? reads.get(snapshot.calendarId) : undefined;
    if (snapshot && !destinationRead && full) {
      destinationRead = await provider.readBusy(snapshot.calendarId, { ...window, cursor: null });
      requests += destinationRead.requests;
    }
    // Only events naming a booking of this host are ours; any other (a forged UID) is busy like any event.
    const claimed = await claimedBookings(tables, [...reads.values(), ...(destinationRead ? [destinationRead] : [])]);
    for (const [calendarId, read] of reads) {
      await applyBusyRead(tables, { hostId: view.organizerId, connectionId: view.id, calendarId }, ownEventsOnly(read, view.organizerId, claimed));
    }
    const reconcile = snapshot
      ? await reconcileDestination({ tables, adapters: ports.adapters, publicApiUrl: ports.publicApiUrl!, now }, view, snapshot, destinationRead && ownEventsOnly(destinationRead, view.organizerId, claimed), claimed)
      : undefined;
    // Triggers that arrived during the read stay pending: their messages are on the queue.
    const latest = await readSyncState(tables, view.id);
    // succeeded() counts from the tick only when it is a plausible one (not ahead of now, within a period).
    const tick = message.reason === 'schedule' ? new Date(message.requestedAt) : undefined;
    const next = succeeded(scheduleOf(before), { now, full, policy, random: random(), tick });
    const after: SyncState = {
      state: 'ok',
      failures: 0,
      cursors,
      lastSuccessAt: new Date().toISOString(),
      lastFullAt: full ? now.toISOString() : before.lastFullAt,
      nextRunAt: next.nextRunAt ?? undefined,
      requests,
      ...(latest.pendingTriggerAt ? { pendingTriggerAt: latest.pendingTriggerAt } : {}),
      ...(latest.lastTriggerWindowEnd ? { lastTriggerWindowEnd: latest.lastTriggerWindowEnd } : {}),
      // A full read asked for during this (incremental) read is still owed.
      ...(latest.fullRequested && !full ? { fullRequested: true } : {}),
      // A booking that could not be written back says so on the connection; the next read tries again.
      ...(reconcile?.rewriteFailed ? { lastError: `writing ${reconcile.rewriteFailed} booking(s) into the destination calendar failed; the next sync tries again`, lastErrorAt: new Date().toISOString() } : {}),
      drifted: reconcile ? (destinationRead?.full ? reconcile.drifted : (before.drifted ?? 0) + reconcile.reported) : 0,
      rewritten: reconcile?.rewritten ?? 0,
    };
    await writeSyncState(tables, view.id, after);
    logger.info('calendar sync', { connectionId: view.id, provider: view.provider, reason: message.reason, full, calendars: busyCalendars.length, requests, ms: Date.now() - startedMs, outcome: 'ok', ...(reconcile ?? {}) });
    return { outcome: 'synced', requests, calendars: busyCalendars.length, ...(reconcile ? { reconcile } : {}) };
  } catch (error) {
    if (error instanceof CalendarAuthError) {
      await requireReauth(tables, view.id, view.organizerId, error.message);
      logger.warn('calendar sync', { connectionId: view.id, provider: view.provider, reason: message.reason, ms: Date.now() - startedMs, outcome: 'needs_reauth' });
      return { outcome: 'needs_reauth' };
    }
    const { schedule } = failed(scheduleOf(before), { now, failure: failureOf(error), policy, random: random() });
    const latest = await readSyncState(tables, view.id);
    await writeSyncState(tables, view.id, {
      ...before,
      pendingTriggerAt: latest.pendingTriggerAt,
      lastTriggerWindowEnd: latest.lastTriggerWindowEnd,
      fullRequested: full || latest.fullRequested ? true : undefined,
      state: 'failing',
      failures: schedule.consecutiveFailures,
      failingSince: schedule.failingSince,
      lastError: clip(`reading busy time failed: ${(error as Error).message}`, 500),
      lastErrorAt: new Date().toISOString(),
      nextRunAt: schedule.nextRunAt ?? undefined,
    });
    logger.warn('calendar sync', { connectionId: view.id, provider: view.provider, reason: message.reason, ms: Date.now() - startedMs, outcome: 'failing', failures: schedule.consecutiveFailures, error: (error as Error).message });
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
