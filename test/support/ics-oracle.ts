// The test oracle: busyFromIcs as it was on ical.js, before shared/calendars/ics.ts moved to our own iCalendar
// module (shared/calendars/icalendar/). Kept verbatim but for its imports (the limits, types and booking UIDs are
// ics.ts's own, unchanged by the move), so the differential test
// (test/unit/ics-differential.property.test.ts) holds the new reading to the old one. Not for production code.
//
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
// names come with one). ical.js's global TimezoneService is never fed from a file: one tenant's file must not
// change how another tenant's times are read.
import ICAL from 'ical.js';
import type { BusySpan } from '../../shared/calendars/provider.ts';
import { bookingIdOfUid, expansionBudget, type BusyWindow, type ExpansionBudget, type IcsBusy, type IcsBusyEvent } from '../../shared/calendars/ics.ts';
import { isKnownZone, wallClockToInstant } from '../../shared/calendars/zone-time.ts';

const SUMMARY_CHARS = 200;
const normalAddress = (value: string) => value.trim().replace(/^mailto:/i, '').toLowerCase();

/** Parses one iCalendar object into busy spans within the window. Never throws on the text it is given. */
export function busyFromIcs(text: string, window: BusyWindow): IcsBusy {
  const budget = window.budget ?? expansionBudget();
  const limits = budget.limits;
  const problems: string[] = [];
  if (text.length > limits.objectChars) return { events: [], problems: [`object of ${text.length} characters is over the ${limits.objectChars} limit`] };
  let root: ICAL.Component;
  try {
    const parsed = ICAL.parse(text);
    root = new ICAL.Component(Array.isArray(parsed[0]) ? parsed[0] : parsed);
  } catch (error) {
    return { events: [], problems: [`not iCalendar: ${String((error as Error).message).slice(0, 200)}`] };
  }
  if (root.name !== 'vcalendar') return { events: [], problems: [`not iCalendar: the object is ${root.name ? `a ${String(root.name).slice(0, 40)}` : 'empty'}, not a VCALENDAR`] };
  const from = Date.parse(window.from);
  const to = Date.parse(window.to);
  if (!(from < to)) throw new RangeError('busyFromIcs: the window must have from < to (ISO instants)');
  const addresses = new Set((window.addresses ?? []).map(normalAddress).filter(Boolean));

  const vevents = root.getAllSubcomponents('vevent');
  if (vevents.length > limits.eventsPerObject) {
    problems.push(`${vevents.length} VEVENTs in one object; read the first ${limits.eventsPerObject}`);
    vevents.length = limits.eventsPerObject;
  }
  const byUid = new Map<string, ICAL.Component[]>();
  for (const vevent of vevents) {
    const uid = String(vevent.getFirstPropertyValue('uid') ?? '').slice(0, 512);
    if (!uid) {
      problems.push('a VEVENT without UID was skipped');
      continue;
    }
    byUid.set(uid, [...(byUid.get(uid) ?? []), vevent]);
  }

  const events: IcsBusyEvent[] = [];
  for (const [uid, components] of byUid) {
    try {
      const spans = spansOf(components, { from, to, zone: window.timeZone, addresses, budget, problems: (p) => problems.push(`${uid.slice(0, 80)}: ${p}`) });
      const first = components.find((c) => !c.hasProperty('recurrence-id')) ?? components[0]!;
      const summary = first.getFirstPropertyValue('summary');
      const xBooking = first.getFirstPropertyValue('x-booking-id');
      events.push({
        uid,
        spans,
        bookingId: bookingIdOfUid(uid, typeof xBooking === 'string' ? xBooking : undefined),
        summary: typeof summary === 'string' ? summary.slice(0, SUMMARY_CHARS) : undefined,
      });
    } catch (error) {
      problems.push(`${uid.slice(0, 80)}: skipped, ${String((error as Error).message).slice(0, 200)}`);
      events.push({ uid, spans: [] });
    }
  }
  return { events, problems };
}

type Context = { from: number; to: number; zone: string; addresses: Set<string>; budget: ExpansionBudget; problems: (p: string) => void };

/** Whether this VEVENT (a master, or one instance's override) blocks time at all. */
function blocks(component: ICAL.Component, addresses: Set<string>): boolean {
  if (String(component.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED') return false;
  if (String(component.getFirstPropertyValue('transp') ?? '').toUpperCase() === 'TRANSPARENT') return false;
  if (addresses.size) {
    for (const attendee of component.getAllProperties('attendee')) {
      const address = normalAddress(String(attendee.getFirstValue() ?? ''));
      if (addresses.has(address) && String(attendee.getParameter('partstat') ?? '').toUpperCase() === 'DECLINED') return false;
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

/** An ICAL.Time as epoch ms: dates are the host's days, floating is the host's wall clock, TZIDs as above. */
function instant(time: ICAL.Time, tzid: string | undefined, ctx: Context): number {
  const wall = { year: time.year, month: time.month, day: time.day, hour: time.isDate ? 0 : time.hour, minute: time.isDate ? 0 : time.minute, second: time.isDate ? 0 : time.second };
  if (time.isDate) return wallClockToInstant(wall, ctx.zone);
  if (time.zone === ICAL.Timezone.utcTimezone || time.zone?.tzid === 'UTC') return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  if (tzid) {
    const iana = ianaZone(tzid);
    if (iana) return wallClockToInstant(wall, iana);
    if (time.zone && time.zone !== ICAL.Timezone.localTimezone && time.zone.tzid === tzid) return time.toUnixTime() * 1000;
    ctx.problems(`unknown time zone "${tzid.slice(0, 60)}" read as the host's`);
  }
  return wallClockToInstant(wall, ctx.zone);
}

const tzidOf = (component: ICAL.Component, name: 'dtstart' | 'dtend') => {
  const value = component.getFirstProperty(name)?.getParameter('tzid');
  return typeof value === 'string' ? value : undefined;
};

/** [start, end) of one occurrence of `item`, in epoch ms. */
function occurrenceSpan(item: ICAL.Event, start: ICAL.Time, end: ICAL.Time, ctx: Context): [number, number] {
  const startTzid = tzidOf(item.component, 'dtstart');
  const s = instant(start, startTzid, ctx);
  // Without DTEND and DURATION an all-day event is one day long (RFC 5545 3.6.1); a timed one takes no time.
  const noEnd = !item.component.hasProperty('dtend') && !item.component.hasProperty('duration');
  if (noEnd && start.isDate) {
    const next = start.clone();
    next.day += 1;
    return [s, instant(next, undefined, ctx)];
  }
  const endTzid = tzidOf(item.component, 'dtend') ?? startTzid;
  const own = start.compare(item.startDate) === 0;
  if (own && item.component.hasProperty('dtend')) return [s, instant(end, endTzid, ctx)];
  // A later instance lasts as long as the first, exactly (RFC 5545 3.8.5.3): DTEND may be in another zone,
  // which ical.js's wall-clock arithmetic would miss. DURATION and all-day ends are nominal: ical.js's.
  if (!start.isDate && item.component.hasProperty('dtend')) return [s, s + (instant(item.endDate, endTzid, ctx) - instant(item.startDate, startTzid, ctx))];
  return [s, instant(end, startTzid, ctx)];
}

function spansOf(components: ICAL.Component[], ctx: Context): BusySpan[] {
  const spans: BusySpan[] = [];
  const add = (item: ICAL.Event, [s, e]: [number, number]) => {
    if (!(e > s) || e <= ctx.from || s >= ctx.to || !blocks(item.component, ctx.addresses)) return;
    spans.push({ start: new Date(s).toISOString(), end: new Date(e).toISOString() });
  };
  const masterComponent = components.find((c) => !c.hasProperty('recurrence-id'));
  const overrides = components.filter((c) => c.hasProperty('recurrence-id'));
  if (!masterComponent) {
    // Only instances of a series the account was invited to: each stands alone.
    for (const component of overrides) {
      const event = new ICAL.Event(component);
      add(event, occurrenceSpan(event, event.startDate, event.endDate, ctx));
    }
    return spans;
  }
  const master = new ICAL.Event(masterComponent);
  if (!master.startDate) throw new Error('a VEVENT without DTSTART');
  for (const component of overrides) master.relateException(component);
  if (!master.isRecurring()) {
    add(master, occurrenceSpan(master, master.startDate, master.endDate, ctx));
    return spans;
  }

  const limits = ctx.budget.limits;
  // RFC 5545: DTSTART is the first instance. ical.js leaves it out of a set made of RDATEs alone.
  const first = master.startDate.toString();
  let firstAdded = false;
  if (!masterComponent.hasProperty('rrule')) {
    firstAdded = true;
    const excluded = masterComponent.getAllProperties('exdate').some((p) => p.getValues().some((v) => String(v) === first));
    if (!excluded) {
      const details = master.getOccurrenceDetails(master.startDate.clone());
      add(details.item, occurrenceSpan(details.item, details.startDate, details.endDate, ctx));
    }
  }
  const iterator = master.iterator();
  const masterTzid = tzidOf(masterComponent, 'dtstart');
  // Steps long before the window are skipped cheaply: ical.js's own instant (floating read in the process's
  // zone, off by at most 14 h) against a margin of two days plus the event's length. Overridden instances are
  // always looked at, since an override may move an instance into the window.
  const margin = 2 * 86_400_000 + Math.max(0, master.duration.toSeconds() * 1000);
  const overridden = new Set(Object.keys(master.exceptions));
  const matched = new Set<string>();
  let steps = 0;
  let instances = 0;
  let lastOriginal = -Infinity;
  for (let next = iterator.next(); next; next = iterator.next()) {
    if (++steps > limits.stepsPerEvent || --ctx.budget.steps < 0) {
      ctx.problems(ctx.budget.steps < 0 ? 'the read ran out of recurrence steps; expansion cut short' : `recurrence cut short after ${limits.stepsPerEvent} steps`);
      break;
    }
    if (firstAdded && next.toString() === first) continue;
    const rough = next.toUnixTime() * 1000;
    if (rough + margin < ctx.from && !overridden.has(next.toString())) {
      lastOriginal = rough;
      continue;
    }
    lastOriginal = instant(next, masterTzid, ctx);
    const details = master.getOccurrenceDetails(next);
    if (details.item !== master) matched.add(details.recurrenceId.toString());
    const span = occurrenceSpan(details.item, details.startDate, details.endDate, ctx);
    if (span[1] > ctx.from && span[0] < ctx.to && ++instances > limits.instancesPerEvent) {
      ctx.problems(`more than ${limits.instancesPerEvent} instances in the window; the rest are not read`);
      break;
    }
    add(details.item, span);
    // An instance moved into the window from after it is an override of its own, handled below.
    if (lastOriginal >= ctx.to) break;
  }
  // Overrides whose original time the expansion did not reach (after the window, or past a cut): on their own.
  for (const component of overrides) {
    const event = new ICAL.Event(component);
    if (matched.has(event.recurrenceId.toString())) continue;
    if (instant(event.recurrenceId, tzidOf(component, 'dtstart'), ctx) <= lastOriginal) continue;
    add(event, occurrenceSpan(event, event.startDate, event.endDate, ctx));
  }
  return spans;
}

/** The iCalendar object name of a booking's event in a CalDAV collection (also its UID's local part). */
// encodeURIComponent is one to one, so two bookings never share a name; UUIDs pass through unchanged.
export const bookingObjectName = (bookingId: string) => `booking-${encodeURIComponent(bookingId)}.ics`;
