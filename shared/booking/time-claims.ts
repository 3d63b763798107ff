// A host's time is claimed minute by minute, so that the database itself refuses any overlap, not only a
// repeated start time. Minutes are grouped into one item per host and UTC hour ("cell") with one attribute per
// minute (m00..m59) holding the booking id: a claim sets its minutes on condition that none of them exists, in
// the same transaction that appends the booking's event. An hour-long meeting with buffers touches two or three
// items per host, which keeps even collective team bookings well inside a transaction's 100 writes.
import type { Booking } from './decider.ts';

export type Claim = { hostIds: string[]; start: number; end: number };

/** The change to one cell: minutes (0-59) to take and minutes to give back. */
export type CellChange = { hostId: string; hour: number; take: number[]; release: number[] };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The time a booking holds: its meeting widened by its buffers, for every host it claims. */
export function claimOf(booking: Booking): Claim {
  return {
    hostIds: booking.hostIds,
    start: Date.parse(booking.start) - booking.bufferBeforeMinutes * MINUTE,
    end: Date.parse(booking.end) + booking.bufferAfterMinutes * MINUTE,
  };
}

function minutesByCell(claim: Claim | null): Map<string, Set<number>> {
  const cells = new Map<string, Set<number>>();
  if (!claim) return cells;
  const first = Math.floor(claim.start / MINUTE);
  const last = Math.ceil(claim.end / MINUTE);
  for (const hostId of claim.hostIds) {
    for (let minute = first; minute < last; minute++) {
      const key = `${hostId}\u0000${Math.floor(minute / 60)}`;
      let minutes = cells.get(key);
      if (!minutes) cells.set(key, (minutes = new Set()));
      minutes.add(minute % 60);
    }
  }
  return cells;
}

/** What must change so that the claim `before` becomes `after`; minutes held by both are left alone. */
export function planClaimChanges(before: Claim | null, after: Claim | null): CellChange[] {
  const held = minutesByCell(before);
  const wanted = minutesByCell(after);
  const changes: CellChange[] = [];
  for (const key of new Set([...held.keys(), ...wanted.keys()])) {
    const [hostId, hour] = key.split('\u0000') as [string, string];
    const had = held.get(key) ?? new Set<number>();
    const wants = wanted.get(key) ?? new Set<number>();
    const take = [...wants].filter((minute) => !had.has(minute)).sort((a, b) => a - b);
    const release = [...had].filter((minute) => !wants.has(minute)).sort((a, b) => a - b);
    if (take.length || release.length) changes.push({ hostId, hour: Number(hour), take, release });
  }
  return changes.sort((a, b) => a.hostId.localeCompare(b.hostId) || a.hour - b.hour);
}

/** All of a host's cells share a partition, sorted by hour. */
export const claimCellKey = (hostId: string, hour: number) => ({
  pk: `CLAIM#${hostId}`,
  sk: new Date(hour * HOUR).toISOString().slice(0, 13),
});

const minuteAttribute = (minute: number) => `m${String(minute).padStart(2, '0')}`;

/** The conditional update that applies one cell change for one booking. */
export function claimUpdate(tableName: string, bookingId: string, change: CellChange) {
  const take = change.take.map(minuteAttribute);
  const release = change.release.map(minuteAttribute);
  const conditions = [...take.map((a) => `attribute_not_exists(${a})`), ...release.map((a) => `${a} = :booking`)];
  const set = [...take.map((a) => `${a} = :booking`), 'hostId = :host', 'hourStart = :hourStart'];
  return {
    Update: {
      TableName: tableName,
      Key: claimCellKey(change.hostId, change.hour),
      UpdateExpression: `SET ${set.join(', ')}${release.length ? ` REMOVE ${release.join(', ')}` : ''}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeValues: {
        ':booking': bookingId,
        ':host': change.hostId,
        ':hourStart': new Date(change.hour * HOUR).toISOString(),
      },
    },
  };
}

/** Who holds each minute of a host's cells, as read back from the table: the busy time the slot engine needs. */
export function busyFromCells(items: Array<Record<string, unknown>>): Array<{ start: number; end: number; bookingId: string }> {
  const minutes: Array<{ at: number; bookingId: string }> = [];
  for (const item of items) {
    const hourStart = Date.parse(String(item.hourStart));
    for (const [name, value] of Object.entries(item)) {
      const match = /^m(\d\d)$/.exec(name);
      if (match) minutes.push({ at: hourStart + Number(match[1]) * MINUTE, bookingId: String(value) });
    }
  }
  minutes.sort((a, b) => a.at - b.at);
  const runs: Array<{ start: number; end: number; bookingId: string }> = [];
  for (const { at, bookingId } of minutes) {
    const last = runs.at(-1);
    if (last && last.end === at && last.bookingId === bookingId) last.end = at + MINUTE;
    else runs.push({ start: at, end: at + MINUTE, bookingId });
  }
  return runs;
}

// The claim cells are the guarantee; reading a month of them back is slow (an item per host and busy hour).
// So each booking also records its claimed interval on one summary item per host and UTC day, as an attribute
// of its own (b_<bookingId>), set and removed in the same transaction as the cells. Slot queries read these:
// thirty items per host for a month.

const DAY = 24 * HOUR;
const bookingAttribute = (bookingId: string) => `b_${bookingId}`;

export type BusyDayChange = { hostId: string; day: number; interval: [number, number] | null };

export const busyDayKey = (hostId: string, day: number) => ({ pk: `BUSY#${hostId}`, sk: new Date(day * DAY).toISOString().slice(0, 10) });

function daysOf(claim: Claim | null): Map<string, [number, number]> {
  const days = new Map<string, [number, number]>();
  if (!claim) return days;
  for (const hostId of claim.hostIds) {
    for (let day = Math.floor(claim.start / DAY); day * DAY < claim.end; day++) days.set(`${hostId}\u0000${day}`, [claim.start, claim.end]);
  }
  return days;
}

/** The summary items to change so that `before` becomes `after`: set where the booking now is, remove elsewhere. */
export function planBusyDayChanges(before: Claim | null, after: Claim | null): BusyDayChange[] {
  const had = daysOf(before);
  const has = daysOf(after);
  const changes: BusyDayChange[] = [];
  for (const key of new Set([...had.keys(), ...has.keys()])) {
    const [hostId, day] = key.split('\u0000') as [string, string];
    const old = had.get(key);
    const next = has.get(key);
    if (old && next && old[0] === next[0] && old[1] === next[1]) continue;
    changes.push({ hostId, day: Number(day), interval: next ?? null });
  }
  return changes;
}

export function busyDayUpdate(tableName: string, bookingId: string, change: BusyDayChange) {
  const names = { '#booking': bookingAttribute(bookingId) };
  return {
    Update: change.interval
      ? { TableName: tableName, Key: busyDayKey(change.hostId, change.day), UpdateExpression: 'SET #booking = :interval', ExpressionAttributeNames: names, ExpressionAttributeValues: { ':interval': change.interval } }
      : { TableName: tableName, Key: busyDayKey(change.hostId, change.day), UpdateExpression: 'REMOVE #booking', ExpressionAttributeNames: names },
  };
}

/** The busy intervals on summary items as read back, each with the booking that holds it. */
export function busyFromDays(items: Array<Record<string, unknown>>): Array<{ start: number; end: number; bookingId: string }> {
  const seen = new Map<string, { start: number; end: number; bookingId: string }>();
  for (const item of items) {
    for (const [name, value] of Object.entries(item)) {
      if (!name.startsWith('b_') || !Array.isArray(value)) continue;
      const bookingId = name.slice(2);
      seen.set(bookingId, { start: Number(value[0]), end: Number(value[1]), bookingId });
    }
  }
  return [...seen.values()].sort((a, b) => a.start - b.start);
}

export function busyDayRange(start: number, end: number): { from: string; to: string } {
  return { from: new Date(Math.floor(start / DAY) * DAY).toISOString().slice(0, 10), to: new Date(Math.floor((end - 1) / DAY) * DAY).toISOString().slice(0, 10) };
}
