// Delivering one domain event to one subscription, Standard Webhooks style, with Svix's retry schedule.
// Each (subscription, event) has one delivery record: its attempts, its state, when it is tried next. The
// record is the truth; queue messages only say "try attempt n of run r now", so a duplicated or stale message
// finds its attempt already recorded and does nothing.
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DomainEvent } from '../../events/envelope.ts';
import { guardedLookup, type GuardOptions } from './ssrf.ts';
import { webhookKeys } from './subscriptions.ts';

/**
 * Delays before each attempt, as Svix: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 27.6 h
 * in all). An SQS message waits at most 15 minutes, so longer waits are taken in hops (see `hop`).
 */
export const RETRY_SCHEDULE_MS = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
export const DELIVERY_TIMEOUT_MS = 10_000;
/** A subscription whose deliveries have all failed for this long is disabled (Svix: 5 days). */
export const DISABLE_AFTER_MS = 5 * 86_400_000;
const MAX_QUEUE_DELAY_S = 900;

export type Attempt = { at: string; status?: number; error?: string; durationMs: number };
export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'parked';
export type Delivery = {
  subscriptionId: string;
  eventId: string;
  eventType: string;
  aggregateId: string;
  version: number;
  occurredAt: string;
  state: DeliveryState;
  /** Bumped by a manual redelivery or a replay, which start a fresh schedule; older messages then do nothing. */
  run: number;
  /** Attempts made in the current run: the position in the retry schedule. */
  runAttempts: number;
  attempts: Attempt[];
  nextAttemptAt?: string;
};
/** What a queue message asks: attempt number `attempt` (0-based within `run`) of this delivery, at `dueAt`. */
export type DeliveryMessage = { subscriptionId: string; eventId: string; run: number; attempt: number; dueAt: string };

type Tables = { client: DynamoDBDocumentClient; stateTable: string; eventsTable?: string };

/** The Standard Webhooks signature header: one `v1,<base64>` per secret, space-separated (rotation overlap). */
export function signatureHeader(secrets: string[], id: string, timestampSeconds: number, body: string): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
      return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
    })
    .join(' ');
}

export type PostResult = { status?: number; error?: string; durationMs: number; retryAfterMs?: number };

/**
 * One POST, with the SSRF guard on the address dialled, a 10 s budget for the whole exchange and no redirect
 * followed (a 3xx is an answer like any other non-2xx).
 */
export function post(url: string, body: string, headers: Record<string, string>, guard: GuardOptions, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<PostResult> {
  const started = Date.now();
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: Date.now() - started });
    };
    const req = send(
      target,
      { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'booking-engine-webhooks/1', ...headers, 'content-length': Buffer.byteLength(body) }, lookup: guardedLookup(guard) as never },
      (res) => {
        res.resume();
        res.on('end', () => done({ status: res.statusCode, retryAfterMs: retryAfter(res.headers['retry-after']) }));
        res.on('error', (error) => done({ error: error.message }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    req.on('error', (error) => done({ error: (error as NodeJS.ErrnoException).code === 'ESSRF' ? error.message : error.message || String(error) }));
    req.end(body);
  });
}

function retryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Timeouts, network errors, 5xx, 408 and 429 are tried again; any other answer is final. */
export function isRetriable(result: PostResult): boolean {
  if (result.error?.startsWith('refused:')) return false;
  if (result.status === undefined) return true;
  return result.status >= 500 || result.status === 408 || result.status === 429;
}

export const isSuccess = (result: PostResult) => result.status !== undefined && result.status >= 200 && result.status < 300;

/**
 * When the attempt after `attempt` is due, or undefined when the schedule is spent. A Retry-After longer than
 * the schedule's next step is honoured; a shorter one does not hurry it.
 */
export function nextAttemptAt(attempt: number, result: PostResult, now: number, schedule = RETRY_SCHEDULE_MS): number | undefined {
  const step = schedule[attempt + 1];
  if (step === undefined) return undefined;
  return now + Math.max(step, result.retryAfterMs ?? 0);
}

/** The queue delay for a message due at `dueAt`: all of it, or a 15-minute hop towards it. */
export function hop(dueAt: string, now: number): number {
  return Math.min(MAX_QUEUE_DELAY_S, Math.max(0, Math.ceil((Date.parse(dueAt) - now) / 1000)));
}

/**
 * The delivery of an event to a subscription, created once: a redelivered event finds it and returns false. Listed by
 * the event's time, then version, since events appended together share a timestamp.
 */
export async function createDelivery(tables: Tables, subscriptionId: string, event: DomainEvent): Promise<boolean> {
  const delivery: Delivery = {
    subscriptionId,
    eventId: event.id,
    eventType: event.type,
    aggregateId: event.aggregateId,
    version: event.version,
    occurredAt: event.metadata.timestamp,
    state: 'pending',
    run: 1,
    runAttempts: 0,
    attempts: [],
    nextAttemptAt: new Date().toISOString(),
  };
  try {
    await tables.client.send(
      new PutCommand({
        TableName: tables.stateTable,
        Item: { ...webhookKeys.delivery(subscriptionId, event.id), ownerKey: webhookKeys.ownerOfDeliveries(subscriptionId), ownerSort: `${event.metadata.timestamp}#${String(event.version).padStart(10, '0')}#${event.id}`, delivery, queued: false },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return false;
  }
}

export async function readDelivery(tables: Tables, subscriptionId: string, eventId: string): Promise<{ delivery: Delivery; queued: boolean } | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: webhookKeys.delivery(subscriptionId, eventId), ConsistentRead: true }));
  return Item ? { delivery: Item.delivery as Delivery, queued: Boolean(Item.queued) } : undefined;
}

/** Marks that the first message of the delivery's current run is on the queue, so a redelivered event need not send it again. */
export async function markQueued(tables: Tables, subscriptionId: string, eventId: string): Promise<void> {
  await tables.client.send(new UpdateCommand({ TableName: tables.stateTable, Key: webhookKeys.delivery(subscriptionId, eventId), UpdateExpression: 'SET queued = :yes', ExpressionAttributeValues: { ':yes': true } }));
}

/**
 * Records an attempt, only if it is the one the record expects (same run, same count of attempts), so two
 * copies of one message cannot both record. Returns false for the copy that lost.
 */
export async function recordAttempt(tables: Tables, delivery: Delivery, attempt: Attempt, state: DeliveryState, nextAt: number | undefined): Promise<boolean> {
  try {
    await tables.client.send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key: webhookKeys.delivery(delivery.subscriptionId, delivery.eventId),
        UpdateExpression: 'SET delivery.attempts = list_append(delivery.attempts, :attempt), delivery.#state = :state, delivery.nextAttemptAt = :next, delivery.runAttempts = :count + :one',
        ConditionExpression: 'delivery.#run = :run AND delivery.runAttempts = :count AND delivery.#state = :pending',
        ExpressionAttributeNames: { '#state': 'state', '#run': 'run' },
        ExpressionAttributeValues: {
          ':attempt': [attempt],
          ':state': state,
          ':next': nextAt === undefined ? null : new Date(nextAt).toISOString(),
          ':run': delivery.run,
          ':count': delivery.runAttempts,
          ':one': 1,
          ':pending': 'pending',
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Starts a fresh run of the schedule (manual redelivery, replay): attempts so far stay in the log. */
export async function restartDelivery(tables: Tables, subscriptionId: string, eventId: string): Promise<Delivery> {
  const { Attributes } = await tables.client.send(
    new UpdateCommand({
      TableName: tables.stateTable,
      Key: webhookKeys.delivery(subscriptionId, eventId),
      UpdateExpression: 'SET delivery.#run = delivery.#run + :one, delivery.#state = :pending, delivery.nextAttemptAt = :now, delivery.runAttempts = :zero',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#run': 'run', '#state': 'state' },
      ExpressionAttributeValues: { ':one': 1, ':zero': 0, ':pending': 'pending', ':now': new Date().toISOString() },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return Attributes!.delivery as Delivery;
}

export type DeliveryPage = { deliveries: Delivery[]; next?: string };

/** A subscription's deliveries, newest event first, a page at a time (`next` is an opaque cursor). */
export async function listDeliveries(tables: Tables, subscriptionId: string, limit: number, cursor?: string): Promise<DeliveryPage> {
  const page = await tables.client.send(
    new QueryCommand({
      TableName: tables.stateTable,
      IndexName: 'byOwner',
      KeyConditionExpression: 'ownerKey = :owner',
      ExpressionAttributeValues: { ':owner': webhookKeys.ownerOfDeliveries(subscriptionId) },
      ScanIndexForward: false,
      Limit: limit,
      ExclusiveStartKey: cursor ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined,
    }),
  );
  return {
    deliveries: (page.Items ?? []).map((item) => item.delivery as Delivery),
    next: page.LastEvaluatedKey ? Buffer.from(JSON.stringify(page.LastEvaluatedKey)).toString('base64url') : undefined,
  };
}

/** How a delivery is shown in its log. */
export function presentDelivery(delivery: Delivery) {
  return {
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    occurredAt: delivery.occurredAt,
    state: delivery.state,
    attempts: delivery.attempts.map(({ at, status, error, durationMs }) => ({ at, status: status ?? null, error, durationMs })),
    nextAttemptAt: delivery.state === 'pending' ? (delivery.nextAttemptAt ?? undefined) : undefined,
  };
}

/** The health of a subscription: since when every delivery has failed (none while the last one succeeded). */
export async function noteOutcome(tables: Tables, subscriptionId: string, succeeded: boolean, now: Date): Promise<string | undefined> {
  const { Attributes } = await tables.client.send(
    new UpdateCommand({
      TableName: tables.stateTable,
      Key: webhookKeys.health(subscriptionId),
      UpdateExpression: succeeded ? 'SET lastSuccessAt = :now REMOVE failingSince' : 'SET failingSince = if_not_exists(failingSince, :now), lastFailureAt = :now',
      ExpressionAttributeValues: { ':now': now.toISOString() },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return Attributes?.failingSince as string | undefined;
}
