// Conflict views in the state table: their keys and the host's list. Its own module, light, so the read route
// bundles neither the conflict commands nor the event store.
import { paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Conflict, ResolutionReason } from './conflicts.ts';

/** The most conflicts one host's list returns, earliest booking first. */
export const MAX_LISTED_CONFLICTS = 500;

export const conflictKeys = {
  conflict: (conflictId: string) => ({ pk: `CALCONFLICT#${conflictId}`, sk: 'CONFLICT' }),
  ofHost: (hostId: string) => `CALCONFLICTS#${hostId}`,
};

export type ConflictView = {
  conflictId: string;
  status: 'open' | 'resolved';
  severity: Conflict['severity'];
  hostId: string;
  booking: { id: string; start: string; end: string };
  external: { connectionId: string; calendarId: string; externalEventId: string };
  overlap: Conflict['overlap'];
  resolution?: ResolutionReason;
  detectedAt: string;
  updatedAt: string;
};

/** A host's conflicts, open and resolved, by booking start; `status` filters. */
export async function listConflicts(tables: { client: DynamoDBDocumentClient; stateTable: string }, hostId: string, status?: 'open' | 'resolved'): Promise<ConflictView[]> {
  const views: ConflictView[] = [];
  const pages = paginateQuery(
    { client: tables.client, pageSize: 100 },
    {
      TableName: tables.stateTable,
      IndexName: 'byOwner',
      KeyConditionExpression: 'ownerKey = :host',
      ExpressionAttributeValues: { ':host': conflictKeys.ofHost(hostId) },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const view = item.view as ConflictView;
      if (!status || view.status === status) views.push(view);
    }
    if (views.length >= MAX_LISTED_CONFLICTS) break;
  }
  return views.slice(0, MAX_LISTED_CONFLICTS);
}

