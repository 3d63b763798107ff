// Rebuilds the read models from the event store: every stream is folded through its aggregate's decider, and
// the items the commands would have left in the state table (and the audit log) are computed from that state
// and those events, compared with what the tables hold, and written where they differ.
//
// What is a projection here, rebuilt: a booking's view, its listing entries per viewer, its place on a due list,
// its busy-day intervals; event type, user, schedule, organization and team views; membership, invitation and
// team-of-organization entries; the default-schedule pointer; the audit log's entries.
// What is a guard, left as it is: time claims (the cells whose conditional writes make a double booking
// impossible), slug claims, idempotency records (answers to requests, which no event holds), the attendee's
// manage-token hash on the booking item (a secret no event carries), and the round-robin counters (their
// lastAssignedAt is the request's clock, not an event's). A rebuild never takes a guard away, so it cannot open
// a slot or a slug that is taken.
import { DeleteCommand, PutCommand, paginateScan, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DomainEvent } from '../../events/envelope.ts';
import { fold } from '../domain/decider.ts';
import { bookingDecider, holdsTime, type Booking, type BookingEvent } from '../booking/decider.ts';
import { bookingKey, bookingViewers, dueEntry, type BookingView } from '../booking/booking-commands.ts';
import { busyDayKey, claimOf, planBusyDayChanges } from '../booking/time-claims.ts';
import { eventTypeDecider, eventTypeKey, type EventTypeState } from '../event-types/event-types.ts';
import { userDecider } from '../people/users.ts';
import { organizationDecider, teamDecider, type OrganizationState, type TeamState } from '../people/organizations.ts';
import { membershipKeys } from '../people/membership.ts';
import { scheduleDecider } from '../scheduling/schedules.ts';
import { keys } from '../scheduling/directory.ts';

type Item = Record<string, unknown> & { pk: string; sk: string };
type Key = { pk: string; sk: string };

/** Attributes of a state-table item that the rebuild owns; the rest (a guard's, a secret) it leaves alone. */
const preserved: Record<string, string[]> = { BOOKING: ['manageTokenHash'] };
const kindOf = (key: Key) => (key.pk.startsWith('BOOKING#') && key.sk === 'BOOKING' ? 'BOOKING' : key.pk.startsWith('BUSY#') ? 'BUSY' : 'OTHER');

/** Which state-table items are projections, by key. */
export function isProjectionKey({ pk, sk }: Key): boolean {
  // A booking's view and its listings; its mail link tokens (sk LINK#) are secrets beside it, not projections.
  if (pk.startsWith('BOOKING#')) return sk === 'BOOKING' || sk.startsWith('VIEWER#');
  if (pk.startsWith('DUE#') || pk.startsWith('BUSY#') || pk.startsWith('EVENTTYPE#') || pk.startsWith('SCHEDULE#') || pk.startsWith('TEAM#')) return true;
  if (pk.startsWith('USER#')) return sk === 'USER' || sk === 'DEFAULT_SCHEDULE';
  if (pk.startsWith('ORG#')) return sk === 'ORG' || sk.startsWith('MEMBER#') || sk.startsWith('INVITATION#') || sk.startsWith('TEAM#');
  return false;
}

const put = (items: Map<string, Item>, key: Key, attributes: Record<string, unknown>) => {
  const id = `${key.pk}\u0000${key.sk}`;
  items.set(id, { ...(items.get(id) ?? {}), ...attributes, ...key });
};
const view = (items: Map<string, Item>, key: Key, value: Record<string, unknown>, owner?: { ownerKey: string; ownerSort: string }) => put(items, key, { view: value, ...owner });

/** The projection items of every stream, as the commands that appended the events left them. */
export function projectStreams(streams: DomainEvent[][]): Map<string, Item> {
  const items = new Map<string, Item>();
  const defaults = new Map<string, Array<{ at: string; scheduleId: string; isDefault: boolean }>>();
  for (const events of streams) {
    const id = events[0]!.aggregateId;
    const last = events.at(-1)!;
    switch (events[0]!.aggregateType) {
      case 'booking': {
        const state = fold(bookingDecider, events as unknown as BookingEvent[]);
        if (state.status === 'none') break;
        const booking: BookingView = { ...(state as Booking), id, version: last.version, updatedAt: last.metadata.timestamp };
        put(items, bookingKey(id), { booking, version: booking.version });
        for (const userId of bookingViewers(booking)) {
          put(items, { pk: `BOOKING#${id}`, sk: `VIEWER#${userId}` }, { ownerKey: `VIEWER#${userId}`, ownerSort: `${booking.start}#${id}`, booking });
        }
        const due = dueEntry(state, id);
        if (due) put(items, due, { bookingId: id });
        if (holdsTime(state)) {
          for (const change of planBusyDayChanges(null, claimOf(state))) put(items, busyDayKey(change.hostId, change.day), { [`b_${id}`]: change.interval });
        }
        break;
      }
      case 'event-type': {
        const state = fold(eventTypeDecider, events as never) as EventTypeState;
        if (state.status !== 'active') break;
        const { status: _, ...fields } = state;
        const updated = last.type === 'event-type.updated';
        put(items, eventTypeKey(id), {
          view: { ...fields, id, ...(updated ? { updatedAt: last.metadata.timestamp } : {}) },
          ownerKey: `OWNER#${state.ownerId}`,
          ownerSort: `EVENTTYPE#${state.slug}#${id}`,
          createdAt: events[0]!.metadata.timestamp,
        });
        break;
      }
      case 'user': {
        const state = fold(userDecider, events as never);
        if (state.status !== 'none') view(items, keys.user(id), { ...state, id });
        break;
      }
      case 'schedule': {
        const state = fold(scheduleDecider, events as never);
        if (state.status === 'none') break;
        view(items, keys.schedule(id), { ...state, id }, { ownerKey: `OWNER#${state.ownerId}`, ownerSort: `SCHEDULE#${id}` });
        for (const event of events) {
          const payload = event.payload as { isDefault?: boolean; changes?: { isDefault?: boolean } };
          const isDefault = event.type === 'schedule.created' ? payload.isDefault : payload.changes?.isDefault;
          if (isDefault !== undefined) defaults.set(state.ownerId, [...(defaults.get(state.ownerId) ?? []), { at: event.metadata.timestamp, scheduleId: id, isDefault }]);
        }
        break;
      }
      case 'team': {
        const state = fold(teamDecider, events as never) as TeamState;
        if (state.status === 'none') break;
        view(items, keys.team(id), { ...state, id });
        // Written once, when the team was created, with the name it had then.
        const created = fold(teamDecider, events.slice(0, 1) as never) as Extract<TeamState, { status: 'active' }>;
        view(items, membershipKeys.team(state.organizationId, id), { teamId: id, name: created.name });
        break;
      }
      case 'organization': {
        const state = fold(organizationDecider, events as never) as OrganizationState;
        if (state.status === 'none') break;
        view(items, keys.organization(id), { ...state, id });
        for (const [userId, role] of Object.entries(state.members)) {
          view(items, membershipKeys.member(id, userId), { organizationId: id, role }, { ownerKey: `MEMBER#${userId}`, ownerSort: `ORG#${id}` });
        }
        for (const [userId, role] of Object.entries(state.invitations)) {
          const invited = events.findLast((e) => e.type === 'organization.member.invited' && (e.payload as { userId: string }).userId === userId)!;
          view(
            items,
            membershipKeys.invitation(id, userId),
            { organizationId: id, organizationName: state.name, role, invitedBy: invited.metadata.userId, invitedAt: invited.metadata.timestamp },
            { ownerKey: `INVITEE#${userId}`, ownerSort: `INVITATION#${id}` },
          );
        }
        break;
      }
    }
  }
  // One pointer per user: the schedule last made the default, unless it was made not the default since.
  for (const [userId, changes] of defaults) {
    let pointer: string | undefined;
    for (const change of changes.sort((a, b) => a.at.localeCompare(b.at))) {
      if (change.isDefault) pointer = change.scheduleId;
      else if (pointer === change.scheduleId) pointer = undefined;
    }
    if (pointer) view(items, keys.defaultSchedule(userId), { scheduleId: pointer });
  }
  return items;
}

/** What the rebuild compares: the owned attributes, with a busy day that holds no interval counted as absent. */
export function comparable(item: Record<string, unknown>): Record<string, unknown> | undefined {
  const key = { pk: String(item.pk), sk: String(item.sk) };
  const keep = preserved[kindOf(key)] ?? [];
  const owned = Object.fromEntries(Object.entries(item).filter(([name]) => !keep.includes(name)).sort(([a], [b]) => a.localeCompare(b)));
  if (kindOf(key) === 'BUSY' && !Object.keys(owned).some((name) => name.startsWith('b_'))) return undefined;
  return owned;
}

/** JSON with every object's keys in order, so equal items compare equal however they were written. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

export type RebuildTables = { client: DynamoDBDocumentClient; eventsTable: string; stateTable: string; auditTable?: string };
export type RebuildReport = { streams: number; events: number; written: number; removed: number; unchanged: number; audited: number };

/**
 * Reads every stream (a scan of the event table: operator tooling, never a function), projects it, and makes
 * the state table's projection items equal to it: missing or different ones are written, ones no stream
 * supports are removed; guards are not touched. Missing audit entries are added (an entry is never rewritten:
 * its recordedAt is when the log first saw the event). Safe to run again; run it while commands are quiet, or a
 * command landing mid-rebuild is re-projected by the next run.
 */
export async function rebuildProjections(tables: RebuildTables, progress: (line: string) => void = () => {}): Promise<RebuildReport> {
  const byStream = new Map<string, DomainEvent[]>();
  let events = 0;
  for await (const page of paginateScan({ client: tables.client }, { TableName: tables.eventsTable, ConsistentRead: true })) {
    for (const item of page.Items ?? []) {
      const event = item as DomainEvent;
      byStream.set(event.aggregateId, [...(byStream.get(event.aggregateId) ?? []), event]);
      events++;
    }
    progress(`read ${events} events of ${byStream.size} streams`);
  }
  const streams = [...byStream.values()].map((list) => list.sort((a, b) => a.version - b.version));
  const expected = projectStreams(streams);
  progress(`projected ${expected.size} read-model items`);

  const existing = new Map<string, Item>();
  for await (const page of paginateScan({ client: tables.client }, { TableName: tables.stateTable, ConsistentRead: true })) {
    for (const item of (page.Items ?? []) as Item[]) if (isProjectionKey(item)) existing.set(`${item.pk}\u0000${item.sk}`, item);
  }
  let written = 0;
  let removed = 0;
  let unchanged = 0;
  for (const [id, item] of expected) {
    const current = existing.get(id);
    if (current && canonical(comparable(current)) === canonical(comparable(item))) {
      unchanged++;
      continue;
    }
    const keep = Object.fromEntries((preserved[kindOf(item)] ?? []).filter((name) => current?.[name] !== undefined).map((name) => [name, current![name]]));
    await tables.client.send(new PutCommand({ TableName: tables.stateTable, Item: { ...item, ...keep } }));
    if (++written % 100 === 0) progress(`wrote ${written} items`);
  }
  for (const [id, item] of existing) {
    if (expected.has(id) || comparable(item) === undefined) continue;
    await tables.client.send(new DeleteCommand({ TableName: tables.stateTable, Key: { pk: item.pk, sk: item.sk } }));
    removed++;
  }
  progress(`state table: ${written} written, ${removed} removed, ${unchanged} already right`);

  let audited = 0;
  if (tables.auditTable) {
    const now = new Date().toISOString();
    for (const stream of streams) {
      for (const event of stream) {
        try {
          await tables.client.send(
            new PutCommand({
              TableName: tables.auditTable,
              Item: {
                aggregateId: event.aggregateId,
                entry: `${String(event.version).padStart(10, '0')}#${event.id}`,
                eventId: event.id,
                type: event.type,
                version: event.version,
                occurredAt: event.metadata.timestamp,
                recordedAt: now,
                actor: event.metadata.userId,
                correlationId: event.metadata.correlationId,
                event: { id: event.id, type: event.type, aggregateId: event.aggregateId, aggregateType: event.aggregateType, version: event.version, payload: event.payload, metadata: event.metadata },
              },
              ConditionExpression: 'attribute_not_exists(entry)',
            }),
          );
          audited++;
        } catch (error) {
          if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        }
      }
    }
    progress(`audit log: ${audited} missing entries added`);
  }
  return { streams: streams.length, events, written, removed, unchanged, audited };
}
