import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { COMPLETION_DUE_PK, executeBookingCommand } from '../../shared/booking/booking-commands.ts';
import { bookingTables } from '../../shared/config.ts';
import { DomainError } from '../../shared/domain/decider.ts';
import { logger } from '../../shared/observability/logger.ts';

/**
 * Run on a schedule: every confirmed booking whose meeting has ended becomes completed (Confirmed -> [*]).
 * Each completion is its own command, so one that fails does not hold back the rest; a failure still fails the
 * run, which the scheduler retries and then parks in its dead-letter queue. Running twice is harmless: a
 * completed booking has left the due list.
 */
export async function handler(): Promise<{ completed: number; skipped: number }> {
  const tables = bookingTables();
  const now = new Date().toISOString();
  let completed = 0;
  let skipped = 0;
  const failures: unknown[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await tables.client.send(
      new QueryCommand({
        TableName: tables.stateTable,
        KeyConditionExpression: 'pk = :due AND sk < :now',
        ExpressionAttributeValues: { ':due': COMPLETION_DUE_PK, ':now': now },
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      try {
        await executeBookingCommand(tables, {
          bookingId: item.bookingId as string,
          command: { type: 'Complete', now },
          metadata: { userId: 'system:completion' },
        });
        completed++;
      } catch (error) {
        if (error instanceof DomainError) {
          skipped++;
          logger.warn('booking on the due list cannot be completed', { bookingId: item.bookingId, reason: error.message });
        } else {
          failures.push(error);
        }
      }
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  if (failures.length) throw new AggregateError(failures, `${failures.length} bookings could not be completed`);
  return { completed, skipped };
}
