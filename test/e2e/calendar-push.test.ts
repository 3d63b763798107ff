// Calendar push end to end on the local stack, with the sync schedule at an hour (SYNC_PERIOD_SECONDS=3600):
// after the first read, only a push notification can explain a read. Google and Microsoft are connected by
// following redirects; an event added in the local Google or Graph server (its dev interface, as if in the
// provider's own app) leaves GET /slots with no API call. Forged notifications enqueue nothing; Graph's
// validationToken is echoed; lifecycle notifications renew, re-read and recreate; renewals are one-time
// Scheduler schedules that run in the local runtime; disconnect stops the channels at the fakes.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
// push.ts is imported where used: it loads the shared logger, which must see the stack's log level first.
import type { RenewalTarget } from '../../shared/calendar-sync/push.ts';
import { readChannel, readPushSummary, type PushChannel } from '../../shared/calendars/push-store.ts';
import { readSyncState, type CalendarTables } from '../../shared/calendars/store.ts';
import { futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let tables: CalendarTables;
const day = futureSlot(4, -10); // 00:00 UTC of a weekday ahead: its hours are 09:00-17:00
const hour = (h: number) => new Date(day.getTime() + h * 3_600_000);
const organizers: Record<'google' | 'microsoft', { token: string; eventTypeId: string; connectionId: string }> = {} as never;

async function call(method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(stack.httpUrl + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

/** Polls until `done`; bounded by a count of tries, each a real read. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, tries = 600): Promise<T> {
  let value = await read();
  for (let i = 0; i < tries && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

async function roundTrip(provider: 'google' | 'microsoft', token: string): Promise<URL> {
  let url = new URL(`${stack.httpUrl}/calendars/connect/${provider}`);
  for (let hop = 0; hop < 10; hop++) {
    const ours = url.origin === new URL(stack.httpUrl).origin && url.pathname.startsWith('/calendars/connect/');
    const response = await fetch(url, { redirect: 'manual', headers: ours ? { authorization: `Bearer ${token}` } : {} });
    await response.arrayBuffer();
    if (response.status !== 302) return url;
    url = new URL(response.headers.get('location')!, url);
  }
  throw new Error('too many redirects');
}

const slotStarts = async (eventTypeId: string) => {
  const date = day.toISOString().slice(0, 10);
  const slots = await call('GET', `/slots?eventTypeId=${eventTypeId}&start=${date}&end=${date}&timeZone=UTC`);
  expect(slots.status).toBe(200);
  return ((slots.body.slots[date] ?? []) as Array<{ start: string } | string>).map((slot) => new Date(typeof slot === 'string' ? slot : slot.start).toISOString());
};

/** Every message on the sync queue (visible, in flight, delayed): 0 when nothing is asked for or running. */
async function syncQueueDepth(): Promise<number> {
  const sqs = new SQSClient({ endpoint: stack.sqsEndpoint, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const url = Object.entries(stack.queues).find(([id]) => id.startsWith('CalendarsSyncQueue'))![1];
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }));
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible) + Number(Attributes.ApproximateNumberOfMessagesDelayed);
}

const connection = (provider: 'google' | 'microsoft') => call('GET', `/calendars/connections/${organizers[provider].connectionId}`, organizers[provider].token);
const lastSuccess = async (provider: 'google' | 'microsoft') => (await connection(provider)).body.sync.lastSuccessAt as string;
const channelsOf = async (provider: 'google' | 'microsoft'): Promise<PushChannel[]> => {
  const summary = await readPushSummary(tables, organizers[provider].connectionId);
  const channels = await Promise.all(Object.values(summary.calendars).filter((e) => e.channelId).map((e) => readChannel(tables, provider, e.channelId!)));
  return channels.filter((c): c is PushChannel => Boolean(c));
};
const calendarsFunction = () => [...stack.lambda.functions.values()].find((fn) => fn.entry === 'functions/http/calendars.ts')!;
const renewalTarget = (): RenewalTarget => {
  const env = calendarsFunction().environment;
  return { functionArn: env.CALENDAR_PUSH_RENEWAL_ARN!, roleArn: env.CALENDAR_PUSH_ROLE_ARN!, group: env.CALENDAR_PUSH_SCHEDULE_GROUP! };
};

beforeAll(async () => {
  process.env.SYNC_PERIOD_SECONDS = '3600';
  // A window wide enough that a burst falls in one on a loaded machine (the functions read it from the process).
  process.env.CALENDAR_PUSH_DEBOUNCE_SECONDS = '4';
  stack = await startTestStack();
  // This process schedules through the same local Scheduler API the functions use.
  process.env.AWS_ENDPOINT_URL_SCHEDULER = stack.schedulerEndpoint;
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
  tables = { client, stateTable: calendarsFunction().environment.STATE_TABLE! };
  for (const provider of ['google', 'microsoft'] as const) {
    const userId = `push-${provider}`;
    const token = await stack.issuer.sign(userId);
    expect((await call('POST', '/users/me', token, { name: userId, email: `${userId}@example.com`, timeZone: 'UTC' })).status).toBe(201);
    const weekly = ['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => ({ day: d, start: '09:00', end: '17:00' }));
    const schedule = await call('POST', '/schedules', token, { name: 'Hours', timeZone: 'UTC', weekly });
    const eventType = await call('POST', '/event-types', token, { title: 'Call', slug: `${userId}-call`, lengthMinutes: 30, scheduleId: schedule.body.id });
    expect(eventType.status, eventType.text).toBe(201);
    const final = await roundTrip(provider, token);
    expect(final.searchParams.get('result'), final.href).toBe('connected');
    organizers[provider] = { token, eventTypeId: eventType.body.id, connectionId: final.searchParams.get('connection')! };
    const ready = await until(() => connection(provider), (r) => r.body?.sync?.state === 'ok');
    expect(ready.body.sync.state).toBe('ok');
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  delete process.env.SYNC_PERIOD_SECONDS;
  delete process.env.CALENDAR_PUSH_DEBOUNCE_SECONDS;
});

describe('Google: a watch channel per busy-checked calendar', () => {
  it('is made on connect, answered on its sync handshake, shown as active, and its renewal is scheduled before it expires', async () => {
    const shown = (await connection('google')).body;
    expect(shown.sync.push).toMatchObject({ state: 'active', error: null });
    const [channel, ...more] = await channelsOf('google');
    expect(more).toEqual([]);
    expect(channel).toMatchObject({ provider: 'google', connectionId: organizers.google.connectionId, address: `${stack.httpUrl}/calendars/notifications/google` });
    expect(shown.sync.push.expiresAt).toBe(channel!.expiresAt);
    await stack.google.pushesSettled();
    expect(stack.google.deliveries.filter((d) => d.channelId === channel!.channelId)).toEqual([expect.objectContaining({ state: 'sync', status: 200 })]);
    // The renewal: one at() schedule, an hour before the channel expires, deleted after it runs.
    const { renewalScheduleName } = await import('../../shared/calendar-sync/push.ts');
    const schedule = stack.scheduler.list({ group: renewalTarget().group }).find((s) => s.Name === channel!.schedule);
    expect(schedule).toBeDefined();
    expect(channel!.schedule).toBe(renewalScheduleName(channel!));
    const at = new Date(Date.parse(channel!.expiresAt) - 3_600_000).toISOString().slice(0, 19);
    expect(stack.scheduler.get(renewalTarget().group, channel!.schedule!)).toMatchObject({ ScheduleExpression: `at(${at})`, ScheduleExpressionTimezone: 'UTC', ActionAfterCompletion: 'DELETE' });
  });

  it('an event added in Google Calendar leaves GET /slots with no API call', async () => {
    const { eventTypeId } = organizers.google;
    expect(await slotStarts(eventTypeId)).toContain(hour(10).toISOString());
    const before = await lastSuccess('google');
    const added = await fetch(`${stack.google.url}/dev/users/${encodeURIComponent(stack.google.devAccount)}/calendars/primary/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ summary: 'Dentist', start: { dateTime: hour(10).toISOString() }, end: { dateTime: hour(11).toISOString() } }),
    });
    expect(added.status).toBeLessThan(300);
    const without = await until(() => slotStarts(eventTypeId), (starts) => !starts.includes(hour(10).toISOString()));
    expect(without).not.toContain(hour(10).toISOString());
    expect(without).toContain(hour(11).toISOString());
    expect(Date.parse(await lastSuccess('google'))).toBeGreaterThan(Date.parse(before));
    await stack.google.pushesSettled();
    expect(stack.google.deliveries.filter((d) => d.state === 'exists').at(-1)).toMatchObject({ status: 202 });
  });

  it('a forged notification (wrong token, no token, unknown channel) is a 403 and enqueues nothing', async () => {
    const [channel] = await channelsOf('google');
    expect(await until(syncQueueDepth, (n) => n === 0)).toBe(0);
    const summaryBefore = await readPushSummary(tables, organizers.google.connectionId);
    const forged: Array<Record<string, string>> = [
      { 'x-goog-channel-id': channel!.channelId, 'x-goog-channel-token': 'guessed', 'x-goog-resource-state': 'exists' },
      { 'x-goog-channel-id': channel!.channelId, 'x-goog-resource-state': 'exists' },
      { 'x-goog-channel-id': `${organizers.google.connectionId}-0000000000000000`, 'x-goog-channel-token': 'guessed', 'x-goog-resource-state': 'exists' },
      { 'x-goog-channel-id': channel!.channelId, 'x-goog-channel-token': 'guessed', 'x-goog-resource-state': 'sync' },
    ];
    for (const headers of forged) {
      const answer = await call('POST', '/calendars/notifications/google', undefined, '', headers);
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
    const malformed = await call('POST', '/calendars/notifications/google', undefined, '', { 'x-goog-channel-id': 'x'.repeat(65), 'x-goog-resource-state': 'exists' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].path).toBe('headers.x-goog-channel-id');
    expect(await syncQueueDepth()).toBe(0);
    expect((await readPushSummary(tables, organizers.google.connectionId)).debounceUntil).toBe(summaryBefore.debounceUntil);
  });

  it('a burst of notifications for one connection enqueues one read', async () => {
    expect(await until(syncQueueDepth, (n) => n === 0)).toBe(0);
    const before = (await readSyncState(tables, organizers.google.connectionId)).lastSuccessAt;
    // Five changes at once, as a client saving a few events: Google posts one 'exists' each.
    const changes = Array.from({ length: 5 }, async (_, i) => {
      const added = await fetch(`${stack.google.url}/dev/users/${encodeURIComponent(stack.google.devAccount)}/calendars/primary/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ summary: `Burst ${i}`, start: { dateTime: hour(14 + i * 0.5).toISOString() }, end: { dateTime: hour(14.25 + i * 0.5).toISOString() } }),
      });
      expect(added.status).toBeLessThan(300);
    });
    await Promise.all(changes);
    await stack.google.pushesSettled();
    expect(stack.google.deliveries.slice(-5).map((d) => [d.state, d.status])).toEqual(Array.from({ length: 5 }, () => ['exists', 202]));
    expect(await syncQueueDepth()).toBe(1);
    await until(syncQueueDepth, (n) => n === 0);
    expect((await readSyncState(tables, organizers.google.connectionId)).lastSuccessAt).not.toBe(before);
    const starts = await slotStarts(organizers.google.eventTypeId);
    for (let i = 0; i < 5; i++) expect(starts).not.toContain(hour(14 + i * 0.5).toISOString());
  });

  it('its renewal schedule, fired, makes a new channel and stops the old one', async () => {
    const [old] = await channelsOf('google');
    await stack.scheduler.runNow(old!.schedule!, renewalTarget().group);
    const [renewed, ...more] = await until(() => channelsOf('google'), (channels) => channels.length === 1 && channels[0]!.channelId !== old!.channelId);
    expect(more).toEqual([]);
    expect(renewed!.channelId).not.toBe(old!.channelId);
    expect(await readChannel(tables, 'google', old!.channelId)).toBeUndefined();
    // The old one is stopped at Google: a change now reaches the new channel only.
    const deliveries = stack.google.deliveries.length;
    await fetch(`${stack.google.url}/dev/users/${encodeURIComponent(stack.google.devAccount)}/calendars/primary/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ summary: 'After renewal', start: { dateTime: hour(16).toISOString() }, end: { dateTime: hour(16.5).toISOString() } }),
    });
    await stack.google.pushesSettled();
    expect(stack.google.deliveries.slice(deliveries).map((d) => [d.channelId, d.state])).toEqual([[renewed!.channelId, 'exists']]);
    expect(stack.scheduler.list({ group: renewalTarget().group }).some((s) => s.Name === renewed!.schedule)).toBe(true);
  });

  it('a calendar no longer busy-checked loses its channel; checked again, it gets a new one', async () => {
    const [before] = await channelsOf('google');
    const calendarId = before!.calendarId;
    const off = await call('PATCH', `/calendars/connections/${organizers.google.connectionId}`, organizers.google.token, { calendars: [{ id: calendarId, busy: false }] });
    expect(off.status, off.text).toBe(200);
    expect(await channelsOf('google')).toEqual([]);
    expect((await connection('google')).body.sync.push.state).toBe('none');
    const deliveries = stack.google.deliveries.length;
    await fetch(`${stack.google.url}/dev/users/${encodeURIComponent(stack.google.devAccount)}/calendars/primary/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ summary: 'Unwatched', start: { dateTime: hour(16.5).toISOString() }, end: { dateTime: hour(17).toISOString() } }),
    });
    await stack.google.pushesSettled();
    expect(stack.google.deliveries.slice(deliveries)).toEqual([]);
    const on = await call('PATCH', `/calendars/connections/${organizers.google.connectionId}`, organizers.google.token, { calendars: [{ id: calendarId, busy: true }] });
    expect(on.status, on.text).toBe(200);
    const [after, ...more] = await channelsOf('google');
    expect(more).toEqual([]);
    expect(after!.channelId).not.toBe(before!.channelId);
    expect((await connection('google')).body.sync.push.state).toBe('active');
  });

  it('a renewal of a channel its calendar no longer names stops it instead of keeping it alive', async () => {
    const [current] = await channelsOf('google');
    const { writeChannel } = await import('../../shared/calendars/push-store.ts');
    const { schedule: _schedule, ...rest } = current!;
    const orphan: PushChannel = { ...rest, channelId: `${organizers.google.connectionId}-orphan0000000000` };
    await writeChannel(tables, orphan);
    const renewal = [...stack.lambda.functions.values()].find((fn) => fn.entry === 'functions/scheduled/renew-calendar-push.ts')!;
    expect(await stack.lambda.invoke(renewal.logicalId, { provider: 'google', channelId: orphan.channelId })).toEqual({ outcome: 'gone' });
    expect(await readChannel(tables, 'google', orphan.channelId)).toBeUndefined();
    expect((await channelsOf('google')).map((c) => c.channelId)).toEqual([current!.channelId]);
    // Malformed input names nothing: answered, not retried.
    expect(await stack.lambda.invoke(renewal.logicalId, { provider: 'lotus', channelId: 'x' })).toEqual({ outcome: 'malformed' });
  });

  it('a renewal scheduled by concurrent retries is one schedule, at the margin before expiry', async () => {
    const { renewalTime, scheduleRenewal } = await import('../../shared/calendar-sync/push.ts');
    const channel: PushChannel = { provider: 'google', channelId: 'concurrent-test', connectionId: 'cal-0', calendarId: 'c', secretHash: 'h', expiresAt: new Date(Date.now() + 86_400_000).toISOString(), address: 'http://127.0.0.1:9/x' };
    const names = await Promise.all(Array.from({ length: 6 }, () => scheduleRenewal(channel, renewalTarget(), new Date())));
    expect(new Set(names).size).toBe(1);
    const matching = stack.scheduler.list({ group: renewalTarget().group }).filter((s) => s.Name === names[0]);
    expect(matching).toHaveLength(1);
    expect(stack.scheduler.get(renewalTarget().group, names[0]!).ScheduleExpression).toBe(`at(${renewalTime(channel.expiresAt, new Date()).toISOString().slice(0, 19)})`);
  });
});

describe('Microsoft Graph: a subscription per busy-checked calendar', () => {
  it('is made on connect after the validation handshake on both URLs', async () => {
    const shown = (await connection('microsoft')).body;
    expect(shown.sync.push).toMatchObject({ state: 'active', error: null });
    const [subscription] = await channelsOf('microsoft');
    const validations = stack.graph.notifications.filter((n) => n.kind === 'validation' && n.subscriptionId === subscription!.channelId);
    expect(validations.map((v) => [new URL(v.url).pathname, v.status])).toEqual([
      ['/calendars/notifications/microsoft', 200],
      ['/calendars/notifications/microsoft/lifecycle', 200],
    ]);
    expect(Date.parse(subscription!.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
  });

  it('echoes a validationToken as text/plain', async () => {
    const token = 'Validation: Testing client application reachability <&> 42';
    for (const path of ['/calendars/notifications/microsoft', '/calendars/notifications/microsoft/lifecycle']) {
      const answer = await fetch(`${stack.httpUrl}${path}?validationToken=${encodeURIComponent(token)}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '' });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toContain('text/plain');
      expect(await answer.text()).toBe(token);
    }
  });

  it('an event added in Outlook leaves GET /slots with no API call', async () => {
    const { eventTypeId } = organizers.microsoft;
    expect(await slotStarts(eventTypeId)).toContain(hour(12).toISOString());
    const added = await fetch(`${stack.graph.url}/dev/users/${encodeURIComponent(stack.graph.devAccount)}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'Lunch', start: { dateTime: hour(12).toISOString().slice(0, 19), timeZone: 'UTC' }, end: { dateTime: hour(13).toISOString().slice(0, 19), timeZone: 'UTC' }, showAs: 'busy' }),
    });
    expect(added.status).toBeLessThan(300);
    const without = await until(() => slotStarts(eventTypeId), (starts) => !starts.includes(hour(12).toISOString()));
    expect(without).not.toContain(hour(12).toISOString());
    expect(without).toContain(hour(13).toISOString());
    await stack.graph.notificationsSettled();
    expect(stack.graph.notifications.filter((n) => n.kind === 'change').at(-1)).toMatchObject({ status: 202 });
  });

  it('notifications with a wrong or missing clientState, or for an unknown subscription, are refused and enqueue nothing', async () => {
    const [subscription] = await channelsOf('microsoft');
    expect(await until(syncQueueDepth, (n) => n === 0)).toBe(0);
    const note = (fields: Record<string, unknown>) => ({ value: [{ subscriptionId: subscription!.channelId, changeType: 'created', resource: 'Users/x/Events/y', ...fields }] });
    for (const body of [note({ clientState: 'guessed' }), note({}), note({ clientState: null }), note({ subscriptionId: crypto.randomUUID(), clientState: 'guessed' })]) {
      expect((await call('POST', '/calendars/notifications/microsoft', undefined, body)).status, JSON.stringify(body)).toBe(403);
    }
    for (const body of [note({ clientState: 'guessed', lifecycleEvent: 'missed' }), note({ lifecycleEvent: 'subscriptionRemoved' })]) {
      expect((await call('POST', '/calendars/notifications/microsoft/lifecycle', undefined, body)).status).toBe(403);
    }
    const malformed = await call('POST', '/calendars/notifications/microsoft', undefined, { value: [{ subscriptionId: 42 }] });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].path).toBe('value.0.subscriptionId');
    expect((await call('POST', '/calendars/notifications/microsoft', undefined, { value: [] })).status).toBe(400);
    expect((await call('POST', '/calendars/notifications/microsoft', undefined, 'not json')).status).toBe(400);
    expect(await syncQueueDepth()).toBe(0);
    expect(await channelsOf('microsoft')).toEqual([subscription]);
  });

  it('lifecycle missed: the connection is read in full', async () => {
    const [subscription] = await channelsOf('microsoft');
    await until(syncQueueDepth, (n) => n === 0);
    const before = (await readSyncState(tables, organizers.microsoft.connectionId)).lastFullAt;
    const sent = await fetch(`${stack.graph.url}/dev/subscriptions/${subscription!.channelId}/lifecycle`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lifecycleEvent: 'missed' }) });
    expect(sent.status).toBe(202);
    const after = await until(() => readSyncState(tables, organizers.microsoft.connectionId), (s) => s.lastFullAt !== before);
    expect(Date.parse(after.lastFullAt!)).toBeGreaterThan(Date.parse(before!));
    await stack.graph.notificationsSettled();
    expect(stack.graph.notifications.filter((n) => n.kind === 'lifecycle').at(-1)).toMatchObject({ status: 202 });
  });

  it('lifecycle reauthorizationRequired: the subscription is renewed at Graph (PATCH) and its renewal moves', async () => {
    const [subscription] = await channelsOf('microsoft');
    const patches = () => stack.graph.requests.filter((r) => r.method === 'PATCH' && r.path === `/v1.0/subscriptions/${subscription!.channelId}` && r.status === 200).length;
    expect(patches()).toBe(0);
    const sent = await fetch(`${stack.graph.url}/dev/subscriptions/${subscription!.channelId}/lifecycle`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lifecycleEvent: 'reauthorizationRequired' }) });
    expect(sent.status).toBe(202);
    await stack.graph.notificationsSettled();
    expect(patches()).toBe(1);
    const [renewed] = await channelsOf('microsoft');
    expect(renewed!.channelId).toBe(subscription!.channelId);
    expect(Date.parse(renewed!.expiresAt)).toBeGreaterThanOrEqual(Date.parse(subscription!.expiresAt));
    expect(stack.scheduler.list({ group: renewalTarget().group }).some((s) => s.Name === renewed!.schedule)).toBe(true);
  });

  it('a one-time schedule made at run time fires in the local runtime, renews, and is deleted after it ran', async () => {
    const [subscription] = await channelsOf('microsoft');
    const patches = () => stack.graph.requests.filter((r) => r.method === 'PATCH' && r.path === `/v1.0/subscriptions/${subscription!.channelId}` && r.status === 200).length;
    const before = patches();
    const { SchedulerClient, CreateScheduleCommand } = await import('@aws-sdk/client-scheduler');
    const target = renewalTarget();
    const name = `push-test-${Date.now()}`;
    await new SchedulerClient({}).send(
      new CreateScheduleCommand({
        Name: name, GroupName: target.group, ScheduleExpression: `at(${new Date(Date.now() + 1_500).toISOString().slice(0, 19)})`, ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' }, ActionAfterCompletion: 'DELETE',
        Target: { Arn: target.functionArn, RoleArn: target.roleArn, Input: JSON.stringify({ provider: 'microsoft', channelId: subscription!.channelId }) },
      }),
    );
    expect(stack.scheduler.list({ group: target.group }).some((s) => s.Name === name)).toBe(true);
    await until(async () => patches(), (n) => n > before);
    expect(patches()).toBe(before + 1);
    await until(async () => stack.scheduler.list({ group: target.group }).some((s) => s.Name === name), (exists) => !exists);
    expect(stack.scheduler.list({ group: target.group }).some((s) => s.Name === name)).toBe(false);
  });

  it('lifecycle subscriptionRemoved: a new subscription takes its place', async () => {
    const [subscription] = await channelsOf('microsoft');
    const sent = await fetch(`${stack.graph.url}/dev/subscriptions/${subscription!.channelId}/lifecycle`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lifecycleEvent: 'subscriptionRemoved' }) });
    expect(sent.status).toBe(202);
    await stack.graph.notificationsSettled();
    const [made, ...more] = await until(() => channelsOf('microsoft'), (channels) => channels.length === 1 && channels[0]!.channelId !== subscription!.channelId);
    expect(more).toEqual([]);
    expect(made!.channelId).not.toBe(subscription!.channelId);
    expect((await connection('microsoft')).body.sync.push.state).toBe('active');
    // And it works: a change notifies the new subscription, and the slot leaves.
    await fetch(`${stack.graph.url}/dev/users/${encodeURIComponent(stack.graph.devAccount)}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'Walk', start: { dateTime: hour(15).toISOString().slice(0, 19), timeZone: 'UTC' }, end: { dateTime: hour(15.5).toISOString().slice(0, 19), timeZone: 'UTC' }, showAs: 'busy' }),
    });
    const without = await until(() => slotStarts(organizers.microsoft.eventTypeId), (starts) => !starts.includes(hour(15).toISOString()));
    expect(without).not.toContain(hour(15).toISOString());
  });
});

describe('disconnect', () => {
  it.each(['google', 'microsoft'] as const)('%s: stops the channels at the provider and deletes their renewals', async (provider) => {
    const channels = await channelsOf(provider);
    expect(channels.length).toBe(1);
    const removed = await call('DELETE', `/calendars/connections/${organizers[provider].connectionId}`, organizers[provider].token);
    expect(removed.status).toBe(204);
    expect(await channelsOf(provider)).toEqual([]);
    for (const channel of channels) {
      expect(await readChannel(tables, provider, channel.channelId)).toBeUndefined();
      expect(stack.scheduler.list({ group: renewalTarget().group }).some((s) => s.Name === channel.schedule)).toBe(false);
    }
    if (provider === 'google') {
      const deliveries = stack.google.deliveries.length;
      await fetch(`${stack.google.url}/dev/users/${encodeURIComponent(stack.google.devAccount)}/calendars/primary/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ summary: 'After disconnect', start: { dateTime: hour(9).toISOString() }, end: { dateTime: hour(9.5).toISOString() } }),
      });
      await stack.google.pushesSettled();
      expect(stack.google.deliveries.slice(deliveries)).toEqual([]);
    } else {
      expect(stack.graph.requests.filter((r) => r.method === 'DELETE' && r.path === `/v1.0/subscriptions/${channels[0]!.channelId}`).map((r) => r.status)).toEqual([204]);
    }
  });
});
