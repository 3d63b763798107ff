// The calendar data behind the local Google Calendar and Microsoft Graph servers: per-user calendars of
// events in memory, recurrence expanded the way both providers expand it for their clients (Google's
// singleEvents, Graph's calendarView), and a change sequence per calendar so both can answer incremental reads
// (Google syncToken, Graph delta) with what changed, deletions included. Each server maps these records to its
// own wire format; what is here is only what both share.
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** A point in time as the providers give it: an instant (UTC ISO), or a floating date for all-day events. */
export type FakeTime = { dateTime: string } | { date: string };

export type FakeEvent = {
  id: string;
  start: FakeTime;
  end: FakeTime;
  /** The zone recurrence rules are evaluated in (wall-clock times repeat across DST). */
  timeZone: string;
  /** RFC 5545 lines: RRULE:..., EXDATE;TZID=..:..., EXDATE:...Z, EXDATE;VALUE=DATE:... */
  recurrence?: string[];
  /** Set on an exception (a moved or cancelled instance of a series): its master and the start it replaces. */
  recurringEventId?: string;
  originalStart?: FakeTime;
  cancelled: boolean;
  /** Provider-specific fields (summary, transparency, attendees, showAs, transactionId, ...). */
  fields: Record<string, any>;
  created: string;
  updated: string;
  seq: number;
};

/** One event as a client sees it: a single event, or one instance of a series (maybe an exception). */
export type Instance = {
  id: string;
  source: FakeEvent;
  master?: FakeEvent;
  start: FakeTime;
  end: FakeTime;
  originalStart?: FakeTime;
  cancelled: boolean;
  seq: number;
};

export type FakeCalendar = {
  id: string;
  name: string;
  primary: boolean;
  timeZone: string;
  events: Map<string, FakeEvent>;
  seq: number;
  /** Raised when sync state is reset: every cursor of an older generation is refused (410). */
  generation: number;
  /** Instance ids that stopped existing when a series changed, by the change's seq (incremental reads report them). */
  removals: Array<{ seq: number; ids: string[] }>;
};

export type FakeUser = { email: string; id: string; name: string; calendars: Map<string, FakeCalendar> };

/** Window for expanding a series when a read has none (an incremental read of a series without an end). */
const HORIZON_DAYS_BEFORE = 31;
const HORIZON_DAYS_AFTER = 400;
/** Occurrences expanded per series at most: a daily rule without end must not run forever. */
const MAX_OCCURRENCES = 1000;

const ms = (t: FakeTime, zone: string) =>
  'dateTime' in t ? Date.parse(t.dateTime) : DateTime.fromISO(t.date, { zone }).toMillis();

export const randomId = (bytes = 12) => randomBytes(bytes).toString('hex');

/** The instance key Google uses in instance ids: 20261201T090000Z for timed, 20261201 for all-day. */
export function instanceKey(t: FakeTime): string {
  return 'dateTime' in t ? new Date(t.dateTime).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '') : t.date.replace(/-/g, '');
}

/** Parses EXDATE lines into instance keys. */
function exdateKeys(lines: string[], zone: string): Set<string> {
  const keys = new Set<string>();
  for (const line of lines) {
    const match = /^EXDATE([^:]*):(.+)$/i.exec(line.trim());
    if (!match) continue;
    const tzid = /TZID=([^;:]+)/i.exec(match[1]!)?.[1] ?? zone;
    for (const value of match[2]!.split(',')) {
      if (/^\d{8}$/.test(value)) keys.add(value);
      else if (value.endsWith('Z')) keys.add(value.replace(/\.\d+/, ''));
      else {
        const local = DateTime.fromFormat(value, "yyyyMMdd'T'HHmmss", { zone: tzid });
        if (local.isValid) keys.add(instanceKey({ dateTime: local.toUTC().toISO()! }));
      }
    }
  }
  return keys;
}

/** The occurrences of a series (original starts and ends) that overlap [from, to), EXDATEs left out. */
export function expandSeries(master: FakeEvent, from: number, to: number): Array<{ start: FakeTime; end: FakeTime }> {
  const zone = master.timeZone;
  const allDay = 'date' in master.start;
  const startLocal = allDay ? DateTime.fromISO((master.start as { date: string }).date, { zone }) : DateTime.fromISO((master.start as { dateTime: string }).dateTime, { zone });
  const endLocal = allDay ? DateTime.fromISO((master.end as { date: string }).date, { zone }) : DateTime.fromISO((master.end as { dateTime: string }).dateTime, { zone });
  // Wall-clock length: a 10:00-11:00 series stays 10:00-11:00 across a DST change.
  const length = endLocal.diff(startLocal, allDay ? ['days'] : ['hours', 'minutes', 'seconds']);
  const rules = (master.recurrence ?? []).filter((l) => /^RRULE:/i.test(l));
  const excluded = exdateKeys((master.recurrence ?? []).filter((l) => /^EXDATE/i.test(l)), zone);
  const seen = new Set<string>();
  const out: Array<{ start: FakeTime; end: FakeTime }> = [];
  for (const rule of rules) {
    const recur = ICAL.Recur.fromString(rule.replace(/^RRULE:/i, ''));
    const dtstart = ICAL.Time.fromData({
      year: startLocal.year, month: startLocal.month, day: startLocal.day,
      ...(allDay ? { isDate: true } : { hour: startLocal.hour, minute: startLocal.minute, second: startLocal.second }),
    });
    const iterator = recur.iterator(dtstart);
    for (let n = 0, next = iterator.next(); next && n < MAX_OCCURRENCES; next = iterator.next(), n++) {
      const local = DateTime.fromObject(
        { year: next.year, month: next.month, day: next.day, hour: allDay ? 0 : next.hour, minute: allDay ? 0 : next.minute, second: allDay ? 0 : next.second },
        { zone },
      );
      if (local.toMillis() >= to) break;
      const end = local.plus(length);
      const start: FakeTime = allDay ? { date: local.toISODate()! } : { dateTime: local.toUTC().toISO({ suppressMilliseconds: true })! };
      const key = instanceKey(start);
      if (excluded.has(key) || seen.has(key) || end.toMillis() <= from) continue;
      seen.add(key);
      out.push({ start, end: allDay ? { date: end.toISODate()! } : { dateTime: end.toUTC().toISO({ suppressMilliseconds: true })! } });
    }
  }
  return out;
}

export type Window = { from: number; to: number };

/** The default window, widened to cover a time of interest (a series far in the past or future). */
export function windowAround(t: FakeTime, zone: string): Window {
  const at = ms(t, zone);
  const base = defaultWindow();
  if (Number.isNaN(at)) return base;
  return { from: Math.min(base.from, at - HORIZON_DAYS_BEFORE * 86_400_000), to: Math.max(base.to, at + HORIZON_DAYS_AFTER * 86_400_000) };
}

/** The original start an instance id names (`<series>_20261201T090000Z` or `<series>_20261201`). */
export function timeOfInstanceKey(key: string): FakeTime | undefined {
  const timed = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(key);
  if (timed) return { dateTime: `${timed[1]}-${timed[2]}-${timed[3]}T${timed[4]}:${timed[5]}:${timed[6]}Z` };
  const day = /^(\d{4})(\d{2})(\d{2})$/.exec(key);
  return day ? { date: `${day[1]}-${day[2]}-${day[3]}` } : undefined;
}

export function defaultWindow(): Window {
  const now = Date.now();
  return { from: now - HORIZON_DAYS_BEFORE * 86_400_000, to: now + HORIZON_DAYS_AFTER * 86_400_000 };
}

/** Every instance of a calendar overlapping the window: singles, expanded series, exceptions in their place. */
export function instancesOf(calendar: FakeCalendar, window: Window, options: { includeCancelled: boolean }): Instance[] {
  const events = [...calendar.events.values()];
  const exceptions = new Map<string, FakeEvent>();
  for (const e of events) if (e.recurringEventId && e.originalStart) exceptions.set(`${e.recurringEventId}_${instanceKey(e.originalStart)}`, e);
  const overlaps = (start: FakeTime, end: FakeTime, zone: string) => ms(start, zone) < window.to && ms(end, zone) > window.from;
  const out: Instance[] = [];
  for (const event of events) {
    if (event.recurringEventId) continue;
    if (!event.recurrence?.length) {
      if (overlaps(event.start, event.end, event.timeZone) && (options.includeCancelled || !event.cancelled)) {
        out.push({ id: event.id, source: event, start: event.start, end: event.end, cancelled: event.cancelled, seq: event.seq });
      }
      continue;
    }
    const handled = new Set<string>();
    // Expand a little wider than the window so an exception moved into it from outside is found too.
    for (const occurrence of expandSeries(event, window.from - 31 * 86_400_000, window.to + 31 * 86_400_000)) {
      const id = `${event.id}_${instanceKey(occurrence.start)}`;
      handled.add(id);
      const exception = exceptions.get(id);
      const source = exception ?? event;
      const start = exception ? exception.start : occurrence.start;
      const end = exception ? exception.end : occurrence.end;
      const cancelled = event.cancelled || source.cancelled;
      if (!overlaps(start, end, event.timeZone) || (!options.includeCancelled && cancelled)) continue;
      out.push({ id, source, master: event, start, end, originalStart: occurrence.start, cancelled, seq: Math.max(event.seq, exception?.seq ?? 0) });
    }
    // Exceptions whose original start is no longer an occurrence (the rule changed) are gone with it.
  }
  return out.sort((a, b) => ms(a.start, calendar.timeZone) - ms(b.start, calendar.timeZone) || a.id.localeCompare(b.id));
}

/** What changed in a calendar after `since`: instances (cancelled ones included) and ids that vanished. */
export function changesSince(calendar: FakeCalendar, since: number, window: Window): { instances: Instance[]; removed: string[] } {
  const instances = instancesOf(calendar, window, { includeCancelled: true }).filter((i) => i.seq > since);
  const present = new Set(instancesOf(calendar, window, { includeCancelled: false }).map((i) => i.id));
  const listed = new Set(instances.map((i) => i.id));
  const removed = [...new Set(calendar.removals.filter((r) => r.seq > since).flatMap((r) => r.ids))].filter((id) => !present.has(id) && !listed.has(id));
  return { instances, removed };
}

/** Records a change to an event (made by the caller), noting instances of its series that vanished. */
export function recordChange(calendar: FakeCalendar, event: FakeEvent, change: () => void): void {
  const window = windowAround(event.originalStart ?? event.start, event.timeZone);
  const seriesId = event.recurringEventId ?? event.id;
  const before = instancesOf(calendar, window, { includeCancelled: false }).filter((i) => i.master?.id === seriesId || i.id === seriesId).map((i) => i.id);
  change();
  calendar.seq += 1;
  const now = new Date().toISOString();
  event.seq = calendar.seq;
  event.updated = now;
  calendar.events.set(event.id, event);
  const after = new Set(instancesOf(calendar, window, { includeCancelled: false }).map((i) => i.id));
  const gone = before.filter((id) => !after.has(id));
  if (gone.length) calendar.removals.push({ seq: calendar.seq, ids: gone });
}

export function newEvent(input: Omit<FakeEvent, 'created' | 'updated' | 'seq' | 'cancelled'> & { cancelled?: boolean }): FakeEvent {
  const now = new Date().toISOString();
  return { cancelled: false, ...input, created: now, updated: now, seq: 0 };
}

export class FakeCalendarStore {
  readonly users = new Map<string, FakeUser>();

  user(email: string): FakeUser {
    const key = email.toLowerCase();
    let user = this.users.get(key);
    if (!user) {
      user = { email: key, id: randomId(8), name: key.split('@')[0]!, calendars: new Map() };
      user.calendars.set(key, this.newCalendar(key, key, true));
      this.users.set(key, user);
    }
    return user;
  }

  newCalendar(id: string, name: string, primary: boolean, timeZone = 'UTC'): FakeCalendar {
    return { id, name, primary, timeZone, events: new Map(), seq: 0, generation: 1, removals: [] };
  }

  addCalendar(email: string, name: string, timeZone = 'UTC'): FakeCalendar {
    const user = this.user(email);
    const calendar = this.newCalendar(`${randomId(10)}@group.calendar.local`, name, false, timeZone);
    user.calendars.set(calendar.id, calendar);
    return calendar;
  }

  /** Makes every cursor handed out so far for the user's calendars stale. */
  resetSync(email: string): void {
    for (const calendar of this.user(email).calendars.values()) calendar.generation += 1;
  }
}

/** Opaque cursors: base64url JSON, as unreadable to clients as the real ones. */
export const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
export function decodeCursor<T>(value: string): T | undefined {
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Reads a request body (bounded: the fakes accept what the real APIs would, a few MB at most). */
export async function readBody(request: import('node:http').IncomingMessage, limit = 1_000_000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The fakes' fault injection: the next `count` API requests answer `status` (with Retry-After when given). */
export type Fault = { count: number; status: number; retryAfter?: string; reason?: string };

/** One API request as the request log keeps it (for the sync benchmark: requests per calendar per cycle). */
export type LoggedRequest = { at: string; method: string; path: string; user?: string; calendarId?: string; status: number };

/** The store as JSON (Maps as arrays), for the fakes' state file: a restart of `npm start` keeps calendars and grants. */
export function storeToJson(store: FakeCalendarStore): unknown {
  return [...store.users.values()].map((user) => ({
    ...user,
    calendars: [...user.calendars.values()].map((calendar) => ({ ...calendar, events: [...calendar.events.values()] })),
  }));
}

export function storeFromJson(store: FakeCalendarStore, json: unknown): void {
  if (!Array.isArray(json)) return;
  for (const user of json as any[]) {
    store.users.set(user.email, {
      ...user,
      calendars: new Map((user.calendars as any[]).map((c) => [c.id, { ...c, events: new Map((c.events as FakeEvent[]).map((e) => [e.id, e])) }])),
    });
  }
}

/**
 * A JSON state file written shortly after each change (and on close), read at start. Absent `file`: memory only.
 * A file that cannot be read is set aside, not fatal: the fake starts empty.
 */
export function stateFile<T>(file: string | undefined, load: (state: T) => void, save: () => T): { changed(): void; flush(): void } {
  if (!file) return { changed() {}, flush() {} };
  try {
    if (existsSync(file)) load(JSON.parse(readFileSync(file, 'utf8')) as T);
  } catch {
    renameSync(file, `${file}.unreadable`);
  }
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writeFileSync(`${file}.tmp`, JSON.stringify(save()), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  };
  return {
    changed() {
      timer ??= setTimeout(flush, 200);
      timer.unref();
    },
    flush,
  };
}
