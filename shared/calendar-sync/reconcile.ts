// Export and reconcile: after a connection's read, the bookings that should be in its destination calendar
// are compared with what the connection recorded writing and with what the calendar now holds.
//
// The policy (README "Calendar sync", events/README.md `calendar.event.drifted`):
// - A booking that should be there (confirmed or moved, not ended, this host's) and that the connection never
//   recorded writing at its current version (the calendar was disconnected or failing, the write parked) is
//   written again, through the calendar writes' own keyed path (writes.ts#writeBookingForHost): one event per
//   booking, one record per booking version, however many syncs or subscriber retries race. Checked on every
//   read from our own records, so it costs the provider nothing when nothing is missing.
// - An event of ours that was written at the booking's current version and is now different in the calendar
//   was changed there by a person (or their client): it is REPORTED as `calendar.event.drifted` (moved, freed,
//   deleted), once per drift, and NOT written over. A deletion by hand counts: the organizer may have removed it
//   on purpose; writing it back would fight him, and the booking still holds its time here either way. Cronofy
//   and Nylas do the same: they notify changes to the events they created and leave re-creating to the
//   application. Checked on the daily full read, and on any incremental read that names one of our events.
// - A cancelled booking's event still in the calendar (a write that lost a race with the cancellation) is
//   removed through the same keyed path.
// An event only counts as ours when the booking it names exists and is this host's: a forged UID or
// X-BOOKING-ID in an invite is an event like any other, and blocks time (own-events.ts).
import type { Event } from '../../events/envelope.ts';
import type { PayloadOf } from '../../events/catalog.ts';
import type { BookingTables, BookingView } from '../booking/booking-commands.ts';
import { executeCommand } from '../domain/aggregate-commands.ts';
import { fold, unreachable, type Decider } from '../domain/decider.ts';
import { EventStore } from '../eventstore/event-store.ts';
import { logger } from '../observability/logger.ts';
import type { CalendarAdapters } from '../calendars/adapters.ts';
import { connectionDecider, type ConnectionEvent, type WrittenBooking } from '../calendars/connection.ts';
import type { BusyRead, BusySpan, ProviderName } from '../calendars/provider.ts';
import { readDestination } from '../calendars/store.ts';
import { writeBookingForHost } from '../calendars/writes.ts';
import { hostBookingViews } from './conflict-store.ts';
import { bookingViewsById } from './own-events.ts';
import { derivedUuid } from './ids.ts';

/** At most this many bookings are written back per read: the rest at the next one (a run stays bounded). */
export const MAX_REWRITES_PER_RUN = 25;

export { claimedBookings, ownEventsOnly } from './own-events.ts';

// ---- the plan (pure) ----

export type DriftKind = 'moved' | 'freed' | 'deleted';
export type Drift = { bookingId: string; externalEventId: string; kind: DriftKind; sequence: number; expected: BusySpan; found?: BusySpan };
export type ReconcilePlan = { rewrite: string[]; remove: string[]; drifts: Drift[] };

/** What the destination should hold, taken before the read: the host's upcoming bookings and our write records. */
export type DestinationSnapshot = { calendarId: string; expected: BookingView[]; written: Record<string, WrittenBooking> };

const shouldBeThere = (booking: BookingView) => booking.status === 'confirmed' || booking.status === 'rescheduled';
const iso = (value: string) => new Date(Date.parse(value)).toISOString();

/**
 * From the snapshot and (where the destination calendar was read) its read, already filtered by ownEventsOnly:
 * which bookings to write back, which stray events to remove, which drifts to report.
 */
export function planReconcile(snapshot: DestinationSnapshot, read: BusyRead | undefined, claimed: Map<string, BookingView> = new Map()): ReconcilePlan {
  const plan: ReconcilePlan = { rewrite: [], remove: [], drifts: [] };
  const listed = new Map<string, NonNullable<BusyRead['events']>[number]>();
  for (const event of read?.events ?? []) if (event.bookingId && !listed.has(event.bookingId)) listed.set(event.bookingId, event);
  const removed = new Set(read?.removed ?? []);
  for (const booking of snapshot.expected) {
    if (!shouldBeThere(booking)) continue;
    const record = snapshot.written[booking.id];
    if (!record || record.deleted || record.calendarId !== snapshot.calendarId || record.sequence < booking.version) {
      plan.rewrite.push(booking.id);
      continue;
    }
    if (!read) continue;
    const expected = { start: iso(booking.start), end: iso(booking.end) };
    const base = { bookingId: booking.id, externalEventId: record.externalEventId, sequence: record.sequence, expected };
    const event = listed.get(booking.id);
    if (event) {
      const first = event.spans[0];
      if (!first) plan.drifts.push({ ...base, kind: 'freed' });
      else if (Date.parse(first.start) !== Date.parse(booking.start) || Date.parse(first.end) !== Date.parse(booking.end) || event.spans.length > 1) {
        plan.drifts.push({ ...base, kind: 'moved', found: { start: iso(first.start), end: iso(first.end) } });
      }
    } else if (read.full || removed.has(record.externalEventId)) {
      plan.drifts.push({ ...base, kind: 'deleted' });
    }
  }
  // Ours, still blocking time, for a booking that no longer holds any: a write that lost a race with the cancellation.
  for (const [bookingId, event] of listed) {
    if (claimed.get(bookingId)?.status === 'cancelled' && event.spans.length > 0) plan.remove.push(bookingId);
  }
  return plan;
}

// ---- drift, recorded once ----

type DriftEvent = Event<'calendar.event.drifted', PayloadOf<'calendar.event.drifted'>>;
type ReportDrift = { type: 'ReportDrift'; payload: PayloadOf<'calendar.event.drifted'> };
type DriftState = { reported: string[] };

/** What makes a drift the same drift: the version written, the kind, and the time found. */
const signatureOf = (payload: PayloadOf<'calendar.event.drifted'>) => [payload.sequence, payload.kind, payload.found?.start ?? '', payload.found?.end ?? ''].join('|');

export const driftDecider: Decider<ReportDrift, DriftState, DriftEvent> = {
  initialState: { reported: [] },
  decide(command, state) {
    switch (command.type) {
      case 'ReportDrift':
        return state.reported.includes(signatureOf(command.payload)) ? [] : [{ type: 'calendar.event.drifted', payload: command.payload }];
      default:
        return unreachable(command.type);
    }
  },
  evolve(state, event) {
    return { reported: [...state.reported, signatureOf(event.payload)] };
  },
};

/** One aggregate per connection and booking: every drift of that booking's event in that calendar. */
export const driftAggregateIdOf = (connectionId: string, bookingId: string) => derivedUuid('calendar-drift', connectionId, bookingId);

// ---- the run ----

export type ReconcileConnection = { id: string; organizerId: string; provider: ProviderName };
export type ReconcilePorts = { tables: BookingTables; adapters: CalendarAdapters; publicApiUrl: string; now: Date };
export type ReconcileTally = { rewritten: number; removed: number; rewriteFailed: number; drifted: number; reported: number };

/** What the connection recorded writing, per booking (its aggregate's memory). */
async function writtenOf(tables: BookingTables, connectionId: string): Promise<Record<string, WrittenBooking>> {
  const history = (await new EventStore(tables.client, tables.eventsTable).load(connectionId)) as unknown as ConnectionEvent[];
  const state = fold(connectionDecider, history);
  return state.status === 'none' ? {} : state.written;
}

/**
 * Taken before the read, so that a record or booking seen here is not newer than the calendar the read sees
 * (a drift is re-checked after the read, see reconcileDestination). Undefined: this connection holds no
 * destination of its organizer.
 */
export async function destinationSnapshot(tables: BookingTables, connection: ReconcileConnection, now: Date): Promise<DestinationSnapshot | undefined> {
  const destination = await readDestination(tables, connection.organizerId);
  if (!destination || destination.connectionId !== connection.id) return undefined;
  const [expected, written] = await Promise.all([hostBookingViews(tables, connection.organizerId, now), writtenOf(tables, connection.id)]);
  return { calendarId: destination.calendarId, expected, written };
}

/**
 * Acts on the plan: writes back, removes strays, records drifts. A write that fails is left for the next read
 * (counted, logged); it never fails the sync, whose busy time is merged already.
 */
export async function reconcileDestination(
  ports: ReconcilePorts,
  connection: ReconcileConnection,
  snapshot: DestinationSnapshot,
  read: BusyRead | undefined,
  claimed: Map<string, BookingView>,
): Promise<ReconcileTally> {
  const { tables } = ports;
  const plan = planReconcile(snapshot, read, claimed);
  const tally: ReconcileTally = { rewritten: 0, removed: 0, rewriteFailed: 0, drifted: 0, reported: 0 };
  const writes = [...plan.rewrite.map((id) => ['put', id] as const), ...plan.remove.map((id) => ['remove', id] as const)].slice(0, MAX_REWRITES_PER_RUN);
  for (const [kind, bookingId] of writes) {
    try {
      const outcome = await writeBookingForHost(ports, bookingId, connection.organizerId, { correlationId: connection.id });
      if (outcome === 'written') tally.rewritten++;
      else if (outcome === 'removed') tally.removed++;
      else if (outcome === 'needs_reauth') break;
    } catch (error) {
      tally.rewriteFailed++;
      logger.warn('calendar reconcile write failed', { connectionId: connection.id, bookingId, kind, error: (error as Error).message });
    }
  }
  if (plan.drifts.length === 0) return tally;
  // A drift stands only if neither the booking nor our record moved on since the snapshot: else the read may
  // have seen our own newer write (or the old event before it), and the next read judges again.
  const [now, written] = await Promise.all([bookingViewsById(tables, plan.drifts.map((d) => d.bookingId)), writtenOf(tables, connection.id)]);
  const standing = plan.drifts.filter((drift) => {
    const before = snapshot.expected.find((b) => b.id === drift.bookingId);
    const booking = now.get(drift.bookingId);
    const record = written[drift.bookingId];
    return booking && before && booking.version === before.version && shouldBeThere(booking) && record && !record.deleted && record.sequence === drift.sequence;
  });
  tally.drifted = standing.length;
  for (const drift of standing) {
    const { events } = await executeCommand(tables, {
      decider: driftDecider,
      aggregateType: 'calendar',
      aggregateId: driftAggregateIdOf(connection.id, drift.bookingId),
      command: {
        type: 'ReportDrift',
        payload: {
          userId: connection.organizerId,
          bookingId: drift.bookingId,
          connectionId: connection.id,
          provider: connection.provider,
          calendarId: snapshot.calendarId,
          externalEventId: drift.externalEventId,
          kind: drift.kind,
          sequence: drift.sequence,
          expected: drift.expected,
          ...(drift.found ? { found: drift.found } : {}),
        },
      },
      metadata: { userId: 'system:calendar-sync', correlationId: connection.id },
      project: () => [],
    });
    tally.reported += events.length;
  }
  return tally;
}
