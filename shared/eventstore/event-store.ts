import { createHash, randomUUID } from 'node:crypto';
import { paginateQuery, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DomainEvent, Event, EventMetadata } from '../../events/envelope.ts';

/** Another writer appended to the stream first; reload and decide again. */
export class ConcurrencyError extends Error {
  constructor(aggregateId: string, expectedVersion: number) {
    super(`stream ${aggregateId} has moved past version ${expectedVersion}`);
    this.name = 'ConcurrencyError';
  }
}

/** One more write that must succeed or fail together with the events (read model, time claim, idempotency record). */
export type TransactionItem = {
  item: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];
  /** What its failed condition means to the caller; without it a failed condition is a plain error. */
  onConditionFailed?: () => Error;
  /**
   * When this item's condition fails, that failure explains the whole cancellation, whatever else failed with
   * it: an idempotency record already written means the request was answered before, and its other conditions
   * failed only because the first answer's writes are in place.
   */
  explainsAll?: boolean;
};

export type AppendRequest = {
  aggregateId: string;
  aggregateType: string;
  /** The version the caller decided on: 0 for a new stream. */
  expectedVersion: number;
  events: Event[];
  metadata: Omit<EventMetadata, 'timestamp'>;
  alongside?: TransactionItem[];
  /**
   * Makes a retried transaction a no-op for 10 minutes (DynamoDB's ClientRequestToken). The retry must send the
   * same items, so event ids are derived from the token; pass the same `now` on the retry as well.
   */
  requestToken?: string;
  now?: Date;
};

export const MAX_TRANSACTION_ITEMS = 100;
const CONFLICT_ATTEMPTS = 4;

/**
 * The event stream of every aggregate in one DynamoDB table, keyed (aggregateId, version). Appends are
 * conditional puts on the next versions, so of two writers that decided on the same version exactly one wins;
 * everything that must change with the events rides in the same transaction.
 */
export class EventStore {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  async load(aggregateId: string): Promise<DomainEvent[]> {
    const events: DomainEvent[] = [];
    const pages = paginateQuery(
      { client: this.client },
      { TableName: this.tableName, KeyConditionExpression: 'aggregateId = :id', ExpressionAttributeValues: { ':id': aggregateId }, ConsistentRead: true },
    );
    for await (const page of pages) for (const item of page.Items ?? []) events.push(toDomainEvent(item));
    return events;
  }

  async append(request: AppendRequest): Promise<DomainEvent[]> {
    const timestamp = (request.now ?? new Date()).toISOString();
    const stored: DomainEvent[] = request.events.map((event, index) => ({
      id: request.requestToken ? tokenEventId(request.requestToken, index) : randomUUID(),
      type: event.type,
      aggregateId: request.aggregateId,
      aggregateType: request.aggregateType,
      version: request.expectedVersion + index + 1,
      payload: event.payload,
      metadata: { ...request.metadata, timestamp },
    }));
    const alongside = request.alongside ?? [];
    const items = [
      ...stored.map((event) => ({
        Put: {
          TableName: this.tableName,
          Item: event,
          ConditionExpression: 'attribute_not_exists(version)',
        },
      })),
      ...alongside.map((extra) => extra.item),
    ];
    if (items.length > MAX_TRANSACTION_ITEMS) {
      throw new RangeError(`a transaction holds at most ${MAX_TRANSACTION_ITEMS} writes, this one needs ${items.length}`);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: request.requestToken }));
        return stored;
      } catch (error) {
        // DynamoDB cancels a transaction that merely collided with another one in flight on the same item
        // (TransactionConflict, no condition failed): its conditions were never judged, so sending it again
        // is safe and gives the real answer.
        if (attempt < CONFLICT_ATTEMPTS && isOnlyConflict(error)) {
          await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 30));
          continue;
        }
        throw explainCancellation(error, stored.length, alongside, request);
      }
    }
  }
}

function isOnlyConflict(error: unknown): boolean {
  if (!(error instanceof TransactionCanceledException)) return false;
  const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code);
  return codes.includes('TransactionConflict') && !codes.includes('ConditionalCheckFailed');
}

function explainCancellation(error: unknown, eventCount: number, alongside: TransactionItem[], request: AppendRequest): unknown {
  if (!(error instanceof TransactionCanceledException)) return error;
  const failed = (error.CancellationReasons ?? []).flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : []));
  if (failed.length === 0) return error;
  const decisive = failed.find((index) => alongside[index - eventCount]?.explainsAll);
  const first = decisive ?? failed[0]!;
  if (first < eventCount) return new ConcurrencyError(request.aggregateId, request.expectedVersion);
  return alongside[first - eventCount]?.onConditionFailed?.() ?? error;
}

/** A UUID-shaped id that is the same for the same token and position, so a retried append sends the same items. */
function tokenEventId(token: string, index: number): string {
  const hex = createHash('sha256').update(`${token}#${index}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function toDomainEvent(item: Record<string, unknown>): DomainEvent {
  const { id, type, aggregateId, aggregateType, version, payload, metadata } = item as DomainEvent;
  return { id, type, aggregateId, aggregateType, version, payload, metadata };
}
