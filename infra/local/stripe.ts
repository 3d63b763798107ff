// A local Stripe: the part of Stripe's API the booking engine uses (PaymentIntents, refunds), in Stripe's wire
// format (form-encoded requests, JSON objects and errors, Idempotency-Key, Stripe-Account), for the real
// `stripe` SDK pointed at it by host and port. It sends signed webhooks (Stripe-Signature: t=..,v1=HMAC-SHA256)
// as Stripe does, retrying a delivery that is not acknowledged. Attendees "pay" through its /_local routes
// (npm run stripe -- succeed|fail <bookingId>), standing in for Stripe.js and a card.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const API_VERSION = '2026-10-28.endive';

type StripeObject = Record<string, any>;
type Stored = { path: string; paramsHash: string; status: number; body: string };

export type LocalStripeOptions = {
  port?: number;
  apiKey: string;
  webhookSecret: string;
  /** Where Stripe would POST its events: the stack's /webhooks/stripe. Set later when the API starts after. */
  webhookUrl?: string;
  log?: (message: string) => void;
};

export type WebhookDelivery = { eventId: string; type: string; attempts: number; status?: number };

export type LocalStripe = {
  url: string;
  port: number;
  /** The signing secret its webhooks carry (the stack's Stripe secret holds the same). */
  webhookSecret: string;
  setWebhookUrl(url: string): void;
  intents: Map<string, StripeObject>;
  refunds: Map<string, StripeObject>;
  events: StripeObject[];
  deliveries: WebhookDelivery[];
  /** Settles a booking's open PaymentIntent as a card payment would, and sends the webhook. */
  settle(bookingId: string, outcome: 'succeed' | 'fail', declineCode?: string): Promise<{ paymentIntent: StripeObject; event: StripeObject; delivery: WebhookDelivery }>;
  /** Sends an event (again): duplicates and late deliveries, as Stripe may produce them. */
  deliver(event: StripeObject): Promise<WebhookDelivery>;
  close(): Promise<void>;
};

type StripeErrorBody = { type: string; code?: string; message: string; param?: string; decline_code?: string; payment_intent?: StripeObject };

/** An error as Stripe answers it: the HTTP status, and `{error: {type, code, message, ...}}`. */
class StripeError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;
  constructor(status: number, body: StripeErrorBody) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
const now = () => Math.floor(Date.now() / 1000);

/** Signs a payload as Stripe does: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload">`. */
export function stripeSignature(payload: string, secret: string, timestamp = now()): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex')}`;
}

export async function startLocalStripe(options: LocalStripeOptions): Promise<LocalStripe> {
  const log = options.log ?? (() => {});
  let webhookUrl = options.webhookUrl;
  const intents = new Map<string, StripeObject>();
  const refunds = new Map<string, StripeObject>();
  const events: StripeObject[] = [];
  const deliveries: WebhookDelivery[] = [];
  const idempotency = new Map<string, Stored>();
  const inflight = new Set<Promise<unknown>>();

  const event = (type: string, object: StripeObject, account?: string): StripeObject => {
    const created = {
      id: id('evt'),
      object: 'event',
      api_version: API_VERSION,
      created: now(),
      livemode: false,
      pending_webhooks: 1,
      type,
      data: { object: structuredClone(object) },
      request: { id: null, idempotency_key: null },
      ...(account ? { account } : {}),
    };
    events.push(created);
    return created;
  };

  async function deliver(stripeEvent: StripeObject): Promise<WebhookDelivery> {
    const delivery: WebhookDelivery = { eventId: stripeEvent.id, type: stripeEvent.type, attempts: 0 };
    deliveries.push(delivery);
    if (!webhookUrl) return delivery;
    const payload = JSON.stringify(stripeEvent, null, 2);
    // Stripe retries for days with backoff; locally three tries a moment apart.
    for (let attempt = 1; attempt <= 3; attempt++) {
      delivery.attempts = attempt;
      try {
        const response = await fetch(webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': stripeSignature(payload, options.webhookSecret), 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
          body: payload,
          signal: AbortSignal.timeout(10_000),
        });
        delivery.status = response.status;
        await response.arrayBuffer();
        if (response.ok) return delivery;
      } catch (error) {
        log(`local Stripe: webhook ${stripeEvent.type} not delivered: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
    log(`local Stripe: webhook ${stripeEvent.id} (${stripeEvent.type}) gave up after ${delivery.attempts} attempts (last status ${delivery.status})`);
    return delivery;
  }
  const deliverLater = (stripeEvent: StripeObject) => {
    const sending = deliver(stripeEvent);
    inflight.add(sending);
    void sending.finally(() => inflight.delete(sending));
  };

  const intentOf = (intentId: string, account: string | undefined) => {
    const intent = intents.get(intentId);
    if (!intent || intent.__account !== account) {
      throw new StripeError(404, { type: 'invalid_request_error', code: 'resource_missing', param: 'intent', message: `No such payment_intent: '${intentId}'` });
    }
    return intent;
  };
  const visible = (object: StripeObject) => Object.fromEntries(Object.entries(object).filter(([key]) => !key.startsWith('__')));

  /** The API: each route takes the decoded form parameters and the connected account, and returns an object. */
  const routes: Array<[string, RegExp, (params: Record<string, any>, account: string | undefined, match: RegExpMatchArray) => StripeObject]> = [
    [
      'POST',
      /^\/v1\/payment_intents$/,
      (params, account) => {
        const amount = Number(params.amount);
        if (!Number.isInteger(amount) || amount < 1) throw new StripeError(400, { type: 'invalid_request_error', code: 'parameter_invalid_integer', param: 'amount', message: 'Invalid integer: amount' });
        const currency = String(params.currency ?? '');
        if (!/^[a-z]{3}$/.test(currency)) throw new StripeError(400, { type: 'invalid_request_error', code: 'parameter_invalid_empty', param: 'currency', message: `Invalid currency: ${currency}. Stripe currencies are three lower-case letters.` });
        const intentId = id('pi');
        const intent: StripeObject = {
          id: intentId,
          object: 'payment_intent',
          amount,
          amount_received: 0,
          currency,
          status: 'requires_payment_method',
          client_secret: `${intentId}_secret_${randomBytes(12).toString('hex')}`,
          automatic_payment_methods: params.automatic_payment_methods ? { enabled: params.automatic_payment_methods.enabled === 'true' } : null,
          description: params.description ?? null,
          metadata: params.metadata ?? {},
          created: now(),
          livemode: false,
          cancellation_reason: null,
          canceled_at: null,
          last_payment_error: null,
          latest_charge: null,
          __account: account,
        };
        intents.set(intentId, intent);
        return intent;
      },
    ],
    ['GET', /^\/v1\/payment_intents\/([^/]+)$/, (_, account, match) => intentOf(match[1]!, account)],
    [
      'POST',
      /^\/v1\/payment_intents\/([^/]+)\/cancel$/,
      (params, account, match) => {
        const intent = intentOf(match[1]!, account);
        if (intent.status === 'succeeded' || intent.status === 'canceled') {
          throw new StripeError(400, {
            type: 'invalid_request_error',
            code: 'payment_intent_unexpected_state',
            message: `You cannot cancel this PaymentIntent because it has a status of ${intent.status}.`,
            payment_intent: visible(intent),
          });
        }
        Object.assign(intent, { status: 'canceled', cancellation_reason: params.cancellation_reason ?? null, canceled_at: now() });
        deliverLater(event('payment_intent.canceled', visible(intent), account));
        return intent;
      },
    ],
    [
      'POST',
      /^\/v1\/refunds$/,
      (params, account) => {
        const intent = intentOf(String(params.payment_intent ?? ''), account);
        if (intent.status !== 'succeeded') {
          throw new StripeError(400, { type: 'invalid_request_error', code: 'charge_not_refundable', message: `This PaymentIntent (${intent.id}) does not have a successful charge to refund.` });
        }
        const refunded = [...refunds.values()].filter((r) => r.payment_intent === intent.id).reduce((sum, r) => sum + r.amount, 0);
        const amount = params.amount === undefined ? intent.amount_received - refunded : Number(params.amount);
        if (!Number.isInteger(amount) || amount < 1 || amount > intent.amount_received - refunded) {
          throw new StripeError(400, { type: 'invalid_request_error', code: 'amount_too_large', param: 'amount', message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${intent.amount_received - refunded})` });
        }
        const refund: StripeObject = {
          id: id('re'),
          object: 'refund',
          amount,
          currency: intent.currency,
          payment_intent: intent.id,
          charge: intent.latest_charge,
          reason: params.reason ?? null,
          metadata: params.metadata ?? {},
          status: 'succeeded',
          created: now(),
          __account: account,
        };
        refunds.set(refund.id, refund);
        // Handled or not, the stack must acknowledge it.
        deliverLater(event('charge.refunded', { id: intent.latest_charge, object: 'charge', payment_intent: intent.id, amount_refunded: refunded + amount }, account));
        return refund;
      },
    ],
  ];

  async function settle(bookingId: string, outcome: 'succeed' | 'fail', declineCode = 'generic_decline') {
    const open = [...intents.values()].filter((i) => i.metadata?.bookingId === bookingId && i.status === 'requires_payment_method').at(-1);
    if (!open) throw new StripeError(404, { type: 'invalid_request_error', code: 'resource_missing', message: `booking ${bookingId} has no open PaymentIntent` });
    if (outcome === 'succeed') {
      Object.assign(open, { status: 'succeeded', amount_received: open.amount, latest_charge: id('ch'), last_payment_error: null });
    } else {
      open.last_payment_error = { type: 'card_error', code: 'card_declined', decline_code: declineCode, message: 'Your card was declined.' };
    }
    const sent = event(outcome === 'succeed' ? 'payment_intent.succeeded' : 'payment_intent.payment_failed', visible(open), open.__account);
    const delivery = await deliver(sent);
    return { paymentIntent: visible(open), event: sent, delivery };
  }

  async function api(req: IncomingMessage, res: ServerResponse, body: string) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const respond = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req'), 'stripe-version': API_VERSION, ...headers });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    try {
      if (url.pathname.startsWith('/_local/')) return respond(200, await control(req.method ?? 'GET', url, body));
      if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
        throw new StripeError(401, { type: 'invalid_request_error', message: 'Invalid API Key provided' });
      }
      const account = req.headers['stripe-account'] as string | undefined;
      const params = parseForm(req.method === 'GET' ? url.search.slice(1) : body);
      const route = routes.find(([method, pattern]) => method === req.method && pattern.test(url.pathname));
      if (!route) throw new StripeError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${url.pathname}).` });
      const key = req.method === 'POST' ? (req.headers['idempotency-key'] as string | undefined) : undefined;
      const scope = `${account ?? ''}|${key}`;
      const paramsHash = createHash('sha256').update(body).digest('hex');
      if (key) {
        const stored = idempotency.get(scope);
        if (stored) {
          if (stored.path !== url.pathname || stored.paramsHash !== paramsHash) {
            throw new StripeError(400, {
              type: 'idempotency_error',
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            });
          }
          return respond(stored.status, stored.body, { 'idempotent-replayed': 'true' });
        }
      }
      let status = 200;
      let payload: string;
      try {
        payload = JSON.stringify(visible(route[2](params, account, url.pathname.match(route[1])!)));
      } catch (error) {
        if (!(error instanceof StripeError)) throw error;
        status = error.status;
        payload = JSON.stringify({ error: error.body });
      }
      // Stripe keeps the first answer under the key, errors included (except its own 5xx).
      if (key) idempotency.set(scope, { path: url.pathname, paramsHash, status, body: payload });
      respond(status, payload);
    } catch (error) {
      if (error instanceof StripeError) return respond(error.status, { error: error.body });
      log(`local Stripe: ${(error as Error).stack}`);
      respond(500, { error: { type: 'api_error', message: (error as Error).message } });
    }
  }

  async function control(method: string, url: URL, body: string) {
    if (method === 'POST' && url.pathname === '/_local/settle') {
      const { bookingId, outcome, declineCode } = JSON.parse(body || '{}') as { bookingId: string; outcome: 'succeed' | 'fail'; declineCode?: string };
      if (outcome !== 'succeed' && outcome !== 'fail') throw new StripeError(400, { type: 'invalid_request_error', message: 'outcome is succeed or fail' });
      return settle(bookingId, outcome, declineCode);
    }
    if (method === 'GET' && url.pathname === '/_local/payment_intents') {
      const bookingId = url.searchParams.get('bookingId');
      return { data: [...intents.values()].filter((i) => !bookingId || i.metadata?.bookingId === bookingId).map(visible) };
    }
    throw new StripeError(404, { type: 'invalid_request_error', message: `no local route ${method} ${url.pathname}` });
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => void api(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    webhookSecret: options.webhookSecret,
    setWebhookUrl: (url) => void (webhookUrl = url),
    intents,
    refunds,
    events,
    deliveries,
    settle,
    deliver,
    close: async () => {
      await Promise.allSettled([...inflight]);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}

/** Stripe's form encoding, brackets and all: `metadata[bookingId]=b&expand[0]=x` → `{metadata: {bookingId}, expand: [x]}`. */
export function parseForm(text: string): Record<string, any> {
  const result: Record<string, any> = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const [head, ...rest] = rawKey.split('[');
    const path = [head!, ...rest.map((part) => part.replace(/\]$/, ''))];
    let node: any = result;
    path.forEach((segment, index) => {
      const last = index === path.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(path[index + 1]!);
      if (last) node[segment] = value;
      else node = node[segment] ??= nextIsIndex ? [] : {};
    });
  }
  return result;
}
