// The Stripe adapter: one client per Lambda container, created on first use from the secret the stack names.
// Every call that changes something carries an idempotency key derived from the booking and its attempt, so a
// retried workflow step, webhook or subscriber never charges, cancels or refunds twice.
import Stripe from 'stripe';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { requiredEnv } from '../aws/clients.ts';

/** What the Stripe secret (Secrets Manager in the cloud, .local/ on this machine) holds, as JSON. */
export type StripeSecret = { apiKey: string; webhookSecret: string };

let secret: Promise<StripeSecret> | undefined;
let client: Stripe | undefined;

async function stripeSecret(): Promise<StripeSecret> {
  secret ??= new SecretsManagerClient({})
    .send(new GetSecretValueCommand({ SecretId: requiredEnv('STRIPE_SECRET_ARN') }))
    .then(({ SecretString }) => {
      const value = JSON.parse(SecretString ?? '{}') as Partial<StripeSecret>;
      if (!value.apiKey || !value.webhookSecret) throw new Error('the Stripe secret must hold {"apiKey", "webhookSecret"}');
      return value as StripeSecret;
    });
  // A failed read is not cached: the next invocation asks again.
  return secret.catch((error) => {
    secret = undefined;
    throw error;
  });
}

/**
 * The client. `STRIPE_API_URL` is set only where a local Stripe stands in for api.stripe.com; the SDK then
 * talks to it by host and port, with the same wire format.
 */
export async function stripe(): Promise<Stripe> {
  if (client) return client;
  const { apiKey } = await stripeSecret();
  const local = process.env.STRIPE_API_URL ? new URL(process.env.STRIPE_API_URL) : undefined;
  client = new Stripe(apiKey, {
    maxNetworkRetries: 2,
    timeout: 10_000,
    ...(local ? { host: local.hostname, port: Number(local.port), protocol: local.protocol.replace(':', '') as 'http' | 'https' } : {}),
  });
  return client;
}

export type Intent = { id: string; clientSecret: string; status: string };

/** One PaymentIntent per booking attempt: the key makes a repeated step get the same intent back. */
export async function createPaymentIntent(input: {
  bookingId: string;
  attempt: number;
  amount: number;
  currency: string;
  stripeAccount?: string;
  description: string;
}): Promise<Intent> {
  const intent = await (await stripe()).paymentIntents.create(
    {
      amount: input.amount,
      currency: input.currency.toLowerCase(),
      automatic_payment_methods: { enabled: true },
      description: input.description,
      metadata: { bookingId: input.bookingId, attempt: String(input.attempt) },
    },
    { idempotencyKey: `booking-${input.bookingId}-attempt-${input.attempt}-intent`, stripeAccount: input.stripeAccount },
  );
  return { id: intent.id, clientSecret: intent.client_secret ?? '', status: intent.status };
}

/**
 * Cancels an unpaid intent so nobody can pay it any more. Returns the intent's status afterwards:
 * `canceled`, or `succeeded` when the payment beat the cancel (the caller then refunds it).
 */
export async function cancelPaymentIntent(paymentIntentId: string, stripeAccount: string | undefined): Promise<string> {
  const client = await stripe();
  try {
    const intent = await client.paymentIntents.cancel(
      paymentIntentId,
      { cancellation_reason: 'abandoned' },
      { idempotencyKey: `cancel-${paymentIntentId}`, stripeAccount },
    );
    return intent.status;
  } catch (error) {
    if (!(error instanceof Stripe.errors.StripeInvalidRequestError) || error.code !== 'payment_intent_unexpected_state') throw error;
    // Already canceled, or already paid: ask which.
    return (await client.paymentIntents.retrieve(paymentIntentId, {}, { stripeAccount })).status;
  }
}

/** A refund of `amount` minor units; one per payment, whoever asks how often. */
export async function refundPaymentIntent(input: { paymentIntentId: string; amount: number; stripeAccount?: string; reason: 'requested_by_customer' | 'duplicate' }) {
  const refund = await (await stripe()).refunds.create(
    { payment_intent: input.paymentIntentId, amount: input.amount, reason: input.reason, metadata: { reason: input.reason } },
    { idempotencyKey: `refund-${input.paymentIntentId}`, stripeAccount: input.stripeAccount },
  );
  return { id: refund.id, amount: refund.amount, status: refund.status };
}

/** The event Stripe signed, or a StripeSignatureVerificationError for a bad or stale signature. */
export async function verifyWebhook(rawBody: Buffer, signature: string): Promise<Stripe.Event> {
  const { webhookSecret } = await stripeSecret();
  return (await stripe()).webhooks.constructEventAsync(rawBody, signature, webhookSecret, 300);
}

export const isSignatureError = (error: unknown) => error instanceof Stripe.errors.StripeSignatureVerificationError;
