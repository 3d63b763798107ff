import type { EventBridgeEvent } from 'aws-lambda';
import { parseDomainEvent } from '../../events/catalog.ts';
import { readBooking } from '../../shared/booking/booking-commands.ts';
import { bookingTables } from '../../shared/config.ts';
import { webhookPorts } from '../../shared/webhooks/ports.ts';
import { fanOut } from '../../shared/webhooks/worker.ts';

/** Each booking event becomes a delivery to every webhook of the booking's organizer that wants it. */
export async function handler(busEvent: EventBridgeEvent<string, unknown>): Promise<void> {
  const event = parseDomainEvent(busEvent.detail);
  if (event.aggregateType !== 'booking') return;
  const stored = await readBooking(bookingTables(), event.aggregateId);
  if (!stored) return;
  await fanOut(webhookPorts(), event, stored.booking.organizerId);
}
