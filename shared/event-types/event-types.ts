import { randomUUID } from 'node:crypto';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { EventStore, type TransactionItem } from '../eventstore/event-store.ts';
import type { Identity } from '../auth/identity.ts';

export const createEventTypeBody = z.object({
  title: z.string().trim().min(1).max(200),
  slug: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lower-case words joined by hyphens'),
  lengthMinutes: z.number().int().min(5).max(720),
});
export type CreateEventType = z.infer<typeof createEventTypeBody>;

export type EventTypeView = CreateEventType & {
  id: string;
  ownerId: string;
  active: boolean;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  requiresConfirmation: boolean;
  createdAt: string;
};

export const eventTypeKey = (id: string) => ({ pk: `EVENTTYPE#${id}`, sk: 'EVENTTYPE' });

type Tables = { client: DynamoDBDocumentClient; eventsTable: string; stateTable: string };

/** Records event-type.created and writes the event type's read model in the same transaction. */
export async function createEventType(tables: Tables, owner: Identity, input: CreateEventType, alongside: (view: EventTypeView) => TransactionItem[] = () => []): Promise<EventTypeView> {
  const now = new Date();
  const view: EventTypeView = {
    ...input,
    id: randomUUID(),
    ownerId: owner.userId,
    active: true,
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    requiresConfirmation: false,
    createdAt: now.toISOString(),
  };
  await new EventStore(tables.client, tables.eventsTable).append({
    aggregateId: view.id,
    aggregateType: 'event-type',
    expectedVersion: 0,
    events: [{ type: 'event-type.created', payload: { ownerId: owner.userId, title: input.title, slug: input.slug, lengthMinutes: input.lengthMinutes } }],
    metadata: { userId: owner.userId, organizationId: owner.organizationId },
    now,
    alongside: [
      {
        item: {
          Put: {
            TableName: tables.stateTable,
            Item: { ...eventTypeKey(view.id), ownerKey: `OWNER#${owner.userId}`, ownerSort: `EVENTTYPE#${input.slug}`, eventType: view },
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
