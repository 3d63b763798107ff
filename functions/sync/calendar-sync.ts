import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { bookingTables } from '../../shared/config.ts';
import { calendarAdapters } from '../../shared/calendars/adapters.ts';
import { enqueueSync, parseSyncMessage, type SyncMessage } from '../../shared/calendars/sync-queue.ts';
import { syncConnection } from '../../shared/calendars/sync-worker.ts';
import { reconcileConnectionConflicts } from '../../shared/calendar-sync/conflict-store.ts';
import { reportPersistentFailure } from '../../shared/calendar-sync/sync-notices.ts';
import { logger } from '../../shared/observability/logger.ts';

const periodSeconds = () => Number(process.env.CALENDAR_SYNC_PERIOD_SECONDS ?? 300) || 300;

/** Reads busy time for the connections of a batch, one after another; a failed one alone comes back (and, in the end, to the DLQ). */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const ports = {
    tables: bookingTables(),
    adapters: await calendarAdapters(),
    // A message put back while its connection is being read was counted as a trigger already: no debounce.
    enqueue: async (message: SyncMessage, delaySeconds: number) => void (await enqueueSync(message, delaySeconds, { debounce: false })),
    periodSeconds: periodSeconds(),
    // The manage link of a booking written back by reconcile (shared/calendar-sync/reconcile.ts).
    publicApiUrl: process.env.PUBLIC_API_URL,
  };
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const message = parseSyncMessage(record.body);
    if (!message) {
      logger.warn('calendar sync message dropped: it names no connection', { messageId: record.messageId });
      continue;
    }
    try {
      const { outcome } = await syncConnection(ports, message);
      // The sync engine: the conflicts the merged busy time brings or resolves (calendar.conflict.*).
      if (outcome === 'synced') await reconcileConnectionConflicts(ports.tables, message.connectionId);
    } catch {
      // The sync engine: a failure streak that has become persistent is told to the organizer, once.
      await reportPersistentFailure(ports.tables, message.connectionId).catch((error) => logger.warn('calendar sync failure not reported', { connectionId: message.connectionId, error: (error as Error).message }));
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
