import { dynamo, requiredEnv } from './aws/clients.ts';
import type { BookingTables } from './booking/booking-commands.ts';

/**
 * The tables a function was given by the stack, each read from its environment when first used: a function
 * that only reads the state table is not given the event table's name, and must not need it.
 */
export function bookingTables(): BookingTables {
  return {
    client: dynamo(),
    get eventsTable() {
      return requiredEnv('EVENTS_TABLE');
    },
    get stateTable() {
      return requiredEnv('STATE_TABLE');
    },
  };
}
