// The push figures of `npm run bench -- --only=push`: on the bench's local stack, started with the sync schedule
// at an hour when this section runs (SYNC_PERIOD_SECONDS=3600, so only push can explain a read), the time from an external change at the local Google (or
// Graph) server, made through its dev interface as if in the provider's app, to that slot leaving GET /slots;
// beside its floor, the notification route's own answer to a verified notification. Changes are made one at a
// time (each waits for its slot to leave), so each is one notification, one debounce window, one read.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LocalStack } from '../../infra/local/runtime.ts';
import { localAwsConfig } from '../../infra/local/dynamodb-local.ts';
import { hashSecret, readChannel, readPushSummary, writeChannel } from '../../shared/calendars/push-store.ts';

export type PushFigure = { section: string; name: string; count: number; p50Ms: number; p99Ms: number; floor?: string };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const sortedOf = (values: number[]) => [...values].sort((a, b) => a - b);

/** The sync period the bench's stack should start with when this section runs (only push then explains a read). */
export const PUSH_BENCH_SYNC_PERIOD_SECONDS = '3600';

export async function benchCalendarPush(stack: LocalStack, options: { dynamoEndpoint: string; changes?: number; floorRuns?: number }): Promise<PushFigure[]> {
  const changes = options.changes ?? 20;
  const floorRuns = options.floorRuns ?? 100;
  const figures: PushFigure[] = [];
  {
    const calendars = [...stack.lambda.functions.values()].find((fn) => fn.entry === 'functions/http/calendars.ts')!;
    const tables = { client: DynamoDBDocumentClient.from(new DynamoDBClient({ ...localAwsConfig, endpoint: options.dynamoEndpoint })), stateTable: calendars.environment.STATE_TABLE! };
    const api = async (method: string, path: string, token?: string, body?: unknown) => {
      const response = await fetch(stack.httpUrl + path, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      if (response.status >= 400) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`);
      return text ? JSON.parse(text) : undefined;
    };
    // Open around the clock: every half hour of the days ahead is a slot an external event can take.
    const allWeek = (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const).map((day) => ({ day, start: '00:00', end: '24:00' }));
    const firstDay = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 3 * 86_400_000;

    for (const provider of ['google', 'microsoft'] as const) {
      const token = await stack.issuer.sign(`bench-push-${provider}`);
      await api('POST', '/users/me', token, { name: provider, email: `bench-push-${provider}@example.com`, timeZone: 'UTC' });
      const schedule = await api('POST', '/schedules', token, { name: 'Always', timeZone: 'UTC', weekly: allWeek });
      const eventType = await api('POST', '/event-types', token, { title: 'Bench', slug: `bench-push-${provider}`, lengthMinutes: 30, scheduleId: schedule.id });
      // Connect by following the OAuth redirects, as a browser would.
      let url = new URL(`${stack.httpUrl}/calendars/connect/${provider}`);
      for (let hop = 0; hop < 10; hop++) {
        const ours = url.origin === stack.httpUrl && url.pathname.startsWith('/calendars/connect/');
        const response = await fetch(url, { redirect: 'manual', headers: ours ? { authorization: `Bearer ${token}` } : {} });
        await response.arrayBuffer();
        if (response.status !== 302) break;
        url = new URL(response.headers.get('location')!, url);
      }
      const connectionId = url.searchParams.get('connection');
      if (!connectionId) throw new Error(`${provider} did not connect: ${url.href}`);
      for (let i = 0; i < 600 && (await api('GET', `/calendars/connections/${connectionId}`, token)).sync.state !== 'ok'; i++) await new Promise((r) => setTimeout(r, 50));

      const slotsOf = async (day: number) => {
        const date = new Date(day).toISOString().slice(0, 10);
        const answer = await api('GET', `/slots?eventTypeId=${eventType.id}&start=${date}&end=${date}&timeZone=UTC`);
        return new Set(((answer.slots[date] ?? []) as Array<{ start: string } | string>).map((s) => new Date(typeof s === 'string' ? s : s.start).getTime()));
      };
      const latencies: number[] = [];
      for (let i = 0; i < changes; i++) {
        const start = firstDay + Math.floor(i / 40) * 86_400_000 + (i % 40) * 1_800_000 + 3_600_000;
        const day = Math.floor(start / 86_400_000) * 86_400_000;
        if (!(await slotsOf(day)).has(start)) throw new Error(`slot ${new Date(start).toISOString()} was not free`);
        const iso = (ms: number) => new Date(ms).toISOString();
        const t0 = performance.now();
        const added =
          provider === 'google'
            ? await fetch(`${stack.google.url}/dev/users/${encodeURIComponent(stack.google.devAccount)}/calendars/primary/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ summary: `Change ${i}`, start: { dateTime: iso(start) }, end: { dateTime: iso(start + 1_800_000) } }) })
            : await fetch(`${stack.graph.url}/dev/users/${encodeURIComponent(stack.graph.devAccount)}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subject: `Change ${i}`, start: { dateTime: iso(start).slice(0, 19), timeZone: 'UTC' }, end: { dateTime: iso(start + 1_800_000).slice(0, 19), timeZone: 'UTC' }, showAs: 'busy' }) });
        if (added.status >= 300) throw new Error(`the ${provider} server refused the change: ${added.status}`);
        let gone = false;
        for (let poll = 0; poll < 2_000 && !gone; poll++) {
          gone = !(await slotsOf(day)).has(start);
          if (!gone) await new Promise((r) => setTimeout(r, 20));
        }
        if (!gone) throw new Error(`change ${i} never reached GET /slots`);
        latencies.push(performance.now() - t0);
      }

      // The floor: the route's answer to a verified notification (one read of its channel, the debounce write,
      // and, for the first of each window, the enqueue), for a channel of this connection with a known secret.
      const summary = await readPushSummary(tables, connectionId);
      const real = await readChannel(tables, provider, Object.values(summary.calendars).find((e) => e.channelId)!.channelId!);
      const secret = 'bench-secret';
      const { schedule: _schedule, ...rest } = real!;
      const benchChannel = { ...rest, channelId: `${connectionId}-bench${provider === 'google' ? '' : '-graph'}`, secretHash: hashSecret(secret) };
      await writeChannel(tables, benchChannel);
      const answers: number[] = [];
      for (let i = 0; i < floorRuns; i++) {
        const t0 = performance.now();
        const response =
          provider === 'google'
            ? await fetch(`${stack.httpUrl}/calendars/notifications/google`, { method: 'POST', headers: { 'x-goog-channel-id': benchChannel.channelId, 'x-goog-channel-token': secret, 'x-goog-resource-state': 'exists', 'x-goog-message-number': String(i + 2) }, body: '' })
            : await fetch(`${stack.httpUrl}/calendars/notifications/microsoft`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: [{ subscriptionId: benchChannel.channelId, clientState: secret, changeType: 'updated', resource: 'Users/x/Events/y' }] }) });
        await response.arrayBuffer();
        if (response.status !== 202) throw new Error(`the verified notification answered ${response.status}`);
        answers.push(performance.now() - t0);
      }
      const sorted = sortedOf(latencies);
      const floor = sortedOf(answers);
      figures.push({
        section: 'calendar-push',
        name: `${provider === 'google' ? 'Google' : 'Graph'} change -> slot gone from GET /slots (push, hourly schedule)`,
        count: sorted.length,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        floor: `notification answered ${percentile(floor, 50).toFixed(1)} ms p50, ${percentile(floor, 99).toFixed(1)} p99; debounce ${process.env.CALENDAR_PUSH_DEBOUNCE_SECONDS ?? 2} s`,
      });
      figures.push({ section: 'calendar-push', name: `${provider === 'google' ? 'Google' : 'Graph'} verified notification -> 202 (the route alone)`, count: floor.length, p50Ms: percentile(floor, 50), p99Ms: percentile(floor, 99) });
    }
  }
  return figures;
}
