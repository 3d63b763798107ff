import { createHash } from 'node:crypto';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TransactionItem } from '../eventstore/event-store.ts';
import { header, type HttpEvent, type HttpResult } from './handler.ts';
import { HttpProblem } from './problems.ts';

const DAY_SECONDS = 24 * 60 * 60;

/** The scope of requests made without an account (booking as an attendee). */
export const PUBLIC_CALLER = 'public';

/** The first answer to a request was already given; this carries it back to the caller. */
export class IdempotentReplay extends Error {
  constructor() {
    super('idempotency key already used');
    this.name = 'IdempotentReplay';
  }
}

type StoredResponse = { statusCode: number; headers: Record<string, string>; body: string; requestHash: string };

/**
 * Idempotency-Key support for commands. The first answer is stored in the same transaction as the events it
 * reports, so "written" and "remembered" cannot part: a retry, even one racing the first request, gets the
 * first answer and writes nothing. Keys live for 24 hours and are scoped to the route and the caller.
 */
export class IdempotentRequest {
  readonly key: string | undefined;
  private readonly pk: string;
  private readonly requestHash: string;
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  /**
   * `caller` scopes keys: a user id, or PUBLIC_CALLER for requests without an account. Anonymous callers share
   * one scope, so their keys must be hard to guess (16+ characters, e.g. a UUID): a replay hands back the first
   * answer, booking token included.
   */
  constructor(client: DynamoDBDocumentClient, tableName: string, event: HttpEvent, caller: string) {
    this.client = client;
    this.tableName = tableName;
    this.key = header(event, 'idempotency-key');
    const minimum = caller === PUBLIC_CALLER ? 16 : 1;
    if (this.key !== undefined && !new RegExp(`^[\\x21-\\x7e]{${minimum},255}$`).test(this.key)) {
      const message = `must be ${minimum}-255 visible ASCII characters${caller === PUBLIC_CALLER ? ' (a random value such as a UUID)' : ''}`;
      throw new HttpProblem(400, '/problems/validation', 'Your request is not valid', `Idempotency-Key ${message}`, {
        errors: [{ path: 'headers.idempotency-key', message }],
      });
    }
    this.pk = `IDEMPOTENCY#${event.routeKey}#${event.rawPath}#${caller}#${this.key}`;
    this.requestHash = createHash('sha256').update(event.body ?? '').digest('base64url');
  }

  /** The stored answer to an earlier request with this key, if any. */
  async replay(): Promise<HttpResult | undefined> {
    if (this.key === undefined) return undefined;
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: this.pk, sk: 'IDEMPOTENCY' }, ConsistentRead: true }));
    if (!Item) return undefined;
    const stored = Item.response as StoredResponse;
    if (stored.requestHash !== this.requestHash) {
      throw new HttpProblem(422, '/problems/idempotency-key-reused', 'Idempotency-Key reused', 'this Idempotency-Key was used with a different request body');
    }
    return { statusCode: stored.statusCode, headers: { ...stored.headers, 'idempotent-replayed': 'true' }, body: stored.body };
  }

  /** The write that remembers `response`, to ride in the command's transaction. */
  remember(response: HttpResult): TransactionItem[] {
    if (this.key === undefined) return [];
    const stored: StoredResponse = {
      statusCode: response.statusCode ?? 200,
      headers: (response.headers ?? {}) as Record<string, string>,
      body: String(response.body ?? ''),
      requestHash: this.requestHash,
    };
    return [
      {
        item: {
          Put: {
            TableName: this.tableName,
            Item: { pk: this.pk, sk: 'IDEMPOTENCY', response: stored, expiresAt: Math.floor(Date.now() / 1000) + DAY_SECONDS },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        onConditionFailed: () => new IdempotentReplay(),
        explainsAll: true,
      },
    ];
  }

  /**
   * Runs a command once per key. A concurrent twin that lost the race answers with the winner's response,
   * whatever it failed on: the key already taken, or a refusal that only the winner's writes caused (the slot
   * it holds, the version it moved past, the state it left the booking in).
   */
  async run(command: () => Promise<HttpResult>): Promise<HttpResult> {
    const earlier = await this.replay();
    if (earlier) return earlier;
    try {
      return await command();
    } catch (error) {
      const winner = this.key === undefined ? undefined : await this.replay();
      if (winner) return winner;
      if (error instanceof IdempotentReplay) throw new Error('an idempotency record was written but cannot be read back');
      throw error;
    }
  }
}
