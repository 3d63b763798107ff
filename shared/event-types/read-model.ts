// The event type's read model, as the booking and slot paths read it: no decider, schemas or command code, so
// the routes that only read an event type bundle none of that.
import { GetCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventTypeSettings } from './event-types.ts';

type Tables = { client: DynamoDBDocumentClient; stateTable: string };

export type EventTypeView = EventTypeSettings & { id: string; ownerId: string; createdAt: string; updatedAt?: string };

export const eventTypeKey = (id: string) => ({ pk: `EVENTTYPE#${id}`, sk: 'EVENTTYPE' });

function viewOf(item: Record<string, unknown> | undefined): EventTypeView | undefined {
  if (!item?.view) return undefined;
  const view = item.view as EventTypeView;
  return { ...view, createdAt: (item.createdAt as string | undefined) ?? view.createdAt };
}

/** An event type as its owner sees it (everyone else gets the public part). */
export async function readEventType(tables: Tables, id: string): Promise<EventTypeView | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: eventTypeKey(id), ConsistentRead: true }));
  return viewOf(Item);
}

export async function listEventTypes(tables: Tables, ownerId: string): Promise<EventTypeView[]> {
  const items: Array<Record<string, unknown>> = [];
  const pages = paginateQuery(
    { client: tables.client },
    {
      TableName: tables.stateTable,
      IndexName: 'byOwner',
      KeyConditionExpression: 'ownerKey = :owner AND begins_with(ownerSort, :prefix)',
      ExpressionAttributeValues: { ':owner': `OWNER#${ownerId}`, ':prefix': 'EVENTTYPE#' },
    },
  );
  for await (const page of pages) items.push(...(page.Items ?? []));
  return items.map((item) => viewOf(item)!);
}
