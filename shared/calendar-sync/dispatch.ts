// The scheduled dispatcher's work: find the connections whose next sync is due (the calendars slice's due list,
// kept with each connection's sync state) and put one sync message per connection on the sync queue.
// A due connection is claimed before it is enqueued: its due-list entry moves `claimSeconds` ahead on condition
// that it still says what the dispatcher read, so two overlapping runs (a retried one, a slow one) enqueue it
// once, and a connection whose read takes longer than the period is not enqueued again on every tick. The
// worker then writes its real next run. A claim whose message was never sent lapses, and the connection is due
// again: nothing is lost for longer than the claim. A due entry whose connection is gone (disconnected) or
// waits for a new grant is dropped from the list instead: nothing would read it, and it would come back every
// claim period.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { calendarKeys, readConnection, type CalendarTables } from '../calendars/store.ts';
import type { SyncMessage } from '../calendars/sync-queue.ts';

export type DispatchPorts = {
  tables: CalendarTables;
  enqueue: (message: Omit<SyncMessage, 'requestedAt'> & { requestedAt?: string }) => Promise<void>;
  now: Date;
  /** How long a claimed connection stays off the due list unless its worker says otherwise. */
  claimSeconds?: number;
  /** At most this many connections per run (oldest due first, per shard); the rest are due at the next tick. */
  limit?: number;
};

export type DispatchTally = { due: number; enqueued: number; claimedElsewhere: number; failed: number; dropped: number };

export const DEFAULT_CLAIM_SECONDS = 600;
const SEND_CONCURRENCY = 10;

type Due = { connectionId: string; shard: string; ownerSort: string };

async function dueEntries(tables: CalendarTables, now: Date, limit: number): Promise<Due[]> {
  const entries: Due[] = [];
  const shards = calendarKeys.syncDueShards();
  const perShard = Math.max(1, Math.ceil(limit / shards.length));
  for (const shard of shards) {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    let taken = 0;
    do {
      const page = await tables.client.send(
        new QueryCommand({
          TableName: tables.stateTable,
          IndexName: 'byOwner',
          KeyConditionExpression: 'ownerKey = :shard AND ownerSort <= :now',
          ExpressionAttributeValues: { ':shard': shard, ':now': `${now.toISOString()}#\uffff` },
          ProjectionExpression: 'connectionId, ownerSort',
          Limit: perShard - taken,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (typeof item.connectionId === 'string') entries.push({ connectionId: item.connectionId, shard, ownerSort: item.ownerSort as string });
      }
      taken += page.Items?.length ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey && taken < perShard);
  }
  return entries;
}

/** Moves the connection's due entry ahead if it is still the one read; false when another run took it. */
async function claim(tables: CalendarTables, due: Due, until: string): Promise<boolean> {
  const next = calendarKeys.syncDue(due.connectionId, until);
  try {
    await tables.client.send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key: calendarKeys.sync(due.connectionId),
        UpdateExpression: 'SET ownerSort = :next, #sync.nextRunAt = :until, #sync.#state = :queued',
        ConditionExpression: 'ownerKey = :shard AND ownerSort = :seen',
        ExpressionAttributeNames: { '#sync': 'sync', '#state': 'state' },
        ExpressionAttributeValues: { ':next': next.ownerSort, ':until': until, ':queued': 'queued', ':shard': due.shard, ':seen': due.ownerSort },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Takes a due entry off the list, if it is still the one read (a reconnect meanwhile wrote a new one). */
async function drop(tables: CalendarTables, due: Due): Promise<boolean> {
  try {
    await tables.client.send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key: calendarKeys.sync(due.connectionId),
        UpdateExpression: 'REMOVE ownerKey, ownerSort',
        ConditionExpression: 'ownerKey = :shard AND ownerSort = :seen',
        ExpressionAttributeValues: { ':shard': due.shard, ':seen': due.ownerSort },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Gives a claim back after its message could not be sent, so the retried run finds the connection due. */
async function release(tables: CalendarTables, due: Due, until: string): Promise<void> {
  const claimed = calendarKeys.syncDue(due.connectionId, until);
  const seenAt = due.ownerSort.slice(0, due.ownerSort.length - due.connectionId.length - 1);
  await tables.client
    .send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key: calendarKeys.sync(due.connectionId),
        UpdateExpression: 'SET ownerSort = :seen, #sync.nextRunAt = :seenAt',
        ConditionExpression: 'ownerSort = :claimed',
        ExpressionAttributeNames: { '#sync': 'sync' },
        ExpressionAttributeValues: { ':seen': due.ownerSort, ':seenAt': seenAt, ':claimed': claimed.ownerSort },
      }),
    )
    .catch(() => {});
}

/** One dispatcher run. A send that fails gives its claim back and fails the run, which Scheduler retries. */
export async function dispatchDueSyncs(ports: DispatchPorts): Promise<DispatchTally> {
  const { tables, now } = ports;
  const until = new Date(now.getTime() + (ports.claimSeconds ?? DEFAULT_CLAIM_SECONDS) * 1000).toISOString();
  const due = await dueEntries(tables, now, ports.limit ?? 1000);
  const tally: DispatchTally = { due: due.length, enqueued: 0, claimedElsewhere: 0, failed: 0, dropped: 0 };
  const errors: unknown[] = [];
  for (let i = 0; i < due.length; i += SEND_CONCURRENCY) {
    await Promise.all(
      due.slice(i, i + SEND_CONCURRENCY).map(async (entry) => {
        let claimed = false;
        try {
          const connection = await readConnection(tables, entry.connectionId);
          if (!connection || connection.status === 'needs_reauth') {
            if (await drop(tables, entry)) tally.dropped++;
            return;
          }
          claimed = await claim(tables, entry, until);
          if (!claimed) {
            tally.claimedElsewhere++;
            return;
          }
          await ports.enqueue({ connectionId: entry.connectionId, reason: 'schedule', requestedAt: now.toISOString() });
          tally.enqueued++;
        } catch (error) {
          if (claimed) await release(tables, entry, until);
          tally.failed++;
          errors.push(error);
        }
      }),
    );
  }
  if (errors.length) throw new AggregateError(errors, `${errors.length} of ${due.length} due calendar syncs could not be enqueued`);
  return tally;
}
