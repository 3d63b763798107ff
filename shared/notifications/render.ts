// A planned mail made real: its text and HTML from the template files (shared/notifications/templates, copied
// beside the bundle), times in the recipient's zone, the invite as iCalendar, all in the MIME layout mail
// clients expect for invites (multipart/mixed > alternative text, html, text/calendar; plus invite.ics).
import { readFileSync } from 'node:fs';
import ical, { ICalCalendarMethod, ICalEventStatus } from 'ical-generator';
import { tzlib_get_ical_block } from 'timezones-ical-library';
import { DateTime } from 'luxon';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { MailKind } from './plan.ts';
import { inviteUid } from './invite-uid.ts';

const templatesDir = new URL('templates/', import.meta.url);
const cache = new Map<string, string>();
const template = (name: string) => {
  let text = cache.get(name);
  if (text === undefined) cache.set(name, (text = readFileSync(new URL(name, templatesDir), 'utf8')));
  return text;
};

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fill = (text: string, vars: Record<string, string>, escape: (v: string) => string) =>
  text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in vars)) throw new Error(`template variable ${name} is not set`);
    return escape(vars[name]!);
  });

/** The subject (the text template's first line, "Subject: ..."), text and HTML of a mail. */
export function renderTemplates(kind: MailKind, vars: Record<string, string>): { subject: string; text: string; html: string } {
  const [first, ...rest] = template(`${kind}.txt`).split('\n');
  if (!first?.startsWith('Subject: ')) throw new Error(`${kind}.txt must start with "Subject: "`);
  return {
    subject: fill(first.slice('Subject: '.length), vars, (v) => v.replace(/[\r\n]+/g, ' ')),
    text: fill(rest.join('\n').replace(/^\n/, ''), vars, (v) => v),
    html: fill(template(`${kind}.html`), vars, escapeHtml),
  };
}

/** "Tuesday, 3 March 2030, 10:00" in the zone, and the clock time alone. */
export const formatWhen = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).setLocale('en-GB').toFormat('cccc, d LLLL yyyy, HH:mm');
export const formatClock = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toFormat('HH:mm');

export type InviteDetails = {
  bookingId: string;
  method: 'REQUEST' | 'CANCEL';
  sequence: number;
  start: string;
  end: string;
  timeZone: string;
  summary: string;
  organizer: { name: string; email: string };
  attendee: { name: string; email: string };
  description?: string;
};

/** A stable UID per booking: every invite for it updates (or cancels) the same calendar entry. */
export { inviteUid } from './invite-uid.ts';

/**
 * The iCalendar invite. Times are written in the recipient's zone with its VTIMEZONE (Luxon DateTimes, not
 * native Dates, which ical-generator would write in the process's zone), and the calendar itself has no zone
 * name, which would make DTSTAMP floating (TOOLCHAIN-next.md section 5).
 */
export function renderInvite(invite: InviteDetails): string {
  const method = invite.method === 'REQUEST' ? ICalCalendarMethod.REQUEST : ICalCalendarMethod.CANCEL;
  const calendar = ical({ method, prodId: { company: 'booking-engine', product: 'bookings' } });
  const utc = /^(UTC|Etc\/UTC|Etc\/GMT|GMT)$/.test(invite.timeZone);
  if (!utc) calendar.timezone({ name: null, generator: (zone) => tzlib_get_ical_block(zone)[0] });
  calendar.createEvent({
    id: inviteUid(invite.bookingId),
    sequence: invite.sequence,
    status: invite.method === 'REQUEST' ? ICalEventStatus.CONFIRMED : ICalEventStatus.CANCELLED,
    start: DateTime.fromISO(invite.start, { zone: utc ? 'UTC' : invite.timeZone }),
    end: DateTime.fromISO(invite.end, { zone: utc ? 'UTC' : invite.timeZone }),
    timezone: utc ? undefined : invite.timeZone,
    summary: invite.summary,
    description: invite.description,
    organizer: invite.organizer,
    attendees: [{ name: invite.attendee.name, email: invite.attendee.email, rsvp: invite.method === 'REQUEST' }],
  });
  return calendar.toString();
}

export type ComposeInput = {
  from: string;
  to: { name: string; email: string };
  subject: string;
  text: string;
  html: string;
  ics?: { method: 'REQUEST' | 'CANCEL'; content: string };
  headers: Record<string, string>;
};

/** The raw MIME message, as SES SendRawEmail takes it. */
export function compose(input: ComposeInput): Promise<Buffer> {
  return new MailComposer({
    from: input.from,
    to: { name: input.to.name, address: input.to.email },
    subject: input.subject,
    text: input.text,
    html: input.html,
    icalEvent: input.ics ? { method: input.ics.method, filename: 'invite.ics', content: input.ics.content } : undefined,
    headers: input.headers,
  })
    .compile()
    .build();
}
