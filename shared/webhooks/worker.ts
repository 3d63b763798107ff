// What the delivery worker does with one queue message, and how a domain event becomes deliveries. Both are
// written against plain ports (a queue, a parking place, a clock), so tests drive them with a fast schedule.
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DomainEvent } from '../../events/envelope.ts';
import { executeCommand } from '../domain/aggregate-commands.ts';
import { EventStore } from '../eventstore/event-store.ts';
import { mapWithConcurrency } from '../concurrency.ts';
import {
  createDelivery, DISABLE_AFTER_MS, hop, isRetriable, isSuccess, markQueued, nextAttemptAt, noteOutcome, post, readDelivery, recordAttempt, restartDelivery,
  RETRY_SCHEDULE_MS, signatureHeader, type DeliveryMessage,
} from './delivery.ts';
import type { GuardOptions } from './ssrf.ts';
import { listSubscriptions, readSecrets, readSubscription, signingSecrets, subscriptionView, wants, webhookDecider } from './subscriptions.ts';

export type WorkerPorts = {
  client: DynamoDBDocumentClient;
  stateTable: string;
  eventsTable: string;
  /** Puts a message on the delivery queue, to be received after `delaySeconds` (at most 900). */
  enqueue: (message: DeliveryMessage, delaySeconds: number) => Promise<void>;
  /** Parks a delivery whose schedule is spent (the delivery queue's dead-letter queue). */
  park: (message: DeliveryMessage, reason: string) => Promise<void>;
  guard: GuardOptions;
  schedule?: number[];
  disableAfterMs?: number;
  timeoutMs?: number;
  now?: () => number;
};

/** Ports over real SQS queues (the delivery queue and its dead-letter queue). */
export function sqsPorts(sqs: SQSClient, queueUrl: string, deadLetterUrl: string): Pick<WorkerPorts, 'enqueue' | 'park'> {
  return {
    enqueue: async (message, delaySeconds) => void (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds }))),
    park: async (message, reason) =>
      void (await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterUrl, MessageBody: JSON.stringify(message), MessageAttributes: { ErrorMessage: { DataType: 'String', StringValue: reason.slice(0, 256) } } }))),
  };
}

/** The guard as the stack configures it: loopback targets only where the local stack allows them. */
export const guardFromEnvironment = (): GuardOptions => ({ allowLoopback: process.env.WEBHOOKS_ALLOW_LOOPBACK === 'true' });

export type Outcome = 'delivered' | 'retrying' | 'failed' | 'parked' | 'waiting' | 'stale' | 'skipped';

/** One attempt, when it is due and still the one the delivery record expects. */
export async function processMessage(ports: WorkerPorts, message: DeliveryMessage): Promise<Outcome> {
  const now = ports.now?.() ?? Date.now();
  const schedule = ports.schedule ?? RETRY_SCHEDULE_MS;
  const wait = hop(message.dueAt, now);
  if (wait > 0) {
    await ports.enqueue(message, wait);
    return 'waiting';
  }
  const found = await readDelivery(ports, message.subscriptionId, message.eventId);
  if (!found) return 'stale';
  const { delivery } = found;
  if (delivery.state !== 'pending' || delivery.run !== message.run || delivery.runAttempts !== message.attempt) return 'stale';
  const subscription = await readSubscription(ports, message.subscriptionId);
  if (!subscription || subscription.status !== 'active') {
    await recordAttempt(ports, delivery, { at: new Date(now).toISOString(), error: subscription ? 'subscription is disabled' : 'subscription was deleted', durationMs: 0 }, 'failed', undefined);
    return 'skipped';
  }
  const { Item } = await ports.client.send(new GetCommand({ TableName: ports.eventsTable, Key: { aggregateId: delivery.aggregateId, version: delivery.version } }));
  if (!Item) throw new Error(`event ${delivery.eventId} is not in the event store`);
  const event: DomainEvent = { id: Item.id, type: Item.type, aggregateId: Item.aggregateId, aggregateType: Item.aggregateType, version: Item.version, payload: Item.payload, metadata: Item.metadata };
  const secrets = await readSecrets(ports, message.subscriptionId);
  if (!secrets) throw new Error(`webhook ${message.subscriptionId} has no secret`);
  const body = JSON.stringify(event);
  const timestamp = Math.floor(now / 1000);
  const result = await post(subscription.url, body, {
    'webhook-id': event.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(signingSecrets(secrets, new Date(now)), event.id, timestamp, body),
  }, ports.guard, ports.timeoutMs);
  const finished = Date.now();
  const attempt = { at: new Date(now).toISOString(), status: result.status, error: result.error, durationMs: result.durationMs };
  const succeeded = isSuccess(result);
  const next = !succeeded && isRetriable(result) ? nextAttemptAt(message.attempt, result, finished, schedule) : undefined;
  const state = succeeded ? 'delivered' : next !== undefined ? 'pending' : isRetriable(result) ? 'parked' : 'failed';
  if (!(await recordAttempt(ports, delivery, attempt, state, next))) return 'stale';
  const failingSince = await noteOutcome(ports, message.subscriptionId, succeeded, new Date(finished));
  if (succeeded) return 'delivered';
  if (next !== undefined) {
    const following: DeliveryMessage = { ...message, attempt: message.attempt + 1, dueAt: new Date(next).toISOString() };
    await ports.enqueue(following, hop(following.dueAt, finished));
    return 'retrying';
  }
  if (failingSince && finished - Date.parse(failingSince) >= (ports.disableAfterMs ?? DISABLE_AFTER_MS)) await disable(ports, message.subscriptionId, failingSince);
  if (state === 'parked') {
    await ports.park(message, result.error ?? `HTTP ${result.status}`);
    return 'parked';
  }
  return 'failed';
}

async function disable(ports: WorkerPorts, id: string, failingSince: string): Promise<void> {
  const current = await readSubscription(ports, id);
  if (!current) return;
  const days = Math.round((Date.now() - Date.parse(failingSince)) / 86_400_000);
  await executeCommand(ports, {
    decider: webhookDecider,
    aggregateType: 'webhook',
    aggregateId: id,
    command: { type: 'Disable', reason: `every delivery failed for ${days} day${days === 1 ? '' : 's'}`, failingSince },
    metadata: { userId: 'system:webhooks' },
    project: (state, { now }) => [subscriptionView(ports.stateTable, id, state, { createdAt: current.createdAt, now })],
  });
}

/** The first attempt of a delivery's run, now. */
const firstMessage = (subscriptionId: string, eventId: string, run: number): DeliveryMessage => ({ subscriptionId, eventId, run, attempt: 0, dueAt: new Date().toISOString() });

/**
 * A domain event of an organizer's booking becomes one delivery per subscription that wants it. Idempotent on
 * event id: a redelivered event finds its deliveries made and queued, and queues only what a crash left out.
 */
export async function fanOut(ports: WorkerPorts, event: DomainEvent, organizerId: string): Promise<number> {
  let queued = 0;
  for (const subscription of await listSubscriptions(ports, organizerId)) {
    if (!wants(subscription, event.type)) continue;
    const created = await createDelivery(ports, subscription.id, event);
    const record = created ? undefined : await readDelivery(ports, subscription.id, event.id);
    if (record?.queued) continue;
    await ports.enqueue(firstMessage(subscription.id, event.id, record?.delivery.run ?? 1), 0);
    await markQueued(ports, subscription.id, event.id);
    queued++;
  }
  return queued;
}

/** Sends one delivery again on a fresh schedule (its earlier attempts stay in the log). */
export async function redeliver(ports: WorkerPorts, subscriptionId: string, eventId: string) {
  const delivery = await restartDelivery(ports, subscriptionId, eventId);
  await ports.enqueue(firstMessage(subscriptionId, eventId, delivery.run), 0);
  return delivery;
}

/** Reads and deliveries a replay keeps in flight at once: within the HTTP function's timeout for its 1,000 events. */
const REPLAY_CONCURRENCY = 16;

/**
 * Replays, from the event store, every event of the organizer's bookings that happened in [from, to) and the
 * subscription wants: new deliveries for events it never had, a fresh run for those it had. Bounded by
 * `limit` events, oldest first; the answer says whether it stopped there.
 */
export async function replay(ports: WorkerPorts, subscriptionId: string, organizerId: string, from: string, to: string, limit = 1000) {
  const subscription = await readSubscription(ports, subscriptionId);
  if (!subscription) return { queued: 0, truncated: false };
  const bookingIds = new Set<string>();
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await ports.client.send(
      new QueryCommand({ TableName: ports.stateTable, IndexName: 'byOwner', KeyConditionExpression: 'ownerKey = :owner', ExpressionAttributeValues: { ':owner': `VIEWER#${organizerId}` }, ProjectionExpression: 'pk, booking.organizerId', ExclusiveStartKey }),
    );
    // A host sees team bookings of other organizers too; only the organizer's own are theirs to replay.
    for (const item of page.Items ?? []) if (item.booking?.organizerId === organizerId) bookingIds.add(String(item.pk).replace(/^BOOKING#/, ''));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  const store = new EventStore(ports.client, ports.eventsTable);
  const histories = await mapWithConcurrency([...bookingIds], REPLAY_CONCURRENCY, (id) => store.load(id));
  const events = histories
    .flat()
    .filter((event) => event.metadata.timestamp >= from && event.metadata.timestamp < to && wants({ ...subscription, status: 'active' }, event.type))
    .sort((a, b) => a.metadata.timestamp.localeCompare(b.metadata.timestamp));
  const chosen = events.slice(0, limit);
  // Receivers order by the event's own position, never by arrival (Standard Webhooks promises no order), so the
  // deliveries are queued side by side. Each is keyed by (subscription, event) and a fresh run makes the older
  // run's messages do nothing, so a replay retried, or two at once, still delivers each event once per run.
  await mapWithConcurrency(chosen, REPLAY_CONCURRENCY, async (event) => {
    if (await createDelivery(ports, subscriptionId, event)) {
      await ports.enqueue(firstMessage(subscriptionId, event.id, 1), 0);
      await markQueued(ports, subscriptionId, event.id);
    } else {
      await redeliver(ports, subscriptionId, event.id);
    }
  });
  return { queued: chosen.length, truncated: events.length > limit };
}
