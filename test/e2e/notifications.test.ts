// Email on the local stack, read back from aws-ses-v2-local's store: the attendee's and host's mails for a
// booking, its reschedule and its cancellation; invites parsed with ical.js; one mail per event and recipient,
// even when the subscriber is handed an event twice; the attendee's link works as their key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import { futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let token: string;
let eventTypeId: string;
const attendeeEmail = `ann-${Date.now()}@example.org`;
const hostEmail = `host-${Date.now()}@example.com`;

type StoredMail = { messageId: string; from: string; destination: { to: string[] }; subject: string; body: { text?: string; html?: string }; attachments: Array<{ contentType: string; filename?: string; content: string }> };

const api = (path: string, init: RequestInit & { json?: unknown; auth?: string | null } = {}) =>
  fetch(stack.httpUrl + path, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.auth === null ? {} : { authorization: `Bearer ${init.auth ?? token}` }), ...(init.headers as Record<string, string>) },
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
  });

const mails = async (to: string): Promise<StoredMail[]> => ((await (await fetch(`${stack.sesUrl}/store`)).json()) as { emails: StoredMail[] }).emails.filter((m) => m.destination.to.some((d) => d.includes(to)));

const until = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};
const mailCount = (to: string, n: number) => until(`${n} mails to ${to}`, async () => ((await mails(to)).length >= n ? mails(to) : undefined));

/** The invite of a mail: its text/calendar part parsed by ical.js, with the VEVENT's essentials. */
function invite(mail: StoredMail) {
  const part = mail.attachments.find((a) => a.contentType.startsWith('text/calendar'));
  expect(mail.attachments.some((a) => a.filename === 'invite.ics')).toBe(true);
  const text = Buffer.from(part!.content, 'base64').toString('utf8');
  const calendar = new ICAL.Component(ICAL.parse(text));
  const vevent = calendar.getFirstSubcomponent('vevent')!;
  const event = new ICAL.Event(vevent);
  return {
    method: calendar.getFirstPropertyValue('method'),
    uid: event.uid,
    sequence: event.sequence,
    status: vevent.getFirstPropertyValue('status'),
    start: event.startDate.toJSDate().toISOString(),
    hasTimezone: calendar.getAllSubcomponents('vtimezone').length > 0,
    attendee: String(event.attendees[0]?.getFirstValue()).toLowerCase(),
  };
}

beforeAll(async () => {
  stack = await startTestStack();
  token = await stack.issuer.sign('mail-host');
  expect((await api('/users/me', { method: 'POST', json: { name: 'Hilde Host', email: hostEmail, timeZone: 'Europe/Berlin' } })).status).toBe(201);
  const response = await api('/event-types', { method: 'POST', json: { title: 'Consultation', slug: 'consultation', lengthMinutes: 30 } });
  eventTypeId = ((await response.json()) as any).id;
});

afterAll(async () => {
  await stack?.stop();
});

describe('email on the local stack', () => {
  it('mails the confirmation with a REQUEST invite, the reschedule with a higher SEQUENCE, the cancellation with a CANCEL; one mail per event and recipient', async () => {
    expect(stack.sesUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const start = futureSlot(4);
    const booked = await api('/bookings', { method: 'POST', auth: null, json: { eventTypeId, start: start.toISOString(), attendee: { name: 'Ann Attendee', email: attendeeEmail, timeZone: 'America/New_York' } } });
    const booking = (await booked.json()) as any;

    expect(booked.status).toBe(202);
    const [confirmation] = await mailCount(attendeeEmail, 1);
    expect(confirmation!.subject).toMatch(/^Confirmed: Consultation with Ann Attendee on /);
    const zoned = new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(start);
    expect(confirmation!.body.text).toContain(`${zoned} – `);
    expect(confirmation!.body.text).toContain('(America/New_York)');
    expect(confirmation!.body.html).toContain('<a href="');
    const requested = invite(confirmation!);
    expect(requested).toMatchObject({ method: 'REQUEST', uid: `booking-${booking.id}@booking-engine`, status: 'CONFIRMED', start: start.toISOString(), hasTimezone: true, attendee: `mailto:${attendeeEmail}` });

    // The link in the mail works as the attendee's key, like the manageToken.
    const link = /(http:\/\/127\.0\.0\.1:\d+\/bookings\/[^\s?]+\?token=[A-Za-z0-9_-]+)/.exec(confirmation!.body.text!)![1]!;
    expect(link).not.toContain(booking.manageToken);
    const viaLink = await fetch(link);
    expect(viaLink.status).toBe(200);
    expect(((await viaLink.json()) as any).id).toBe(booking.id);
    expect((await fetch(link.replace(/token=.*/, 'token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'))).status).toBe(404);

    const [hostMail] = await mailCount(hostEmail, 1);
    expect(hostMail!.subject).toMatch(/^New booking: Consultation/);
    expect(hostMail!.body.text).toContain('(Europe/Berlin)');
    expect(invite(hostMail!).method).toBe('REQUEST');

    const moved = futureSlot(5);
    const rescheduled = await api(`/bookings/${booking.id}/reschedule`, { method: 'POST', auth: null, headers: { 'x-booking-token': booking.manageToken }, json: { start: moved.toISOString() } });
    expect(rescheduled.status).toBe(200);
    const afterMove = await mailCount(attendeeEmail, 2);
    const moveMail = afterMove.find((m) => m.subject.startsWith('Rescheduled'))!;
    const movedInvite = invite(moveMail);
    expect(movedInvite).toMatchObject({ method: 'REQUEST', uid: requested.uid, start: moved.toISOString() });
    expect(movedInvite.sequence).toBeGreaterThan(requested.sequence);

    const cancelled = await api(`/bookings/${booking.id}/cancel`, { method: 'POST', json: { reason: 'Host is ill' } });
    expect(cancelled.status).toBe(200);
    const afterCancel = await mailCount(attendeeEmail, 3);
    const cancelMail = afterCancel.find((m) => m.subject.startsWith('Cancelled'))!;
    expect(cancelMail.body.text).toContain('Reason: Host is ill');
    const withdrawn = invite(cancelMail);
    expect(withdrawn).toMatchObject({ method: 'CANCEL', uid: requested.uid, status: 'CANCELLED' });
    expect(withdrawn.sequence).toBeGreaterThan(movedInvite.sequence);
    await mailCount(hostEmail, 3);

    // Exactly one mail per change and recipient (the reschedule's extra booking.confirmed sends nothing)...
    const notifications = [...stack.lambda.functions.values()].find((fn) => fn.entry === 'functions/subscribers/notifications.ts')!.logicalId;
    const events = ((await (await api(`/bookings/${booking.id}/events`)).json()) as any).events as any[];
    for (const event of events) await stack.lambda.invoke(notifications, { source: 'booking-engine', 'detail-type': event.type, detail: event });
    // ...even when an event is delivered again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await mails(attendeeEmail)).map((m) => m.subject.split(':')[0])).toEqual(['Confirmed', 'Rescheduled', 'Cancelled']);
    expect((await mails(hostEmail)).map((m) => m.subject.split(':')[0])).toEqual(['New booking', 'Rescheduled', 'Cancelled']);
  });

  it('GET /analytics shows the booking just made, rescheduled and cancelled, on today in the organizer\'s zone', async () => {
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date());
    const body = await until('the figures', async () => {
      const response = await api(`/analytics?from=${today}&to=${today}`);
      expect(response.status).toBe(200);
      const figures = (await response.json()) as any;
      return figures.totals.cancelled >= 1 ? figures : undefined;
    });
    expect(body.totals).toMatchObject({ requested: 1, confirmed: 1, rescheduled: 1, cancelled: 1, cancelledBy: { organizer: 1 } });
    expect(body.days).toEqual([expect.objectContaining({ date: today, requested: 1 })]);
    expect((await api(`/analytics?from=${today}&to=2000-01-01`)).status).toBe(400);
    expect((await api(`/analytics?from=${today}&to=${today}&organizationId=not-mine`)).status).toBe(404);
  });
});
