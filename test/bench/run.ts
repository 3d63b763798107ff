// `npm run bench`: the booking engine's speed on the local stack, each figure beside its floor measured in
// the same run. Prints a table and writes test/bench/results/latest.json. Not a test: nothing here passes or
// fails on time.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import WebSocket from 'ws';
import { startDynamoDbLocal, localAwsConfig } from '../../infra/local/dynamodb-local.ts';
import { startLocalStack } from '../../infra/local/runtime.ts';
import { synthesizeTemplate } from '../../infra/synth.ts';
import { busyDayKey, busyDayRange, busyDayUpdate, claimCellKey, claimUpdate, planBusyDayChanges, planClaimChanges } from '../../shared/booking/time-claims.ts';
import { ListenerFeed } from '../../shared/realtime/feed.ts';
import { BENCH_DAYS, benchAvailability, benchTeam } from './availability-bench.ts';
import { BatchGetCommand, BatchWriteCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { keys as directoryKeys } from '../../shared/scheduling/directory.ts';
import { eventTypeKey } from '../../shared/event-types/read-model.ts';
import { functionEntries, measureColdStarts, printColdStarts } from './cold-start.ts';
import { benchCalendarPush, PUSH_BENCH_SYNC_PERIOD_SECONDS } from './calendar-push.ts';

type Figure = { section: string; name: string; concurrency?: number; count: number; p50Ms: number; p99Ms: number; perSecond?: number; floor?: string };

const figures: Figure[] = [];

/**
 * `npm run bench -- --only=idle,availability` runs only the named sections (load, idle, payment, resume, console,
 * availability, sync, push, cold-start); all of them by default.
 */
const SECTIONS = ['load', 'idle', 'payment', 'resume', 'console', 'availability', 'sync', 'push', 'cold-start'] as const;
const onlyArgument = process.argv.find((arg) => arg.startsWith('--only='));
const selected = new Set(onlyArgument ? onlyArgument.slice('--only='.length).split(',') : SECTIONS);
for (const name of selected) if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`unknown bench section ${name}; known: ${SECTIONS.join(', ')}`);
const runs = (section: (typeof SECTIONS)[number]) => selected.has(section);

/** Writes busy intervals as claim cells and day summaries, the way bookings leave them, without going through bookings. */
async function seedBusy(client: DynamoDBDocumentClient, tableName: string, hostId: string, busy: Array<{ start: number; end: number }>) {
  const cells = new Map<number, Record<string, unknown>>();
  busy.forEach((interval, n) => {
    for (let minute = interval.start / 60_000; minute < interval.end / 60_000; minute++) {
      const hour = Math.floor(minute / 60);
      const cell = cells.get(hour) ?? { ...claimCellKey(hostId, hour), hostId, hourStart: new Date(hour * 3_600_000).toISOString() };
      cell[`m${String(minute % 60).padStart(2, '0')}`] = `busy-${n}`;
      cells.set(hour, cell);
    }
  });
  // And the per-day summaries slot queries read, one attribute per busy interval, as bookings leave them.
  const days = new Map<number, Record<string, unknown>>();
  busy.forEach((interval, n) => {
    for (let day = Math.floor(interval.start / 86_400_000); day * 86_400_000 < interval.end; day++) {
      const item = days.get(day) ?? { ...busyDayKey(hostId, day) };
      item[`b_busy-${n}`] = [interval.start, interval.end];
      days.set(day, item);
    }
  });
  const items = [...cells.values(), ...days.values()];
  for (let i = 0; i < items.length; i += 25) {
    await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Runs `count` operations with `concurrency` in flight; returns latency percentiles and throughput. */
async function load(count: number, concurrency: number, operation: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await operation(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return { count, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), perSecond: (count / elapsed) * 1000 };
}

const dataDir = mkdtempSync(join(tmpdir(), 'booking-bench-'));
// The calendar sync section runs the template's sync schedule at a short period (read when the stack starts).
if (runs('sync')) process.env.SYNC_PERIOD_SECONDS ??= '5';
const dynamo = await startDynamoDbLocal({ heapMb: 1024 });
process.env.LOG_LEVEL = 'CRITICAL';
const template = synthesizeTemplate();
const stack = await startLocalStack({ template, dynamoEndpoint: dynamo.endpoint, dataDir, log: () => {} });
try {
  const token = await stack.issuer.sign('bench-organizer');
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const post = async (path: string, body: unknown, as = headers): Promise<any> => {
    const response = await fetch(stack.httpUrl + path, { method: 'POST', headers: as, body: JSON.stringify(body) });
    if (response.status >= 300) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
    return response.json();
  };
  // Open around the clock, so that every half hour is a bookable slot and no request is refused.
  const allWeek = (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const).map((day) => ({ day, start: '00:00', end: '24:00' }));
  const schedule = await post('/schedules', { name: 'Always', timeZone: 'UTC', weekly: allWeek });
  const eventType = await post('/event-types', { title: 'Bench', slug: 'bench', lengthMinutes: 30, scheduleId: schedule.id });

  // Every booking gets a slot of its own, half an hour apart, so the figures measure the write path, not 409s.
  let slot = 0;
  const base = Date.UTC(new Date().getUTCFullYear() + 1, 0, 1);
  const nextStart = () => new Date(base + slot++ * 30 * 60_000).toISOString();
  const attendee = { name: 'Bench', email: 'bench@example.com', timeZone: 'UTC' };
  const book = async () => {
    const response = await fetch(`${stack.httpUrl}/bookings`, { method: 'POST', headers, body: JSON.stringify({ eventTypeId: eventType.id, start: nextStart(), attendee }) });
    if (response.status !== 202) throw new Error(`POST /bookings answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  };

  // The floor: the same transaction POST /bookings writes (event put, read-model update, the organizer's listing
  // entry, the stranded-draft due entry, claim cells, the busy-day summary) sent straight to DynamoDB Local.
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ ...localAwsConfig, endpoint: dynamo.endpoint }), { marshallOptions: { removeUndefinedValues: true } });
  const tables = { events: process.env.EVENTS_TABLE!, state: process.env.STATE_TABLE! };
  const rawTransaction = async () => {
    const id = randomUUID();
    const start = Date.parse(nextStart());
    await documents.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tables.events, Item: { aggregateId: `floor-${id}`, version: 1, type: 'floor', payload: { attendee } }, ConditionExpression: 'attribute_not_exists(version)' } },
          { Update: { TableName: tables.state, Key: { pk: `FLOOR#${id}`, sk: 'BOOKING' }, UpdateExpression: 'SET booking = :b', ExpressionAttributeValues: { ':b': { attendee, start } } } },
          { Put: { TableName: tables.state, Item: { pk: `FLOOR#${id}`, sk: 'VIEWER#floor-host', ownerKey: 'VIEWER#floor-host', ownerSort: `${start}#${id}`, booking: { attendee, start } } } },
          { Put: { TableName: tables.state, Item: { pk: `FLOOR#DUE#${id.charCodeAt(0) % 16}`, sk: `${start}#${id}`, bookingId: id } } },
          ...planClaimChanges(null, { hostIds: ['floor-host'], start, end: start + 30 * 60_000 }).map((change) => claimUpdate(tables.state, id, change)),
          ...planBusyDayChanges(null, { hostIds: ['floor-host'], start, end: start + 30 * 60_000 }).map((change) => busyDayUpdate(tables.state, id, change)),
        ],
      }),
    );
  };

  for (const concurrency of runs('load') ? [1, 8, 32] : []) {
    const count = concurrency === 1 ? 150 : concurrency * 30;
    await load(20, concurrency, rawTransaction); // warm-up
    const floor = await load(count, concurrency, rawTransaction);
    figures.push({ section: 'floor', name: 'TransactWriteItems (raw, same items)', concurrency, ...floor });
    await load(20, concurrency, book);
    const post = await load(count, concurrency, book);
    figures.push({ section: 'http', name: 'POST /bookings', concurrency, ...post, floor: `${floor.p50Ms.toFixed(1)} ms p50, ${floor.perSecond.toFixed(0)}/s` });
  }

  // POST to WebSocket: how long until the organizer sees booking.requested and booking.confirmed. Each POST
  // waits until the previous booking is confirmed and its subscribers have settled: POST /bookings on an idle
  // stack, beside the raw transaction timed in the same moments.
  if (runs('idle')) {
    const socket = new WebSocket(`${stack.wsUrl}/?token=${token}`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const seen = new Map<string, { requested?: number; confirmed?: number }>();
    const waiters = new Map<string, () => void>();
    socket.on('message', (data) => {
      const { data: event } = JSON.parse(String(data));
      const entry = seen.get(event.aggregateId) ?? {};
      if (event.type === 'booking.requested') entry.requested = performance.now();
      if (event.type === 'booking.confirmed') {
        entry.confirmed = performance.now();
        waiters.get(event.aggregateId)?.();
      }
      seen.set(event.aggregateId, entry);
    });
    const pushRequested: number[] = [];
    const pushConfirmed: number[] = [];
    const posts: number[] = [];
    const idleFloor: number[] = [];
    for (let i = 0; i < 40; i++) {
      // Let the previous booking's notifications, audit and projections finish (a pause, not a measurement).
      await new Promise((resolve) => setTimeout(resolve, 150));
      const raw = performance.now();
      await rawTransaction();
      if (i >= 5) idleFloor.push(performance.now() - raw);
      const t = performance.now();
      const response = await fetch(`${stack.httpUrl}/bookings`, { method: 'POST', headers, body: JSON.stringify({ eventTypeId: eventType.id, start: nextStart(), attendee }) });
      const { id } = await response.json() as any;
      if (i >= 5) posts.push(performance.now() - t);
      await new Promise<void>((resolve) => (seen.get(id)?.confirmed ? resolve() : waiters.set(id, resolve)));
      const entry = seen.get(id)!;
      if (i >= 5) {
        pushRequested.push(entry.requested! - t);
        pushConfirmed.push(entry.confirmed! - t);
      }
    }
    socket.close();
    const postSorted = [...posts].sort((a, b) => a - b);
    const idleFloorSorted = [...idleFloor].sort((a, b) => a - b);
    figures.push({ section: 'idle', name: 'TransactWriteItems (raw, same items), idle stack', concurrency: 1, count: idleFloorSorted.length, p50Ms: percentile(idleFloorSorted, 50), p99Ms: percentile(idleFloorSorted, 99) });
    figures.push({
      section: 'idle', name: 'POST /bookings, idle stack', concurrency: 1, count: postSorted.length, p50Ms: percentile(postSorted, 50), p99Ms: percentile(postSorted, 99),
      floor: `${percentile(idleFloorSorted, 50).toFixed(1)} ms p50 (x${(percentile(postSorted, 50) / percentile(idleFloorSorted, 50)).toFixed(2)})`,
    });
    for (const [name, samples] of [['POST -> WebSocket booking.requested', pushRequested], ['POST -> WebSocket booking.confirmed (through the workflow)', pushConfirmed]] as const) {
      const sorted = [...samples].sort((a, b) => a - b);
      figures.push({ section: 'push', name, count: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), floor: `POST alone ${percentile(postSorted, 50).toFixed(1)} ms p50` });
    }
  }

  // A paid booking: from the moment Stripe's webhook arrives to the organizer's booking.confirmed push. The
  // webhook answers once it has verified, deduplicated, settled the attempt and resumed the workflow (its
  // floor); the workflow then records payment.completed and booking.confirmed, and the push follows.
  if (runs('payment')) {
    const paidType = await post('/event-types', { title: 'Paid bench', slug: 'paid-bench', lengthMinutes: 30, scheduleId: schedule.id, price: { amount: 4500, currency: 'eur' } });
    const paidSocket = new WebSocket(`${stack.wsUrl}/?token=${token}`);
    await new Promise((resolve, reject) => paidSocket.once('open', resolve).once('error', reject));
    const paidWaiters = new Map<string, { type: string; resolve: () => void }>();
    paidSocket.on('message', (data) => {
      const { data: event } = JSON.parse(String(data));
      const waiter = paidWaiters.get(event?.aggregateId);
      if (waiter && waiter.type === event.type) waiter.resolve();
    });
    const pushOf = (id: string, type: string) => new Promise<void>((resolve) => paidWaiters.set(id, { type, resolve }));
    const webhookToConfirmed: number[] = [];
    const webhookAnswered: number[] = [];
    const postToConfirmed: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      const response = await fetch(`${stack.httpUrl}/bookings`, { method: 'POST', headers, body: JSON.stringify({ eventTypeId: paidType.id, start: nextStart(), attendee }) });
      const { id } = (await response.json()) as any;
      await pushOf(id, 'payment.initiated');
      const confirmed = pushOf(id, 'booking.confirmed');
      const arrives = performance.now();
      const { delivery } = await stack.stripe.settle(id, 'succeed');
      if (delivery.status !== 200) throw new Error(`webhook answered ${delivery.status}`);
      const answered = performance.now();
      await confirmed;
      if (i >= 5) {
        webhookAnswered.push(answered - arrives);
        webhookToConfirmed.push(performance.now() - arrives);
        postToConfirmed.push(performance.now() - t);
      }
    }
    paidSocket.close();
    const sortedAnswered = [...webhookAnswered].sort((a, b) => a - b);
    for (const [name, samples] of [
      ['paid: Stripe webhook arrives -> WebSocket booking.confirmed', webhookToConfirmed],
      ['paid: POST -> payment -> WebSocket booking.confirmed', postToConfirmed],
    ] as const) {
      const sorted = [...samples].sort((a, b) => a - b);
      figures.push({ section: 'payment', name, count: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), floor: `webhook answered ${percentile(sortedAnswered, 50).toFixed(1)} ms p50, ${percentile(sortedAnswered, 99).toFixed(1)} p99` });
    }
  }

  if (runs('resume')) {
    // Reconnect and resume: 100 messages missed while away, replayed after ?after=<last position>, timed from
    // opening the socket to the 100th message; the floor is reading the same 100 feed entries from DynamoDB.
    const feed = new ListenerFeed(documents, tables.state);
    const last = await feed.head('bench-organizer');
    while ((await feed.head('bench-organizer')) < last + 100) {
      await book();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Wait for the workflow's events to settle, so the replay is the same each time.
    for (let previous = -1, current = await feed.head('bench-organizer'); current !== previous; current = await feed.head('bench-organizer')) {
      previous = current;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const resumeRuns: number[] = [];
    const feedReads: number[] = [];
    for (let run = 0; run < 7; run++) {
      const t = performance.now();
      const resumed = new WebSocket(`${stack.wsUrl}/?token=${token}&after=${last}`);
      await new Promise<void>((resolve, reject) => {
        resumed.once('open', () => resumed.send(JSON.stringify({ action: 'resume' })));
        resumed.on('message', (data) => {
          if (JSON.parse(String(data)).position === last + 100) resolve();
        });
        resumed.once('error', reject);
      });
      resumeRuns.push(performance.now() - t);
      resumed.close();
      const r = performance.now();
      await feed.after('bench-organizer', last);
      feedReads.push(performance.now() - r);
    }
    const resumeSorted = resumeRuns.sort((a, b) => a - b);
    const readSorted = feedReads.sort((a, b) => a - b);
    figures.push({ section: 'resume', name: 'reconnect ?after= -> 100 missed messages replayed', count: resumeSorted.length, p50Ms: percentile(resumeSorted, 50), p99Ms: percentile(resumeSorted, 99), floor: `feed read alone ${percentile(readSorted, 50).toFixed(1)} ms p50` });

  }

  // The console's first paint in headless chromium, beside the page's own fetch (when chromium is installed).
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (runs('console') && existsSync(chromiumPath)) {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
    const paints: number[] = [];
    const fetches: number[] = [];
    for (let run = 0; run < 7; run++) {
      const page = await browser.newPage();
      await page.goto(`${stack.httpUrl}/console#token=${token}&ws=${encodeURIComponent(stack.wsUrl)}`);
      await page.waitForSelector('body[data-ready="true"]');
      paints.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
      await page.close();
      const f = performance.now();
      await (await fetch(`${stack.httpUrl}/console`)).text();
      fetches.push(performance.now() - f);
    }
    await browser.close();
    const paintSorted = paints.sort((a, b) => a - b);
    const fetchSorted = fetches.sort((a, b) => a - b);
    figures.push({ section: 'console', name: 'GET /console -> first contentful paint (chromium)', count: paintSorted.length, p50Ms: percentile(paintSorted, 50), p99Ms: percentile(paintSorted, 99), floor: `page fetch alone ${percentile(fetchSorted, 50).toFixed(1)} ms p50` });
  }

  // Availability: the engine alone, then the same 10-host round-robin month through GET /slots, where the
  // busy time is read back from the hosts' claim cells (seeded directly: 300 intervals a host).
  if (runs('availability')) {
    const engine = await benchAvailability();
    for (const result of engine) figures.push({ section: 'availability', name: `engine: ${result.name}`, count: result.runs, p50Ms: result.medianMs, p99Ms: result.p99Ms });
    const nextYear = new Date().getUTCFullYear() + 1;
    const monthStart = Date.UTC(nextYear, 2, 1);
    const hosts = benchTeam(10, monthStart);
    const admin = { ...headers, authorization: `Bearer ${await stack.issuer.sign('bench-admin')}` };
    const organization = await post('/organizations', { name: 'Bench Co' }, admin);
    const scheduleIds: string[] = [];
    for (const host of hosts) {
      // Members join by invitation and acceptance.
      await post(`/organizations/${organization.id}/invitations`, { userId: host.hostId }, admin);
      const asHost = { ...headers, authorization: `Bearer ${await stack.issuer.sign(host.hostId)}` };
      await post(`/organizations/${organization.id}/invitations/accept`, {}, asHost);
      scheduleIds.push((await post('/schedules', { name: 'Work', ...host.schedule }, asHost)).id);
      await seedBusy(documents, tables.state, host.hostId, host.busy);
    }
    const team = await post(`/organizations/${organization.id}/teams`, { name: 'Sales', memberIds: hosts.map((h) => h.hostId) }, admin);
    const roundRobin = await post('/event-types', { title: 'Demo', slug: 'demo', lengthMinutes: 30, slotIntervalMinutes: 15, bufferBeforeMinutes: 5, bufferAfterMinutes: 10, minimumNoticeMinutes: 120, teamId: team.id, schedulingType: 'round_robin' }, admin);
    const slotsUrl = `${stack.httpUrl}/slots?eventTypeId=${roundRobin.id}&start=${new Date(monthStart).toISOString()}&end=${new Date(monthStart + BENCH_DAYS * 86_400_000).toISOString()}&timeZone=America/New_York`;
    let slotCount = 0;
    const slots = await load(60, 1, async () => {
      const body = (await (await fetch(slotsUrl)).json()) as { slots: Record<string, unknown[]> };
      slotCount = Object.values(body.slots).flat().length;
    });
    const engineFloor = engine[0]!;
    // The floor: the items GET /slots reads (event type, team, organization, each host's profile, default pointer
    // and schedule) in one BatchGetItem, beside each host's busy days over the range widened by the buffers, all
    // at once: the reads no implementation can avoid, in the fewest round trips.
    const rangeEnd = monthStart + BENCH_DAYS * 86_400_000;
    const itemKeys = [
      eventTypeKey(roundRobin.id), directoryKeys.team(team.id), directoryKeys.organization(organization.id),
      ...hosts.flatMap((host) => [directoryKeys.user(host.hostId), directoryKeys.defaultSchedule(host.hostId)]),
      ...scheduleIds.map((id) => directoryKeys.schedule(id)),
    ];
    const { from, to } = busyDayRange(monthStart - 5 * 60_000, rangeEnd + 40 * 60_000);
    const rawReads = async () => {
      await Promise.all([
        documents.send(new BatchGetCommand({ RequestItems: { [tables.state]: { Keys: itemKeys, ConsistentRead: true } } })),
        ...hosts.map(async (host) => {
          const pages = paginateQuery({ client: documents }, { TableName: tables.state, KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to', ExpressionAttributeValues: { ':pk': `BUSY#${host.hostId}`, ':from': from, ':to': to } });
          for await (const page of pages) void page;
        }),
      ]);
    };
    await load(10, 1, rawReads);
    const readsFloor = await load(60, 1, rawReads);
    figures.push({ section: 'availability', name: 'floor: the same reads, raw, in one round', concurrency: 1, ...readsFloor });
    figures.push({
      section: 'availability', name: `GET /slots: round robin, 10 hosts x 300 busy, 30 days (${slotCount} slots)`, concurrency: 1, ...slots,
      floor: `reads ${readsFloor.p50Ms.toFixed(1)} ms p50 (x${(slots.p50Ms / readsFloor.p50Ms).toFixed(2)}); engine alone ${engineFloor.medianMs.toFixed(1)} ms`,
    });
  }

  // The calendar sync engine: requests per unchanged calendar per cycle, change -> slots, worker throughput.
  if (runs('sync')) {
    // Imported here, after LOG_LEVEL is set: it loads the sync worker, whose logger reads it once.
    const { benchCalendarSync } = await import('./calendar-sync-bench.ts');
    figures.push(...(await benchCalendarSync({ stack, documents, stateTable: tables.state, dataDir, periodSeconds: Number(process.env.SYNC_PERIOD_SECONDS) })));
  }
} finally {
  await stack.close();
  await dynamo.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

// Calendar push (test/bench/calendar-push.ts) measures push alone, so it runs on a stack of its own whose sync
// schedule is hourly (the sync section's stack reads calendars every few seconds, which would hide push).
if (runs('push')) {
  process.env.SYNC_PERIOD_SECONDS = PUSH_BENCH_SYNC_PERIOD_SECONDS;
  const pushDataDir = mkdtempSync(join(tmpdir(), 'booking-bench-push-'));
  const pushDynamo = await startDynamoDbLocal({ heapMb: 512 });
  const pushStack = await startLocalStack({ template, dynamoEndpoint: pushDynamo.endpoint, dataDir: pushDataDir, log: () => {} });
  try {
    figures.push(...(await benchCalendarPush(pushStack, { dynamoEndpoint: pushDynamo.endpoint })));
  } finally {
    await pushStack.close();
    await pushDynamo.stop();
    rmSync(pushDataDir, { recursive: true, force: true });
  }
}

console.log('\nsection       | measurement                                                | conc |  count |  p50 ms |  p99 ms |    per s | floor (same run)');
console.log('--------------|------------------------------------------------------------|------|--------|---------|---------|----------|-----------------');
for (const f of figures) {
  console.log(
    `${f.section.padEnd(13)} | ${f.name.padEnd(58)} | ${String(f.concurrency ?? '').padStart(4)} | ${String(f.count).padStart(6)} | ${f.p50Ms.toFixed(1).padStart(7)} | ${f.p99Ms.toFixed(1).padStart(7)} | ${f.perSecond ? f.perSecond.toFixed(0).padStart(8) : ''.padStart(8)} | ${f.floor ?? ''}`,
  );
}
// Measured once the stack has stopped, so the fresh processes have the CPU to themselves.
const coldStarts = runs('cold-start') ? await measureColdStarts(functionEntries(template)) : [];
if (runs('cold-start')) printColdStarts(coldStarts);
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, figures, coldStarts }, null, 2));
console.log(`\nwrote test/bench/results/latest.json`);
