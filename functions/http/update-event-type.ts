import { organizer } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { notFound } from '../../shared/domain/decider.ts';
import { eventTypeCommandSpec, presentEventType, readEventType, updateEventTypeBody } from '../../shared/event-types/event-types.ts';
import { respondToCommand } from '../../shared/http/command-response.ts';
import { httpHandler, parseJsonBody, pathParameter } from '../../shared/http/handler.ts';

/**
 * The owner changes an event type (deactivate it, move its buffers, ...). Bookings already made keep the terms
 * they were made on: their claims carry their own buffers. The answer and the view are the decider's state
 * after the change, so two PATCHes at once both land, one after the other.
 */
export const handler = httpHandler(async (event) => {
  const owner = organizer(event);
  const id = pathParameter(event, 'id');
  const changes = parseJsonBody(event, updateEventTypeBody);
  const tables = bookingTables();
  const createdAt = (await readEventType(tables, id))?.createdAt;
  return respondToCommand(event, owner, {
    ...eventTypeCommandSpec(tables, id, { type: 'Update', changes }),
    authorize: (state) => {
      if (state.status === 'none' || state.ownerId !== owner.userId) throw notFound('EventTypeNotFound', 'event type does not exist');
    },
    status: 200,
    present: (state, context) => presentEventType(id, state, { createdAt, updatedAt: context?.now.toISOString() }),
    unchanged: async () => (await readEventType(tables, id))!,
  });
});
