import type { Context } from 'aws-lambda';
import * as z from '../../events/zod.ts';
import { bookingTables } from '../../shared/config.ts';
import { renewChannel, renewalTargetFromEnv, type RenewalOutcome } from '../../shared/calendar-sync/push.ts';
import { readConnection } from '../../shared/calendars/store.ts';
import { readCredentials } from '../../shared/calendars/vault.ts';
import { logger } from '../../shared/observability/logger.ts';

const input = z.object({ provider: z.enum(['google', 'microsoft']), channelId: z.string().check(z.minLength(1), z.maxLength(128)) });

/**
 * Run by a channel's one-time renewal schedule (EventBridge Scheduler at(), deleted after it ran): renews the
 * channel and schedules its next renewal, at this very function (the ARN it was invoked by). One line per run.
 */
export async function handler(event: unknown, context: Context): Promise<{ outcome: RenewalOutcome | 'malformed' }> {
  const parsed = input.safeParse(event);
  if (!parsed.success) {
    // Nothing names a channel: retrying cannot help.
    logger.error('calendar push renewal: malformed input', { issues: parsed.error.issues.length });
    return { outcome: 'malformed' };
  }
  const tables = bookingTables();
  const started = Date.now();
  const outcome = await renewChannel(
    { tables, target: renewalTargetFromEnv(process.env, context.invokedFunctionArn), readConnection: (id) => readConnection(tables, id), readCredentials: (id) => readCredentials(tables, id) },
    parsed.data,
  );
  logger.info('calendar push renewal', { provider: parsed.data.provider, outcome, ms: Date.now() - started });
  // 'busy': a twin delivery of this schedule holds the channel's lease and renews it; nothing to do here.
  return { outcome };
}
