// Paid bookings through the whole local stack: the workflow pauses on .waitForTaskToken, the local Stripe
// settles the PaymentIntent and sends its signed webhook, the webhook resumes the workflow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';
import { stripeSignature } from '../../infra/local/stripe.ts';

let stack: TestStack;
let token: string;

const api = (path: string, init: RequestInit & { json?: unknown; auth?: string } = {}) =>
  fetch(stack.httpUrl + path, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(init.auth ? { authorization: `Bearer ${init.auth}` } : {}),
      ...(init.headers as Record<string, string>),
    },
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
  });
const body = async (response: Response) => (await response.json()) as any;
const attendee = { name: 'Grace Hopper', email: 'grace@example.com', timeZone: 'Europe/Berlin' };

async function eventType(settings: Record<string, unknown>): Promise<string> {
  const response = await api('/event-types', { method: 'POST', auth: token, json: { title: 'Paid session', lengthMinutes: 30, ...settings } });
  expect(response.status).toBe(201);
  return (await body(response)).id;
}

async function book(eventTypeId: string, slot: Date) {
  const response = await api('/bookings', { method: 'POST', json: { eventTypeId, start: slot.toISOString(), attendee } });
  expect(response.status).toBe(202);
  return body(response);
}

/** Polls the attendee's view until `predicate` holds (the workflow works on after the POST answers). */
async function waitFor(booking: { id: string; manageToken: string }, predicate: (view: any) => boolean, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const view = await body(await api(`/bookings/${booking.id}`, { headers: { 'x-booking-token': booking.manageToken } }));
    if (predicate(view)) return view;
    if (Date.now() > until) throw new Error(`booking ${booking.id} stayed ${JSON.stringify(view.status)} ${JSON.stringify(view.payment)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const history = async (id: string) => (await body(await api(`/bookings/${id}/events`, { auth: token }))).events.map((e: any) => e.type);
const settle = (bookingId: string, outcome: 'succeed' | 'fail', declineCode?: string) => stack.stripe.settle(bookingId, outcome, declineCode);

beforeAll(async () => {
  stack = await startTestStack();
  token = await stack.issuer.sign('payee-1');
});

afterAll(async () => {
  if (process.env.DEBUG_STACK) console.log(stack?.logs.join('\n'));
  await stack?.stop();
});

describe('paid bookings on the local stack', () => {
  it('pending_payment → succeed → confirmed on the organizer\'s WebSocket; the client secret only in the attendee\'s view', async () => {
    const id = await eventType({ slug: 'paid', price: { amount: 4500, currency: 'eur' } });
    const socket = await connect(`${stack.wsUrl}/?token=${token}`);
    const booking = await book(id, futureSlot(1));
    const pending = await waitFor(booking, (view) => view.status === 'pending_payment');
    expect(pending.payment).toMatchObject({ status: 'initiated', amount: 4500, currency: 'eur', attempt: 1, expiresAt: expect.any(String) });
    expect(pending.payment.clientSecret).toMatch(/^pi_.+_secret_/);
    const organizerView = await body(await api(`/bookings/${booking.id}`, { auth: token }));
    expect(organizerView.payment.clientSecret).toBeUndefined();
    expect(stack.stripe.intents.get(pending.payment.paymentId)).toMatchObject({ amount: 4500, currency: 'eur', metadata: { bookingId: booking.id, attempt: '1' } });

    const { delivery } = await settle(booking.id, 'succeed');
    expect(delivery.status).toBe(200);
    await socket.next((m) => m.data?.aggregateId === booking.id && m.data.type === 'booking.confirmed');
    expect(await history(booking.id)).toEqual(['booking.requested', 'booking.created', 'payment.initiated', 'payment.completed', 'booking.confirmed']);
    const pushed = socket.messages.filter((m) => m.data?.aggregateId === booking.id);
    expect(JSON.stringify(pushed)).not.toContain('_secret_');
    const confirmed = await waitFor(booking, (view) => view.status === 'confirmed');
    expect(confirmed.payment).toMatchObject({ status: 'completed' });
    expect(confirmed.payment.clientSecret).toBeUndefined();
    socket.close();
  });

  it('fail → payment_failed with Stripe\'s codes → retry → a new attempt → succeed → confirmed', async () => {
    const id = await eventType({ slug: 'paid-retry', price: { amount: 2000, currency: 'EUR' } });
    const booking = await book(id, futureSlot(2));
    const first = await waitFor(booking, (view) => view.status === 'pending_payment');
    await settle(booking.id, 'fail', 'insufficient_funds');
    const failed = await waitFor(booking, (view) => view.status === 'payment_failed');
    expect(failed.payment).toMatchObject({ status: 'failed', failure: { code: 'card_declined', declineCode: 'insufficient_funds' } });
    // The failed intent is cancelled at Stripe, so nobody pays it later; a retry makes a new one.
    await expect.poll(() => stack.stripe.intents.get(first.payment.paymentId)!.status).toBe('canceled');

    const retried = await api(`/bookings/${booking.id}/payment/retry`, { method: 'POST', headers: { 'x-booking-token': booking.manageToken, 'idempotency-key': 'retry-1' } });
    expect(retried.status).toBe(202);
    const again = await api(`/bookings/${booking.id}/payment/retry`, { method: 'POST', headers: { 'x-booking-token': booking.manageToken, 'idempotency-key': 'retry-1' } });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const second = await waitFor(booking, (view) => view.status === 'pending_payment' && view.payment.attempt === 2);
    expect(second.payment.paymentId).not.toBe(first.payment.paymentId);
    await settle(booking.id, 'succeed');
    await waitFor(booking, (view) => view.status === 'confirmed');
    expect(await history(booking.id)).toEqual([
      'booking.requested', 'booking.created', 'payment.initiated', 'payment.failed', 'payment.initiated', 'payment.completed', 'booking.confirmed',
    ]);
    const notFailed = await api(`/bookings/${booking.id}/payment/retry`, { method: 'POST', auth: token });
    expect(notFailed.status).toBe(409);
  });

  it('a window that passes unpaid cancels the payment and the booking, and frees the slot', async () => {
    const id = await eventType({ slug: 'paid-expiring', price: { amount: 1000, currency: 'eur' }, paymentWindowMinutes: 1 });
    const slot = futureSlot(3);
    const booking = await book(id, slot);
    const pending = await waitFor(booking, (view) => view.status === 'pending_payment');
    const from = slot.toISOString().slice(0, 10);
    const offered = async () => (await body(await api(`/slots?eventTypeId=${id}&start=${from}&end=${from}&timeZone=UTC`))).slots ?? [];
    const offeredAt = slot.toISOString().replace('.000Z', '+00:00');
    expect(JSON.stringify(await offered())).not.toContain(offeredAt);
    const cancelled = await waitFor(booking, (view) => view.status === 'cancelled', 90_000);
    expect(cancelled.cancellation).toMatchObject({ by: 'system' });
    expect(await history(booking.id)).toEqual(['booking.requested', 'booking.created', 'payment.initiated', 'payment.failed', 'booking.cancelled']);
    expect(stack.stripe.intents.get(pending.payment.paymentId)!.status).toBe('canceled');
    expect(JSON.stringify(await offered())).toContain(offeredAt);
  });

  it('refuses a webhook with a bad or stale signature with 400 and changes nothing', async () => {
    const payload = JSON.stringify({ id: 'evt_forged', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_x' } } });
    const forged = await fetch(`${stack.httpUrl}/webhooks/stripe`, { method: 'POST', headers: { 'stripe-signature': stripeSignature(payload, 'whsec_wrong') }, body: payload });
    expect(forged.status).toBe(400);
    const stale = await fetch(`${stack.httpUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'stripe-signature': stripeSignature(payload, stack.stripe.webhookSecret, Math.floor(Date.now() / 1000) - 600) },
      body: payload,
    });
    expect(stale.status).toBe(400);
    const tampered = await fetch(`${stack.httpUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'stripe-signature': stripeSignature(payload, stack.stripe.webhookSecret) },
      body: payload.replace('pi_x', 'pi_y'),
    });
    expect(tampered.status).toBe(400);
    const good = await fetch(`${stack.httpUrl}/webhooks/stripe`, { method: 'POST', headers: { 'stripe-signature': stripeSignature(payload, stack.stripe.webhookSecret) }, body: payload });
    expect(good.status).toBe(200);
  });
});
