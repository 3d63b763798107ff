import { dynamo, requiredEnv } from './aws/clients.ts';
import type { BookingTables } from './booking/booking-commands.ts';

/** The tables a function was given by the stack, read from its environment on first use. */
export function bookingTables(): BookingTables {
  return { client: dynamo(), eventsTable: requiredEnv('EVENTS_TABLE'), stateTable: requiredEnv('STATE_TABLE') };
}
