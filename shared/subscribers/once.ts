// Exactly-once effects over at-least-once delivery (DESIGN principle 4), written once for every subscriber.
// Each consumer keeps one marker per event (or per event and recipient) in the state table:
// - effects that are DynamoDB writes ride in the marker's own transaction, so they happen exactly once;
// - effects outside DynamoDB (a mail, an HTTP call) take a lease first and mark it done after, so a
//   redelivery while or after it ran is skipped. Only a crash between the effect and the mark repeats it.
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TransactionItem } from '../eventstore/event-store.ts';

export type OnceTables = { client: DynamoDBDocumentClient; stateTable: string };

/** Markers live 35 days: longer than any redelivery (EventBridge 24 h, DLQ retention 14 days) can come back. */
const MARKER_DAYS = 35;

export const onceKey = (consumer: string, key: string) => ({ pk: `ONCE#${consumer}#${key}`, sk: 'ONCE' });

const expiresAt = (now: number) => Math.floor(now / 1000) + MARKER_DAYS * 86_400;

/**
 * Writes `items` together with the marker of (consumer, key), or nothing when the marker is already there.
 * Returns whether this call wrote them.
 */
export async function writeOnce(tables: OnceTables, consumer: string, key: string, items: TransactionItem['item'][], options: { markerKey?: { pk: string; sk: string }; keep?: boolean } = {}): Promise<boolean> {
  // A consumer may keep its markers beside what they guard (`markerKey`, kept for good with `keep`), so that
  // clearing a read model's partition clears its markers with it and a replay rebuilds it.
  const Item = { ...(options.markerKey ?? onceKey(consumer, key)), state: 'done', ...(options.keep ? {} : { expiresAt: expiresAt(Date.now()) }) };
  const marker = { Put: { TableName: tables.stateTable, Item, ConditionExpression: 'attribute_not_exists(pk)' } };
  try {
    await tables.client.send(new TransactWriteCommand({ TransactItems: [marker, ...items] }));
    return true;
  } catch (error) {
    if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
    throw error;
  }
}

/**
 * Runs `effect` once for (consumer, key). A concurrent or later delivery finds the marker and skips; a failed
 * effect gives its lease back so that the retry runs it. The lease outlives the function's timeout, so a
 * delivery that crashed mid-effect is tried again once it lapses.
 */
export async function runOnce(tables: OnceTables, consumer: string, key: string, effect: () => Promise<void>, leaseMs = 5 * 60_000): Promise<boolean> {
  const now = Date.now();
  const Key = onceKey(consumer, key);
  try {
    await tables.client.send(
      new PutCommand({
        TableName: tables.stateTable,
        Item: { ...Key, state: 'running', leaseUntil: now + leaseMs, expiresAt: expiresAt(now) },
        ConditionExpression: 'attribute_not_exists(pk) OR (#state = :running AND leaseUntil < :now)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':running': 'running', ':now': now },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
  try {
    await effect();
  } catch (error) {
    await tables.client.send(new DeleteCommand({ TableName: tables.stateTable, Key }));
    throw error;
  }
  await tables.client.send(
    new UpdateCommand({ TableName: tables.stateTable, Key, UpdateExpression: 'SET #state = :done REMOVE leaseUntil', ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':done': 'done' } }),
  );
  return true;
}
