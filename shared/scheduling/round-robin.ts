import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TransactionItem } from '../eventstore/event-store.ts';

export type HostLoad = { hostId: string; assigned: number; lastAssignedAt?: string };

/**
 * Round-robin fairness: of the hosts free at the time, the one given the fewest bookings of this event type so
 * far, then the one who waited longest since their last, then by id so that ties break the same way every time.
 */
export function rankHosts(freeHostIds: string[], loads: Map<string, HostLoad>): HostLoad[] {
  return freeHostIds
    .map((hostId) => loads.get(hostId) ?? { hostId, assigned: 0 })
    .sort((a, b) => a.assigned - b.assigned || (a.lastAssignedAt ?? '').localeCompare(b.lastAssignedAt ?? '') || a.hostId.localeCompare(b.hostId));
}

export function explainAssignment(chosen: HostLoad, others: HostLoad[]): string {
  const rest = others.filter((o) => o.hostId !== chosen.hostId).map((o) => `${o.hostId} ${o.assigned}`);
  return `${chosen.hostId} is free at this time and had the fewest bookings of this event type (${chosen.assigned}${rest.length ? `; ${rest.join(', ')}` : ''})`;
}

const key = (eventTypeId: string, hostId: string) => ({ pk: `ROUNDROBIN#${eventTypeId}`, sk: hostId });

export async function readLoads(client: DynamoDBDocumentClient, tableName: string, eventTypeId: string): Promise<Map<string, HostLoad>> {
  const { Items = [] } = await client.send(
    new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `ROUNDROBIN#${eventTypeId}` }, ConsistentRead: true }),
  );
  return new Map(Items.map((item) => [item.sk as string, { hostId: item.sk as string, assigned: item.assigned as number, lastAssignedAt: item.lastAssignedAt as string }]));
}

/** Counts the assignment in the booking's own transaction, so the tally and the bookings cannot drift apart. */
export function countAssignment(tableName: string, eventTypeId: string, hostId: string, at: string): TransactionItem {
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: key(eventTypeId, hostId),
        UpdateExpression: 'ADD assigned :one SET lastAssignedAt = :at',
        ExpressionAttributeValues: { ':one': 1, ':at': at },
      },
    },
  };
}

/** A round-robin booking that gives its time back (cancelled, rejected, failed) no longer counts for its host. */
export function uncountAssignment(tableName: string, eventTypeId: string, hostId: string): TransactionItem {
  return {
    item: {
      Update: { TableName: tableName, Key: key(eventTypeId, hostId), UpdateExpression: 'ADD assigned :minusOne', ExpressionAttributeValues: { ':minusOne': -1 } },
    },
  };
}
