import type { EventBridgeEvent } from 'aws-lambda';
import { parseDomainEvent } from '../../events/catalog.ts';
import { requiredEnv } from '../../shared/aws/env.ts';
import { bookingTables } from '../../shared/config.ts';
import { calendarAdapters } from '../../shared/calendars/adapters.ts';
import { writeBookingToCalendars } from '../../shared/calendars/writes.ts';

/** Writes the booking, as it now is, into each host's destination calendar; a provider that is down throws, to be retried, then parked. */
export async function handler(busEvent: EventBridgeEvent<string, unknown>): Promise<void> {
  await writeBookingToCalendars({ tables: bookingTables(), adapters: await calendarAdapters(), publicApiUrl: requiredEnv('PUBLIC_API_URL') }, parseDomainEvent(busEvent.detail));
}
