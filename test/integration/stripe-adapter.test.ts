// The Stripe adapter (the real `stripe` SDK) against the local Stripe, reached by host and port: the wire
// format, idempotency keys, the connected account header, errors, and webhook signatures.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { startAwsJsonEndpoint, type AwsJsonEndpoint } from '../../infra/local/aws-json-endpoint.ts';
import { startLocalStripe, stripeSignature, type LocalStripe } from '../../infra/local/stripe.ts';
import { cancelPaymentIntent, createPaymentIntent, refundPaymentIntent, verifyWebhook } from '../../shared/payments/stripe.ts';

const keys = { apiKey: 'sk_test_adapter_0123456789', webhookSecret: 'whsec_adapter_secret' };
let stripe: LocalStripe;
let secrets: AwsJsonEndpoint;
let receiver: Server;
const received: Array<{ signature: string; body: string }> = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ signature: String(req.headers['stripe-signature']), body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(received.length === 1 ? 500 : 200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  stripe = await startLocalStripe({ ...keys, webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/` });
  secrets = await startAwsJsonEndpoint({
    'secretsmanager.GetSecretValue': (input) => ({ ARN: input.SecretId, Name: 'stripe', SecretString: JSON.stringify(keys) }),
  });
  Object.assign(process.env, {
    STRIPE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:Stripe',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    STRIPE_API_URL: stripe.url,
  });
});

afterAll(async () => {
  await stripe?.close();
  await secrets?.close();
  receiver?.close();
});

describe('the Stripe adapter against the local Stripe', () => {
  it('creates one PaymentIntent per booking attempt, whatever the retries, in lower-case currency', async () => {
    const input = { bookingId: 'b-1', attempt: 1, amount: 4500, currency: 'EUR', description: 'Paid call' };
    const first = await createPaymentIntent(input);
    const again = await createPaymentIntent(input);
    expect(again.id).toBe(first.id);
    expect(first.clientSecret).toMatch(new RegExp(`^${first.id}_secret_`));
    expect(stripe.intents.get(first.id)).toMatchObject({ amount: 4500, currency: 'eur', status: 'requires_payment_method', metadata: { bookingId: 'b-1', attempt: '1' } });
    const retry = await createPaymentIntent({ ...input, attempt: 2 });
    expect(retry.id).not.toBe(first.id);
  });

  it('charges on the organizer\'s connected account when given (Stripe-Account)', async () => {
    const intent = await createPaymentIntent({ bookingId: 'b-2', attempt: 1, amount: 1000, currency: 'eur', description: 'x', stripeAccount: 'acct_organizer' });
    expect(stripe.intents.get(intent.id)!.__account).toBe('acct_organizer');
    // Not visible from the platform account: Stripe scopes objects by account.
    await expect(cancelPaymentIntent(intent.id, undefined)).rejects.toThrow(/No such payment_intent/);
    expect(await cancelPaymentIntent(intent.id, 'acct_organizer')).toBe('canceled');
  });

  it('cancels an open intent (twice is fine) and reports one that was paid first', async () => {
    const open = await createPaymentIntent({ bookingId: 'b-3', attempt: 1, amount: 1000, currency: 'eur', description: 'x' });
    expect(await cancelPaymentIntent(open.id, undefined)).toBe('canceled');
    expect(await cancelPaymentIntent(open.id, undefined)).toBe('canceled');
    const paid = await createPaymentIntent({ bookingId: 'b-4', attempt: 1, amount: 1000, currency: 'eur', description: 'x' });
    await stripe.settle('b-4', 'succeed');
    expect(await cancelPaymentIntent(paid.id, undefined)).toBe('succeeded');
  });

  it('refunds once per payment; the same key with another amount is Stripe\'s idempotency error', async () => {
    const paid = await createPaymentIntent({ bookingId: 'b-5', attempt: 1, amount: 2000, currency: 'eur', description: 'x' });
    await stripe.settle('b-5', 'succeed');
    const refund = await refundPaymentIntent({ paymentIntentId: paid.id, amount: 1500, reason: 'requested_by_customer' });
    const again = await refundPaymentIntent({ paymentIntentId: paid.id, amount: 1500, reason: 'requested_by_customer' });
    expect(again.id).toBe(refund.id);
    expect([...stripe.refunds.values()].filter((r) => r.payment_intent === paid.id)).toHaveLength(1);
    await expect(refundPaymentIntent({ paymentIntentId: paid.id, amount: 2000, reason: 'requested_by_customer' })).rejects.toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  it('answers a wrong key with Stripe\'s authentication error and a bad amount with an invalid request', async () => {
    const client = new Stripe('sk_test_wrong', { host: '127.0.0.1', port: stripe.port, protocol: 'http', maxNetworkRetries: 0 });
    await expect(client.paymentIntents.create({ amount: 100, currency: 'eur' })).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    await expect(createPaymentIntent({ bookingId: 'b-6', attempt: 1, amount: 0, currency: 'eur', description: 'x' })).rejects.toMatchObject({ type: 'StripeInvalidRequestError', param: 'amount' });
  });

  it('sends signed webhooks the SDK verifies, retrying a delivery that fails; verification refuses tampering and staleness', async () => {
    await createPaymentIntent({ bookingId: 'b-7', attempt: 1, amount: 900, currency: 'eur', description: 'x' });
    const before = received.length;
    const { delivery } = await stripe.settle('b-7', 'fail', 'insufficient_funds');
    expect(delivery).toMatchObject({ status: 200 });
    const last = received.at(-1)!;
    const event = await verifyWebhook(Buffer.from(last.body), last.signature);
    expect(event.type).toBe('payment_intent.payment_failed');
    expect((event.data.object as Stripe.PaymentIntent).last_payment_error).toMatchObject({ code: 'card_declined', decline_code: 'insufficient_funds' });
    if (before === 0) expect(delivery.attempts).toBe(2);
    await expect(verifyWebhook(Buffer.from(last.body.replace('b-7', 'b-8')), last.signature)).rejects.toBeInstanceOf(Stripe.errors.StripeSignatureVerificationError);
    const stale = stripeSignature(last.body, keys.webhookSecret, Math.floor(Date.now() / 1000) - 301);
    await expect(verifyWebhook(Buffer.from(last.body), stale)).rejects.toThrow(/tolerance/);
  });
});
