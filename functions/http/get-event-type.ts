import { bookingTables } from '../../shared/config.ts';
import { readEventType } from '../../shared/event-types/event-types.ts';
import { httpHandler, json, pathParameter } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';

export const handler = httpHandler(async (event) => {
  const eventType = await readEventType(bookingTables(), pathParameter(event, 'id'));
  if (!eventType) throw problems.notFound('event type');
  return json(200, eventType);
});
