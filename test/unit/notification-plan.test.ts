import { describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import type { TypedEvent } from '../../events/catalog.ts';
import type { Booking, BookingEvent } from '../../shared/booking/decider.ts';
import { organizerNoticeEvents, planBookingMails, planCalendarMails, withoutSecrets, type MailKind } from '../../shared/notifications/plan.ts';
import { renderInvite, renderTemplates } from '../../shared/notifications/render.ts';

const booking: Booking = {
  status: 'confirmed',
  eventTypeId: 'et-1',
  organizerId: 'org-1',
  hostIds: ['org-1'],
  title: 'Haircut with Ann',
  start: '2030-03-04T09:00:00.000Z',
  end: '2030-03-04T09:45:00.000Z',
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 0,
  attendee: { name: 'Ann', email: 'ann@example.org', timeZone: 'Europe/Berlin' },
  requiresConfirmation: false,
};
const hosts = [{ email: 'host@example.com', name: 'Salon', timeZone: 'America/New_York' }];
const at = '2030-03-01T10:00:00.000Z';
const event = (type: string, version: number, payload: unknown, timestamp = at) =>
  ({ id: `e${version}`, type, aggregateId: 'b-1', aggregateType: 'booking', version, payload, metadata: { timestamp } }) as unknown as TypedEvent;
const plan = (e: TypedEvent, history: TypedEvent[] = [e]) =>
  planBookingMails(e, { booking, history: history as unknown as BookingEvent[], hosts, organizerName: 'Salon' }).map((m) => `${m.role}:${m.kind}${m.invite ? `:${m.invite.method}@${m.invite.sequence}` : ''}`);

describe('which mails an event means', () => {
  it('a confirmation: attendee and host, each with a REQUEST at the event\'s version', () => {
    expect(plan(event('booking.confirmed', 3, { confirmedBy: 'system', start: booking.start, end: booking.end }))).toEqual(['attendee:booking-confirmed:REQUEST@3', 'host:host-new-booking:REQUEST@3']);
  });

  it('a reschedule is one mail per person, though it records booking.rescheduled and booking.confirmed together', () => {
    const moved = event('booking.rescheduled', 4, { previousStart: booking.start, previousEnd: booking.end, start: booking.start, end: booking.end, rescheduledBy: 'attendee' });
    const confirmed = event('booking.confirmed', 5, { confirmedBy: 'system', start: booking.start, end: booking.end });
    expect(plan(moved, [moved])).toEqual(['attendee:booking-rescheduled:REQUEST@4', 'host:host-rescheduled:REQUEST@4']);
    expect(plan(confirmed, [moved, confirmed])).toEqual([]);
    // A later confirmation by the organizer is news again.
    expect(plan(event('booking.confirmed', 5, { confirmedBy: 'organizer', start: booking.start, end: booking.end }, '2030-03-02T00:00:00Z'), [moved])).toHaveLength(2);
  });

  it('a cancellation withdraws the invite only when one was sent, with a SEQUENCE above it', () => {
    const confirmed = event('booking.confirmed', 3, { confirmedBy: 'system', start: booking.start, end: booking.end });
    const cancelled = event('booking.cancelled', 4, { cancelledBy: 'attendee', reason: 'ill' });
    expect(plan(cancelled, [confirmed, cancelled])).toEqual(['attendee:booking-cancelled:CANCEL@4', 'host:host-cancelled:CANCEL@4']);
    expect(plan(cancelled, [cancelled])).toEqual(['attendee:booking-cancelled', 'host:host-cancelled']);
  });

  it.each([
    ['booking.created', { awaiting: 'confirmation', eventTypeId: 'et-1', organizerId: 'org-1', hostIds: ['org-1'], start: booking.start, end: booking.end }, ['attendee:request-received', 'host:host-new-request']],
    ['booking.created', { awaiting: 'nothing', eventTypeId: 'et-1', organizerId: 'org-1', hostIds: ['org-1'], start: booking.start, end: booking.end }, []],
    ['payment.initiated', { paymentId: 'pi_1', provider: 'stripe', amount: 4500, currency: 'eur' }, ['attendee:awaiting-payment']],
    ['payment.failed', { paymentId: 'pi_1', reason: 'card declined' }, ['attendee:payment-failed']],
    ['payment.refunded', { paymentId: 'pi_1', amount: 4500, currency: 'eur' }, ['attendee:payment-refunded']],
    ['booking.rejected', { reason: 'fully booked' }, ['attendee:booking-rejected']],
    ['booking.requested', {}, []],
    ['booking.completed', { completedAt: at }, []],
  ])('%s (%j) → %j', (type, payload, expected) => {
    expect(plan(event(type, 2, payload))).toEqual(expected);
  });
});

describe('the organizer\'s mails about a calendar connection', () => {
  const organizer = { email: 'gail@example.com', name: 'Gail', timeZone: 'Europe/Berlin' };
  const api = 'https://api.example.com/';
  const calendarEvent = (type: string, payload: unknown) =>
    ({ id: 'e-9', type, aggregateId: 'cal-1', aggregateType: 'calendar', version: 4, payload, metadata: { timestamp: at } }) as unknown as TypedEvent;
  const reauth = (provider: string, reason = 'invalid_grant: Token has been expired or revoked.') => planCalendarMails(calendarEvent('calendar.reauth.required', { userId: 'org-1', provider, reason }), organizer, api);

  it.each([
    ['google', 'Google', 'https://api.example.com/calendars/connect/google'],
    ['microsoft', 'Microsoft Outlook', 'https://api.example.com/calendars/connect/microsoft'],
    ['caldav', 'CalDAV', 'https://api.example.com/calendars/connections'],
  ])('a %s grant that stopped working: one mail to the organizer, with where to connect it again', (provider, name, url) => {
    const mails = reauth(provider);
    expect(mails.map((m) => `${m.role}:${m.kind}:${m.to.email}`)).toEqual(['organizer:calendar-reauth:gail@example.com']);
    expect(mails[0]!.vars).toMatchObject({ provider: name, reconnectUrl: url, reason: 'invalid_grant: Token has been expired or revoked.' });
    const rendered = renderTemplates('calendar-reauth', { recipientName: 'Gail', senderName: 'Bookings', ...mails[0]!.vars });
    expect(rendered.subject).toBe(`Reconnect your ${name} calendar`);
    expect(rendered.text).toContain(url);
    expect(rendered.html).toContain(`href="${url}"`);
  });

  it('a persistent sync failure: one mail with its last error and the connection\'s state', () => {
    const mails = planCalendarMails(calendarEvent('calendar.sync.failing', { userId: 'org-1', connectionId: 'cal-1', provider: 'caldav', failures: 3, failingSince: at, lastError: 'caldav 503: Service Unavailable' }), organizer, api);
    expect(mails.map((m) => `${m.role}:${m.kind}`)).toEqual(['organizer:calendar-sync-failing']);
    expect(mails[0]!.vars).toMatchObject({ provider: 'CalDAV', lastError: 'caldav 503: Service Unavailable', failures: '3', statusUrl: 'https://api.example.com/calendars/connections/cal-1' });
  });

  it('no mail for the connection\'s other events, and no booking mail for a calendar event', () => {
    expect(planCalendarMails(calendarEvent('calendar.connected', { userId: 'org-1', provider: 'google', calendars: [] }), organizer, api)).toEqual([]);
    expect(planCalendarMails(calendarEvent('calendar.disconnected', { userId: 'org-1', provider: 'google' }), organizer, api)).toEqual([]);
    expect(plan(calendarEvent('calendar.reauth.required', { userId: 'org-1', provider: 'google', reason: 'x' }))).toEqual([]);
  });

  it.each([
    ['https://ann:s3cret-pass@dav.example.com/cal/ 401', 'https://dav.example.com/cal/ 401'],
    ['401 with Authorization: Bearer ya29.a0AfH6SMBx-very-secret', '401 with Authorization: Bearer [hidden]'],
    ['invalid_grant {"refresh_token":"1//0gAbCdEfGhIjKlMnOp"}', 'invalid_grant {"refresh_token":"[hidden]"}'],
    ['token endpoint said client_secret=abc123&code=4/xyz', 'token endpoint said client_secret=[hidden]&code=[hidden]'],
    ['login failed: password=hunter2', 'login failed: password=[hidden]'],
  ])('a credential in an error never reaches the mail: %s', (reason, shown) => {
    expect(withoutSecrets(reason)).toBe(shown);
    const [mail] = reauth('google', reason);
    const rendered = renderTemplates('calendar-reauth', { recipientName: 'Gail', senderName: 'Bookings', ...mail!.vars });
    for (const secret of ['s3cret-pass', 'ya29.a0AfH6SMBx', '1//0gAbCdEfGhIjKlMnOp', 'abc123', '4/xyz', 'hunter2']) {
      expect(rendered.text).not.toContain(secret);
      expect(rendered.html).not.toContain(secret);
    }
  });

  it('an error without credentials is shown as it is', () => {
    for (const text of ['caldav 503: status code: 503 Service Unavailable', 'invalid_grant: Token has been expired or revoked.', 'google 401 after refresh (https://www.googleapis.com/calendar/v3)']) expect(withoutSecrets(text)).toBe(text);
  });

  it('the subscriber\'s rule and the dispatch share one list of organizer notices', () => {
    expect([...organizerNoticeEvents]).toEqual(['webhook.disabled', 'calendar.reauth.required', 'calendar.sync.failing']);
  });
});

describe('mail templates and invites', () => {
  const kinds: MailKind[] = ['booking-confirmed', 'request-received', 'awaiting-payment', 'payment-failed', 'booking-rescheduled', 'booking-cancelled', 'booking-rejected', 'payment-refunded', 'host-new-booking', 'host-new-request', 'host-rescheduled', 'host-cancelled', 'webhook-disabled', 'calendar-reauth', 'calendar-sync-failing'];
  const vars = new Proxy({} as Record<string, string>, { has: () => true, get: (_, name) => `<${String(name)}>` });

  it.each(kinds)('%s has a subject, a text and an HTML body; HTML escapes what it is given', (kind) => {
    const mail = renderTemplates(kind, vars);
    expect(mail.subject.length).toBeGreaterThan(5);
    expect(mail.text).toContain('<recipientName>');
    expect(mail.html).toContain('&#60;recipientName&#62;');
    expect(mail.html).not.toContain('<recipientName>');
  });

  it('writes the invite in the recipient\'s zone with its VTIMEZONE, a stable UID, and the SEQUENCE given', () => {
    const ics = renderInvite({ bookingId: 'b-1', method: 'REQUEST', sequence: 3, start: booking.start, end: booking.end, timeZone: 'Europe/Berlin', summary: 'Haircut', organizer: { name: 'Salon', email: 'salon@example.com' }, attendee: { name: 'Ann', email: 'ann@example.org' } });
    expect(ics).toContain('DTSTART;TZID=Europe/Berlin:20300304T100000');
    const calendar = new ICAL.Component(ICAL.parse(ics));
    expect(calendar.getFirstPropertyValue('method')).toBe('REQUEST');
    expect(calendar.getAllSubcomponents('vtimezone')).toHaveLength(1);
    const vevent = new ICAL.Event(calendar.getFirstSubcomponent('vevent')!);
    expect(vevent.uid).toBe('booking-b-1@booking-engine');
    expect(vevent.sequence).toBe(3);
    expect(vevent.startDate.toJSDate().toISOString()).toBe(booking.start);
    expect(calendar.getFirstSubcomponent('vevent')!.getFirstPropertyValue('dtstamp')!.toString()).toMatch(/Z$/);
  });
});
