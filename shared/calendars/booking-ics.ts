// A booking as the VCALENDAR object written into a host's CalDAV calendar, pure (no I/O). Apart from the reads
// (ics.ts): the CalDAV adapter imports it when it first writes, so a read-only path does not load it.
import ICAL from 'ical.js';
import type { BookingCalendarEvent } from './provider.ts';
import { inviteUid } from '../notifications/invite-uid.ts';
import { vtimezone } from '../notifications/icalendar.ts';
import { repeatedWallClock } from '../scheduling/time-zones.ts';
import { instantToWallClock } from './zone-time.ts';

/**
 * A booking as the VCALENDAR object stored in a host's calendar (no METHOD: a stored object, not an iTIP
 * message). The UID is the invites' (invite-uid.ts), so the invite the attendee got and this entry are one
 * event. Times are the booking zone's wall clock with its VTIMEZONE (the invites', from Intl), or UTC; the
 * object is built with ical.js, which the reads already carry (ical-generator and luxon would add 100 KB to
 * every calendar bundle for this one object). `options.sequence` sets SEQUENCE above one the stored object
 * already has. The attendee carries SCHEDULE-AGENT=CLIENT: the invite mail is ours, a scheduling server must
 * not send another.
 */
export function bookingToIcs(event: BookingCalendarEvent, stamp: string, options: { sequence?: number } = {}): string {
  const calendar = new ICAL.Component('vcalendar');
  calendar.addPropertyWithValue('version', '2.0');
  calendar.addPropertyWithValue('prodid', '-//booking-engine//bookings//EN');
  const utc = /^(UTC|Etc\/UTC|Etc\/GMT|GMT)$/.test(event.timeZone);
  if (!utc) {
    // The invites' VTIMEZONE, derived from the runtime's zone data around the booking (icalendar.ts).
    const block = vtimezone(event.timeZone, { start: Date.parse(event.start), end: Date.parse(event.end) }).join('\r\n');
    calendar.addSubcomponent(new ICAL.Component(ICAL.parse(block) as unknown as unknown[]));
  }
  const vevent = new ICAL.Component('vevent');
  // A time whose wall clock the zone shows twice (the hour repeated when clocks go back) is written in UTC:
  // RFC 5545 reads such a wall clock as its first occurrence, ical.js (and so Radicale's web client and others)
  // as the second, an hour apart. Every other time is the zone's wall clock with TZID.
  const time = (iso: string): [ICAL.Time, Record<string, string>] => {
    const instant = Date.parse(iso);
    if (utc || repeatedWallClock(instant, event.timeZone)) return [ICAL.Time.fromJSDate(new Date(instant), true), {}];
    const [date, clock] = instantToWallClock(instant, event.timeZone).split('T') as [string, string];
    const [year, month, day] = date.split('-').map(Number) as [number, number, number];
    const [hour, minute, second] = clock.split(':').map(Number) as [number, number, number];
    return [ICAL.Time.fromData({ year, month, day, hour, minute, second, isDate: false }), { tzid: event.timeZone }];
  };
  const add = (name: string, value: string | number | ICAL.Time, parameters: Record<string, string> = {}) => {
    const property = new ICAL.Property(name);
    property.setValue(value as string);
    for (const [key, parameter] of Object.entries(parameters)) property.setParameter(key, parameter);
    vevent.addProperty(property);
  };
  add('uid', inviteUid(event.bookingId));
  add('sequence', options.sequence ?? event.sequence);
  add('dtstamp', ICAL.Time.fromJSDate(new Date(Date.parse(stamp)), true));
  add('dtstart', ...time(event.start));
  add('dtend', ...time(event.end));
  add('summary', event.title);
  add('description', event.manageUrl ? `${event.description}\n\nManage this booking: ${event.manageUrl}` : event.description);
  add('organizer', `mailto:${event.organizer.email}`, { cn: event.organizer.name ?? event.organizer.email });
  add('attendee', `mailto:${event.attendee.email}`, { role: 'REQ-PARTICIPANT', cn: event.attendee.name, 'schedule-agent': 'CLIENT' });
  if (event.manageUrl) add('url', event.manageUrl);
  add('status', event.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED');
  // The booking's own sequence, apart from SEQUENCE (which a calendar client may raise): what a retried or
  // concurrent write compares, so an older write never undoes a newer one.
  add('x-booking-id', event.bookingId);
  add('x-booking-sequence', String(event.sequence));
  calendar.addSubcomponent(vevent);
  return calendar.toString();
}

