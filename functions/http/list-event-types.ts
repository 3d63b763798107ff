import { organizer } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { httpHandler, json } from '../../shared/http/handler.ts';
import { listEventTypes } from '../../shared/event-types/event-types.ts';

/** The caller's event types, by slug. */
export const handler = httpHandler(async (event) => {
  const me = organizer(event);
  return json(200, { eventTypes: await listEventTypes(bookingTables(), me.userId) });
});
