// Conflicts in the state table, and the reconciliation that records them: after a host's busy time changed (a
// sync merged a read) or one of their bookings moved or ended, the host's live bookings are compared with their
// imported busy time and the conflicts recorded open are brought in line, each through its conflict aggregate
// (conflict-decider.ts), so a redelivered message or two workers at once record each change once.
import { paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { BookingTables } from '../booking/booking-commands.ts';
import type { BookingView } from '../booking/booking-commands.ts';
import { claimCellKey } from '../booking/time-claims.ts';
import { executeCommand } from '../domain/aggregate-commands.ts';
import type { TransactionItem } from '../eventstore/event-store.ts';
import { calendarKeys, readConnection } from '../calendars/store.ts';
import { conflictDecider, type ConflictState } from './conflict-decider.ts';
import { bookingViewsById } from './own-events.ts';
import { reconcileConflicts, type Conflict, type ImportedBusyEvent, type LiveBooking } from './conflicts.ts';
import { conflictKeys, listConflicts, type ConflictView } from './conflict-views.ts';

export { listConflicts, type ConflictView } from './conflict-views.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** A conflict's view outlives its booking by this long, then the table's TTL removes it. */
const KEEP_AFTER_BOOKING_MS = 30 * 24 * HOUR;
/**
 * `openSince`: when the open conflict this write changes was detected (its view says so). A resolution, or a new
 * rating of an open conflict, keeps that time; a detection of a conflict not open now is detected now.
 */
function conflictViewWrite(tableName: string, state: ConflictState, before: ConflictState, now: Date, openSince: string | undefined): TransactionItem[] {
  if (state.status === 'none') return [];
  const c = state.conflict;
  const detectedAt = before.status === 'open' ? openSince : undefined;
  const view: ConflictView = {
    conflictId: c.conflictId,
    status: state.status,
    severity: c.severity,
    hostId: c.hostId,
    booking: { id: c.bookingId, start: c.booking.start, end: c.booking.end },
    external: { connectionId: c.connectionId, calendarId: c.calendarId, externalEventId: c.externalEventId },
    overlap: c.overlap,
    ...(state.status === 'resolved' ? { resolution: state.reason } : {}),
    detectedAt: detectedAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
  };
  return [{
    item: {
      Put: {
        TableName: tableName,
        Item: {
          ...conflictKeys.conflict(c.conflictId),
          ownerKey: conflictKeys.ofHost(c.hostId),
          ownerSort: `${c.booking.start}#${c.conflictId}`,
          expiresAt: Math.floor((Date.parse(c.booking.end) + KEEP_AFTER_BOOKING_MS) / 1000),
          view,
        },
      },
    },
  }];
}

/** The host's bookings that hold time from `now` on (their claim cells), as their views: every status that still claims. */
export async function hostBookingViews(tables: Pick<BookingTables, 'client' | 'stateTable'>, hostId: string, now: Date): Promise<BookingView[]> {
  const ids = new Set<string>();
  const from = claimCellKey(hostId, Math.floor(now.getTime() / HOUR));
  const pages = paginateQuery(
    { client: tables.client },
    {
      TableName: tables.stateTable,
      KeyConditionExpression: 'pk = :pk AND sk >= :from',
      ExpressionAttributeValues: { ':pk': from.pk, ':from': from.sk },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      for (const [name, value] of Object.entries(item)) if (/^m\d\d$/.test(name) && typeof value === 'string') ids.add(value);
    }
  }
  return [...(await bookingViewsById(tables, [...ids])).values()].filter((b) => b.hostIds.includes(hostId) && Date.parse(b.end) > now.getTime());
}

/** The host's bookings that hold time from `now` on: the ids in their claim cells, then the bookings. */
export async function liveBookingsOf(tables: Pick<BookingTables, 'client' | 'stateTable'>, hostId: string, now: Date): Promise<LiveBooking[]> {
  const bookings = await hostBookingViews(tables, hostId, now);
  return bookings
    .filter((b) => b && b.status !== 'cancelled' && b.status !== 'completed' && b.hostIds.includes(hostId) && Date.parse(b.end) > now.getTime())
    .map((b) => {
      const start = Date.parse(b.start);
      const end = Date.parse(b.end);
      const iso = (ms: number) => new Date(ms).toISOString();
      return {
        bookingId: b.id,
        hostId,
        meeting: { start: iso(start), end: iso(end) },
        buffers: [
          ...(b.bufferBeforeMinutes > 0 ? [{ start: iso(start - b.bufferBeforeMinutes * MINUTE), end: iso(start) }] : []),
          ...(b.bufferAfterMinutes > 0 ? [{ start: iso(end), end: iso(end + b.bufferAfterMinutes * MINUTE) }] : []),
        ],
      };
    });
}

/** The host's imported busy events that have not ended by `now`, as the busy-time store holds them. */
export async function importedBusyOf(tables: Pick<BookingTables, 'client' | 'stateTable'>, hostId: string, now: Date): Promise<ImportedBusyEvent[]> {
  const events: ImportedBusyEvent[] = [];
  const pages = paginateQuery(
    { client: tables.client },
    {
      TableName: tables.stateTable,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: '#until > :now',
      ExpressionAttributeNames: { '#until': 'until' },
      ExpressionAttributeValues: { ':pk': calendarKeys.busyPartition(hostId), ':now': now.getTime() },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      events.push({
        hostId,
        connectionId: item.connectionId as string,
        calendarId: item.calendarId as string,
        externalEventId: item.externalEventId as string,
        spans: (item.spans as Array<[number, number]>).map(([start, end]) => ({ start: new Date(start).toISOString(), end: new Date(end).toISOString() })),
      });
    }
  }
  return events;
}

export type ConflictTally = { detected: number; resolved: number };

/**
 * Brings one host's recorded conflicts in line with their bookings and busy time as they are now. Conflicts of
 * bookings that have ended are left as they were (history), not resolved.
 */
export async function reconcileHostConflicts(tables: BookingTables, hostId: string, now = new Date(), metadata: { correlationId?: string; causationId?: string } = {}): Promise<ConflictTally> {
  const [bookings, imported, open] = await Promise.all([liveBookingsOf(tables, hostId, now), importedBusyOf(tables, hostId, now), listConflicts(tables, hostId, 'open')]);
  const current = open
    .filter((view) => Date.parse(view.booking.end) > now.getTime())
    .map((view): Conflict => ({
      conflictId: view.conflictId,
      hostId: view.hostId,
      bookingId: view.booking.id,
      booking: { start: view.booking.start, end: view.booking.end },
      connectionId: view.external.connectionId,
      calendarId: view.external.calendarId,
      externalEventId: view.external.externalEventId,
      severity: view.severity,
      overlap: view.overlap,
    }));
  const openSince = new Map(open.map((view) => [view.conflictId, view.detectedAt]));
  const { detected, resolved } = reconcileConflicts({ open: current, bookings, imported });
  const record = (conflictId: string, command: Parameters<typeof conflictDecider.decide>[0]) =>
    executeCommand(tables, {
      decider: conflictDecider,
      aggregateType: 'calendar',
      aggregateId: conflictId,
      command,
      metadata: { userId: 'system:calendar-sync', correlationId: metadata.correlationId ?? conflictId, ...(metadata.causationId ? { causationId: metadata.causationId } : {}) },
      project: (state, context) => conflictViewWrite(tables.stateTable, state, context.before, context.now, openSince.get(conflictId)),
    });
  let detectedCount = 0;
  let resolvedCount = 0;
  for (const conflict of detected) detectedCount += (await record(conflict.conflictId, { type: 'detect', conflict })).events.length;
  for (const { conflict, reason } of resolved) resolvedCount += (await record(conflict.conflictId, { type: 'resolve', reason })).events.length;
  return { detected: detectedCount, resolved: resolvedCount };
}

/** After a sync merged a connection's busy time: its organizer's conflicts, reconciled. */
export async function reconcileConnectionConflicts(tables: BookingTables, connectionId: string, now = new Date()): Promise<ConflictTally> {
  const view = await readConnection(tables, connectionId);
  return view ? reconcileHostConflicts(tables, view.organizerId, now, { correlationId: connectionId }) : { detected: 0, resolved: 0 };
}
