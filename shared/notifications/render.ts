// A planned mail made real: its text and HTML from the template files (shared/notifications/templates, copied
// beside the bundle), times in the recipient's zone, the invite as iCalendar, all in the MIME layout mail
// clients expect for invites (multipart/mixed > alternative text, html, text/calendar; plus invite.ics).
import { readFileSync } from 'node:fs';
import MailComposer from 'nodemailer/lib/mail-composer';
import { writeInvite } from './icalendar.ts';
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

const formatters = new Map<string, Intl.DateTimeFormat>();
/** The parts of `iso`'s wall clock in `zone` (Intl, en-GB): weekday and month by name, 24-hour clock. */
function wallClockParts(iso: string, zone: string): Record<string, string> {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(zone, formatter);
  }
  const instant = Date.parse(iso);
  if (Number.isNaN(instant)) throw new RangeError(`not an ISO date-time: ${iso}`);
  return Object.fromEntries(formatter.formatToParts(instant).map((part) => [part.type, part.value]));
}

/** "Tuesday, 3 March 2030, 10:00" in the zone, and the clock time alone. */
export const formatWhen = (iso: string, zone: string) => {
  const p = wallClockParts(iso, zone);
  return `${p.weekday}, ${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute}`;
};
export const formatClock = (iso: string, zone: string) => {
  const p = wallClockParts(iso, zone);
  return `${p.hour}:${p.minute}`;
};

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
 * The iCalendar invite (shared/notifications/icalendar.ts): times in the recipient's zone with its VTIMEZONE,
 * or in UTC; DTSTAMP is now, in UTC.
 */
export function renderInvite(invite: InviteDetails, now = Date.now()): string {
  return writeInvite({
    method: invite.method,
    uid: inviteUid(invite.bookingId),
    sequence: invite.sequence,
    start: invite.start,
    end: invite.end,
    timeZone: invite.timeZone,
    summary: invite.summary,
    description: invite.description,
    organizer: invite.organizer,
    attendee: invite.attendee,
    now,
  });
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
