import { bookingCaller } from '../../shared/booking/access.ts';
import { readBooking } from '../../shared/booking/booking-commands.ts';
import { bookingTables } from '../../shared/config.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { httpHandler, json, pathParameter } from '../../shared/http/handler.ts';

/** The booking's history straight from its event stream, versions 1..n. */
export const handler = httpHandler(async (event) => {
  const tables = bookingTables();
  const bookingId = pathParameter(event, 'id');
  await bookingCaller(event, await readBooking(tables, bookingId));
  const events = await new EventStore(tables.client, tables.eventsTable).load(bookingId);
  return json(200, { bookingId, events });
});
