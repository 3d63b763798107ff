// The scheduled dispatcher against DynamoDB Local: due connections enqueued once each, however many runs
// overlap; a connection not due, or waiting for a new grant, left alone; a failed send retried by the next run;
// the due entry of a connection that is gone dropped from the list.
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestTables, type TestTables } from '../support/tables.ts';
import { calendarKeys, readSyncState, writeSyncState, type CalendarTables } from '../../shared/calendars/store.ts';
import type { SyncMessage } from '../../shared/calendars/sync-queue.ts';
import { dispatchDueSyncs } from '../../shared/calendar-sync/dispatch.ts';

let tables: TestTables;
let calendarTables: CalendarTables;
const now = new Date('2030-03-05T12:00:00.000Z');
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
const id = (n: number) => `cal-${n.toString(16).padStart(32, '0')}`;

beforeAll(async () => {
  tables = await createTestTables();
  calendarTables = { client: tables.client, stateTable: tables.state };
});

/** The connection's read model, as the connection commands write it (disconnected: what DELETE leaves). */
async function connection(n: number, status: 'connected' | 'needs_reauth' | 'disconnected' = 'connected') {
  const view = { id: id(n), status, organizerId: `org-${n}`, provider: 'caldav', calendars: [], createdAt: now.toISOString(), updatedAt: now.toISOString() };
  await tables.client.send(new PutCommand({ TableName: tables.state, Item: { ...calendarKeys.connection(id(n)), view } }));
}

async function seed(ids: number[], nextRunAt: string, state: 'ok' | 'needs_reauth' = 'ok') {
  for (const n of ids) {
    await connection(n, state === 'needs_reauth' ? 'needs_reauth' : 'connected');
    await writeSyncState(calendarTables, id(n), { state, failures: 0, cursors: {}, nextRunAt });
  }
}

describe('calendar sync dispatcher', () => {
  it('enqueues each due connection once, even when runs overlap, and leaves the others alone', async () => {
    await seed([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], at(-30));
    await seed([13, 14], at(60));
    await seed([15], at(-30), 'needs_reauth');
    const sent: SyncMessage[] = [];
    const enqueue = async (message: Omit<SyncMessage, 'requestedAt'> & { requestedAt?: string }) => void sent.push(message as SyncMessage);
    const runs = await Promise.all([1, 2, 3].map(() => dispatchDueSyncs({ tables: calendarTables, enqueue, now })));
    expect(runs.reduce((sum, run) => sum + run.enqueued, 0)).toBe(12);
    expect(sent.map((m) => m.connectionId).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(id).sort());
    expect(new Set(sent.map((m) => m.reason))).toEqual(new Set(['schedule']));
    // Claimed: queued, and off the due list until the claim lapses (or the worker writes its next run).
    const claimed = await readSyncState(calendarTables, id(1));
    expect(claimed).toMatchObject({ state: 'queued', nextRunAt: at(600) });
    expect((await dispatchDueSyncs({ tables: calendarTables, enqueue, now: new Date(at(30)) })).enqueued).toBe(0);
    // Later: the two that were not due are, and the claims have lapsed for the twelve whose worker never answered.
    const later = await dispatchDueSyncs({ tables: calendarTables, enqueue, now: new Date(at(601)) });
    expect(later.enqueued).toBe(14);
    expect(sent.filter((m) => m.connectionId === id(15))).toEqual([]);
  });

  it('gives the claim back when a send fails, so the next run enqueues it', async () => {
    const t = new Date('2031-01-01T00:00:00.000Z');
    await connection(100);
    await writeSyncState(calendarTables, id(100), { state: 'ok', failures: 0, cursors: {}, nextRunAt: '2030-12-31T23:59:00.000Z' });
    const failing = async () => {
      throw new Error('SQS is down');
    };
    await expect(dispatchDueSyncs({ tables: calendarTables, enqueue: failing, now: t })).rejects.toThrow(/could not be enqueued/);
    expect((await readSyncState(calendarTables, id(100))).nextRunAt).toBe('2030-12-31T23:59:00.000Z');
    const sent: string[] = [];
    const retried = await dispatchDueSyncs({ tables: calendarTables, enqueue: async (m) => void sent.push(m.connectionId), now: t });
    expect(sent).toContain(id(100));
    expect(retried.failed).toBe(0);
    const item = await tables.client.send(new (await import('@aws-sdk/lib-dynamodb')).GetCommand({ TableName: tables.state, Key: calendarKeys.sync(id(100)) }));
    expect(item.Item?.ownerSort).toBe(`${new Date(t.getTime() + 600_000).toISOString()}#${id(100)}`);
  });

  it('takes at most `limit` per run, and the rest at the next runs, each once', async () => {
    const t = new Date('2032-01-01T00:00:00.000Z');
    const ids = Array.from({ length: 40 }, (_, i) => 200 + i);
    for (const n of ids) await connection(n);
    for (const [i, n] of ids.entries()) await writeSyncState(calendarTables, id(n), { state: 'ok', failures: 0, cursors: {}, nextRunAt: new Date(t.getTime() - (i + 1) * 1000).toISOString() });
    const sent: string[] = [];
    const enqueue = async (m: { connectionId: string }) => void sent.push(m.connectionId);
    const first = await dispatchDueSyncs({ tables: calendarTables, enqueue, now: t, limit: 16 });
    expect(first.enqueued).toBeLessThanOrEqual(16);
    expect(first.enqueued).toBeGreaterThan(0);
    let runs = 1;
    while (ids.some((n) => !sent.includes(id(n)))) {
      await dispatchDueSyncs({ tables: calendarTables, enqueue, now: t, limit: 16 });
      runs++;
      expect(runs).toBeLessThanOrEqual(10);
    }
    expect(new Set(sent).size).toBe(sent.length);
  });

  it('drops the due entries of connections that are gone or wait for a new grant, instead of enqueueing them every claim period', async () => {
    const t = new Date('2033-01-01T00:00:00.000Z');
    const due = '2032-12-31T23:00:00.000Z';
    await seed([300], due);
    await connection(301, 'disconnected');
    await writeSyncState(calendarTables, id(301), { state: 'ok', failures: 0, cursors: {}, nextRunAt: due });
    // Never connected (a sync item left by a removed organizer): no read model at all.
    await writeSyncState(calendarTables, id(302), { state: 'ok', failures: 0, cursors: {}, nextRunAt: due });
    await connection(303, 'needs_reauth');
    await tables.client.send(new PutCommand({ TableName: tables.state, Item: { ...calendarKeys.sync(id(303)), ...calendarKeys.syncDue(id(303), due), connectionId: id(303), sync: { state: 'ok', failures: 0, cursors: {} } } }));
    const sent: string[] = [];
    const enqueue = async (m: { connectionId: string }) => void sent.push(m.connectionId);
    const run = await dispatchDueSyncs({ tables: calendarTables, enqueue, now: t });
    expect(sent.filter((c) => [300, 301, 302, 303].map(id).includes(c))).toEqual([id(300)]);
    expect(run.dropped).toBe(3);
    for (const n of [301, 302, 303]) {
      const { Item } = await tables.client.send(new GetCommand({ TableName: tables.state, Key: calendarKeys.sync(id(n)) }));
      expect(Item?.ownerSort, `connection ${n}`).toBeUndefined();
    }
    // Long after every claim would have lapsed: the dropped are not found again; the live one is, once.
    const later = await dispatchDueSyncs({ tables: calendarTables, enqueue, now: new Date(t.getTime() + 3600_000) });
    expect(later.dropped).toBe(0);
    expect(sent.filter((c) => c === id(300))).toHaveLength(2);
    expect(sent.filter((c) => [301, 302, 303].map(id).includes(c))).toEqual([]);
  });
});
