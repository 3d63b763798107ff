import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Each listener's feed: every message pushed to one organizer (or to the attendee watching one booking) gets
 * the next position of that listener's contiguous sequence, 1, 2, 3..., so a client can tell when it missed
 * one and ask for everything after the last it saw. Stored in the state table; the key formats live here.
 *
 *   FEED#<listener> / HEAD             the last position taken
 *   FEED#<listener> / P#<12 digits>    the message at that position (zero-padded, so positions sort as text)
 *   FEED#<listener> / SEEN#<eventId>   the position an event already took, so a redelivered event keeps it
 *
 * The three are written in one transaction, conditioned on the head being what was read: two pushes racing for
 * the same listener cannot take one position, and a redelivery can never take a second one.
 */
export const FEED_RETENTION_DAYS = 7;
/** A client further behind than this is told to reload rather than be sent a flood. */
export const MAX_REPLAY = 1_000;
const ATTEMPTS = 12;

const feedKey = (listener: string) => `FEED#${listener}`;
const positionKey = (position: number) => `P#${String(position).padStart(12, '0')}`;
const headKey = { sk: 'HEAD' } as const;

export type FeedEntry = { position: number; data: unknown };
export type Replay = { kind: 'messages'; entries: FeedEntry[]; head: number } | { kind: 'reset'; head: number };

export class ListenerFeed {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  /** The position of `event` in `listener`'s feed: taken now, or the one it took on an earlier delivery. */
  async position(listener: string, event: { id: string }, now = new Date()): Promise<number> {
    const pk = feedKey(listener);
    const expiresAt = Math.floor(now.getTime() / 1000) + FEED_RETENTION_DAYS * 86_400;
    for (let attempt = 1; ; attempt++) {
      const head = await this.head(listener);
      const next = head + 1;
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: this.tableName, Item: { pk, sk: `SEEN#${event.id}`, position: next, expiresAt }, ConditionExpression: 'attribute_not_exists(pk)' } },
              {
                Put: {
                  TableName: this.tableName,
                  Item: { pk, ...headKey, position: next },
                  ConditionExpression: head === 0 ? 'attribute_not_exists(pk)' : '#position = :head',
                  ...(head === 0 ? {} : { ExpressionAttributeNames: { '#position': 'position' }, ExpressionAttributeValues: { ':head': head } }),
                },
              },
              { Put: { TableName: this.tableName, Item: { pk, sk: positionKey(next), position: next, data: event, expiresAt }, ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        );
        return next;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [seen] = error.CancellationReasons ?? [];
        if (seen?.Code === 'ConditionalCheckFailed') {
          const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk: `SEEN#${event.id}` }, ConsistentRead: true }));
          if (Item) return Item.position as number;
        }
        // Another push took this position first (or collided with us): read the new head and try the next.
        if (attempt >= ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20));
      }
    }
  }

  async head(listener: string): Promise<number> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: feedKey(listener), ...headKey }, ConsistentRead: true }));
    return (Item?.position as number | undefined) ?? 0;
  }

  /**
   * Every message after `after`, in order; or a reset when they cannot all be given: a position ahead of the
   * head (a feed the client cannot have seen), further behind than MAX_REPLAY, or past the retention.
   */
  async after(listener: string, after: number, now = new Date()): Promise<Replay> {
    const head = await this.head(listener);
    if (after > head || head - after > MAX_REPLAY) return { kind: 'reset', head };
    if (after === head) return { kind: 'messages', entries: [], head };
    const entries: FeedEntry[] = [];
    let oldestExpiry = Infinity;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': feedKey(listener), ':from': positionKey(after + 1), ':to': positionKey(head) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        entries.push({ position: item.position as number, data: item.data });
        oldestExpiry = Math.min(oldestExpiry, item.expiresAt as number);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // TTL deletes late, so an expired entry may still be read: it counts as gone.
    const complete = entries.length === head - after && entries.every((entry, index) => entry.position === after + 1 + index);
    if (!complete || oldestExpiry < now.getTime() / 1000) return { kind: 'reset', head };
    return { kind: 'messages', entries, head };
  }
}

/** A position as a client sends it back: a whole number, or null for anything else. */
export function feedPosition(value: unknown): number | null {
  const number = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number >= 0 ? number : null;
}

/** What a listener is sent for each event: the event with its position in that listener's feed. */
export const eventMessage = (entry: FeedEntry) => JSON.stringify({ type: 'event', position: entry.position, data: entry.data });
