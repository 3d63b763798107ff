import { paginateQuery } from '@aws-sdk/lib-dynamodb';
import { dueListKeys, dueLists, executeBookingCommand } from '../../shared/booking/booking-commands.ts';
import type { BookingCommand } from '../../shared/booking/decider.ts';
import { bookingTables } from '../../shared/config.ts';
import { DomainError } from '../../shared/domain/decider.ts';
import { logger } from '../../shared/observability/logger.ts';

type Tally = { completed: number; expired: number; released: number; skipped: number };

/** Run on a schedule (every 15 minutes), at the time it runs. */
export async function handler(): Promise<Tally> {
  return settleBookings(new Date());
}

/**
 * What is due at `at`: confirmed bookings whose meeting has ended become completed (Confirmed -> [*]); bookings
 * still waiting for the organizer when their meeting starts expire and give their time back; drafts their
 * workflow never took up (stranded) fail and give their time back. Each booking is its own command, so one that
 * fails holds back none of the rest; a failure still fails the run, which the scheduler retries and then parks
 * in its dead-letter queue. Running twice is harmless: a settled booking has left its due list. `at` is a
 * parameter so that tests can run the sweep as it would run later; the deciders judge every booking by it.
 */
export async function settleBookings(at: Date): Promise<Tally> {
  const now = at.toISOString();
  const tally: Tally = { completed: 0, expired: 0, released: 0, skipped: 0 };
  const failures: unknown[] = [];
  const skipped = () => tally.skipped++;
  await settle(dueLists.completion, now, { type: 'Complete', now }, () => tally.completed++, skipped, failures);
  await settle(dueLists.expiry, now, { type: 'Expire', now }, () => tally.expired++, skipped, failures);
  await settle(dueLists.stranded, now, { type: 'ReleaseStranded', now }, () => tally.released++, skipped, failures);
  // Payment windows that passed a minute ago and more with the booking still holding its time: the workflow's
  // timer normally released it; this catches a lost execution. The refund subscriber then cancels the intent.
  const windowsPassed = new Date(Date.parse(now) - PAYMENT_GRACE_MS).toISOString();
  await settle(dueLists.payment, windowsPassed, { type: 'ExpirePayment', now }, () => tally.expired++, skipped, failures);
  if (failures.length) throw new AggregateError(failures, `${failures.length} bookings could not be settled`);
  return tally;
}

const PAYMENT_GRACE_MS = 60_000;

async function settle(list: string, now: string, command: BookingCommand, done: () => void, skipped: () => void, failures: unknown[]): Promise<void> {
  for (const key of dueListKeys(list)) await settleShard(key, now, command, done, skipped, failures);
}

async function settleShard(list: string, now: string, command: BookingCommand, done: () => void, skipped: () => void, failures: unknown[]): Promise<void> {
  const tables = bookingTables();
  const pages = paginateQuery(
    { client: tables.client },
    { TableName: tables.stateTable, KeyConditionExpression: 'pk = :list AND sk < :now', ExpressionAttributeValues: { ':list': list, ':now': now } },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      try {
        await executeBookingCommand(tables, { bookingId: item.bookingId as string, command, metadata: { userId: 'system:settle-bookings' } });
        done();
      } catch (error) {
        if (!(error instanceof DomainError)) {
          failures.push(error);
          continue;
        }
        skipped();
        logger.warn('booking on a due list cannot be settled', { bookingId: item.bookingId, list, reason: error.message });
      }
    }
  }
}
