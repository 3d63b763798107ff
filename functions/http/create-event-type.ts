import { randomUUID } from 'node:crypto';
import { organizer } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { executeCommand } from '../../shared/domain/aggregate-commands.ts';
import { checkEventTypeReferences, createEventTypeBody, eventTypeDecider, eventTypeItem, slugClaim, type EventTypeView } from '../../shared/event-types/event-types.ts';
import { httpHandler, json, parseJsonBody } from '../../shared/http/handler.ts';
import { IdempotentRequest } from '../../shared/http/idempotency.ts';

export const handler = httpHandler(async (event) => {
  const owner = organizer(event);
  const settings = parseJsonBody(event, createEventTypeBody);
  const tables = bookingTables();
  const request = new IdempotentRequest(tables.client, tables.stateTable, event, owner.userId);
  return request.run(async () => {
    await checkEventTypeReferences(tables, owner, settings);
    const id = randomUUID();
    const view: EventTypeView = { ...settings, id, ownerId: owner.userId, createdAt: new Date().toISOString() };
    const response = json(201, view, { location: `/event-types/${id}` });
    await executeCommand(tables, {
      decider: eventTypeDecider,
      aggregateType: 'event-type',
      aggregateId: id,
      command: { type: 'Create', ownerId: owner.userId, settings },
      metadata: { userId: owner.userId, organizationId: owner.organizationId },
      project: () => [eventTypeItem(tables.stateTable, view), slugClaim(tables.stateTable, owner.userId, settings.slug, id), ...request.remember(response)],
    });
    return response;
  });
});
