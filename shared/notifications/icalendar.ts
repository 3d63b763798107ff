// The invite as iCalendar (RFC 5545), written here rather than by ical-generator with luxon and
// timezones-ical-library (135 KB of the mail subscriber's bundle) for the one shape the mails need: a
// VCALENDAR with METHOD, the zone's VTIMEZONE, and one VEVENT. The VTIMEZONE is derived from Intl (the engine's
// offset segments, shared/scheduling/time-zones.ts): one observance per offset in force from a year before the
// event to a year after it, each with its onset, so any reader places the event's times exactly as the
// runtime's tz database does, without recurrence rules that could disagree with it.
import { offsetSegments, repeatedWallClock, type OffsetSegment } from '../scheduling/time-zones.ts';
// The one folding of content lines (RFC 5545 3.1), the calendar objects' and the invites' alike.
import { foldLine } from '../calendars/icalendar/content.ts';

export { foldLine };

const YEAR_MS = 366 * 86_400_000;
const CRLF = '\r\n';
const UTC_ZONES = /^(UTC|Etc\/UTC|Etc\/GMT|GMT)$/;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** An instant as iCalendar's DATE-TIME of the wall clock at `offsetMs`: 20300304T100000. */
function wallClock(instant: number, offsetMs: number): string {
  const d = new Date(Math.floor((instant + offsetMs) / 1000) * 1000);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}
const utcTime = (instant: number) => `${wallClock(instant, 0)}Z`;

/** A UTC offset as TZOFFSETFROM/TO write it: +0100, -0330, +053000 where seconds matter. */
function utcOffset(offsetMs: number): string {
  const seconds = Math.round(Math.abs(offsetMs) / 1000);
  const text = `${offsetMs < 0 ? '-' : '+'}${pad(Math.floor(seconds / 3600))}${pad(Math.floor(seconds / 60) % 60)}`;
  return seconds % 60 ? `${text}${pad(seconds % 60)}` : text;
}

/** TEXT values escape backslash, semicolon, comma and line breaks (RFC 5545 3.3.11). */
export const escapeText = (value: string) => value.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, '\\n');
/**
 * A parameter value, always quoted, with RFC 6868's escapes for what a quoted value cannot hold (^' for DQUOTE,
 * ^n for a line break, ^^ for a caret), as ical-generator wrote them; other control characters are dropped.
 */
const quotedParameter = (value: string) =>
  `"${value
    .replace(/\^/g, '^^')
    .replace(/"/g, "^'")
    .replace(/\r\n|\r|\n/g, '^n')
    .replace(/[\u0000-\u001f\u007f]/g, '')}"`;

/**
 * The zone's VTIMEZONE for times within `span`: the offsets in force from a year before it to a year after,
 * an observance each (DAYLIGHT where the offset is above the smallest of the period, else STANDARD), its
 * DTSTART the onset as the wall clock read before it (RFC 5545 3.6.5).
 */
export function vtimezone(zone: string, span: { start: number; end: number }): string[] {
  const segments: OffsetSegment[] = offsetSegments(zone, { start: span.start - YEAR_MS, end: span.end + YEAR_MS });
  const standard = Math.min(...segments.map((s) => s.offsetMs));
  return [
    'BEGIN:VTIMEZONE',
    `TZID:${zone}`,
    ...segments.flatMap((segment, i) => {
      const from = segments[i - 1]?.offsetMs ?? segment.offsetMs;
      const kind = segment.offsetMs > standard ? 'DAYLIGHT' : 'STANDARD';
      return [`BEGIN:${kind}`, `DTSTART:${wallClock(segment.start, from)}`, `TZOFFSETFROM:${utcOffset(from)}`, `TZOFFSETTO:${utcOffset(segment.offsetMs)}`, `END:${kind}`];
    }),
    'END:VTIMEZONE',
  ];
}

export type CalendarInvite = {
  method: 'REQUEST' | 'CANCEL';
  uid: string;
  sequence: number;
  /** ISO instants. */
  start: string;
  end: string;
  /** IANA zone the times are written in; UTC is written with Z and no VTIMEZONE. */
  timeZone: string;
  summary: string;
  description?: string;
  organizer: { name: string; email: string };
  attendee: { name: string; email: string };
  /** DTSTAMP: when the invite was made. */
  now: number;
};

/** The invite, CRLF-terminated lines folded at 75 octets. */
export function writeInvite(invite: CalendarInvite): string {
  const start = Date.parse(invite.start);
  const end = Date.parse(invite.end);
  if (!(end > start)) throw new RangeError(`an invite ends after it starts: ${invite.start} to ${invite.end}`);
  const utc = UTC_ZONES.test(invite.timeZone);
  // A wall clock the zone shows twice is written in UTC (see repeatedWallClock).
  const time = (name: string, instant: number) => (utc || repeatedWallClock(instant, invite.timeZone) ? `${name}:${utcTime(instant)}` : `${name};TZID=${invite.timeZone}:${wallClock(instant, offsetSegments(invite.timeZone, { start: instant, end: instant + 1 })[0]!.offsetMs)}`);
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//booking-engine//bookings//EN',
    `METHOD:${invite.method}`,
    ...(utc ? [] : vtimezone(invite.timeZone, { start, end })),
    'BEGIN:VEVENT',
    `UID:${invite.uid}`,
    `SEQUENCE:${invite.sequence}`,
    `DTSTAMP:${utcTime(invite.now)}`,
    time('DTSTART', start),
    time('DTEND', end),
    `SUMMARY:${escapeText(invite.summary)}`,
    ...(invite.description ? [`DESCRIPTION:${escapeText(invite.description)}`] : []),
    `ORGANIZER;CN=${quotedParameter(invite.organizer.name)}:mailto:${invite.organizer.email}`,
    `ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=${invite.method === 'REQUEST' ? 'TRUE' : 'FALSE'};CN=${quotedParameter(invite.attendee.name)}:mailto:${invite.attendee.email}`,
    `STATUS:${invite.method === 'REQUEST' ? 'CONFIRMED' : 'CANCELLED'}`,
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return lines.map(foldLine).join(CRLF) + CRLF;
}
