// Payment attempts in the state table: what the webhook needs to find the paused workflow (the task token)
// and what only the attendee may see (the client secret). Each attempt settles once: the conditional update
// from `open` is where duplicate and out-of-order webhooks lose.
import { GetCommand, PutCommand, UpdateCommand, DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

type Tables = { client: DynamoDBDocumentClient; stateTable: string };

export type AttemptState = 'open' | 'succeeded' | 'failed' | 'expired';

export type PaymentAttempt = {
  paymentId: string;
  bookingId: string;
  attempt: number;
  amount: number;
  currency: string;
  clientSecret: string;
  stripeAccount?: string;
  state: AttemptState;
  /** The paused workflow's token, resumed by the webhook. */
  taskToken?: string;
  /** When the payment window of this attempt ends (not named expiresAt: that is the table's TTL attribute). */
  windowEndsAt: string;
  failure?: { reason: string; code?: string; declineCode?: string };
  /** Set once the workflow took the outcome, so a redelivered webhook knows not to resume it again. */
  resumed?: boolean;
};

/** Storage keys of the payments slice, in one place. */
export const paymentKeys = {
  attempt: (paymentId: string) => ({ pk: `PAYMENT#${paymentId}`, sk: 'ATTEMPT' }),
  /** The workflow waiting for the attendee to retry a failed payment. */
  retry: (bookingId: string) => ({ pk: `BOOKING#${bookingId}`, sk: 'PAYMENT-RETRY' }),
  webhookEvent: (eventId: string) => ({ pk: `STRIPE-EVENT#${eventId}`, sk: 'EVENT' }),
  connectedAccount: (userId: string) => ({ pk: `USER#${userId}`, sk: 'STRIPE-ACCOUNT' }),
};

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException';

/** Stores the attempt with its token; a repeated step replaces the token (the old task is gone) and keeps the state. */
export async function saveAttempt(tables: Tables, attempt: Omit<PaymentAttempt, 'state'>): Promise<PaymentAttempt> {
  const { Attributes } = await tables.client.send(
    new UpdateCommand({
      TableName: tables.stateTable,
      Key: paymentKeys.attempt(attempt.paymentId),
      UpdateExpression:
        'SET paymentId = :paymentId, bookingId = :bookingId, attempt = :attempt, amount = :amount, currency = :currency, clientSecret = :clientSecret, ' +
        'stripeAccount = :stripeAccount, taskToken = :taskToken, windowEndsAt = if_not_exists(windowEndsAt, :windowEndsAt), #state = if_not_exists(#state, :open)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':paymentId': attempt.paymentId,
        ':bookingId': attempt.bookingId,
        ':attempt': attempt.attempt,
        ':amount': attempt.amount,
        ':currency': attempt.currency,
        ':clientSecret': attempt.clientSecret,
        ':stripeAccount': attempt.stripeAccount ?? null,
        ':taskToken': attempt.taskToken ?? null,
        ':windowEndsAt': attempt.windowEndsAt,
        ':open': 'open',
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return clean(Attributes!);
}

export async function readAttempt(tables: Tables, paymentId: string): Promise<PaymentAttempt | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: paymentKeys.attempt(paymentId), ConsistentRead: true }));
  return Item ? clean(Item) : undefined;
}

/**
 * Moves an open attempt to its outcome. Returns the attempt as it now is and whether this call settled it;
 * a second settle (a duplicate webhook, a failure after a success, an expiry after a payment) changes nothing.
 */
export async function settleAttempt(
  tables: Tables,
  paymentId: string,
  outcome: Exclude<AttemptState, 'open'>,
  failure?: PaymentAttempt['failure'],
): Promise<{ settled: boolean; attempt?: PaymentAttempt }> {
  try {
    const { Attributes } = await tables.client.send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key: paymentKeys.attempt(paymentId),
        UpdateExpression: failure ? 'SET #state = :outcome, failure = :failure' : 'SET #state = :outcome',
        ConditionExpression: '#state = :open',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':outcome': outcome, ':open': 'open', ...(failure ? { ':failure': failure } : {}) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { settled: true, attempt: clean(Attributes!) };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return { settled: false, attempt: await readAttempt(tables, paymentId) };
  }
}

export async function markResumed(tables: Tables, paymentId: string): Promise<void> {
  await tables.client.send(new UpdateCommand({ TableName: tables.stateTable, Key: paymentKeys.attempt(paymentId), UpdateExpression: 'SET resumed = :yes', ExpressionAttributeValues: { ':yes': true } }));
}

export async function saveRetryToken(tables: Tables, bookingId: string, attempt: number, taskToken: string): Promise<void> {
  await tables.client.send(new PutCommand({ TableName: tables.stateTable, Item: { ...paymentKeys.retry(bookingId), attempt, taskToken } }));
}

/** Takes the retry token once: two retries at the same moment resume the workflow once. */
export async function takeRetryToken(tables: Tables, bookingId: string): Promise<{ attempt: number; taskToken: string } | undefined> {
  try {
    const { Attributes } = await tables.client.send(
      new DeleteCommand({ TableName: tables.stateTable, Key: paymentKeys.retry(bookingId), ConditionExpression: 'attribute_exists(pk)', ReturnValues: 'ALL_OLD' }),
    );
    return Attributes as { attempt: number; taskToken: string };
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** Claims a Stripe event id; false when it was already claimed (a duplicate delivery). Kept 30 days. */
export async function claimWebhookEvent(tables: Tables, eventId: string, now: Date): Promise<boolean> {
  try {
    await tables.client.send(
      new PutCommand({
        TableName: tables.stateTable,
        Item: { ...paymentKeys.webhookEvent(eventId), receivedAt: now.toISOString(), expiresAt: Math.floor(now.getTime() / 1000) + 30 * 86_400 },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Gives a claim back when handling failed, so Stripe's redelivery is handled rather than skipped. */
export async function releaseWebhookEvent(tables: Tables, eventId: string): Promise<void> {
  await tables.client.send(new DeleteCommand({ TableName: tables.stateTable, Key: paymentKeys.webhookEvent(eventId) }));
}

/** The organizer's connected Stripe account (Stripe Connect), when they have one: charges go to it. */
export async function readConnectedAccount(tables: Tables, userId: string): Promise<string | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: paymentKeys.connectedAccount(userId) }));
  return Item?.accountId as string | undefined;
}

export async function saveConnectedAccount(tables: Tables, userId: string, accountId: string): Promise<void> {
  await tables.client.send(new PutCommand({ TableName: tables.stateTable, Item: { ...paymentKeys.connectedAccount(userId), accountId } }));
}

function clean(item: Record<string, unknown>): PaymentAttempt {
  const { pk: _, sk: __, ...rest } = item;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== null)) as PaymentAttempt;
}
