// The Stripe adapter (the real `stripe` SDK) against the local Stripe, reached by host and port: the wire
// format, idempotency keys, the connected account header, errors, and webhook signatures. Twice: from source,
// and bundled as the functions bundle it (infra/bundling/build.ts, whose plugins leave out the Stripe resources
// no function calls), so a resource the adapter needs and the bundle lacks fails here.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { startAwsJsonEndpoint, type AwsJsonEndpoint } from '../../infra/local/aws-json-endpoint.ts';
import { startLocalStripe, stripeSignature, type LocalStripe } from '../../infra/local/stripe.ts';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleFunction } from '../../infra/bundling/build.ts';
import { keptStripeResources } from '../../infra/bundling/stripe-resources.ts';
import * as sourceAdapter from '../../shared/payments/stripe.ts';

type Adapter = typeof sourceAdapter;
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
// Inside the project, so that the bundle finds the SDK clients it leaves external in node_modules.
mkdirSync(join(projectRoot, 'test-artifacts'), { recursive: true });
const bundleDir = mkdtempSync(join(projectRoot, 'test-artifacts', 'stripe-adapter-'));

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
  rmSync(bundleDir, { recursive: true, force: true });
  await stripe?.close();
  await secrets?.close();
  receiver?.close();
});

const adapters: Array<[string, () => Promise<Adapter>]> = [
  ['from source', async () => sourceAdapter],
  [
    'bundled with the functions\' plugins',
    async () => {
      await bundleFunction(join(projectRoot, 'shared/payments/stripe.ts'), bundleDir);
      return (await import(pathToFileURL(join(bundleDir, 'index.mjs')).href)) as Adapter;
    },
  ],
];

describe.each(adapters)('the Stripe adapter against the local Stripe, %s', (name, load) => {
  // Booking ids of this run: the local Stripe outlives both, and its idempotency keys derive from them.
  const id = (n: number) => `${name.startsWith('from source') ? 'src' : 'bundled'}-b-${n}`;
  let cancelPaymentIntent: Adapter['cancelPaymentIntent'];
  let createPaymentIntent: Adapter['createPaymentIntent'];
  let refundPaymentIntent: Adapter['refundPaymentIntent'];
  let verifyWebhook: Adapter['verifyWebhook'];
  let adapter: Adapter;
  beforeAll(async () => {
    adapter = await load();
    ({ cancelPaymentIntent, createPaymentIntent, refundPaymentIntent, verifyWebhook } = adapter);
  });

  it('creates one PaymentIntent per booking attempt, whatever the retries, in lower-case currency', async () => {
    const input = { bookingId: id(1), attempt: 1, amount: 4500, currency: 'EUR', description: 'Paid call' };
    const first = await createPaymentIntent(input);
    const again = await createPaymentIntent(input);
    expect(again.id).toBe(first.id);
    expect(first.clientSecret).toMatch(new RegExp(`^${first.id}_secret_`));
    expect(stripe.intents.get(first.id)).toMatchObject({ amount: 4500, currency: 'eur', status: 'requires_payment_method', metadata: { bookingId: id(1), attempt: '1' } });
    const retry = await createPaymentIntent({ ...input, attempt: 2 });
    expect(retry.id).not.toBe(first.id);
  });

  it('charges on the organizer\'s connected account when given (Stripe-Account)', async () => {
    const intent = await createPaymentIntent({ bookingId: id(2), attempt: 1, amount: 1000, currency: 'eur', description: 'x', stripeAccount: 'acct_organizer' });
    expect(stripe.intents.get(intent.id)!.__account).toBe('acct_organizer');
    // Not visible from the platform account: Stripe scopes objects by account.
    await expect(cancelPaymentIntent(intent.id, undefined)).rejects.toThrow(/No such payment_intent/);
    expect(await cancelPaymentIntent(intent.id, 'acct_organizer')).toBe('canceled');
  });

  it('cancels an open intent (twice is fine) and reports one that was paid first', async () => {
    const open = await createPaymentIntent({ bookingId: id(3), attempt: 1, amount: 1000, currency: 'eur', description: 'x' });
    expect(await cancelPaymentIntent(open.id, undefined)).toBe('canceled');
    expect(await cancelPaymentIntent(open.id, undefined)).toBe('canceled');
    const paid = await createPaymentIntent({ bookingId: id(4), attempt: 1, amount: 1000, currency: 'eur', description: 'x' });
    await stripe.settle(id(4), 'succeed');
    expect(await cancelPaymentIntent(paid.id, undefined)).toBe('succeeded');
  });

  it('refunds once per payment; the same key with another amount is Stripe\'s idempotency error', async () => {
    const paid = await createPaymentIntent({ bookingId: id(5), attempt: 1, amount: 2000, currency: 'eur', description: 'x' });
    await stripe.settle(id(5), 'succeed');
    const refund = await refundPaymentIntent({ paymentIntentId: paid.id, amount: 1500, reason: 'requested_by_customer' });
    const again = await refundPaymentIntent({ paymentIntentId: paid.id, amount: 1500, reason: 'requested_by_customer' });
    expect(again.id).toBe(refund.id);
    expect([...stripe.refunds.values()].filter((r) => r.payment_intent === paid.id)).toHaveLength(1);
    await expect(refundPaymentIntent({ paymentIntentId: paid.id, amount: 2000, reason: 'requested_by_customer' })).rejects.toMatchObject({ type: 'StripeIdempotencyError' });
  });

  it('answers a wrong key with Stripe\'s authentication error and a bad amount with an invalid request', async () => {
    const client = new Stripe('sk_test_wrong', { host: '127.0.0.1', port: stripe.port, protocol: 'http', maxNetworkRetries: 0 });
    await expect(client.paymentIntents.create({ amount: 100, currency: 'eur' })).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    await expect(createPaymentIntent({ bookingId: id(6), attempt: 1, amount: 0, currency: 'eur', description: 'x' })).rejects.toMatchObject({ type: 'StripeInvalidRequestError', param: 'amount' });
  });

  it('has every resource in the source, and in the bundle only those kept: any other fails loudly, naming itself', async () => {
    const client = await adapter.stripe();
    if (name.startsWith('from source')) expect(typeof client.customers.create).toBe('function');
    else expect(() => client.customers.create).toThrow(/stripe\/esm\/resources\/Customers\.js is left out of this bundle, so \.create cannot be used: keep it in keptStripeResources/);
    for (const property of Object.keys(keptStripeResources)) expect(typeof (client as any)[property].create).toBe('function');
  });

  it('sends signed webhooks the SDK verifies, retrying a delivery that fails; verification refuses tampering and staleness', async () => {
    await createPaymentIntent({ bookingId: id(7), attempt: 1, amount: 900, currency: 'eur', description: 'x' });
    const before = received.length;
    const { delivery } = await stripe.settle(id(7), 'fail', 'insufficient_funds');
    expect(delivery).toMatchObject({ status: 200 });
    const last = received.at(-1)!;
    const event = await verifyWebhook(Buffer.from(last.body), last.signature);
    expect(event.type).toBe('payment_intent.payment_failed');
    expect((event.data.object as Stripe.PaymentIntent).last_payment_error).toMatchObject({ code: 'card_declined', decline_code: 'insufficient_funds' });
    if (before === 0) expect(delivery.attempts).toBe(2);
    const tampered = await verifyWebhook(Buffer.from(last.body.replace(id(7), id(8))), last.signature).catch((error: unknown) => error);
    expect(tampered).toMatchObject({ type: 'StripeSignatureVerificationError' });
    expect(adapter.isSignatureError(tampered)).toBe(true);
    const stale = stripeSignature(last.body, keys.webhookSecret, Math.floor(Date.now() / 1000) - 301);
    await expect(verifyWebhook(Buffer.from(last.body), stale)).rejects.toThrow(/tolerance/);
  });
});
