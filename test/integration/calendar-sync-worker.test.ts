// The sync worker and the busy-time store against DynamoDB Local. The provider here is an in-process calendar
// that implements the contract and holds its answer until released: what is under test is the worker's lease
// (one read per connection, a request during a read read again after it), the merge, and needs_reauth; the
// adapters themselves are tested against Radicale and the local Google/Graph servers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import type { CalendarAdapters } from '../../shared/calendars/adapters.ts';
import { applyBusyRead, externalBusy } from '../../shared/calendars/busy-store.ts';
import { connectionCommand } from '../../shared/calendars/commands.ts';
import { CalendarAuthError, type BusyRead, type CalendarProvider } from '../../shared/calendars/provider.ts';
import { connectionIdOf, readSyncState } from '../../shared/calendars/store.ts';
import type { SyncMessage } from '../../shared/calendars/sync-queue.ts';
import { REQUEUE_DELAY_SECONDS, syncConnection } from '../../shared/calendars/sync-worker.ts';
import { credentialsWrite, sealCredentials } from '../../shared/calendars/vault.ts';
import { createTestTables, type TestTables } from '../support/tables.ts';

let tables: TestTables;
const dir = mkdtempSync(join(tmpdir(), 'sync-worker-'));
const span = (hour: number) => ({ start: `2030-01-07T${String(hour).padStart(2, '0')}:00:00.000Z`, end: `2030-01-07T${String(hour + 1).padStart(2, '0')}:00:00.000Z` });
const day = { start: Date.parse('2030-01-07T00:00:00Z'), end: Date.parse('2030-01-08T00:00:00Z') };
const hoursOf = async (hostId: string) => ((await externalBusy(bt(), [hostId], day)).get(hostId) ?? []).map((s) => new Date(s.start).getUTCHours()).sort((a, b) => a - b);
const bt = () => ({ client: tables.client, eventsTable: tables.events, stateTable: tables.state });

beforeAll(async () => {
  tables = await createTestTables();
  const key = join(dir, 'key');
  writeFileSync(key, randomBytes(32));
  process.env.CALENDAR_KEY_FILE = key;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function connected(organizerId: string) {
  const id = connectionIdOf(organizerId, 'caldav', `https://dav.example.com/${organizerId}/`);
  const sealed = await sealCredentials(id, { kind: 'basic', serverUrl: 'https://dav.example.com/', username: organizerId, password: 'pw' });
  await connectionCommand(bt(), id, { userId: organizerId }, {
    aggregateId: id,
    command: { type: 'Connect', organizerId, provider: 'caldav', calendars: [{ id: 'work', name: 'Work', primary: true, writable: true }], organizerHasDestination: false },
    alongside: [credentialsWrite(tables.state, id, sealed)],
    createdAt: new Date().toISOString(),
    pointer: undefined,
  });
  return id;
}

/** A calendar that answers each read with the next of `answers`, each only once `release()` is called. */
function heldCalendar(answers: Array<BusyRead | Error>) {
  const waiting: Array<() => void> = [];
  let reads = 0;
  const provider: CalendarProvider = {
    provider: 'caldav',
    account: async () => ({ email: 'ann@example.com' }),
    listCalendars: async () => [],
    readBusy: async () => {
      const answer = answers[reads++]!;
      await new Promise<void>((resolve) => waiting.push(resolve));
      if (answer instanceof Error) throw answer;
      return answer;
    },
    putBookingEvent: async () => ({ externalEventId: 'x', created: true }),
    removeBookingEvent: async () => {},
    revoke: async () => {},
  };
  const adapters: CalendarAdapters = { providerFor: async () => provider, oauthFlow: async () => { throw new Error('no'); }, discoverCaldav: async () => { throw new Error('no'); } };
  const release = async () => {
    for (let i = 0; i < 200 && waiting.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    waiting.shift()!();
  };
  return { adapters, release, reads: () => reads };
}

const read = (partial: Partial<BusyRead>): BusyRead => ({ full: true, events: [], removed: [], cursor: null, requests: 1, ...partial });

describe('the sync worker', () => {
  it('a request that arrives while a read runs is put back and read after it: never dropped, never concurrent', async () => {
    const id = await connected('sw-ann');
    const calendar = heldCalendar([read({ events: [{ externalEventId: 'a', spans: [span(9)] }], cursor: 'c1' }), read({ full: false, events: [{ externalEventId: 'b', spans: [span(11)] }], cursor: 'c2' })]);
    const queued: Array<[SyncMessage, number]> = [];
    const ports = { tables: bt(), adapters: calendar.adapters, enqueue: async (message: SyncMessage, delay: number) => void queued.push([message, delay]), periodSeconds: 300 };
    const first = syncConnection(ports, { connectionId: id, reason: 'connect', full: true, requestedAt: new Date().toISOString() });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await syncConnection(ports, { connectionId: id, reason: 'request', requestedAt: new Date().toISOString() });
    expect(second.outcome).toBe('requeued');
    expect(queued).toEqual([[expect.objectContaining({ connectionId: id, reason: 'request' }), REQUEUE_DELAY_SECONDS]]);
    await calendar.release();
    expect((await first).outcome).toBe('synced');
    expect(await hoursOf('sw-ann')).toEqual([9]);
    const state = await readSyncState(bt(), id);
    expect(state).toMatchObject({ state: 'ok', failures: 0, cursors: { work: 'c1' } });
    // The request put back runs now, incrementally from the cursor, and merges.
    const again = syncConnection(ports, queued[0]![0]);
    await calendar.release();
    expect((await again).outcome).toBe('synced');
    expect(await hoursOf('sw-ann')).toEqual([9, 11]);
    expect(calendar.reads()).toBe(2);
  });

  it('a read that fails leaves the busy time as it was, backs off, says why, and throws for the queue to retry', async () => {
    const id = await connected('sw-bea');
    await applyBusyRead(bt(), { hostId: 'sw-bea', connectionId: id, calendarId: 'work' }, read({ events: [{ externalEventId: 'a', spans: [span(10)] }] }));
    const calendar = heldCalendar([new Error('503 from the server')]);
    const ports = { tables: bt(), adapters: calendar.adapters, enqueue: async () => {}, periodSeconds: 300 };
    const run = syncConnection(ports, { connectionId: id, reason: 'request', requestedAt: new Date().toISOString() });
    await calendar.release();
    await expect(run).rejects.toThrow(/503/);
    expect(await hoursOf('sw-bea')).toEqual([10]);
    const state = await readSyncState(bt(), id);
    expect(state).toMatchObject({ state: 'failing', failures: 1, lastError: expect.stringContaining('503') });
    expect(Date.parse(state.nextRunAt!)).toBeGreaterThan(Date.now());
  });

  it('a refused grant makes the connection needs_reauth (recorded once) and it is not read again until reconnected', async () => {
    const id = await connected('sw-cy');
    const calendar = heldCalendar([new CalendarAuthError('invalid_grant')]);
    const ports = { tables: bt(), adapters: calendar.adapters, enqueue: async () => {}, periodSeconds: 300 };
    const run = syncConnection(ports, { connectionId: id, reason: 'request', requestedAt: new Date().toISOString() });
    await calendar.release();
    expect((await run).outcome).toBe('needs_reauth');
    expect((await syncConnection(ports, { connectionId: id, reason: 'request', requestedAt: new Date().toISOString() })).outcome).toBe('skipped');
    const events = await new EventStore(tables.client, tables.events).load(id);
    expect(events.map((e) => e.type)).toEqual(['calendar.connected', 'calendar.reauth.required']);
    expect((await readSyncState(bt(), id)).state).toBe('needs_reauth');
  });
});

describe('the busy-time store in DynamoDB', () => {
  it('merges: incremental reads add and remove per event, a full read removes only what vanished from its calendar', async () => {
    const host = 'bs-dee';
    const target = (calendarId: string) => ({ hostId: host, connectionId: 'cal-x', calendarId });
    await applyBusyRead(bt(), target('work'), read({ events: [{ externalEventId: 'a', spans: [span(9)] }, { externalEventId: 'b', spans: [span(10)] }] }));
    await applyBusyRead(bt(), target('home'), read({ events: [{ externalEventId: 'h', spans: [span(15)] }] }));
    expect(await hoursOf(host)).toEqual([9, 10, 15]);
    await applyBusyRead(bt(), target('work'), read({ full: false }));
    expect(await hoursOf(host)).toEqual([9, 10, 15]);
    await applyBusyRead(bt(), target('work'), read({ full: false, events: [{ externalEventId: 'c', spans: [span(12)] }, { externalEventId: 'b', spans: [span(13)] }], removed: ['a'] }));
    expect(await hoursOf(host)).toEqual([12, 13, 15]);
    await applyBusyRead(bt(), target('work'), read({ full: true, events: [{ externalEventId: 'c', spans: [span(12)] }] }));
    expect(await hoursOf(host)).toEqual([12, 15]);
  });
});
