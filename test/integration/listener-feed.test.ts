// Each listener's feed against DynamoDB Local: contiguous positions under concurrent pushes, a redelivered event
// keeps its position, replay after a position, and a reset when the replay cannot be whole.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ListenerFeed, MAX_REPLAY } from '../../shared/realtime/feed.ts';
import { createTestTables, type TestTables } from '../support/tables.ts';

let tables: TestTables;
let feed: ListenerFeed;

beforeAll(async () => {
  tables = await createTestTables();
  feed = new ListenerFeed(tables.client, tables.state);
});

const event = (n: number) => ({ id: randomUUID(), type: 'booking.updated', n });

describe('a listener feed', () => {
  it('gives concurrent events contiguous positions, and a redelivery the position it already took', async () => {
    const listener = `org-${randomUUID()}`;
    const events = Array.from({ length: 12 }, (_, n) => event(n));
    const positions = await Promise.all(events.map((e) => feed.position(listener, e)));
    expect([...positions].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const again = await Promise.all([feed.position(listener, events[3]!), feed.position(listener, events[3]!)]);
    expect(again).toEqual([positions[3], positions[3]]);
    expect(await feed.head(listener)).toBe(12);
  });

  it('replays exactly what follows a position, in order', async () => {
    const listener = `org-${randomUUID()}`;
    const events = Array.from({ length: 5 }, (_, n) => event(n));
    for (const e of events) await feed.position(listener, e);
    const replay = await feed.after(listener, 2);
    expect(replay).toEqual({ kind: 'messages', head: 5, entries: events.slice(2).map((data, i) => ({ position: 3 + i, data })) });
    expect(await feed.after(listener, 5)).toEqual({ kind: 'messages', entries: [], head: 5 });
    expect(await feed.after(`nobody-${randomUUID()}`, 0)).toEqual({ kind: 'messages', entries: [], head: 0 });
  });

  it('answers reset for a position it cannot replay whole: ahead of the feed, too far behind, or expired', async () => {
    const listener = `org-${randomUUID()}`;
    for (let n = 0; n < 3; n++) await feed.position(listener, event(n));
    expect(await feed.after(listener, 4)).toEqual({ kind: 'reset', head: 3 });
    // Past the retention: TTL deletes late, so an entry whose expiry has passed counts as gone.
    await tables.client.send(
      new UpdateCommand({ TableName: tables.state, Key: { pk: `FEED#${listener}`, sk: 'P#000000000001' }, UpdateExpression: 'SET expiresAt = :past', ExpressionAttributeValues: { ':past': 1 } }),
    );
    expect(await feed.after(listener, 0)).toEqual({ kind: 'reset', head: 3 });
    expect((await feed.after(listener, 1)).kind).toBe('messages');
    const far = `org-${randomUUID()}`;
    await tables.client.send(new UpdateCommand({ TableName: tables.state, Key: { pk: `FEED#${far}`, sk: 'HEAD' }, UpdateExpression: 'SET #p = :p', ExpressionAttributeNames: { '#p': 'position' }, ExpressionAttributeValues: { ':p': MAX_REPLAY + 5 } }));
    expect(await feed.after(far, 2)).toEqual({ kind: 'reset', head: MAX_REPLAY + 5 });
  });
});
