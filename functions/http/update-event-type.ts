import { organizer } from '../../shared/auth/identity.ts';
import { definedOnly } from '../../shared/domain/decider.ts';
import { bookingTables } from '../../shared/config.ts';
import { executeCommand } from '../../shared/domain/aggregate-commands.ts';
import { checkEventTypeReferences, eventTypeDecider, eventTypeItem, readEventType, slugClaim, slugRelease, updateEventTypeBody, type EventTypeView } from '../../shared/event-types/event-types.ts';
import { httpHandler, json, parseJsonBody, pathParameter } from '../../shared/http/handler.ts';
import { IdempotentRequest } from '../../shared/http/idempotency.ts';
import { problems } from '../../shared/http/problems.ts';

/**
 * The owner changes an event type (deactivate it, move its buffers, ...). Bookings already made keep the terms
 * they were made on: their claims carry their own buffers.
 */
export const handler = httpHandler(async (event) => {
  const owner = organizer(event);
  const id = pathParameter(event, 'id');
  const changes = parseJsonBody(event, updateEventTypeBody);
  const tables = bookingTables();
  const current = await readEventType(tables, id);
  if (!current || current.ownerId !== owner.userId) throw problems.notFound('event type');
  const request = new IdempotentRequest(tables.client, tables.stateTable, event, owner.userId);
  return request.run(async () => {
    const next: EventTypeView = { ...current, ...definedOnly(changes), updatedAt: new Date().toISOString() };
    await checkEventTypeReferences(tables, owner, next);
    const response = json(200, next);
    const { events } = await executeCommand(tables, {
      decider: eventTypeDecider,
      aggregateType: 'event-type',
      aggregateId: id,
      command: { type: 'Update', changes },
      metadata: { userId: owner.userId, organizationId: owner.organizationId },
      project: () => [
        eventTypeItem(tables.stateTable, next),
        ...(next.slug !== current.slug ? [slugClaim(tables.stateTable, owner.userId, next.slug, id), slugRelease(tables.stateTable, owner.userId, current.slug)] : []),
        ...request.remember(response),
      ],
    });
    return events.length ? response : json(200, current);
  });
});
