import { organizer } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { createEventType, createEventTypeBody } from '../../shared/event-types/event-types.ts';
import { httpHandler, json, parseJsonBody } from '../../shared/http/handler.ts';
import { IdempotentRequest } from '../../shared/http/idempotency.ts';

export const handler = httpHandler(async (event) => {
  const owner = organizer(event);
  const input = parseJsonBody(event, createEventTypeBody);
  const tables = bookingTables();
  const request = new IdempotentRequest(tables.client, tables.stateTable, event, owner.userId);
  return request.run(async () => {
    let response = json(201, {});
    await createEventType(tables, owner, input, (view) => {
      response = json(201, view, { location: `/event-types/${view.id}` });
      return request.remember(response);
    });
    return response;
  });
});
