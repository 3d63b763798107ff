import { optionalOrganizer } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { readEventType, type EventTypeView } from '../../shared/event-types/read-model.ts';
import { httpHandler, json, pathParameter } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';

/** What a booking page needs to show an event type; its schedule, team and bookkeeping stay with the owner. */
function publicView(eventType: EventTypeView) {
  const { id, title, slug, description, lengthMinutes, price, schedulingType, requiresConfirmation, bookingWindow, minimumNoticeMinutes } = eventType;
  return { id, title, slug, description, lengthMinutes, price, schedulingType, requiresConfirmation, bookingWindow, minimumNoticeMinutes };
}

/**
 * Public, since booking pages read it: the owner (by bearer token) sees all of it; anyone else its public face,
 * and nothing at all of an inactive one, answered like an id that never existed.
 */
export const handler = httpHandler(async (event) => {
  const caller = await optionalOrganizer(event);
  const eventType = await readEventType(bookingTables(), pathParameter(event, 'id'));
  const owns = eventType !== undefined && caller?.userId === eventType.ownerId;
  if (!eventType || (!owns && !eventType.active)) throw problems.notFound('event type');
  return json(200, owns ? eventType : publicView(eventType));
});
