// A booking as the VCALENDAR object written into a host's CalDAV calendar, pure (no I/O). Apart from the reads
// (ics.ts): the CalDAV adapter imports it when it first writes, so a read-only path does not load it.
import type { BookingCalendarEvent } from './provider.ts';
import { inviteUid } from '../notifications/invite-uid.ts';
import { vtimezone } from '../notifications/icalendar.ts';
import { repeatedWallClock } from '../scheduling/time-zones.ts';
import { instantToWallClock } from './zone-time.ts';
import { ContentError, escapeText, parse, setProperty, stringify, subcomponents, type Component, type Parameters } from './icalendar/content.ts';
import { formatDateTime } from './icalendar/values.ts';

/**
 * A booking as the VCALENDAR object stored in a host's calendar (no METHOD: a stored object, not an iTIP
 * message). The UID is the invites' (invite-uid.ts), so the invite the attendee got and this entry are one
 * event. Times are the booking zone's wall clock with its VTIMEZONE (the invites', from Intl), or UTC; the
 * object is built with our own iCalendar module (icalendar/content.ts), which the reads already carry.
 * `options.sequence` sets SEQUENCE above one the stored object already has. The attendee carries SCHEDULE-AGENT=CLIENT: the invite mail is ours, a scheduling server must
 * not send another.
 */
export function bookingToIcs(event: BookingCalendarEvent, stamp: string, options: { sequence?: number } = {}): string {
  const utc = /^(UTC|Etc\/UTC|Etc\/GMT|GMT)$/.test(event.timeZone);
  const vevent: Component = { name: 'VEVENT', properties: [], components: [] };
  const calendar: Component = {
    name: 'VCALENDAR',
    properties: [
      { name: 'VERSION', parameters: {}, value: '2.0' },
      { name: 'PRODID', parameters: {}, value: '-//booking-engine//bookings//EN' },
    ],
    // The invites' VTIMEZONE, derived from the runtime's zone data around the booking (icalendar.ts).
    components: [...(utc ? [] : [parse(vtimezone(event.timeZone, { start: Date.parse(event.start), end: Date.parse(event.end) }).join('\r\n'))[0]!]), vevent],
  };
  // A time whose wall clock the zone shows twice (the hour repeated when clocks go back) is written in UTC:
  // RFC 5545 reads such a wall clock as its first occurrence, ical.js (and so Radicale's web client and others)
  // as the second, an hour apart. Every other time is the zone's wall clock with TZID.
  const time = (iso: string): [string, Parameters] => {
    const instant = Date.parse(iso);
    if (utc || repeatedWallClock(instant, event.timeZone)) return [formatDateTime(Math.floor(instant / 1000), { utc: true }), {}];
    return [instantToWallClock(instant, event.timeZone).replace(/[-:]/g, ''), { TZID: [event.timeZone] }];
  };
  const add = (name: string, value: string, parameters: Record<string, string> = {}) => {
    vevent.properties.push({ name, value, parameters: Object.fromEntries(Object.entries(parameters).map(([key, v]) => [key.toUpperCase(), [v]])) });
  };
  const addTime = (name: string, [value, parameters]: [string, Parameters]) => vevent.properties.push({ name, value, parameters });
  add('UID', escapeText(inviteUid(event.bookingId)));
  add('SEQUENCE', String(options.sequence ?? event.sequence));
  add('DTSTAMP', formatDateTime(Math.floor(Date.parse(stamp) / 1000), { utc: true }));
  addTime('DTSTART', time(event.start));
  addTime('DTEND', time(event.end));
  add('SUMMARY', escapeText(event.title));
  add('DESCRIPTION', escapeText(event.manageUrl ? `${event.description}\n\nManage this booking: ${event.manageUrl}` : event.description));
  add('ORGANIZER', `mailto:${event.organizer.email}`, { cn: event.organizer.name ?? event.organizer.email });
  add('ATTENDEE', `mailto:${event.attendee.email}`, { role: 'REQ-PARTICIPANT', cn: event.attendee.name, 'schedule-agent': 'CLIENT' });
  if (event.manageUrl) add('URL', event.manageUrl);
  add('STATUS', event.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED');
  // The booking's own sequence, apart from SEQUENCE (which a calendar client may raise): what a retried or
  // concurrent write compares, so an older write never undoes a newer one.
  add('X-BOOKING-ID', event.bookingId);
  add('X-BOOKING-SEQUENCE', String(event.sequence));
  return stringify(calendar);
}

/**
 * A stored object (ours, or someone's under our name) rewritten as cancelled: STATUS, SEQUENCE and DTSTAMP set
 * on every VEVENT, every other line written back as it was read (unknown properties, parameters, X- properties,
 * VALARMs, VTIMEZONEs), refolded at 75 octets. Throws ContentError when the text is not iCalendar.
 */
export function cancelledCopy(data: string, sequence: number, now: Date): string {
  const root = parse(data)[0];
  if (!root) throw new ContentError('an empty object');
  for (const vevent of subcomponents(root, 'VEVENT')) {
    setProperty(vevent, 'STATUS', 'CANCELLED');
    setProperty(vevent, 'SEQUENCE', String(sequence));
    setProperty(vevent, 'DTSTAMP', formatDateTime(Math.floor(now.getTime() / 1000), { utc: true }));
  }
  return stringify(root);
}
