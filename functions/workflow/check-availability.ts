import { bookingTables } from '../../shared/config.ts';
import { calendarAdapters } from '../../shared/calendars/adapters.ts';
import { liveBusyConflicts } from '../../shared/calendars/live-busy.ts';
import { BookingRefused, checkClaims, type WorkflowInput } from './booking-steps.ts';

/**
 * The booking's time is held in the hosts' claim cells, and their busy-checked calendars, asked live, are free
 * then: what was busy there when the time was offered may have changed since. A provider that cannot be reached
 * does not refuse the booking (the sync engine flags a conflict should one show up).
 */
export async function checkAvailability(input: WorkflowInput): Promise<WorkflowInput> {
  const booking = await checkClaims(input);
  const { hits } = await liveBusyConflicts({ tables: bookingTables(), adapters: await calendarAdapters() }, { bookingId: input.bookingId, ...booking });
  if (hits.length) throw new BookingRefused('CheckAvailability', `host ${hits[0]!.hostId} is busy in a connected calendar at that time`);
  return input;
}
