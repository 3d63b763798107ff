// The `sync` section of `npm run bench`: the calendar sync engine on the local stack, with the schedule at a
// short period (SYNC_PERIOD_SECONDS, 5 unless set). Three figures, each beside its goal or floor:
// 1. requests per unchanged calendar per sync cycle, per provider, counted by the SERVER (Radicale's own log, the
//    local Google and Graph servers' request counters), not by the adapter's own tally;
// 2. time from an external change (a plain CalDAV PUT or DELETE) to GET /slots showing it, by the schedule alone,
//    beside the period and a direct run of the sync worker on the same change;
// 3. worker throughput: N CalDAV connections enqueued at once, until every one has a newer lastSuccessAt, beside
//    the same incremental reads made by calling the CalDAV adapter directly.
// Every wait is bounded by a count of polls; nothing here passes or fails on time.
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startCaldavServer } from '../../infra/local/caldav-server.ts';
import { localAwsConfig } from '../../infra/local/dynamodb-local.ts';
import type { LocalStack } from '../../infra/local/runtime.ts';
import { caldavProvider, discoverCaldav, type CaldavCredentials } from '../../shared/calendars/providers/caldav.ts';
import { calendarKeys } from '../../shared/calendars/store.ts';
import { BUSY_WINDOW_DAYS } from '../../shared/calendars/sync-worker.ts';

export type SyncFigure = {
  section: string;
  name: string;
  concurrency?: number;
  count: number;
  p50Ms: number;
  p99Ms: number;
  perSecond?: number;
  floor?: string;
  /** Figure 1 only: server-side requests per sync cycle of an unchanged calendar. */
  requestsPerCycle?: number;
  /** Figure 1 only: what those requests were (method and path, or method only). */
  requestKinds?: Record<string, number>;
};

export type SyncBenchOptions = {
  stack: LocalStack;
  documents: DynamoDBDocumentClient;
  stateTable: string;
  dataDir: string;
  /** The schedule's period the stack runs at (SYNC_PERIOD_SECONDS). */
  periodSeconds: number;
  /** Sync cycles observed per provider for figure 1. */
  cycles?: number;
  /** External changes for figure 2 (each a PUT and then a DELETE: two samples). */
  changes?: number;
  /** CalDAV connections enqueued at once for figure 3. */
  connections?: number;
};

const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
const ics = (uid: string, start: Date, end: Date) =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//bench//sync//EN', 'BEGIN:VEVENT', `UID:${uid}`, `DTSTAMP:${stamp(new Date())}`, `DTSTART:${stamp(start)}`, `DTEND:${stamp(end)}`, 'SUMMARY:Bench', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

/** Runs `operation` over `items` with `concurrency` in flight. */
async function pool<T>(items: T[], concurrency: number, operation: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await operation(items[i]!, i);
    }
  }));
}

export async function benchCalendarSync(options: SyncBenchOptions): Promise<SyncFigure[]> {
  const { stack, documents, stateTable, periodSeconds } = options;
  const periodMs = periodSeconds * 1000;
  const cycles = options.cycles ?? 6;
  const changes = options.changes ?? 10;
  const loadConnections = options.connections ?? 100;
  const figures: SyncFigure[] = [];
  // The in-bench adapter calls (the floors) talk to a loopback server, as the stack's functions may.
  const loopback = { allowLoopback: true };

  const call = async (method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any; text: string }> => {
    const response = await fetch(stack.httpUrl + path, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
  };
  const must = async (method: string, path: string, token: string | undefined, body: unknown, status: number) => {
    const result = await call(method, path, token, body);
    if (result.status !== status) throw new Error(`${method} ${path} answered ${result.status}, not ${status}: ${result.text.slice(0, 300)}`);
    return result.body;
  };
  const organizer = async (userId: string) => {
    const token = await stack.issuer.sign(userId);
    await must('POST', '/users/me', token, { name: userId, email: `${userId}@example.com`, timeZone: 'UTC' }, 201);
    return token;
  };

  /** The sync state of many connections at once, straight from the table (one BatchGetItem per 100). */
  const syncStates = async (ids: string[]) => {
    const states = new Map<string, { state?: string; lastSuccessAt?: string }>();
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = ids.slice(i, i + 100).map((id) => calendarKeys.sync(id));
      for (let attempt = 0; keys?.length && attempt < 10; attempt++) {
        const answer = await documents.send(new BatchGetCommand({ RequestItems: { [stateTable]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'connectionId, #sync', ExpressionAttributeNames: { '#sync': 'sync' } } } }));
        for (const item of answer.Responses?.[stateTable] ?? []) states.set(item.connectionId as string, (item.sync ?? {}) as { state?: string; lastSuccessAt?: string });
        keys = answer.UnprocessedKeys?.[stateTable]?.Keys as Record<string, unknown>[] | undefined;
      }
    }
    return states;
  };
  /** Polls (every `everyMs`, at most `tries` times) until every connection has synced after `after` (ISO). */
  const untilSyncedAfter = async (ids: string[], after: string, tries: number, everyMs = 100) => {
    const syncedAt = new Map<string, number>();
    for (let i = 0; i < tries && syncedAt.size < ids.length; i++) {
      const states = await syncStates(ids.filter((id) => !syncedAt.has(id)));
      const now = performance.now();
      for (const [id, sync] of states) if (sync.lastSuccessAt && sync.lastSuccessAt > after && !syncedAt.has(id)) syncedAt.set(id, now);
      if (syncedAt.size < ids.length) await sleep(everyMs);
    }
    return syncedAt;
  };

  // A CalDAV server of the bench's own (real Radicale), so that its log holds this section's requests only.
  const loadUsers = Array.from({ length: loadConnections }, (_, n) => `sync-load-${String(n).padStart(3, '0')}`);
  const users: Record<string, string> = { 'sync-unchanged': 'unchanged-secret', 'sync-change': 'change-secret' };
  for (const user of loadUsers) users[user] = `${user}-secret`;
  const dav = await startCaldavServer({ dataDir: join(options.dataDir, 'bench-caldav'), users });
  try {
    const connectCaldav = async (token: string, username: string) => {
      const made = await must('POST', '/calendars/connections', token, { provider: 'caldav', serverUrl: dav.url, username, password: users[username] }, 201);
      return { id: made.id as string, calendarUrl: made.calendars[0].id as string };
    };
    /** The OAuth round trip by following redirects, choosing `account` at the provider's consent page (login_hint). */
    const connectOAuth = async (provider: 'google' | 'microsoft', token: string, account: string) => {
      const consent = provider === 'google' ? `${stack.google.url}/o/oauth2/v2/auth` : `${stack.graph.url}/common/oauth2/v2.0/authorize`;
      let url = new URL(`${stack.httpUrl}/calendars/connect/${provider}`);
      for (let hop = 0; hop < 10; hop++) {
        if (`${url.origin}${url.pathname}` === consent) url.searchParams.set('login_hint', account);
        const ours = url.origin === new URL(stack.httpUrl).origin && url.pathname.startsWith('/calendars/connect/');
        const response = await fetch(url, { redirect: 'manual', headers: ours ? { authorization: `Bearer ${token}` } : {} });
        await response.arrayBuffer();
        if (response.status !== 302) {
          const connection = url.searchParams.get('connection');
          if (url.searchParams.get('result') !== 'connected' || !connection) throw new Error(`${provider} connect ended at ${url.pathname} with ${response.status}: ${url.search}`);
          return connection;
        }
        url = new URL(response.headers.get('location')!, url);
      }
      throw new Error(`${provider} connect: too many redirects`);
    };

    // ---- 1. Requests per unchanged calendar per cycle, counted by each server.
    const googleAccount = 'bench-unchanged@example.com';
    const graphAccount = 'bench-unchanged@example.com';
    const unchanged = {
      caldav: await connectCaldav(await organizer('bench-sync-dav'), 'sync-unchanged').then((c) => c.id),
      google: await connectOAuth('google', await organizer('bench-sync-google'), googleAccount),
      microsoft: await connectOAuth('microsoft', await organizer('bench-sync-graph'), graphAccount),
    };
    const radicaleRequests = (fromByte: number, user: string) => {
      const kinds: Record<string, number> = {};
      const text = readFileSync(dav.logFile, 'utf8').slice(fromByte);
      for (const match of text.matchAll(/\[INFO\] (\w+) request for '([^']*)'/g)) {
        if (!match[2]!.startsWith(`/${user}/`)) continue;
        const kind = `${match[1]} ${match[2]!.replace(`/${user}/`, '/<user>/')}`;
        kinds[kind] = (kinds[kind] ?? 0) + 1;
      }
      return kinds;
    };
    const fakeRequests = async (provider: 'google' | 'microsoft', account: string, since: number) => {
      const base = provider === 'google' ? stack.google.url : stack.graph.url;
      const answer = (await (await fetch(`${base}/dev/requests?user=${encodeURIComponent(account)}`)).json()) as { requests: Array<{ at: string; method: string; path: string }> };
      const kinds: Record<string, number> = {};
      for (const r of answer.requests) {
        if (Date.parse(r.at) < since) continue;
        const kind = `${r.method} ${r.path.replace(/\/(calendars|users)\/[^/]+/, '/$1/<id>').replace(/\/events\/[^/]+/, '/events/<id>')}`;
        kinds[kind] = (kinds[kind] ?? 0) + 1;
      }
      return kinds;
    };
    const ids = Object.values(unchanged);
    // Settle: the first (full) reads and, for Google and Graph, the watch channel and subscription.
    const first = new Date().toISOString();
    await untilSyncedAfter(ids, first, Math.ceil((6 * periodMs) / 100));
    // Then count from just after one scheduled run of each to just after `cycles` more of each.
    const lastSeen = new Map<string, string>();
    for (const [id, sync] of await syncStates(ids)) lastSeen.set(id, sync.lastSuccessAt ?? '');
    const runTimes = new Map<string, number[]>(ids.map((id) => [id, []]));
    const marks = new Map<string, { at: number; byte: number }>();
    const ends = new Map<string, { at: number; byte: number }>();
    const tries = Math.ceil(((cycles + 2) * 3 * periodMs) / 100);
    for (let i = 0; i < tries && ends.size < ids.length; i++) {
      const states = await syncStates(ids);
      for (const [id, sync] of states) {
        if (!sync.lastSuccessAt || sync.lastSuccessAt === lastSeen.get(id) || ends.has(id)) continue;
        lastSeen.set(id, sync.lastSuccessAt);
        const mark = { at: Date.now(), byte: statSync(dav.logFile).size };
        if (!marks.has(id)) marks.set(id, mark);
        else {
          runTimes.get(id)!.push(Date.parse(sync.lastSuccessAt));
          if (runTimes.get(id)!.length >= cycles) ends.set(id, mark);
        }
      }
      await sleep(100);
    }
    const describeKinds = (kinds: Record<string, number>) => Object.entries(kinds).map(([kind, n]) => `${n}x ${kind}`).join(', ') || 'none';
    for (const [provider, id] of Object.entries(unchanged) as Array<['caldav' | 'google' | 'microsoft', string]>) {
      const mark = marks.get(id);
      const end = ends.get(id);
      const runs = runTimes.get(id)!;
      if (!mark || !end) {
        figures.push({ section: 'sync', name: `${provider}: unchanged calendar, requests per cycle`, count: runs.length, p50Ms: NaN, p99Ms: NaN, floor: `did not see ${cycles} scheduled runs` });
        continue;
      }
      let kinds: Record<string, number>;
      if (provider === 'caldav') {
        // Only the requests logged between the two marks: bytes mark.byte .. end.byte.
        const all = radicaleRequests(mark.byte, 'sync-unchanged');
        const after = radicaleRequests(end.byte, 'sync-unchanged');
        kinds = Object.fromEntries(Object.entries(all).map(([k, n]) => [k, n - (after[k] ?? 0)]).filter(([, n]) => (n as number) > 0));
      } else {
        const account = provider === 'google' ? googleAccount : graphAccount;
        const all = await fakeRequests(provider, account, mark.at);
        const after = await fakeRequests(provider, account, end.at);
        kinds = Object.fromEntries(Object.entries(all).map(([k, n]) => [k, n - (after[k] ?? 0)]).filter(([, n]) => (n as number) > 0));
      }
      const total = Object.values(kinds).reduce((a, b) => a + b, 0);
      const gaps = runs.slice(1).map((t, n) => t - runs[n]!);
      const server = provider === 'caldav' ? "Radicale's log" : "server's counter";
      figures.push({
        section: 'sync',
        name: `${provider} unchanged: ${(total / runs.length).toFixed(2)} requests/cycle (${server})`,
        count: runs.length,
        p50Ms: percentile(gaps, 50),
        p99Ms: percentile(gaps, 99),
        requestsPerCycle: total / runs.length,
        requestKinds: kinds,
        floor: `goal 1; ms: between runs (period ${periodMs}); ${describeKinds(kinds)}`,
      });
    }

    // ---- 2. External change -> slot change, by the schedule alone.
    const changeToken = await organizer('bench-sync-change');
    const allWeek = (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const).map((day) => ({ day, start: '00:00', end: '24:00' }));
    const schedule = await must('POST', '/schedules', changeToken, { name: 'Always', timeZone: 'UTC', weekly: allWeek }, 201);
    const eventType = await must('POST', '/event-types', changeToken, { title: 'Sync bench', slug: 'sync-bench', lengthMinutes: 30, scheduleId: schedule.id }, 201);
    const changing = await connectCaldav(changeToken, 'sync-change');
    await untilSyncedAfter([changing.id], new Date(0).toISOString(), Math.ceil((4 * periodMs) / 100));
    const day = new Date(Math.floor(Date.now() / DAY) * DAY + 10 * DAY);
    const date = day.toISOString().slice(0, 10);
    const slotStarts = async () => {
      const answer = await call('GET', `/slots?eventTypeId=${eventType.id}&start=${date}&end=${date}&timeZone=UTC`);
      if (answer.status !== 200) throw new Error(`GET /slots answered ${answer.status}: ${answer.text.slice(0, 200)}`);
      return new Set(((answer.body.slots[date] ?? []) as Array<{ start: string } | string>).map((s) => new Date(typeof s === 'string' ? s : s.start).toISOString()));
    };
    const changeAuth = { authorization: basic('sync-change', users['sync-change']!) };
    const put = async (name: string, start: Date) => {
      const response = await fetch(`${changing.calendarUrl}${name}.ics`, { method: 'PUT', headers: { ...changeAuth, 'content-type': 'text/calendar' }, body: ics(`${name}-${randomUUID()}`, start, new Date(start.getTime() + 30 * 60_000)) });
      await response.arrayBuffer();
      if (response.status !== 201) throw new Error(`CalDAV PUT answered ${response.status}`);
    };
    const remove = async (name: string) => {
      const response = await fetch(`${changing.calendarUrl}${name}.ics`, { method: 'DELETE', headers: changeAuth });
      await response.arrayBuffer();
      if (response.status >= 300) throw new Error(`CalDAV DELETE answered ${response.status}`);
    };
    /** Polls GET /slots (at most `tries` times) until `done`; the time of the first answer that shows it. */
    const slotsUntil = async (done: (starts: Set<string>) => boolean, tries: number) => {
      for (let i = 0; i < tries; i++) {
        if (done(await slotStarts())) return performance.now();
        await sleep(50);
      }
      return undefined;
    };
    const bySchedule: number[] = [];
    let missed = 0;
    const pollTries = Math.ceil((4 * periodMs) / 50);
    for (let n = 0; n < changes; n++) {
      const start = new Date(day.getTime() + (1 + n) * 3_600_000);
      const slot = start.toISOString();
      // A random phase against the schedule, so the samples cover the whole period rather than one moment of it.
      await sleep(Math.random() * periodMs);
      await put(`change-${n}`, start);
      const putAt = performance.now();
      const gone = await slotsUntil((starts) => !starts.has(slot), pollTries);
      if (gone === undefined) missed++;
      else bySchedule.push(gone - putAt);
      await sleep(Math.random() * periodMs);
      await remove(`change-${n}`);
      const removedAt = performance.now();
      const back = await slotsUntil((starts) => starts.has(slot), pollTries);
      if (back === undefined) missed++;
      else bySchedule.push(back - removedAt);
    }
    // The floor: the same change read by a direct run of the sync worker (its handler, invoked with the queue's
    // message), then GET /slots once; right after a scheduled run, so that no scheduled read holds the lease.
    const worker = [...stack.lambda.functions.values()].find((fn) => fn.entry === 'functions/sync/calendar-sync.ts');
    if (!worker) throw new Error('no sync worker function in the template');
    const direct: number[] = [];
    const slotReads: number[] = [];
    for (let n = 0; n < Math.min(changes, 6); n++) {
      const start = new Date(day.getTime() + (13 + n) * 3_600_000);
      const slot = start.toISOString();
      const before = (await syncStates([changing.id])).get(changing.id)?.lastSuccessAt ?? '';
      await untilSyncedAfter([changing.id], before, Math.ceil((3 * periodMs) / 50), 50);
      await put(`direct-${n}`, start);
      const t = performance.now();
      await stack.lambda.invoke(worker.logicalId, { Records: [{ messageId: randomUUID(), body: JSON.stringify({ connectionId: changing.id, reason: 'request', requestedAt: new Date().toISOString() }) }] });
      const ran = performance.now() - t;
      const s = performance.now();
      const starts = await slotStarts();
      // Counted only when the direct run was the one that read the change (no scheduled read got there first).
      if (!starts.has(slot)) (direct.push(ran), slotReads.push(performance.now() - s));
      await remove(`direct-${n}`);
    }
    figures.push({
      section: 'sync',
      name: 'CalDAV PUT/DELETE -> GET /slots shows it (schedule)',
      count: bySchedule.length,
      p50Ms: percentile(bySchedule, 50),
      p99Ms: percentile(bySchedule, 99),
      floor: `period ${periodMs} ms; direct worker run ${percentile(direct, 50).toFixed(0)} ms p50 + GET /slots ${percentile(slotReads, 50).toFixed(0)} ms (n=${direct.length})${missed ? `; ${missed} not seen in ${4 * periodSeconds} s` : ''}`,
    });

    // ---- 3. Worker throughput: N CalDAV connections, one organizer each, enqueued at once.
    const load = loadUsers.map((user) => ({ user, id: '', calendarUrl: '', token: '' }));
    await pool(load, 4, async (entry) => {
      entry.token = await organizer(`bench-load-${entry.user}`);
      Object.assign(entry, await connectCaldav(entry.token, entry.user));
    });
    const loadIds = load.map((entry) => entry.id);
    const connectedSynced = await untilSyncedAfter(loadIds, new Date(0).toISOString(), Math.ceil((12 * periodMs) / 200), 200);
    if (connectedSynced.size < loadIds.length) throw new Error(`only ${connectedSynced.size} of ${loadIds.length} new connections synced`);
    const queueUrl = Object.entries(stack.queues).find(([id]) => /^Calendars.*SyncQueue/.test(id) && !/DLQ|Dead/.test(id))?.[1];
    if (!queueUrl) throw new Error(`no calendar sync queue among ${Object.keys(stack.queues).join(', ')}`);
    const sqs = new SQSClient({ ...localAwsConfig, endpoint: stack.sqsEndpoint });
    const rounds: Array<{ perSecond: number; latencies: number[]; synced: number }> = [];
    for (let round = 0; round < 3; round++) {
      const after = new Date().toISOString();
      const t = performance.now();
      await Promise.all(
        Array.from({ length: Math.ceil(loadIds.length / 10) }, (_, b) =>
          sqs.send(new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: loadIds.slice(b * 10, b * 10 + 10).map((connectionId, i) => ({ Id: String(i), MessageBody: JSON.stringify({ connectionId, reason: 'request', requestedAt: after }) })),
          })),
        ),
      );
      const synced = await untilSyncedAfter(loadIds, after, Math.ceil((loadIds.length * 2_000 + 10 * periodMs) / 100));
      const latencies = [...synced.values()].map((at) => at - t);
      rounds.push({ perSecond: (synced.size / Math.max(...latencies)) * 1000, latencies, synced: synced.size });
      // Let the schedule's own reads of these connections pass before the next round.
      await sleep(periodMs);
    }
    // The floor: the same incremental reads, by the CalDAV adapter directly (one request each), five at once as
    // the worker's event source allows, and one at a time.
    const credentials: Array<{ credentials: CaldavCredentials; calendarUrl: string; cursor: string | null }> = [];
    await pool(load, 4, async (entry) => {
      const found = await discoverCaldav({ serverUrl: dav.url, username: entry.user, password: users[entry.user]! }, loopback);
      credentials.push({ credentials: found.credentials, calendarUrl: entry.calendarUrl, cursor: null });
    });
    const window = { from: new Date(Date.now() - DAY).toISOString(), to: new Date(Date.now() + BUSY_WINDOW_DAYS * DAY).toISOString(), timeZone: 'UTC' };
    await pool(credentials, 4, async (c) => {
      c.cursor = (await caldavProvider(c.credentials, loopback).readBusy(c.calendarUrl, { ...window, cursor: null })).cursor;
    });
    const readAll = async (concurrency: number) => {
      const each: number[] = [];
      let requests = 0;
      const t = performance.now();
      await pool(credentials, concurrency, async (c) => {
        const r = performance.now();
        const read = await caldavProvider(c.credentials, loopback).readBusy(c.calendarUrl, { ...window, cursor: c.cursor });
        each.push(performance.now() - r);
        requests += read.requests;
        c.cursor = read.cursor;
      });
      return { perSecond: (credentials.length / (performance.now() - t)) * 1000, each, requests };
    };
    const floorFive = await readAll(5);
    const floorOne = await readAll(1);
    const best = rounds.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    figures.push({
      section: 'sync',
      name: `worker: ${loadIds.length} CalDAV syncs enqueued at once -> all done`,
      concurrency: 5,
      count: best.synced,
      p50Ms: percentile(best.latencies, 50),
      p99Ms: percentile(best.latencies, 99),
      perSecond: best.perSecond,
      floor: `adapter alone: ${floorFive.perSecond.toFixed(1)}/s 5 at once, ${floorOne.perSecond.toFixed(1)}/s one at a time (${percentile(floorOne.each, 50).toFixed(1)} ms a read, ${(floorOne.requests / credentials.length).toFixed(2)} requests); rounds ${rounds.map((r) => r.perSecond.toFixed(1)).join(', ')}/s`,
    });
  } finally {
    await dav.close();
  }
  return figures;
}
