// From an event type to the engine's query: who hosts it, by which hours, and what they are already busy with.
import { paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventTypeView } from '../event-types/event-types.ts';
import { busyDayRange, busyFromDays } from '../booking/time-claims.ts';
import { defaultSchedulesOf, readSchedule, readTeam, toEngineSchedule } from './directory.ts';
import { computeSlots, type Interval, type Schedule, type Slot, type SlotQuery } from './availability.ts';
import { problems } from '../http/problems.ts';

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

export async function hostsOf(tables: Tables, eventType: EventTypeView): Promise<string[]> {
  if (!eventType.teamId) return [eventType.ownerId];
  const team = await readTeam(tables, eventType.teamId);
  return [...(team?.memberIds ?? [])].sort();
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
  const [schedules, ownSchedule, busy] = await Promise.all([
    defaultSchedulesOf(tables, hostIds),
    eventType.scheduleId ? readSchedule(tables, eventType.scheduleId) : undefined,
    options.ignoreBusy ? new Map<string, Interval[]>() : claimedTime(tables, hostIds, { start: range.start - before, end: range.end + after }, options.excludeBookingId),
  ]);
  // The event type's own schedule is its owner's hours for it; other hosts keep their default hours.
  const scheduleOf = (hostId: string): Schedule =>
    ownSchedule && hostId === eventType.ownerId ? toEngineSchedule(ownSchedule) : schedules.get(hostId)!;
  return {
    hosts: hostIds.map((hostId) => ({ hostId, schedule: scheduleOf(hostId), busy: busy.get(hostId) ?? [] })),
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
 * The hosts the engine offers this exact start to, or the problem that explains why none: 409 when the time
 * is offered but taken, 422 when the event type never offers it. This read only steers; the claim in the
 * booking's transaction is what guarantees no overlap, whatever happens between this read and that write.
 */
export async function offeredHostsAt(tables: Tables, eventType: EventTypeView, start: number, options: { excludeBookingId?: string } = {}): Promise<string[]> {
  const now = Date.now();
  const range = { start, end: start + MINUTE };
  const [offered] = slotsOf(await slotQueryFor(tables, eventType, range, now, options)).filter((slot) => slot.start === start);
  if (offered) return offered.hostIds;
  const [bookable] = slotsOf(await slotQueryFor(tables, eventType, range, now, { ignoreBusy: true })).filter((slot) => slot.start === start);
  if (bookable) throw problems.conflict('slot-taken', 'That time is taken', 'the host already has a booking that overlaps this time (buffers included)');
  throw problems.unprocessable([{ path: 'start', message: 'is not a time this event type offers (outside working hours, notice, window or slot grid); GET /slots lists them' }]);
}

/** The engine's slots, where a team with nobody left on it simply offers nothing. */
export function slotsOf(query: SlotQuery): Slot[] {
  return query.hosts.length === 0 ? [] : computeSlots(query);
}
