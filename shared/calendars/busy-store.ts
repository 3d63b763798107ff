// Busy time imported from the hosts' calendars: one item per host, connection, calendar and external event,
// holding that event's spans. A read is merged into it, never poured over it: an event listed replaces that
// event's spans, one removed ends them, and only a full read removes what it did not list (of its own
// calendar). Events this system wrote (a booking's own event, `bookingId` set) are left out: the booking's
// claim already blocks that time. Slots and the workflow read the items of the hosts they ask about.
import { BatchWriteCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { BusyRead } from './provider.ts';
import { calendarKeys, type CalendarTables } from './store.ts';

type Interval = { start: number; end: number };
export type BusyItem = { pk: string; sk: string; connectionId: string; calendarId: string; externalEventId: string; spans: Array<[number, number]>; until: number };

/**
 * What a read changes, as puts and deletes of items: pure, so the merge rules are tested without a table.
 * `existing` are the sort keys the store holds for this calendar now (only a full read needs them).
 */
export function planBusyMerge(
  target: { hostId: string; connectionId: string; calendarId: string },
  read: BusyRead,
  existing: string[],
): { puts: BusyItem[]; deletes: string[] } {
  const keyOf = (externalEventId: string) => calendarKeys.busy(target.hostId, target.connectionId, target.calendarId, externalEventId);
  const puts: BusyItem[] = [];
  const deletes = new Set<string>();
  const listed = new Set<string>();
  for (const event of read.events) {
    const key = keyOf(event.externalEventId);
    listed.add(key.sk);
    const spans = event.spans
      .map((span) => [Date.parse(span.start), Date.parse(span.end)] as [number, number])
      .filter(([start, end]) => Number.isFinite(start) && Number.isFinite(end) && end > start)
      .sort((a, b) => a[0] - b[0]);
    // Ours (the booking already blocks its time) or blocking nothing (free, declined, cancelled): no item.
    if (event.bookingId || spans.length === 0) {
      deletes.add(key.sk);
      continue;
    }
    puts.push({ ...key, connectionId: target.connectionId, calendarId: target.calendarId, externalEventId: event.externalEventId, spans, until: Math.max(...spans.map(([, end]) => end)) });
  }
  for (const removed of read.removed) {
    const key = keyOf(removed);
    if (!listed.has(key.sk)) deletes.add(key.sk);
  }
  if (read.full) for (const sk of existing) if (!listed.has(sk)) deletes.add(sk);
  return { puts, deletes: [...deletes] };
}

async function sortKeysUnder(tables: CalendarTables, hostId: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  const pages = paginateQuery(
    { client: tables.client },
    {
      TableName: tables.stateTable,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': calendarKeys.busyPartition(hostId), ':prefix': prefix },
      ProjectionExpression: 'sk',
    },
  );
  for await (const page of pages) keys.push(...(page.Items ?? []).map((item) => item.sk as string));
  return keys;
}

async function batchWrite(tables: CalendarTables, requests: Array<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    let pending: Array<Record<string, unknown>> | undefined = requests.slice(i, i + 25);
    for (let attempt = 0; pending?.length; attempt++) {
      const out = await tables.client.send(new BatchWriteCommand({ RequestItems: { [tables.stateTable]: pending as never } }));
      pending = out.UnprocessedItems?.[tables.stateTable] as Array<Record<string, unknown>> | undefined;
      if (pending?.length) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
    }
  }
}

/** Merges one calendar's read into the host's busy time. */
export async function applyBusyRead(tables: CalendarTables, target: { hostId: string; connectionId: string; calendarId: string }, read: BusyRead): Promise<{ puts: number; deletes: number }> {
  const existing = read.full ? await sortKeysUnder(tables, target.hostId, calendarKeys.busyPrefix(target.connectionId, target.calendarId)) : [];
  const { puts, deletes } = planBusyMerge(target, read, existing);
  const pk = calendarKeys.busyPartition(target.hostId);
  await batchWrite(tables, [
    ...puts.map((Item) => ({ PutRequest: { Item } })),
    // A key both put and deleted cannot be in one batch; the plan never makes one (a listed event is put or deleted).
    ...deletes.map((sk) => ({ DeleteRequest: { Key: { pk, sk } } })),
  ]);
  return { puts: puts.length, deletes: deletes.length };
}

/** Forgets the busy time a connection brought (disconnect), or one of its calendars (no longer busy-checked). */
export async function forgetBusy(tables: CalendarTables, hostId: string, connectionId: string, calendarId?: string): Promise<number> {
  const keys = await sortKeysUnder(tables, hostId, calendarKeys.busyPrefix(connectionId, calendarId));
  const pk = calendarKeys.busyPartition(hostId);
  await batchWrite(tables, keys.map((sk) => ({ DeleteRequest: { Key: { pk, sk } } })));
  return keys.length;
}

/** Each host's imported busy spans that meet `range`: one query per host, in parallel. */
export async function externalBusy(tables: CalendarTables, hostIds: string[], range: Interval): Promise<Map<string, Interval[]>> {
  const entries = await Promise.all(
    hostIds.map(async (hostId) => {
      const spans: Interval[] = [];
      const pages = paginateQuery(
        { client: tables.client },
        {
          TableName: tables.stateTable,
          KeyConditionExpression: 'pk = :pk',
          // Only what has not ended before the range: most of a calendar's past is skipped on the server.
          FilterExpression: '#until > :start',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':pk': calendarKeys.busyPartition(hostId), ':start': range.start },
          ProjectionExpression: 'spans',
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          for (const [start, end] of item.spans as Array<[number, number]>) if (start < range.end && range.start < end) spans.push({ start, end });
        }
      }
      return [hostId, spans] as const;
    }),
  );
  return new Map(entries);
}
