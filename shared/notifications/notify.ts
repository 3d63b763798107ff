// The notifications subscriber's work for one domain event: plan its mails, then send each once per
// (event, recipient), even when the event is delivered twice (shared/subscribers/once.ts).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TypedEvent } from '../../events/catalog.ts';
import { bookingDecider, type Booking, type BookingEvent } from '../booking/decider.ts';
import { fold } from '../domain/decider.ts';
import { EventStore } from '../eventstore/event-store.ts';
import { readUser } from '../scheduling/directory.ts';
import { runOnce } from '../subscribers/once.ts';
import { readSubscription } from '../webhooks/subscriptions.ts';
import { mintLinkToken } from './links.ts';
import { readConnection } from '../calendars/store.ts';
import { planBookingMails, planCalendarMails, type PlannedMail, type Recipient } from './plan.ts';
import { compose, formatClock, formatWhen, renderInvite, renderTemplates } from './render.ts';

export type NotifyPorts = {
  client: DynamoDBDocumentClient;
  eventsTable: string;
  stateTable: string;
  /** Hands a raw MIME message to SES. */
  send: (raw: Buffer) => Promise<void>;
  /** The sender: "Bookings <bookings@example.com>". */
  from: string;
  /** Where the attendee's link points: the HTTP API's booking route. */
  publicApiUrl: string;
};

const CONSUMER = 'notifications';
const senderName = (from: string) => /^(.*?)\s*</.exec(from)?.[1]?.replace(/"/g, '') || 'Bookings';
const senderAddress = (from: string) => /<([^>]+)>/.exec(from)?.[1] ?? from;

export async function notify(ports: NotifyPorts, event: TypedEvent): Promise<number> {
  if (event.type === 'webhook.disabled') return notifyWebhookDisabled(ports, event);
  if (event.type === 'calendar.reauth.required' || event.type === 'calendar.sync.failing') return notifyCalendarConnection(ports, event);
  if (event.aggregateType !== 'booking') return 0;
  const history = ((await new EventStore(ports.client, ports.eventsTable).load(event.aggregateId)) as unknown as Array<BookingEvent & { version: number }>).filter((e) => e.version <= event.version);
  const state = fold(bookingDecider, history);
  if (state.status === 'none') return 0;
  const booking = state as Booking;
  const profiles = await Promise.all([booking.organizerId, ...booking.hostIds].map((id) => readUser(ports, id)));
  const organizer = profiles[0];
  const hosts: Recipient[] = profiles.slice(1).flatMap((p) => (p && p.status === 'active' ? [{ email: p.email, name: p.name, timeZone: p.timeZone }] : []));
  const organizerName = organizer?.name ?? 'the organizer';
  const mails = planBookingMails(event, { booking, history, hosts, organizerName });
  let sent = 0;
  for (const mail of mails) {
    const key = `${event.id}#${mail.to.email.toLowerCase()}`;
    if (await runOnce(ports, CONSUMER, key, () => sendBookingMail(ports, event, booking, mail, organizer ? { name: organizer.name, email: organizer.email } : undefined))) sent++;
  }
  return sent;
}

async function sendBookingMail(ports: NotifyPorts, event: TypedEvent, booking: Booking, mail: PlannedMail, organizer: { name: string; email: string } | undefined): Promise<void> {
  const zone = mail.to.timeZone;
  const bookingUrl = `${ports.publicApiUrl.replace(/\/$/, '')}/bookings/${event.aggregateId}`;
  const manageUrl = mail.role === 'attendee' ? `${bookingUrl}?token=${await mintLinkToken(ports, event.aggregateId)}` : bookingUrl;
  const vars: Record<string, string> = {
    recipientName: mail.to.name,
    senderName: senderName(ports.from),
    title: booking.title,
    when: formatWhen(booking.start, zone),
    endTime: formatClock(booking.end, zone),
    timeZone: zone,
    attendeeName: booking.attendee.name,
    attendeeEmail: booking.attendee.email,
    organizerName: organizer?.name ?? 'the organizer',
    manageUrl,
    ...mail.vars,
  };
  if (mail.vars.previousStart) vars.previousWhen = formatWhen(mail.vars.previousStart, zone);
  const { subject, text, html } = renderTemplates(mail.kind, vars);
  const ics = mail.invite
    ? {
        method: mail.invite.method,
        content: renderInvite({
          bookingId: event.aggregateId,
          method: mail.invite.method,
          sequence: mail.invite.sequence,
          start: booking.start,
          end: booking.end,
          timeZone: zone,
          summary: booking.title,
          organizer: organizer ?? { name: senderName(ports.from), email: senderAddress(ports.from) },
          attendee: { name: booking.attendee.name, email: booking.attendee.email },
          description: mail.role === 'attendee' ? `Manage your booking: ${manageUrl}` : undefined,
        }),
      }
    : undefined;
  const raw = await compose({
    from: ports.from,
    to: mail.to,
    subject,
    text,
    html,
    ics,
    headers: { 'X-Booking-Id': event.aggregateId, 'X-Event-Id': event.id, 'X-Mail-Kind': mail.kind },
  });
  await ports.send(raw);
}

async function notifyWebhookDisabled(ports: NotifyPorts, event: TypedEvent<'webhook.disabled'>): Promise<number> {
  const subscription = await readSubscription(ports, event.aggregateId);
  const owner = subscription && (await readUser(ports, subscription.organizerId));
  if (!subscription || !owner || owner.status !== 'active') return 0;
  const sent = await runOnce(ports, CONSUMER, `${event.id}#${owner.email.toLowerCase()}`, async () => {
    const { subject, text, html } = renderTemplates('webhook-disabled', {
      recipientName: owner.name,
      senderName: senderName(ports.from),
      url: subscription.url,
      reason: event.payload.reason,
      failingSince: formatWhen(event.payload.failingSince, owner.timeZone),
      webhookId: subscription.id,
    });
    await ports.send(await compose({ from: ports.from, to: { name: owner.name, email: owner.email }, subject, text, html, headers: { 'X-Webhook-Id': subscription.id, 'X-Event-Id': event.id } }));
  });
  return sent ? 1 : 0;
}

/**
 * A connection that needs its organizer: the mail goes to the connection's organizer as the connection itself
 * names him (not whoever an event's payload names), once per event. A connection disconnected meanwhile has
 * nobody left to tell.
 */
async function notifyCalendarConnection(ports: NotifyPorts, event: TypedEvent<'calendar.reauth.required' | 'calendar.sync.failing'>): Promise<number> {
  const connectionId = event.type === 'calendar.sync.failing' ? event.payload.connectionId : event.aggregateId;
  const connection = await readConnection(ports, connectionId);
  const owner = connection && (await readUser(ports, connection.organizerId));
  if (!connection || !owner || owner.status !== 'active') return 0;
  const [mail] = planCalendarMails(event, { email: owner.email, name: owner.name, timeZone: owner.timeZone }, ports.publicApiUrl);
  if (!mail) return 0;
  const sent = await runOnce(ports, CONSUMER, `${event.id}#${owner.email.toLowerCase()}`, async () => {
    const vars: Record<string, string> = { recipientName: owner.name, senderName: senderName(ports.from), ...mail.vars };
    if (mail.vars.failingSince) vars.failingSince = formatWhen(mail.vars.failingSince, owner.timeZone);
    const { subject, text, html } = renderTemplates(mail.kind, vars);
    await ports.send(await compose({ from: ports.from, to: { name: owner.name, email: owner.email }, subject, text, html, headers: { 'X-Calendar-Connection-Id': connectionId, 'X-Event-Id': event.id, 'X-Mail-Kind': mail.kind } }));
  });
  return sent ? 1 : 0;
}
