import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { ConcurrencyError, EventStore, MAX_TRANSACTION_ITEMS, type TransactionItem } from '../../shared/eventstore/event-store.ts';
import { createTestTables, type TestTables } from '../support/tables.ts';

let tables: TestTables;
let store: EventStore;

beforeAll(async () => {
  tables = await createTestTables();
  store = new EventStore(tables.client, tables.events);
});

const event = (n: number) => ({ type: 'booking.updated', payload: { changes: { notes: `note ${n}` } } });
const metadata = { userId: 'user-1', organizationId: 'org-1', correlationId: 'corr-1', causationId: 'cause-1' };

async function rawItems(aggregateId: string) {
  const { Items = [] } = await tables.client.send(
    new QueryCommand({ TableName: tables.events, KeyConditionExpression: 'aggregateId = :id', ExpressionAttributeValues: { ':id': aggregateId }, ConsistentRead: true }),
  );
  return Items;
}

async function stateItem(pk: string) {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.state, Key: { pk, sk: 'X' }, ConsistentRead: true }));
  return Item;
}

const putState = (pk: string, condition?: string, onConditionFailed?: () => Error): TransactionItem => ({
  item: { Put: { TableName: tables.state, Item: { pk, sk: 'X', written: true }, ConditionExpression: condition } },
  onConditionFailed,
});

describe('EventStore against DynamoDB Local', () => {
  it('load of an unknown stream is empty', async () => {
    expect(await store.load(randomUUID())).toEqual([]);
  });

  it('append then load round-trips the envelope, with versions 1..n', async () => {
    const aggregateId = randomUUID();
    const now = new Date('2030-01-07T09:00:00.123Z');
    const first = await store.append({ aggregateId, aggregateType: 'booking', expectedVersion: 0, events: [event(1), event(2)], metadata, now });
    const second = await store.append({ aggregateId, aggregateType: 'booking', expectedVersion: 2, events: [event(3)], metadata: { correlationId: 'corr-2' }, now });
    expect(first.map((e) => e.version)).toEqual([1, 2]);
    expect(second.map((e) => e.version)).toEqual([3]);

    const loaded = await store.load(aggregateId);
    expect(loaded).toEqual([...first, ...second]);
    expect(loaded.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(loaded[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'booking.updated',
      aggregateId,
      aggregateType: 'booking',
      version: 1,
      payload: { changes: { notes: 'note 1' } },
      metadata: { ...metadata, timestamp: '2030-01-07T09:00:00.123Z' },
    });
    expect(loaded[2]!.metadata).toEqual({ correlationId: 'corr-2', timestamp: '2030-01-07T09:00:00.123Z' });
    expect(new Set(loaded.map((e) => e.id)).size).toBe(3);
  });

  it('streams do not see each other', async () => {
    const a = randomUUID();
    const b = randomUUID();
    await store.append({ aggregateId: a, aggregateType: 'booking', expectedVersion: 0, events: [event(1)], metadata });
    await store.append({ aggregateId: b, aggregateType: 'booking', expectedVersion: 0, events: [event(2), event(3)], metadata });
    expect((await store.load(a)).map((e) => e.payload)).toEqual([event(1).payload]);
    expect((await store.load(b)).map((e) => e.version)).toEqual([1, 2]);
  });

  it('load pages through a stream larger than one query page', async () => {
    const aggregateId = randomUUID();
    // ~20 KB per event: 80 events are 1.6 MB, past DynamoDB's 1 MB query page.
    const big = (n: number) => ({ type: 'booking.updated', payload: { changes: { notes: `${n}:${'x'.repeat(20_000)}` } } });
    for (let batch = 0; batch < 4; batch++) {
      const events = Array.from({ length: 20 }, (_, i) => big(batch * 20 + i));
      await store.append({ aggregateId, aggregateType: 'booking', expectedVersion: batch * 20, events, metadata });
    }
    const firstPage = await tables.client.send(
      new QueryCommand({ TableName: tables.events, KeyConditionExpression: 'aggregateId = :id', ExpressionAttributeValues: { ':id': aggregateId } }),
    );
    expect(firstPage.LastEvaluatedKey, 'the stream spans more than one page').toBeDefined();
    const loaded = await store.load(aggregateId);
    expect(loaded.map((e) => e.version)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
  });

  it('of two concurrent appends at the same expected version exactly one wins; the other gets ConcurrencyError', async () => {
    const aggregateId = randomUUID();
    const [first] = await store.append({ aggregateId, aggregateType: 'booking', expectedVersion: 0, events: [event(1)], metadata });
    const results = await Promise.allSettled([
      store.append({ aggregateId, aggregateType: 'booking', expectedVersion: 1, events: [event(100)], metadata }),
      store.append({ aggregateId, aggregateType: 'booking', expectedVersion: 1, events: [event(200), event(201)], metadata }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(ConcurrencyError);
    const loaded = await store.load(aggregateId);
    // The stream holds the first event and the winner's, nothing of the loser's.
    expect(loaded).toEqual([first, ...won[0]!.value]);
  });

  it('many concurrent writers on one version: one winner, all others ConcurrencyError', async () => {
    const aggregateId = randomUUID();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.append({ aggregateId, aggregateType: 'booking', expectedVersion: 0, events: [event(i)], metadata })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) expect(r.reason).toBeInstanceOf(ConcurrencyError);
    expect(await store.load(aggregateId)).toHaveLength(1);
  });

  it('an append behind the stream (a stale expected version) is a ConcurrencyError and writes nothing', async () => {
    const aggregateId = randomUUID();
    await store.append({ aggregateId, aggregateType: 'booking', expectedVersion: 0, events: [event(1), event(2)], metadata });
    const pk = `SIDE#${randomUUID()}`;
    await expect(
      store.append({ aggregateId, aggregateType: 'booking', expectedVersion: 1, events: [event(3)], metadata, alongside: [putState(pk)] }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await store.load(aggregateId)).map((e) => e.payload)).toEqual([event(1).payload, event(2).payload]);
    expect(await stateItem(pk)).toBeUndefined();
  });

  it('items alongside are written in the same transaction as the events', async () => {
    const aggregateId = randomUUID();
    const pk = `SIDE#${randomUUID()}`;
    await store.append({ aggregateId, aggregateType: 'booking', expectedVersion: 0, events: [event(1)], metadata, alongside: [putState(pk)] });
    expect(await stateItem(pk)).toEqual({ pk, sk: 'X', written: true });
  });

  it("an alongside item's failed condition maps to its onConditionFailed error, and nothing at all is written", async () => {
    class Taken extends Error {}
    const aggregateId = randomUUID();
    const existing = `SIDE#${randomUUID()}`;
    const fresh = `SIDE#${randomUUID()}`;
    await tables.client.send(new PutCommand({ TableName: tables.state, Item: { pk: existing, sk: 'X', original: true } }));
    const error = await store
      .append({
        aggregateId,
        aggregateType: 'booking',
        expectedVersion: 0,
        events: [event(1), event(2)],
        metadata,
        alongside: [putState(fresh), putState(existing, 'attribute_not_exists(pk)', () => new Taken('taken'))],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Taken);
    expect(await rawItems(aggregateId)).toEqual([]);
    expect(await stateItem(fresh)).toBeUndefined();
    expect(await stateItem(existing)).toEqual({ pk: existing, sk: 'X', original: true });
  });

  it('an alongside failed condition without onConditionFailed surfaces the transaction cancellation, not a ConcurrencyError', async () => {
    const aggregateId = randomUUID();
    const error = await store
      .append({
        aggregateId,
        aggregateType: 'booking',
        expectedVersion: 0,
        events: [event(1)],
        metadata,
        alongside: [putState(`SIDE#${randomUUID()}`, 'attribute_exists(pk)')],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error).not.toBeInstanceOf(ConcurrencyError);
    expect(await rawItems(aggregateId)).toEqual([]);
  });

  it(`more than ${MAX_TRANSACTION_ITEMS} items are refused before anything is sent`, async () => {
    const aggregateId = randomUUID();
    const alongside = Array.from({ length: 95 }, () => putState(`SIDE#${randomUUID()}`));
    const events = Array.from({ length: 6 }, (_, i) => event(i));
    await expect(store.append({ aggregateId, aggregateType: 'booking', expectedVersion: 0, events, metadata, alongside })).rejects.toThrow(RangeError);
    expect(await rawItems(aggregateId)).toEqual([]);
    expect(await stateItem(alongside[0]!.item.Put!.Item!.pk as string)).toBeUndefined();
  });

  it(`exactly ${MAX_TRANSACTION_ITEMS} items are accepted`, async () => {
    const aggregateId = randomUUID();
    const alongside = Array.from({ length: 95 }, () => putState(`SIDE#${randomUUID()}`));
    const events = Array.from({ length: 5 }, (_, i) => event(i));
    await store.append({ aggregateId, aggregateType: 'booking', expectedVersion: 0, events, metadata, alongside });
    expect(await rawItems(aggregateId)).toHaveLength(5);
    expect(await stateItem(alongside[94]!.item.Put!.Item!.pk as string)).toBeDefined();
  });

  it('the same request token makes a retried append a no-op that returns the same events, instead of a conflict', async () => {
    const aggregateId = randomUUID();
    const request = { aggregateId, aggregateType: 'booking', expectedVersion: 0, events: [event(1), event(2)], metadata, requestToken: randomUUID(), now: new Date() };
    const first = await store.append(request);
    const retried = await store.append(request);
    expect(retried).toEqual(first);
    expect(await store.load(aggregateId)).toEqual(first);
    // A different token for the same version is a real second writer.
    await expect(store.append({ ...request, requestToken: randomUUID() })).rejects.toBeInstanceOf(ConcurrencyError);
  });
});
