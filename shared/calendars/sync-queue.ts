// The sync queue's message and the one way to send it. The HTTP routes (connect, POST /sync), the calendar
// writes and the sync engine's scheduled dispatcher and push routes all enqueue this same message; the worker
// (functions/sync/calendar-sync.ts) reads busy time for that one connection.
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { requiredEnv } from '../aws/env.ts';

export type SyncReason = 'connect' | 'request' | 'schedule' | 'push' | 'flags' | 'retry';
export type SyncMessage = {
  connectionId: string;
  reason: SyncReason;
  /** Read in full, whatever cursor is stored (a new calendar busy-checked, the daily full resync). */
  full?: boolean;
  requestedAt: string;
};

let sqs: SQSClient | undefined;

/**
 * Sends a sync request. Never dropped: a request that arrives while a read of the same connection runs is
 * taken up again after it (the worker puts it back with a delay while the connection's lease is held).
 */
export async function enqueueSync(message: Omit<SyncMessage, 'requestedAt'> & { requestedAt?: string }, delaySeconds = 0): Promise<void> {
  sqs ??= new SQSClient({});
  const body: SyncMessage = { ...message, requestedAt: message.requestedAt ?? new Date().toISOString() };
  await sqs.send(new SendMessageCommand({ QueueUrl: requiredEnv('CALENDAR_SYNC_QUEUE_URL'), MessageBody: JSON.stringify(body), DelaySeconds: Math.max(0, Math.min(900, Math.round(delaySeconds))) }));
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
