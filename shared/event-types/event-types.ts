import { randomUUID } from 'node:crypto';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import { eventTypeSettings } from '../../events/scheduling.ts';
import { EventStore, type TransactionItem } from '../eventstore/event-store.ts';
import type { Identity } from '../auth/identity.ts';
import { problems, type FieldError } from '../http/problems.ts';
import { readOrganization, readSchedule, readTeam } from '../scheduling/directory.ts';

export const createEventTypeBody = eventTypeSettings;
export type CreateEventType = z.infer<typeof createEventTypeBody>;
export type EventTypeView = CreateEventType & { id: string; ownerId: string; createdAt: string };

export const eventTypeKey = (id: string) => ({ pk: `EVENTTYPE#${id}`, sk: 'EVENTTYPE' });

type Tables = { client: DynamoDBDocumentClient; eventsTable: string; stateTable: string };

/**
 * The references an event type makes must hold for its owner: a schedule of their own, and for a team event
 * type a team whose organization they administer, with a scheduling type.
 */
async function checkReferences(tables: Tables, owner: Identity, input: CreateEventType): Promise<void> {
  const errors: FieldError[] = [];
  if (input.scheduleId) {
    const schedule = await readSchedule(tables, input.scheduleId);
    if (!schedule || schedule.ownerId !== owner.userId) errors.push({ path: 'scheduleId', message: 'no such schedule of yours' });
  }
  if (input.teamId) {
    const team = await readTeam(tables, input.teamId);
    const organization = team && (await readOrganization(tables, team.organizationId));
    if (!team || organization?.members[owner.userId] !== 'admin') errors.push({ path: 'teamId', message: 'no such team in an organization you administer' });
    else if (team.memberIds.length === 0) errors.push({ path: 'teamId', message: 'the team has no members to host' });
    if (!input.schedulingType) errors.push({ path: 'schedulingType', message: 'a team event type is "collective" or "round_robin"' });
  } else if (input.schedulingType) {
    errors.push({ path: 'schedulingType', message: 'only a team event type has a scheduling type' });
  }
  if (input.bookingWindow?.type === 'range' && input.bookingWindow.end < input.bookingWindow.start) {
    errors.push({ path: 'bookingWindow.end', message: 'must not be before start' });
  }
  if (errors.length) throw problems.unprocessable(errors);
}

/** Records event-type.created and writes the event type's read model in the same transaction. */
export async function createEventType(tables: Tables, owner: Identity, input: CreateEventType, alongside: (view: EventTypeView) => TransactionItem[] = () => []): Promise<EventTypeView> {
  await checkReferences(tables, owner, input);
  const now = new Date();
  const view: EventTypeView = { ...input, id: randomUUID(), ownerId: owner.userId, createdAt: now.toISOString() };
  await new EventStore(tables.client, tables.eventsTable).append({
    aggregateId: view.id,
    aggregateType: 'event-type',
    expectedVersion: 0,
    events: [{ type: 'event-type.created', payload: { ...input, ownerId: owner.userId } }],
    metadata: { userId: owner.userId, organizationId: owner.organizationId },
    now,
    alongside: [
      {
        item: {
          Put: {
            TableName: tables.stateTable,
            Item: { ...eventTypeKey(view.id), ownerKey: `OWNER#${owner.userId}`, ownerSort: `EVENTTYPE#${input.slug}#${view.id}`, eventType: view },
          },
        },
      },
      ...alongside(view),
    ],
  });
  return view;
}

export async function readEventType(tables: Pick<Tables, 'client' | 'stateTable'>, id: string): Promise<EventTypeView | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: eventTypeKey(id) }));
  return Item?.eventType as EventTypeView | undefined;
}
