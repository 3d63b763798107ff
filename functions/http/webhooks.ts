import { randomUUID } from 'node:crypto';
import { organizer, type Identity } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { httpHandler, json, parseJsonBody, pathParameter, routeHandler, type HttpEvent } from '../../shared/http/handler.ts';
import { respondToCommand } from '../../shared/http/command-response.ts';
import { problems } from '../../shared/http/problems.ts';
import { presentDelivery, readDelivery } from '../../shared/webhooks/delivery.ts';
import { webhookPorts } from '../../shared/webhooks/ports.ts';
import { createWebhookBody, replayBody, updateWebhookBody } from '../../shared/webhooks/requests.ts';
import { checkTarget } from '../../shared/webhooks/ssrf.ts';
import {
  newSecret, presentSubscription, readSecrets, secretsWrite, subscriptionView, webhookDecider, type WebhookState, type WebhookView,
} from '../../shared/webhooks/subscriptions.ts';
import { guardFromEnvironment, redeliver, replay } from '../../shared/webhooks/worker.ts';
import { deliveries, get, list, mine } from './webhook-reads.ts';

export { deliveries, get, list };

/** How long the previous secret keeps signing after a rotation: a day for receivers to switch over. */
const ROTATION_OVERLAP_MS = 24 * 3_600_000;

/** The SSRF guard at the door: a target that resolves to a non-public address is a 422 naming `url`. */
async function checkUrl(target: string): Promise<void> {
  const refusal = await checkTarget(target, guardFromEnvironment());
  if (refusal) throw problems.unprocessable([{ path: 'url', message: refusal }]);
}

const command = (event: HttpEvent, me: Identity, id: string, createdAt: string) => ({
  decider: webhookDecider,
  aggregateType: 'webhook' as const,
  aggregateId: id,
  project: (state: WebhookState, { now }: { now: Date }) => [subscriptionView(bookingTables().stateTable, id, state, { createdAt, now })],
  authorize: (state: WebhookState) => {
    if (state.status !== 'none' && state.organizerId !== me.userId) throw problems.notFound('webhook');
  },
});

/** A new subscription; its secret is in this answer and never again. */
export const create = httpHandler(async (event) => {
  const me = organizer(event);
  const input = parseJsonBody(event, createWebhookBody);
  await checkUrl(input.url);
  const id = randomUUID();
  const secret = newSecret();
  const createdAt = new Date().toISOString();
  return respondToCommand(event, me, {
    ...command(event, me, id, createdAt),
    command: { type: 'Create', subscription: { organizerId: me.userId, url: input.url, events: input.events, description: input.description } },
    alongside: [secretsWrite(bookingTables().stateTable, id, { current: secret })],
    status: 201,
    location: `/webhooks/${id}`,
    present: (state) => ({ ...presentSubscription({ ...(state as WebhookView), id, createdAt, updatedAt: createdAt }), secret }),
  });
});

/** Changes what is sent; a new URL passes the SSRF guard again; `active: true` turns a disabled one back on. */
export const update = httpHandler(async (event) => {
  const me = organizer(event);
  const input = parseJsonBody(event, updateWebhookBody);
  const view = await mine(event, me);
  if (input.url) await checkUrl(input.url);
  return respondToCommand(event, me, {
    ...command(event, me, view.id, view.createdAt),
    command: { type: 'Update', changes: input },
    status: 200,
    present: (state) => presentSubscription({ ...(state as WebhookView), id: view.id, createdAt: view.createdAt, updatedAt: new Date().toISOString() }),
    unchanged: async () => presentSubscription(view),
  });
});

export const remove = httpHandler(async (event) => {
  const me = organizer(event);
  const view = await mine(event, me);
  await respondToCommand(event, me, {
    ...command(event, me, view.id, view.createdAt),
    command: { type: 'Delete' },
    status: 204,
    present: () => ({}),
  });
  return { statusCode: 204 };
});

/** A new secret signs from now on; the previous one signs too for a day, so receivers can switch without a gap. */
export const rotateSecret = httpHandler(async (event) => {
  const me = organizer(event);
  const view = await mine(event, me);
  const tables = bookingTables();
  const old = await readSecrets(tables, view.id);
  const secret = newSecret();
  const previousExpiresAt = new Date(Date.now() + ROTATION_OVERLAP_MS).toISOString();
  return respondToCommand(event, me, {
    ...command(event, me, view.id, view.createdAt),
    command: { type: 'RotateSecret', previousExpiresAt },
    alongside: [secretsWrite(tables.stateTable, view.id, { current: secret, previous: old?.current, previousExpiresAt })],
    status: 200,
    present: () => ({ id: view.id, secret, previousSecretExpiresAt: previousExpiresAt }),
  });
});

/** Sends one delivery again now, on a fresh retry schedule. */
export const redeliverOne = httpHandler(async (event) => {
  const view = await mine(event, organizer(event));
  const eventId = pathParameter(event, 'eventId');
  if (!(await readDelivery(bookingTables(), view.id, eventId))) throw problems.notFound('delivery');
  return json(202, presentDelivery(await redeliver(webhookPorts(), view.id, eventId)));
});

/** Sends, again or for the first time, every event of the time range that the subscription wants. */
export const replayRange = httpHandler(async (event) => {
  const me = organizer(event);
  const view = await mine(event, me);
  const { from, to } = parseJsonBody(event, replayBody);
  const result = await replay(webhookPorts(), view.id, me.userId, new Date(from).toISOString(), new Date(to).toISOString());
  return json(202, result);
});

/** The one function behind every webhook route (see `sharedFunction` in infra/booking-stack.ts). */
export const handler = routeHandler({
  'POST /webhooks': create,
  'GET /webhooks': list,
  'GET /webhooks/{id}': get,
  'PATCH /webhooks/{id}': update,
  'DELETE /webhooks/{id}': remove,
  'POST /webhooks/{id}/secret/rotate': rotateSecret,
  'GET /webhooks/{id}/deliveries': deliveries,
  'POST /webhooks/{id}/deliveries/{eventId}/redeliver': redeliverOne,
  'POST /webhooks/{id}/replay': replayRange,
});
