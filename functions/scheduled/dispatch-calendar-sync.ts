import { bookingTables } from '../../shared/config.ts';
import { enqueueSync } from '../../shared/calendars/sync-queue.ts';
import { dispatchDueSyncs, type DispatchTally } from '../../shared/calendar-sync/dispatch.ts';
import { logger } from '../../shared/observability/logger.ts';

/** Run by the calendar sync schedule (EventBridge Scheduler, every `syncPeriodSeconds`): one line per run. */
export async function handler(): Promise<DispatchTally> {
  const started = Date.now();
  const tally = await dispatchDueSyncs({ tables: bookingTables(), enqueue: async (message) => void (await enqueueSync(message)), now: new Date() });
  logger.info('calendar sync dispatch', { ...tally, ms: Date.now() - started });
  return tally;
}
