// The sync queue's message and the one way to send it. The HTTP routes (connect, POST /sync), the calendar
// writes and the sync engine's scheduled dispatcher and push routes all enqueue this same message; the worker
// (functions/sync/calendar-sync.ts) reads busy time for that one connection.
// Triggers (push notifications, POST /sync, flag changes) are debounced here, where every one of them passes:
// a trigger that arrives while a triggered read is enqueued and not started joins it (the policy's `triggered`,
// shared/calendar-sync/sync-policy.ts), so a burst of notifications costs one read. The pending mark is set by
// a conditional write on the connection's sync state, so two triggers at once enqueue one read.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { requiredEnv } from '../aws/env.ts';
import { bookingTables } from '../config.ts';
import { defaultSyncPolicy, triggered, type SyncPolicy } from '../calendar-sync/sync-policy.ts';
import { calendarKeys, type CalendarTables, type SyncState } from './store.ts';

export type SyncReason = 'connect' | 'request' | 'schedule' | 'push' | 'flags' | 'retry';
export type SyncMessage = {
  connectionId: string;
  reason: SyncReason;
  /** Read in full, whatever cursor is stored (a new calendar busy-checked, the daily full resync). */
  full?: boolean;
  requestedAt: string;
};

/** The reasons that are triggers: debounced. A connect (the first read), the schedule and a retry are not. */
export const DEBOUNCED_REASONS: readonly SyncReason[] = ['push', 'request', 'flags'];

export type EnqueueOptions = {
  /** false: send as is (the worker putting back a message it could not run yet). Default: by reason. */
  debounce?: boolean;
  tables?: CalendarTables;
  policy?: SyncPolicy;
  now?: Date;
  /** Where the message goes (the sync queue; tests pass their own). */
  send?: (body: SyncMessage, delaySeconds: number) => Promise<void>;
};

let sqs: SQSClient | undefined;
const sendToQueue = async (body: SyncMessage, delaySeconds: number) => {
  sqs ??= new SQSClient({});
  await sqs.send(new SendMessageCommand({ QueueUrl: requiredEnv('CALENDAR_SYNC_QUEUE_URL'), MessageBody: JSON.stringify(body), DelaySeconds: Math.max(0, Math.min(900, Math.round(delaySeconds))) }));
};

const periodFromEnv = () => Number(process.env.CALENDAR_SYNC_PERIOD_SECONDS ?? 300) || 300;

export type TriggerDecision = { enqueue: true; delaySeconds: number; pendingTriggerAt?: string } | { enqueue: false };

/**
 * Whether this trigger enqueues a read (and after what delay) or joins one pending. Marks the read pending on
 * condition that the state still says what was read, so of concurrent triggers one enqueues. A trigger asking
 * for a full read that joins an incremental one makes it full (`fullRequested`).
 */
export async function debounceTrigger(tables: CalendarTables, connectionId: string, input: { now: Date; policy: SyncPolicy; full?: boolean }): Promise<TriggerDecision> {
  const Key = calendarKeys.sync(connectionId);
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key, ConsistentRead: true }));
  const sync = Item?.sync as Partial<SyncState> | undefined;
  // Never read yet (no state to keep a mark in): nothing to join.
  if (!sync) return { enqueue: true, delaySeconds: 0 };
  const decision = triggered(
    {
      nextRunAt: sync.nextRunAt ?? null,
      consecutiveFailures: sync.failures ?? 0,
      ...(sync.state === 'needs_reauth' ? { needsReauth: true } : {}),
      ...(sync.pendingTriggerAt ? { pendingTriggerAt: sync.pendingTriggerAt } : {}),
      ...(sync.lastTriggerWindowEnd ? { lastTriggerWindowEnd: sync.lastTriggerWindowEnd } : {}),
    },
    { now: input.now, policy: input.policy },
  );
  const names = { '#sync': 'sync' };
  if (!decision.enqueue) {
    if (sync.state === 'needs_reauth') return { enqueue: false };
    if (input.full) await tables.client.send(new UpdateCommand({ TableName: tables.stateTable, Key, UpdateExpression: 'SET #sync.fullRequested = :yes', ExpressionAttributeNames: names, ExpressionAttributeValues: { ':yes': true } }));
    return { enqueue: false };
  }
  const pendingTriggerAt = decision.schedule.pendingTriggerAt!;
  try {
    await tables.client.send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key,
        UpdateExpression: 'SET #sync.pendingTriggerAt = :pending, #sync.lastTriggerWindowEnd = :window',
        ConditionExpression: sync.pendingTriggerAt ? '#sync.pendingTriggerAt = :seen' : 'attribute_exists(#sync) AND attribute_not_exists(#sync.pendingTriggerAt)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':pending': pendingTriggerAt, ':window': decision.schedule.lastTriggerWindowEnd, ...(sync.pendingTriggerAt ? { ':seen': sync.pendingTriggerAt } : {}) },
      }),
    );
  } catch (error) {
    // Another trigger marked it first: this one joins that read.
    if (error instanceof ConditionalCheckFailedException) return { enqueue: false };
    throw error;
  }
  return { enqueue: true, delaySeconds: decision.enqueue.delaySeconds, pendingTriggerAt };
}

/** Takes a pending mark back after its message could not be sent, so the next trigger is not swallowed. */
async function unmark(tables: CalendarTables, connectionId: string, pendingTriggerAt: string): Promise<void> {
  await tables.client
    .send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key: calendarKeys.sync(connectionId),
        UpdateExpression: 'REMOVE #sync.pendingTriggerAt',
        ConditionExpression: '#sync.pendingTriggerAt = :mine',
        ExpressionAttributeNames: { '#sync': 'sync' },
        ExpressionAttributeValues: { ':mine': pendingTriggerAt },
      }),
    )
    .catch(() => {});
}

/**
 * Sends a sync request. Never dropped: a trigger joins a read that is still to come (debounce), and a request
 * that arrives while a read of the same connection runs is taken up again after it (the worker puts it back
 * with a delay while the connection's lease is held). 'joined' when a pending read will serve it.
 */
export async function enqueueSync(message: Omit<SyncMessage, 'requestedAt'> & { requestedAt?: string }, delaySeconds = 0, options: EnqueueOptions = {}): Promise<'enqueued' | 'joined'> {
  const body: SyncMessage = { ...message, requestedAt: message.requestedAt ?? new Date().toISOString() };
  const send = options.send ?? sendToQueue;
  const debounce = options.debounce ?? DEBOUNCED_REASONS.includes(message.reason);
  if (!debounce) {
    await send(body, delaySeconds);
    return 'enqueued';
  }
  const tables = options.tables ?? bookingTables();
  const decision = await debounceTrigger(tables, message.connectionId, { now: options.now ?? new Date(), policy: options.policy ?? defaultSyncPolicy(periodFromEnv()), full: message.full });
  if (!decision.enqueue) return 'joined';
  try {
    await send(body, Math.max(delaySeconds, decision.delaySeconds));
  } catch (error) {
    if (decision.pendingTriggerAt) await unmark(tables, message.connectionId, decision.pendingTriggerAt);
    throw error;
  }
  return 'enqueued';
}

/** A message body from the queue, checked: anything else is dropped as malformed (it names no connection). */
export function parseSyncMessage(body: string): SyncMessage | undefined {
  try {
    const value = JSON.parse(body) as Partial<SyncMessage>;
    if (typeof value.connectionId !== 'string' || !/^cal-[0-9a-f]{32}$/.test(value.connectionId)) return undefined;
    return { connectionId: value.connectionId, reason: (value.reason ?? 'request') as SyncReason, full: value.full === true, requestedAt: String(value.requestedAt ?? new Date().toISOString()) };
  } catch {
    return undefined;
  }
}
