// From an event type to the engine's query: who hosts it, by which hours, and what they are already busy with.
import { paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventTypeView } from '../event-types/event-types.ts';
import { busyDayRange, busyFromDays } from '../booking/time-claims.ts';
import { defaultSchedulesOf, readOrganization, readSchedule, readTeam, toEngineSchedule } from './directory.ts';
import { computeSlots, type Interval, type Schedule, type Slot, type SlotQuery } from './availability.ts';
import { ruleViolated } from '../domain/decider.ts';
import { SlotTakenError } from '../booking/slot-taken.ts';
import { externalBusy } from '../calendars/busy-store.ts';

type Tables = { client: DynamoDBDocumentClient; stateTable: string };
const MINUTE = 60_000;

/** Each host's claimed time (bookings with their buffers) that meets `range`, from the per-day summaries. */
export async function claimedTime(tables: Tables, hostIds: string[], range: Interval, excludeBookingId?: string): Promise<Map<string, Interval[]>> {
  const { from, to } = busyDayRange(range.start, range.end);
  const entries = await Promise.all(
    hostIds.map(async (hostId) => {
      const items: Array<Record<string, unknown>> = [];
      const pages = paginateQuery(
        { client: tables.client },
        { TableName: tables.stateTable, KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to', ExpressionAttributeValues: { ':pk': `BUSY#${hostId}`, ':from': from, ':to': to } },
      );
      for await (const page of pages) items.push(...(page.Items ?? []));
      const busy = busyFromDays(items).filter((run) => run.bookingId !== excludeBookingId && run.start < range.end && range.start < run.end);
      return [hostId, busy.map(({ start, end }) => ({ start, end }))] as const;
    }),
  );
  return new Map(entries);
}

/**
 * Who hosts an event type: its owner, or the members of its team who still belong to the team's organization.
 * Leaving an organization takes a member off its teams; reading both keeps a departure that is still being
 * carried out (or one interrupted part-way) from ever offering or booking someone who has left.
 */
export async function hostsOf(tables: Tables, eventType: EventTypeView): Promise<string[]> {
  if (!eventType.teamId) return [eventType.ownerId];
  const team = await readTeam(tables, eventType.teamId);
  if (!team) return [];
  const organization = await readOrganization(tables, team.organizationId);
  return team.memberIds.filter((userId) => organization?.members[userId] !== undefined).sort();
}

/** Everything computeSlots needs for this event type over `range` (slot starts), read in parallel. */
export type SlotQueryOptions = {
  /** Leave out all busy time: is the time offered at all (schedule, notice, window, grid)? */
  ignoreBusy?: boolean;
  /** Leave out one booking's own claim: where could this booking move? */
  excludeBookingId?: string;
};

export async function slotQueryFor(tables: Tables, eventType: EventTypeView, range: Interval, now: number, options: SlotQueryOptions = {}): Promise<SlotQuery> {
  const hostIds = await hostsOf(tables, eventType);
  const before = eventType.bufferBeforeMinutes * MINUTE;
  const after = (eventType.lengthMinutes + eventType.bufferAfterMinutes) * MINUTE;
  const busyRange = { start: range.start - before, end: range.end + after };
  const [schedules, ownSchedule, busy, calendarBusy] = await Promise.all([
    defaultSchedulesOf(tables, hostIds),
    eventType.scheduleId ? readSchedule(tables, eventType.scheduleId) : undefined,
    options.ignoreBusy ? new Map<string, Interval[]>() : claimedTime(tables, hostIds, busyRange, options.excludeBookingId),
    // The hosts' busy time from their connected calendars (shared/calendars/busy-store.ts).
    options.ignoreBusy ? new Map<string, Interval[]>() : externalBusy(tables, hostIds, busyRange),
  ]);
  // The event type's own schedule is its owner's hours for it; other hosts keep their default hours.
  const scheduleOf = (hostId: string): Schedule =>
    ownSchedule && hostId === eventType.ownerId ? toEngineSchedule(ownSchedule) : schedules.get(hostId)!;
  return {
    hosts: hostIds.map((hostId) => ({ hostId, schedule: scheduleOf(hostId), busy: [...(busy.get(hostId) ?? []), ...(calendarBusy.get(hostId) ?? [])] })),
    schedulingType: eventType.teamId ? eventType.schedulingType! : 'single',
    lengthMinutes: eventType.lengthMinutes,
    slotIntervalMinutes: eventType.slotIntervalMinutes,
    minimumNoticeMinutes: eventType.minimumNoticeMinutes,
    bufferBeforeMinutes: eventType.bufferBeforeMinutes,
    bufferAfterMinutes: eventType.bufferAfterMinutes,
    bookingWindow: eventType.bookingWindow,
    windowTimeZone: scheduleOf(eventType.ownerId)?.timeZone ?? schedules.values().next().value?.timeZone,
    range,
    now,
  };
}

/**
 * The hosts the engine offers this exact start to, or the refusal that explains why none: a conflict when the
 * time is offered but taken, a rule (naming which) when the event type never offers it. This read only steers;
 * the claim in the booking's transaction is what guarantees no overlap, whatever happens between this read and
 * that write.
 */
export async function offeredHostsAt(tables: Tables, eventType: EventTypeView, start: number, options: { excludeBookingId?: string } = {}): Promise<string[]> {
  const now = Date.now();
  const range = { start, end: start + MINUTE };
  const [offered] = slotsOf(await slotQueryFor(tables, eventType, range, now, options)).filter((slot) => slot.start === start);
  if (offered) return offered.hostIds;
  const unbusy = await slotQueryFor(tables, eventType, range, now, { ignoreBusy: true });
  if (slotsOf(unbusy).some((slot) => slot.start === start)) throw new SlotTakenError();
  throw ruleViolated('TimeNotOffered', [{ path: 'start', message: whyNotOffered(unbusy, start) }]);
}

/**
 * Which rule keeps `start` from being offered, busy time aside: the minimum notice, the booking window, the
 * slot grid, or the hosts' working hours. Each is tried by lifting it (and those before it) from the query.
 */
export function whyNotOffered(query: SlotQuery, start: number): string {
  const offers = (q: SlotQuery) => slotsOf(q).some((slot) => slot.start === start);
  if (query.hosts.length === 0) return 'the event type has no hosts left';
  const notice = query.minimumNoticeMinutes ?? 0;
  if (start < query.now + notice * MINUTE) return `is within the minimum notice of ${notice} minutes`;
  const lifted = { ...query, minimumNoticeMinutes: 0, bookingWindow: undefined };
  if (query.bookingWindow && offers(lifted)) {
    const window = query.bookingWindow;
    return window.type === 'rolling' ? `is beyond the booking window of ${window.days} days` : `is outside the booking window ${window.start} to ${window.end}`;
  }
  if (offers({ ...lifted, slotIntervalMinutes: 1 })) {
    return `is not on the slot grid (every ${query.slotIntervalMinutes ?? query.lengthMinutes} minutes from the start of working hours); GET /slots lists the starts`;
  }
  return `is outside the working hours of ${query.schedulingType === 'round_robin' ? 'every host' : query.hosts.length > 1 ? 'the hosts' : 'the host'} (or the meeting does not fit before they end); GET /slots lists the starts`;
}

/** The engine's slots, where a team with nobody left on it simply offers nothing. */
export function slotsOf(query: SlotQuery): Slot[] {
  return query.hosts.length === 0 ? [] : computeSlots(query);
}
