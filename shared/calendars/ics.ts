// iCalendar in, pure (no I/O): what an .ics object means as busy time for one host. (A booking as the object
// written into a host's calendar is booking-ics.ts.)
//
// Busy is what the user sees as busy: transparent, cancelled and (for the account's own attendee) declined
// events or instances block nothing; all-day dates block their days in the host's schedule zone; floating
// times are the host's wall clock. Recurring events are expanded here, never by the server (CalDAV servers
// differ in what they expand and filter), and the expansion is bounded so that a hostile RRULE cannot spin.
//
// Zones: a TZID that names an IANA zone is resolved with the platform's zone data (Intl, through zone-time.ts), whatever
// VTIMEZONE the file carries or lacks; the file's own VTIMEZONE serves only for other names (Outlook's Windows
// names come with one), and only for that file: one tenant's file never changes how another tenant's times are read.
//
// The iCalendar itself is read with our own small module (icalendar/), not ical.js (76 KB of every calendar
// bundle). test/unit/ics-differential.property.test.ts holds this file to the ical.js reading it replaced, on
// generated objects, apart from the shapes where ical.js departs from RFC 5545 (listed there).
import type { BusySpan } from './provider.ts';
import { inviteUid } from '../notifications/invite-uid.ts';
import { isKnownZone, wallClockToInstant } from './zone-time.ts';
import { offsetAt } from '../scheduling/time-zones.ts';
import { all, first, parameter, parse, subcomponents, type Component } from './icalendar/content.ts';
import { expandRecur } from './icalendar/recur.ts';
import { DAY_SECONDS, fieldsOf, parseDateTime, parseDuration, parsePeriod, parseRecur, text as textValue, type DateTimeValue, type DurationValue } from './icalendar/values.ts';
import { fileZone, type FileZone } from './icalendar/vtimezone.ts';

/** Limits on one object and on one read; the defaults hold a year of any sane calendar. */
export type ExpansionLimits = {
  /** Instances of one recurring event inside the window. */
  instancesPerEvent: number;
  /** Recurrence steps of one event, counted from its DTSTART (a daily event since 1970 is ~21,000). */
  stepsPerEvent: number;
  /** Recurrence steps of all events in one read. */
  stepsPerRead: number;
  /** Characters of one iCalendar object. */
  objectChars: number;
  /** VEVENTs in one object. */
  eventsPerObject: number;
};

export const DEFAULT_LIMITS: ExpansionLimits = {
  instancesPerEvent: 1000,
  stepsPerEvent: 25_000,
  stepsPerRead: 100_000,
  objectChars: 1_000_000,
  eventsPerObject: 500,
};

/** What one read may still spend; shared by every object of the read. */
export type ExpansionBudget = { steps: number; limits: ExpansionLimits };
export const expansionBudget = (limits: Partial<ExpansionLimits> = {}): ExpansionBudget => {
  const all = { ...DEFAULT_LIMITS, ...limits };
  return { steps: all.stepsPerRead, limits: all };
};

export type BusyWindow = {
  from: string;
  to: string;
  /** The host's schedule zone (all-day and floating times). */
  timeZone: string;
  /** The account's own calendar addresses (mailto: or bare): its ATTENDEE with PARTSTAT=DECLINED blocks nothing. */
  addresses?: readonly string[];
  budget?: ExpansionBudget;
};

/** One UID of an object: its busy spans in the window (empty: exists, blocks nothing). */
export type IcsBusyEvent = { uid: string; spans: BusySpan[]; bookingId?: string; summary?: string };
/** `problems` says what was skipped and why (malformed text, unknown zone, expansion cut short). */
export type IcsBusy = { events: IcsBusyEvent[]; problems: string[] };

// The id alphabet of events/primitives.ts (ID_PATTERN); `@` may occur in an id, so the suffix anchors the match.
const BOOKING_UID = /^booking-([A-Za-z0-9._:@|-]{1,128})@booking-engine$/;
const BOOKING_ID = /^[A-Za-z0-9._:@|-]{1,128}$/;
/** The booking whose event this is, by the UID the invites and calendar writes use (or our X- property). */
export function bookingIdOfUid(uid: string, xBookingId?: string): string | undefined {
  const match = BOOKING_UID.exec(uid);
  if (match && inviteUid(match[1]!) === uid) return match[1];
  if (xBookingId && BOOKING_ID.test(xBookingId)) return xBookingId;
  return undefined;
}

const SUMMARY_CHARS = 200;
const normalAddress = (value: string) => value.trim().replace(/^mailto:/i, '').toLowerCase();

/** Parses one iCalendar object into busy spans within the window. Never throws on the text it is given. */
export function busyFromIcs(text: string, window: BusyWindow): IcsBusy {
  const budget = window.budget ?? expansionBudget();
  const limits = budget.limits;
  const problems: string[] = [];
  if (text.length > limits.objectChars) return { events: [], problems: [`object of ${text.length} characters is over the ${limits.objectChars} limit`] };
  let root: Component | undefined;
  try {
    root = parse(text)[0];
  } catch (error) {
    return { events: [], problems: [`not iCalendar: ${String((error as Error).message).slice(0, 200)}`] };
  }
  if (root?.name !== 'VCALENDAR') return { events: [], problems: [`not iCalendar: the object is ${root ? `a ${root.name.toLowerCase().slice(0, 40)}` : 'empty'}, not a VCALENDAR`] };
  const from = Date.parse(window.from);
  const to = Date.parse(window.to);
  if (!(from < to)) throw new RangeError('busyFromIcs: the window must have from < to (ISO instants)');
  const addresses = new Set((window.addresses ?? []).map(normalAddress).filter(Boolean));

  const vevents = subcomponents(root, 'VEVENT');
  if (vevents.length > limits.eventsPerObject) {
    problems.push(`${vevents.length} VEVENTs in one object; read the first ${limits.eventsPerObject}`);
    vevents.length = limits.eventsPerObject;
  }
  const byUid = new Map<string, Component[]>();
  for (const vevent of vevents) {
    const uid = textValue(first(vevent, 'UID')?.value ?? '').slice(0, 512);
    if (!uid) {
      problems.push('a VEVENT without UID was skipped');
      continue;
    }
    byUid.set(uid, [...(byUid.get(uid) ?? []), vevent]);
  }

  const zones = fileZones(root);
  const events: IcsBusyEvent[] = [];
  for (const [uid, components] of byUid) {
    const reported = new Set<string>();
    const report = (p: string) => {
      if (reported.has(p)) return;
      reported.add(p);
      problems.push(`${uid.slice(0, 80)}: ${p}`);
    };
    try {
      const spans = spansOf(components, { from, to, zone: window.timeZone, addresses, budget, zones, problems: report });
      const main = components.find((c) => !first(c, 'RECURRENCE-ID')) ?? components[0]!;
      const summary = first(main, 'SUMMARY');
      const xBooking = first(main, 'X-BOOKING-ID');
      events.push({
        uid,
        spans,
        bookingId: bookingIdOfUid(uid, xBooking?.value),
        summary: summary ? textValue(summary.value).slice(0, SUMMARY_CHARS) : undefined,
      });
    } catch (error) {
      problems.push(`${uid.slice(0, 80)}: skipped, ${String((error as Error).message).slice(0, 200)}`);
      events.push({ uid, spans: [] });
    }
  }
  return { events, problems };
}

/** The file's own zones by TZID, read when first asked for; undefined for one that is absent or unreadable. */
type FileZones = (tzid: string) => FileZone | undefined;
function fileZones(root: Component): FileZones {
  const read = new Map<string, FileZone | undefined>();
  return (tzid) => {
    if (read.has(tzid)) return read.get(tzid);
    const component = subcomponents(root, 'VTIMEZONE').find((z) => first(z, 'TZID')?.value === tzid);
    let zone: FileZone | undefined;
    try {
      zone = component && fileZone(component);
    } catch {
      zone = undefined;
    }
    read.set(tzid, zone);
    return zone;
  };
}

type Context = { from: number; to: number; zone: string; addresses: Set<string>; budget: ExpansionBudget; zones: FileZones; problems: (p: string) => void };

/** Whether this VEVENT (a master, or one instance's override) blocks time at all. */
function blocks(component: Component, addresses: Set<string>): boolean {
  if (textValue(first(component, 'STATUS')?.value ?? '').toUpperCase() === 'CANCELLED') return false;
  if (textValue(first(component, 'TRANSP')?.value ?? '').toUpperCase() === 'TRANSPARENT') return false;
  if (addresses.size) {
    for (const attendee of all(component, 'ATTENDEE')) {
      if (addresses.has(normalAddress(attendee.value)) && (parameter(attendee, 'PARTSTAT') ?? '').toUpperCase() === 'DECLINED') return false;
    }
  }
  return true;
}

/** The IANA zone a TZID names, whole or as its tail (Mozilla's "/mozilla.org/20050126_1/Europe/Berlin"). */
function ianaZone(tzid: string): string | undefined {
  if (isKnownZone(tzid)) return tzid;
  const parts = tzid.split('/');
  for (let n = Math.min(3, parts.length - 1); n >= 2; n--) {
    const tail = parts.slice(-n).join('/');
    if (isKnownZone(tail)) return tail;
  }
  return undefined;
}

const wallOf = (local: number) => fieldsOf(local);

/** A time as epoch ms: dates are the host's days, floating is the host's wall clock, TZIDs as above. */
function instant(time: DateTimeValue, ctx: Context): number {
  if (time.isDate) return wallClockToInstant(wallOf(time.local), ctx.zone);
  if (time.utc) return time.local * 1000;
  if (time.tzid) {
    const iana = ianaZone(time.tzid);
    if (iana) return wallClockToInstant(wallOf(time.local), iana);
    const own = ctx.zones(time.tzid);
    if (own) return own.toInstant(time.local) * 1000;
    ctx.problems(`unknown time zone "${time.tzid.slice(0, 60)}" read as the host's`);
  }
  return wallClockToInstant(wallOf(time.local), ctx.zone);
}

/** The wall clock an instant shows in the frame of `like` (its zone, the host's when floating or a date). */
function localIn(like: DateTimeValue, epochMs: number, ctx: Context): number {
  const seconds = Math.floor(epochMs / 1000);
  if (like.utc) return seconds;
  if (!like.isDate && like.tzid) {
    const iana = ianaZone(like.tzid);
    if (iana) return seconds + offsetAt(iana, epochMs) / 1000;
    const own = ctx.zones(like.tzid);
    if (own) return seconds + own.offsetAt(seconds);
  }
  // Dates, floating times and unknown zones are the host's.
  return seconds + (isKnownZone(ctx.zone) ? offsetAt(ctx.zone, epochMs) / 1000 : 0);
}

/** `time` as a wall clock in the frame of `like`: the same wall clock when both are read alike, else through the instant. */
function inFrame(time: DateTimeValue, like: DateTimeValue, ctx: Context): number {
  if (time.utc === like.utc && time.isDate === like.isDate && (time.tzid ?? '') === (like.tzid ?? '')) return time.local;
  if (time.isDate && !like.isDate) return time.local + (like.local % DAY_SECONDS);
  return localIn(like, instant(time, ctx), ctx);
}

/** One VEVENT as the times it is read by. */
type Item = { component: Component; start: DateTimeValue; end?: DateTimeValue; duration?: DurationValue; recurrenceId?: DateTimeValue; thisAndFuture: boolean };

function dateTimeOf(component: Component, name: string): DateTimeValue | undefined {
  const property = first(component, name);
  return property ? parseDateTime(property.value, parameter(property, 'TZID')) : undefined;
}

function itemOf(component: Component): Item {
  const start = dateTimeOf(component, 'DTSTART');
  if (!start) throw new Error('a VEVENT without DTSTART');
  const duration = first(component, 'DURATION');
  const recurrence = first(component, 'RECURRENCE-ID');
  return {
    component,
    start,
    end: dateTimeOf(component, 'DTEND'),
    duration: duration ? parseDuration(duration.value) : undefined,
    recurrenceId: dateTimeOf(component, 'RECURRENCE-ID'),
    thisAndFuture: (parameter(recurrence, 'RANGE') ?? '').toUpperCase() === 'THISANDFUTURE',
  };
}

/** [start, end) in epoch ms of one occurrence of `item` starting at the wall clock `start` (in the item's DTSTART frame unless given). */
function occurrenceSpan(item: Item, start: DateTimeValue, ctx: Context): [number, number] {
  const s = instant(start, ctx);
  // Without DTEND and DURATION an all-day event is one day long (RFC 5545 3.6.1); a timed one takes no time.
  if (!item.end && !item.duration) return start.isDate ? [s, instant({ ...start, local: start.local + DAY_SECONDS }, ctx)] : [s, s];
  const own = start.local === item.start.local && start.tzid === item.start.tzid && start.utc === item.start.utc;
  if (item.end) {
    if (own) return [s, instant(item.end, ctx)];
    // A later instance lasts as long as the first, exactly (RFC 5545 3.8.5.3): DTEND may be in another zone.
    // An all-day one as many days.
    if (!start.isDate) return [s, s + (instant(item.end, ctx) - instant(item.start, ctx))];
    return [s, instant({ ...item.end, local: start.local + (item.end.local - item.start.local) }, ctx)];
  }
  // DURATION: days are nominal (the same wall clock so many days on), hours to seconds exact (RFC 5545 3.3.6).
  const duration = item.duration!;
  return [s, instant({ ...start, local: start.local + duration.days * DAY_SECONDS }, ctx) + duration.seconds * 1000];
}

/** The length of the first instance in seconds, roughly (for the margin of the cheap skip). */
function roughLength(item: Item): number {
  if (item.duration) return item.duration.days * DAY_SECONDS + item.duration.seconds;
  return item.end ? item.end.local - item.start.local : item.start.isDate ? DAY_SECONDS : 0;
}

/** RDATE and EXDATE values of a component, each in its own type (DATE, DATE-TIME, PERIOD). */
function datesOf(component: Component, name: 'RDATE' | 'EXDATE'): { time: DateTimeValue; end?: DateTimeValue; duration?: DurationValue }[] {
  const dates: { time: DateTimeValue; end?: DateTimeValue; duration?: DurationValue }[] = [];
  for (const property of all(component, name)) {
    const tzid = parameter(property, 'TZID');
    for (const item of property.value.split(',')) {
      if (!item.trim()) continue;
      if (item.includes('/')) {
        const period = parsePeriod(item, tzid);
        dates.push({ time: period.start, end: period.end, duration: period.duration });
      } else dates.push({ time: parseDateTime(item, tzid) });
      if (dates.length > MAX_DATES) throw new Error(`more than ${MAX_DATES} ${name} values`);
    }
  }
  return dates;
}
const MAX_DATES = 2000;

function spansOf(components: Component[], ctx: Context): BusySpan[] {
  const spans: BusySpan[] = [];
  const add = (item: Item, [s, e]: [number, number]) => {
    if (!(e > s) || e <= ctx.from || s >= ctx.to || !blocks(item.component, ctx.addresses)) return;
    spans.push({ start: new Date(s).toISOString(), end: new Date(e).toISOString() });
  };
  const masterComponent = components.find((c) => !first(c, 'RECURRENCE-ID'));
  const overrides = components.filter((c) => first(c, 'RECURRENCE-ID')).map(itemOf);
  if (!masterComponent) {
    // Only instances of a series the account was invited to: each stands alone.
    for (const override of overrides) add(override, occurrenceSpan(override, override.start, ctx));
    return spans;
  }
  const master = itemOf(masterComponent);
  const rrule = first(masterComponent, 'RRULE');
  if (!rrule && !first(masterComponent, 'RDATE')) {
    add(master, occurrenceSpan(master, master.start, ctx));
    return spans;
  }

  const limits = ctx.budget.limits;
  let steps = 0;
  const spend = (n: number) => {
    steps += n;
    if (steps > limits.stepsPerEvent) {
      ctx.problems(`recurrence cut short after ${limits.stepsPerEvent} steps`);
      return false;
    }
    ctx.budget.steps -= n;
    if (ctx.budget.steps < 0) {
      ctx.problems('the read ran out of recurrence steps; expansion cut short');
      return false;
    }
    return true;
  };
  const frame = master.start;
  // Instances by their wall clock in the master's frame: the rule's (DTSTART first), then merged with RDATEs.
  const rule = rrule ? parseRecur(rrule.value, frame.tzid) : undefined;
  const until = rule?.until;
  // An UNTIL date on a DATE-TIME rule (RFC 5545 wants the types alike) is that day's start, as ical.js reads it.
  const untilLocal = until && inFrame(until.isDate && !frame.isDate ? { ...until, isDate: false, tzid: frame.tzid, utc: frame.utc } : until, frame, ctx);
  const ruleInstances = rule ? expandRecur(rule, frame.local, (local) => untilLocal !== undefined && local > untilLocal, { spend }) : [frame.local][Symbol.iterator]();
  const rdates = datesOf(masterComponent, 'RDATE')
    .map((d) => ({ ...d, key: inFrame(d.time, frame, ctx) }))
    .sort((a, b) => a.key - b.key);
  const excluded = new Set<number>();
  const excludedDays = new Set<number>();
  for (const { time } of datesOf(masterComponent, 'EXDATE')) {
    if (time.isDate && !frame.isDate) excludedDays.add(Math.floor(time.local / DAY_SECONDS));
    else excluded.add(inFrame(time, frame, ctx));
  }
  const direct = new Map<number, Item>();
  const ranges: { key: number; item: Item }[] = [];
  for (const override of overrides) {
    const key = inFrame(override.recurrenceId!, frame, ctx);
    if (!direct.has(key)) direct.set(key, override);
    if (override.thisAndFuture) ranges.push({ key, item: override });
  }
  ranges.sort((a, b) => a.key - b.key);

  type Instance = { key: number; time: DateTimeValue; period?: { end?: DateTimeValue; duration?: DurationValue } };
  function* merged(): Generator<Instance> {
    let r = 0;
    let last = -Infinity;
    for (const key of ruleInstances) {
      // An RDATE the rule has too is one instance (a recurrence set is a set).
      while (r < rdates.length && rdates[r]!.key <= key) {
        const d = rdates[r++]!;
        if (d.key === key || d.key === last) continue;
        if (spend(1)) yield { key: d.key, time: d.time, period: d.end || d.duration ? d : undefined };
        last = d.key;
      }
      if (key !== last) yield { key, time: { ...frame, local: key } };
      last = key;
    }
    for (; r < rdates.length; r++) {
      const d = rdates[r]!;
      if (d.key === last || !spend(1)) continue;
      last = d.key;
      yield { key: d.key, time: d.time, period: d.end || d.duration ? d : undefined };
    }
  }

  // Steps long before the window are skipped cheaply: the wall clock read as UTC (off by at most 14 h) against a
  // margin of two days plus the event's length. Overridden instances are always looked at, since an override
  // may move an instance into the window.
  const margin = 2 * 86_400_000 + Math.max(0, roughLength(master) * 1000);
  const matched = new Set<Item>();
  let instances = 0;
  let lastOriginal = -Infinity;
  for (const next of merged()) {
    if (excluded.has(next.key) || excludedDays.has(Math.floor(next.key / DAY_SECONDS))) continue;
    const override = direct.get(next.key);
    if (next.key * 1000 + margin < ctx.from && !override) {
      lastOriginal = next.key * 1000;
      continue;
    }
    lastOriginal = instant(next.time, ctx);
    let span: [number, number];
    let item: Item;
    if (override) {
      matched.add(override);
      item = override;
      span = occurrenceSpan(override, override.start, ctx);
    } else {
      const range = lastBefore(ranges, next.key);
      if (range) {
        // RANGE=THISANDFUTURE: later instances move as that one moved, and take its properties and length.
        item = range.item;
        const shifted = next.time.local + (range.item.start.local - range.item.recurrenceId!.local);
        span = occurrenceSpan(item, { ...range.item.start, local: shifted }, ctx);
      } else {
        item = master;
        span = next.period ? periodSpan(next.time, next.period, ctx) : occurrenceSpan(master, next.time, ctx);
      }
    }
    if (span[1] > ctx.from && span[0] < ctx.to && ++instances > limits.instancesPerEvent) {
      ctx.problems(`more than ${limits.instancesPerEvent} instances in the window; the rest are not read`);
      break;
    }
    add(item, span);
    // An instance moved into the window from after it is an override of its own, handled below.
    if (lastOriginal >= ctx.to) break;
  }
  // Overrides whose original time the expansion did not reach (after the window, or past a cut): on their own.
  for (const override of overrides) {
    if (matched.has(override)) continue;
    if (instant(override.recurrenceId!, ctx) <= lastOriginal) continue;
    add(override, occurrenceSpan(override, override.start, ctx));
  }
  return spans;
}

/** An RDATE given as a PERIOD is an instance with its own end (RFC 5545 3.8.5.2). */
function periodSpan(start: DateTimeValue, period: { end?: DateTimeValue; duration?: DurationValue }, ctx: Context): [number, number] {
  const s = instant(start, ctx);
  if (period.end) return [s, instant(period.end, ctx)];
  const duration = period.duration!;
  return [s, instant({ ...start, local: start.local + duration.days * DAY_SECONDS }, ctx) + duration.seconds * 1000];
}

function lastBefore<T extends { key: number }>(sorted: T[], key: number): T | undefined {
  let found: T | undefined;
  for (const entry of sorted) {
    if (entry.key > key) break;
    found = entry;
  }
  return found;
}

/** The iCalendar object name of a booking's event in a CalDAV collection (also its UID's local part). */
// encodeURIComponent is one to one, so two bookings never share a name; UUIDs pass through unchanged.
export const bookingObjectName = (bookingId: string) => `booking-${encodeURIComponent(bookingId)}.ics`;
