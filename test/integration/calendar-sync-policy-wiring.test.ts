// The sync policy (shared/calendar-sync/sync-policy.ts) as the worker and the enqueue path run it, against
// DynamoDB Local: triggers debounced where every trigger passes (enqueueSync), concurrent ones joined into one
// read, a full trigger making the pending read full; the next run from the period with bounded jitter; backoff
// and Retry-After from the policy; the full read from its fullResyncEverySeconds. The provider is an in-process
// calendar implementing the contract (the adapters are tested against Radicale and the local Google/Graph).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CalendarAdapters } from '../../shared/calendars/adapters.ts';
import { connectionCommand } from '../../shared/calendars/commands.ts';
import { CalendarUnavailableError, type BusyRead, type BusyReadOptions, type CalendarProvider } from '../../shared/calendars/provider.ts';
import { connectionIdOf, patchSyncState, readSyncState } from '../../shared/calendars/store.ts';
import { enqueueSync, type SyncMessage } from '../../shared/calendars/sync-queue.ts';
import { syncConnection, type SyncPorts } from '../../shared/calendars/sync-worker.ts';
import { credentialsWrite, sealCredentials } from '../../shared/calendars/vault.ts';
import { backoffSeconds, defaultSyncPolicy } from '../../shared/calendar-sync/sync-policy.ts';
import { createTestTables, type TestTables } from '../support/tables.ts';

let test: TestTables;
const dir = mkdtempSync(join(tmpdir(), 'sync-policy-'));
const tables = () => ({ client: test.client, eventsTable: test.events, stateTable: test.state });
const policy = defaultSyncPolicy(300);

beforeAll(async () => {
  test = await createTestTables();
  const key = join(dir, 'key');
  writeFileSync(key, randomBytes(32));
  process.env.CALENDAR_KEY_FILE = key;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function connected(organizerId: string) {
  const id = connectionIdOf(organizerId, 'caldav', `https://dav.example.com/${organizerId}/`);
  const sealed = await sealCredentials(id, { kind: 'basic', serverUrl: 'https://dav.example.com/', username: organizerId, password: 'pw' });
  await connectionCommand(tables(), id, { userId: organizerId }, {
    aggregateId: id,
    command: { type: 'Connect', organizerId, provider: 'caldav', calendars: [{ id: 'work', name: 'Work', primary: true, writable: true }], organizerHasDestination: false },
    alongside: [credentialsWrite(test.state, id, sealed)],
    createdAt: new Date().toISOString(),
    pointer: undefined,
  });
  await patchSyncState(tables(), id, { state: 'queued' });
  return id;
}

/** A calendar answering each read with the next answer, and noting the cursor each read started from. */
function calendar(answers: Array<BusyRead | Error>) {
  const cursors: Array<string | null | undefined> = [];
  const provider: CalendarProvider = {
    provider: 'caldav',
    account: async () => ({ email: 'host@example.com' }),
    listCalendars: async () => [],
    readBusy: async (_id: string, options: BusyReadOptions) => {
      cursors.push(options.cursor);
      const answer = answers.shift() ?? { full: !options.cursor, events: [], removed: [], cursor: 'next', requests: 1 };
      if (answer instanceof Error) throw answer;
      return answer;
    },
    putBookingEvent: async () => ({ externalEventId: 'x', created: true }),
    removeBookingEvent: async () => {},
    revoke: async () => {},
  };
  const adapters: CalendarAdapters = { providerFor: async () => provider, oauthFlow: async () => { throw new Error('no'); }, discoverCaldav: async () => { throw new Error('no'); } };
  return { adapters, cursors };
}

const message = (connectionId: string, reason: SyncMessage['reason'] = 'schedule', full = false): SyncMessage => ({ connectionId, reason, full, requestedAt: new Date().toISOString() });

describe('debounced triggers', () => {
  it('joins concurrent and later triggers into one enqueued read until it starts; then the next trigger enqueues after the window', async () => {
    const id = await connected('pw-ann');
    const sent: Array<[SyncMessage, number]> = [];
    const send = async (body: SyncMessage, delay: number) => void sent.push([body, delay]);
    const now = new Date();
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => enqueueSync({ connectionId: id, reason: i % 2 ? 'push' : 'request' }, 0, { tables: tables(), send, now, policy })));
    expect(outcomes.filter((o) => o === 'enqueued')).toHaveLength(1);
    expect(sent).toHaveLength(1);
    expect(sent[0]![1]).toBe(0);
    expect((await readSyncState(tables(), id)).pendingTriggerAt).toBe(now.toISOString());
    // Neither the schedule nor the worker's put-back is a trigger: sent as they are.
    expect(await enqueueSync({ connectionId: id, reason: 'schedule' }, 0, { tables: tables(), send, now, policy })).toBe('enqueued');
    expect(await enqueueSync({ connectionId: id, reason: 'push' }, 5, { tables: tables(), send, now, policy, debounce: false })).toBe('enqueued');
    expect(sent).toHaveLength(3);

    // The read starts: the pending trigger is served. A trigger now (within the window) waits for the window's end.
    const { adapters } = calendar([]);
    const ports: SyncPorts = { tables: tables(), adapters, enqueue: async () => {}, periodSeconds: 300, now: () => now };
    expect((await syncConnection(ports, message(id, 'request'))).outcome).toBe('synced');
    expect((await readSyncState(tables(), id)).pendingTriggerAt).toBeUndefined();
    const later = new Date(now.getTime() + 4000);
    expect(await enqueueSync({ connectionId: id, reason: 'push' }, 0, { tables: tables(), send, now: later, policy })).toBe('enqueued');
    expect(sent.at(-1)![1]).toBe(policy.debounceSeconds - 4);
  });

  it('a full trigger that joins a pending read makes it full; a pending mark whose message was lost lapses', async () => {
    const id = await connected('pw-bea');
    const { adapters, cursors } = calendar([]);
    const now = new Date();
    const ports: SyncPorts = { tables: tables(), adapters, enqueue: async () => {}, periodSeconds: 300, now: () => now };
    await syncConnection(ports, message(id, 'connect', true));
    const sent: SyncMessage[] = [];
    const send = async (body: SyncMessage) => void sent.push(body);
    const at = new Date(now.getTime() + 60_000);
    expect(await enqueueSync({ connectionId: id, reason: 'push' }, 0, { tables: tables(), send, now: at, policy })).toBe('enqueued');
    expect(await enqueueSync({ connectionId: id, reason: 'flags', full: true }, 0, { tables: tables(), send, now: at, policy })).toBe('joined');
    expect((await readSyncState(tables(), id)).fullRequested).toBe(true);
    await syncConnection({ ...ports, now: () => at }, sent[0]!);
    expect(cursors).toEqual([null, null]);
    expect((await readSyncState(tables(), id)).fullRequested).toBeUndefined();

    // A mark left by a send that never happened stops swallowing triggers once it has lapsed.
    await patchSyncState(tables(), id, { pendingTriggerAt: at.toISOString() });
    const soon = new Date(at.getTime() + 30_000);
    expect(await enqueueSync({ connectionId: id, reason: 'push' }, 0, { tables: tables(), send, now: soon, policy })).toBe('joined');
    const lapsed = new Date(at.getTime() + (policy.debounceSeconds + 121) * 1000);
    expect(await enqueueSync({ connectionId: id, reason: 'push' }, 0, { tables: tables(), send, now: lapsed, policy })).toBe('enqueued');
    // A failed send takes its mark back: the next trigger is not swallowed.
    const failing = async () => {
      throw new Error('SQS is down');
    };
    const after = new Date(lapsed.getTime() + 600_000);
    await syncConnection({ ...ports, now: () => after }, message(id));
    await expect(enqueueSync({ connectionId: id, reason: 'push' }, 0, { tables: tables(), send: failing, now: after, policy })).rejects.toThrow(/SQS/);
    expect(await enqueueSync({ connectionId: id, reason: 'push' }, 0, { tables: tables(), send, now: after, policy })).toBe('enqueued');
  });
});

describe('the worker on the policy', () => {
  it('schedules the next read from the period less a bounded jitter, and backs off on failures as the policy says', async () => {
    const id = await connected('pw-cy');
    const now = new Date('2030-03-05T12:00:00.000Z');
    const { adapters } = calendar([
      { full: true, events: [], removed: [], cursor: 'c1', requests: 1 },
      new Error('a 400 the provider will give again'),
      new CalendarUnavailableError('throttled', 900),
      { full: false, events: [], removed: [], cursor: 'c2', requests: 1 },
    ]);
    let random = 0.5;
    const ports: SyncPorts = { tables: tables(), adapters, enqueue: async () => {}, periodSeconds: 300, now: () => now, random: () => random };
    await syncConnection(ports, message(id));
    // 300 s less floor(0.5 * 30) = 285 s.
    expect((await readSyncState(tables(), id)).nextRunAt).toBe('2030-03-05T12:04:45.000Z');

    random = 0;
    await expect(syncConnection(ports, message(id))).rejects.toThrow(/400/);
    let state = await readSyncState(tables(), id);
    expect(state).toMatchObject({ state: 'failing', failures: 1, failingSince: now.toISOString() });
    expect(Date.parse(state.nextRunAt!) - now.getTime()).toBe(backoffSeconds(1, policy, 0) * 1000);
    // Retry-After above the backoff wins (capped at the policy's maximum).
    await expect(syncConnection(ports, message(id))).rejects.toThrow(/throttled/);
    state = await readSyncState(tables(), id);
    expect(state.failures).toBe(2);
    expect(Date.parse(state.nextRunAt!) - now.getTime()).toBe(900_000);
    await syncConnection(ports, message(id));
    state = await readSyncState(tables(), id);
    expect(state).toMatchObject({ state: 'ok', failures: 0 });
    expect(state.failingSince).toBeUndefined();
  });

  it('reads in full when the policy\'s fullResyncEverySeconds has passed, incrementally before', async () => {
    const id = await connected('pw-dee');
    const { adapters, cursors } = calendar([]);
    const t0 = new Date('2030-03-05T12:00:00.000Z');
    const hourly = { ...defaultSyncPolicy(300), fullResyncEverySeconds: 3600 };
    const ports = (at: Date): SyncPorts => ({ tables: tables(), adapters, enqueue: async () => {}, periodSeconds: 300, policy: hourly, now: () => at });
    await syncConnection(ports(t0), message(id));
    await syncConnection(ports(new Date(t0.getTime() + 1800_000)), message(id));
    await syncConnection(ports(new Date(t0.getTime() + 3600_000)), message(id));
    expect(cursors).toEqual([null, 'next', null]);
  });
});
