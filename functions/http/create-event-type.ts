import { randomUUID } from 'node:crypto';
import { organizer } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { createEventTypeBody, eventTypeCommandSpec, presentEventType } from '../../shared/event-types/event-types.ts';
import { respondToCommand } from '../../shared/http/command-response.ts';
import { httpHandler, parseJsonBody } from '../../shared/http/handler.ts';

export const handler = httpHandler(async (event) => {
  const owner = organizer(event);
  const settings = parseJsonBody(event, createEventTypeBody);
  const id = randomUUID();
  return respondToCommand(event, owner, {
    ...eventTypeCommandSpec(bookingTables(), id, { type: 'Create', ownerId: owner.userId, settings }),
    status: 201,
    location: `/event-types/${id}`,
    present: (state, context) => presentEventType(id, state, { createdAt: context?.now.toISOString() }),
  });
});
