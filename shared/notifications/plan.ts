// Which mails a domain event means, to whom, and with which invite: pure, so every case is a unit test.
// One mail per change a person sees: a reschedule records booking.rescheduled and, in the same append,
// booking.confirmed; the rescheduled mail covers both, so that confirmation sends nothing.
import type { EventTypeName, TypedEvent } from '../../events/catalog.ts';
import type { Booking, BookingEvent } from '../booking/decider.ts';

export type Recipient = { email: string; name: string; timeZone: string };
export type MailKind =
  | 'booking-confirmed' | 'request-received' | 'awaiting-payment' | 'payment-failed' | 'booking-rescheduled' | 'booking-cancelled' | 'booking-rejected' | 'payment-refunded'
  | 'host-new-booking' | 'host-new-request' | 'host-rescheduled' | 'host-cancelled' | 'webhook-disabled'
  | 'calendar-reauth' | 'calendar-sync-failing';

export type PlannedMail = {
  kind: MailKind;
  to: Recipient;
  /** The attendee's mails carry a link that works as their key to the booking. */
  role: 'attendee' | 'host' | 'organizer';
  /**
   * The invite, if any. SEQUENCE is the event's version in the booking's stream: it rises with every change,
   * so each REQUEST supersedes the last and a CANCEL is always above the REQUEST before it.
   */
  invite?: { method: 'REQUEST' | 'CANCEL'; sequence: number };
  vars: Record<string, string>;
};

export type BookingContext = {
  /** The booking as it was right after the event (folded from its stream up to the event's version). */
  booking: Booking;
  /** The booking's events up to and including this one. */
  history: BookingEvent[];
  hosts: Recipient[];
  organizerName: string;
};

const actorName = (actor: string, organizerName: string) => (actor === 'attendee' ? 'the attendee' : actor === 'organizer' ? organizerName : 'the system');
const money = (amount: number, currency: string) => `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;

export function planBookingMails(event: TypedEvent, context: BookingContext): PlannedMail[] {
  const { booking, history, hosts, organizerName } = context;
  const attendee: Recipient = { email: booking.attendee.email, name: booking.attendee.name, timeZone: booking.attendee.timeZone };
  const request = { method: 'REQUEST', sequence: event.version } as const;
  const toAttendee = (kind: MailKind, vars: Record<string, string> = {}, invite?: PlannedMail['invite']): PlannedMail => ({ kind, to: attendee, role: 'attendee', invite, vars });
  const toHosts = (kind: MailKind, vars: Record<string, string> = {}, invite?: PlannedMail['invite']): PlannedMail[] => hosts.map((to) => ({ kind, to, role: 'host', invite, vars }));
  const previous = history.find((e) => (e as { version?: number }).version === event.version - 1) ?? history.at(-2);
  switch (event.type) {
    case 'booking.confirmed': {
      // The confirmation appended with a reschedule: the rescheduled mail already said it all.
      if (previous?.type === 'booking.rescheduled' && previous.metadata?.timestamp === event.metadata.timestamp) return [];
      return [toAttendee('booking-confirmed', {}, request), ...toHosts('host-new-booking', {}, request)];
    }
    case 'booking.created':
      if (event.payload.awaiting !== 'confirmation') return [];
      return [toAttendee('request-received', { organizerName }), ...toHosts('host-new-request')];
    case 'payment.initiated':
      return [toAttendee('awaiting-payment', { amount: money(event.payload.amount, event.payload.currency) })];
    case 'payment.failed':
      return [toAttendee('payment-failed', { reason: event.payload.reason })];
    case 'payment.refunded':
      return [toAttendee('payment-refunded', { amount: money(event.payload.amount, event.payload.currency) })];
    case 'booking.rescheduled': {
      const vars = { previousStart: event.payload.previousStart };
      return [toAttendee('booking-rescheduled', vars, request), ...toHosts('host-rescheduled', vars, request)];
    }
    case 'booking.cancelled': {
      // A CANCEL only withdraws an invite that was sent: one the booking was confirmed or moved with.
      const invited = history.some((e) => e.type === 'booking.confirmed' || e.type === 'booking.rescheduled');
      const invite = invited ? ({ method: 'CANCEL', sequence: event.version } as const) : undefined;
      const vars = { reason: event.payload.reason ?? 'none given', cancelledBy: actorName(event.payload.cancelledBy, organizerName) };
      return [toAttendee('booking-cancelled', vars, invite), ...toHosts('host-cancelled', vars, invite)];
    }
    case 'booking.rejected':
      return [toAttendee('booking-rejected', { reason: event.payload.reason ?? 'none given', organizerName })];
    default:
      return [];
  }
}

/**
 * The events that tell an organizer something about his own setup (not a booking): the notifications
 * subscriber's rule lists these beside the booking events (infra/constructs/notifications.ts), and notify.ts
 * dispatches on them, from this one list.
 */
export const organizerNoticeEvents = ['webhook.disabled', 'calendar.reauth.required', 'calendar.sync.failing'] as const satisfies readonly EventTypeName[];

const providerNames = { google: 'Google', microsoft: 'Microsoft Outlook', caldav: 'CalDAV' } as const;

/**
 * An error text as a mail may show it: whatever looks like a secret is cut out. Provider errors are written by
 * the adapters, which never put credentials in them, but a server's own message (or a URL it echoes) can carry
 * a login or a token, and a mail leaves the system for good.
 */
export function withoutSecrets(text: string): string {
  return text
    .replace(/(\w+:\/\/)[^\s/@]*@/g, '$1')
    .replace(/\b(bearer|basic)\s+[A-Za-z0-9._~+\/=-]+/gi, '$1 [hidden]')
    .replace(/\b((?:access|refresh|id)_?token|client_secret|password|authorization)(["']?\s*[:=]\s*["']?)(?!(?:bearer|basic)\b|\[hidden\])[^\s"'&,;}]+/gi, '$1$2[hidden]')
    .replace(/\b(code=)[^\s"'&,;}]+/gi, '$1[hidden]')
    .replace(/\bya29\.[A-Za-z0-9._-]+|\b1\/\/[A-Za-z0-9._-]{10,}|\beyJ[A-Za-z0-9._-]{10,}/g, '[hidden]');
}

/**
 * The organizer's mail about one of his calendar connections: it needs him to sign in again
 * (calendar.reauth.required), or its reads keep failing (calendar.sync.failing). Google and Microsoft are
 * connected again through their OAuth route; CalDAV has none, so its login is posted again.
 */
export function planCalendarMails(event: TypedEvent, organizer: Recipient, publicApiUrl: string): PlannedMail[] {
  const api = publicApiUrl.replace(/\/$/, '');
  switch (event.type) {
    case 'calendar.reauth.required': {
      const { provider, reason } = event.payload;
      const reconnect =
        provider === 'caldav'
          ? { reconnectHow: 'Connect it again with its current login (POST, with provider "caldav", serverUrl, username and password)', reconnectUrl: `${api}/calendars/connections` }
          : { reconnectHow: 'Sign in again here', reconnectUrl: `${api}/calendars/connect/${provider}` };
      return [{ kind: 'calendar-reauth', to: organizer, role: 'organizer', vars: { provider: providerNames[provider], reason: withoutSecrets(reason), ...reconnect } }];
    }
    case 'calendar.sync.failing': {
      const { provider, lastError, failures, failingSince, connectionId } = event.payload;
      return [
        {
          kind: 'calendar-sync-failing',
          to: organizer,
          role: 'organizer',
          vars: { provider: providerNames[provider], lastError: withoutSecrets(lastError), failures: String(failures), failingSince, statusUrl: `${api}/calendars/connections/${connectionId}` },
        },
      ];
    }
    default:
      return [];
  }
}
