// Paid bookings through the whole local stack: the workflow pauses on .waitForTaskToken, the local Stripe
// settles the PaymentIntent and sends its signed webhook, the webhook resumes the workflow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';
import { stripeSignature } from '../../infra/local/stripe.ts';
import { bookingTables } from '../../shared/config.ts';
import { saveConnectedAccount } from '../../shared/payments/attempts.ts';

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

    // Retries at the same moment (different keys, attendee and organizer) start one attempt.
    const retries: Array<RequestInit & { auth?: string }> = [
      { method: 'POST', headers: { 'x-booking-token': booking.manageToken, 'idempotency-key': 'retry-1' } },
      { method: 'POST', headers: { 'x-booking-token': booking.manageToken, 'idempotency-key': 'retry-2' } },
      { method: 'POST', auth: token, headers: { 'idempotency-key': 'retry-3' } },
    ];
    const racing = await Promise.all(retries.map((init) => api(`/bookings/${booking.id}/payment/retry`, init)));
    expect(racing.map((r) => r.status).sort()).toEqual([202, 409, 409]);
    const winner = racing.findIndex((r) => r.status === 202);
    expect((await body(racing[winner]!)).retrying).toEqual({ attempt: 2 });
    // The winner's retry, repeated with its key, gets its first answer.
    const again = await api(`/bookings/${booking.id}/payment/retry`, retries[winner]);
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

  it('a window that passes unpaid (or failed and not retried) cancels the payment and the booking, and frees the slot', async () => {
    const id = await eventType({ slug: 'paid-expiring', price: { amount: 1000, currency: 'eur' }, paymentWindowMinutes: 1 });
    const slot = futureSlot(3);
    const booking = await book(id, slot);
    const declined = await book(id, futureSlot(3, 2));
    const pending = await waitFor(booking, (view) => view.status === 'pending_payment');
    await waitFor(declined, (view) => view.status === 'pending_payment');
    await settle(declined.id, 'fail', 'do_not_honor');
    await waitFor(declined, (view) => view.status === 'payment_failed');
    const from = slot.toISOString().slice(0, 10);
    const offered = async () => (await body(await api(`/slots?eventTypeId=${id}&start=${from}&end=${from}&timeZone=UTC`))).slots ?? [];
    const offeredAt = slot.toISOString().replace('.000Z', '+00:00');
    expect(JSON.stringify(await offered())).not.toContain(offeredAt);
    const cancelled = await waitFor(booking, (view) => view.status === 'cancelled', 90_000);
    expect(cancelled.cancellation).toMatchObject({ by: 'system' });
    expect(await history(booking.id)).toEqual(['booking.requested', 'booking.created', 'payment.initiated', 'payment.failed', 'booking.cancelled']);
    expect(stack.stripe.intents.get(pending.payment.paymentId)!.status).toBe('canceled');
    expect(JSON.stringify(await offered())).toContain(offeredAt);
    const gaveUp = await waitFor(declined, (view) => view.status === 'cancelled', 30_000);
    expect(gaveUp.cancellation).toMatchObject({ by: 'system', reason: 'payment window passed' });
    expect(await history(declined.id)).toEqual(['booking.requested', 'booking.created', 'payment.initiated', 'payment.failed', 'booking.cancelled']);
    expect((await api(`/bookings/${declined.id}/payment/retry`, { method: 'POST', headers: { 'x-booking-token': declined.manageToken } })).status).toBe(409);

    // The attendee's payment beat the cancel at Stripe, and its webhook arrives late: nothing is confirmed, the money goes back.
    const intent = stack.stripe.intents.get(pending.payment.paymentId)!;
    Object.assign(intent, { status: 'succeeded', amount_received: intent.amount, latest_charge: 'ch_late' });
    const late = { id: `evt_late_${booking.id.slice(0, 8)}`, object: 'event', type: 'payment_intent.succeeded', created: Math.floor(Date.now() / 1000), data: { object: { id: intent.id, object: 'payment_intent', status: 'succeeded', amount: intent.amount } } };
    expect((await stack.stripe.deliver(late)).status).toBe(200);
    expect((await history(booking.id)).slice(-2)).toEqual(['booking.cancelled', 'payment.refunded']);
    expect((await body(await api(`/bookings/${booking.id}`, { auth: token }))).status).toBe('cancelled');
    expect([...stack.stripe.refunds.values()].filter((r) => r.payment_intent === intent.id).map((r) => r.amount)).toEqual([1000]);
  });

  it('concurrent duplicate webhooks have one effect; a late payment_failed after the success changes nothing', async () => {
    const id = await eventType({ slug: 'paid-duplicates', price: { amount: 3000, currency: 'eur' } });
    const booking = await book(id, futureSlot(4));
    await waitFor(booking, (view) => view.status === 'pending_payment');
    const { event } = await settle(booking.id, 'succeed');
    const deliveries = await Promise.all(Array.from({ length: 8 }, () => stack.stripe.deliver(event)));
    expect(deliveries.map((d) => d.status)).toEqual(Array(8).fill(200));
    const confirmed = await waitFor(booking, (view) => view.status === 'confirmed');
    const intent = stack.stripe.intents.get(confirmed.payment.paymentId)!;
    const lateFailure = {
      ...event,
      id: 'evt_late_failure_' + booking.id.slice(0, 8),
      type: 'payment_intent.payment_failed',
      data: { object: { ...event.data.object, status: 'requires_payment_method', last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'lost_card', message: 'declined' } } },
    };
    expect((await stack.stripe.deliver(lateFailure)).status).toBe(200);
    expect((await stack.stripe.deliver({ ...event, id: 'evt_other_type', type: 'customer.created', data: { object: { id: 'cus_1' } } })).status).toBe(200);
    await stack.stepFunctions.drained();
    expect(await history(booking.id)).toEqual(['booking.requested', 'booking.created', 'payment.initiated', 'payment.completed', 'booking.confirmed']);
    expect(intent.status).toBe('succeeded');
    expect([...stack.stripe.refunds.values()].filter((r) => r.payment_intent === intent.id)).toEqual([]);
  });

  it('cancelling a paid booking refunds it once, even when the cancel is retried', async () => {
    const id = await eventType({ slug: 'paid-refund', price: { amount: 5000, currency: 'eur' }, refundPolicy: { fullRefundUntilHoursBefore: 1, laterRefundPercent: 0 } });
    const booking = await book(id, futureSlot(5));
    await waitFor(booking, (view) => view.status === 'pending_payment');
    await settle(booking.id, 'succeed');
    const paid = await waitFor(booking, (view) => view.status === 'confirmed');
    const cancel = (key: string) =>
      api(`/bookings/${booking.id}/cancel`, { method: 'POST', auth: token, headers: { 'idempotency-key': key }, json: { reason: 'host ill' } });
    const answers = await Promise.all([cancel('cancel-paid-1'), cancel('cancel-paid-1'), cancel('cancel-paid-1')]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await cancel('cancel-paid-2')).status).toBe(409);
    const refunded = await waitFor(booking, (view) => view.payment?.status === 'refunded');
    expect(refunded.payment).toMatchObject({ refundedAmount: 5000 });
    await stack.stepFunctions.drained();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const events = (await body(await api(`/bookings/${booking.id}/events`, { auth: token }))).events;
    expect(events.filter((e: any) => e.type === 'payment.refunded').map((e: any) => e.payload)).toEqual([
      { paymentId: paid.payment.paymentId, amount: 5000, currency: 'eur', reason: 'cancelled by the organizer' },
    ]);
    expect([...stack.stripe.refunds.values()].filter((r) => r.payment_intent === paid.payment.paymentId).map((r) => r.amount)).toEqual([5000]);
  });

  it('a paid booking that needs confirmation waits for the organizer; rejecting it refunds in full', async () => {
    const id = await eventType({ slug: 'paid-confirm', price: { amount: 7000, currency: 'usd' }, requiresConfirmation: true, refundPolicy: { fullRefundUntilHoursBefore: 8760, laterRefundPercent: 0 } });
    const booking = await book(id, futureSlot(6));
    await waitFor(booking, (view) => view.status === 'pending_payment');
    await settle(booking.id, 'succeed');
    const waiting = await waitFor(booking, (view) => view.status === 'draft' && view.payment?.status === 'completed');
    expect(waiting.awaiting).toBe('confirmation');
    expect((await api(`/bookings/${booking.id}/reject`, { method: 'POST', auth: token, json: { reason: 'fully booked' } })).status).toBe(200);
    const refunded = await waitFor(booking, (view) => view.payment?.status === 'refunded');
    expect(refunded).toMatchObject({ status: 'cancelled', payment: { refundedAmount: 7000 } });
    expect((await history(booking.id)).slice(-3)).toEqual(['payment.completed', 'booking.rejected', 'payment.refunded']);
  });

  it('charges an organizer with a connected Stripe account on that account, and refunds there', async () => {
    const connected = await stack.issuer.sign('payee-connected');
    await saveConnectedAccount(bookingTables(), 'payee-connected', 'acct_1Connected');
    const response = await api('/event-types', { method: 'POST', auth: connected, json: { title: 'Connected', slug: 'connected', lengthMinutes: 30, price: { amount: 2500, currency: 'chf' } } });
    const booking = await book((await body(response)).id, futureSlot(8));
    const pending = await waitFor(booking, (view) => view.status === 'pending_payment');
    expect(stack.stripe.intents.get(pending.payment.paymentId)!.__account).toBe('acct_1Connected');
    await settle(booking.id, 'succeed');
    await waitFor(booking, (view) => view.status === 'confirmed');
    expect((await api(`/bookings/${booking.id}/cancel`, { method: 'POST', auth: connected })).status).toBe(200);
    await waitFor(booking, (view) => view.payment?.status === 'refunded');
    expect([...stack.stripe.refunds.values()].filter((r) => r.payment_intent === pending.payment.paymentId).map((r) => [r.amount, r.__account])).toEqual([[2500, 'acct_1Connected']]);
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
    // API Gateway hands a body it does not take for text over base64-encoded: the signature is over the bytes.
    const binary = JSON.stringify({ ...JSON.parse(payload), id: 'evt_binary', note: 'größe' });
    const encoded = await fetch(`${stack.httpUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'stripe-signature': stripeSignature(binary, stack.stripe.webhookSecret) },
      body: Buffer.from(binary),
    });
    expect(encoded.status).toBe(200);
    expect(await body(encoded)).toEqual({ received: true });

    // A forged success for a real pending payment changes nothing; the genuine event with that id still counts.
    const id = await eventType({ slug: 'paid-forged', price: { amount: 1500, currency: 'eur' } });
    const booking = await book(id, futureSlot(7));
    const pending = await waitFor(booking, (view) => view.status === 'pending_payment');
    const intent = stack.stripe.intents.get(pending.payment.paymentId)!;
    const forgedSuccess = JSON.stringify({ id: 'evt_forged_success', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: intent.id, object: 'payment_intent', status: 'succeeded' } } });
    const refused = await fetch(`${stack.httpUrl}/webhooks/stripe`, { method: 'POST', headers: { 'stripe-signature': stripeSignature(forgedSuccess, 'whsec_attacker') }, body: forgedSuccess });
    expect(refused.status).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await waitFor(booking, () => true)).status).toBe('pending_payment');
    Object.assign(intent, { status: 'succeeded', amount_received: intent.amount });
    expect((await stack.stripe.deliver(JSON.parse(forgedSuccess))).status).toBe(200);
    await waitFor(booking, (view) => view.status === 'confirmed');
  });
});
