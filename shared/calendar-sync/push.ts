// Push: Google watch channels and Graph subscriptions for a connection's busy-checked calendars, made on
// connect (and when a calendar is newly busy-checked), renewed before they expire by one-time Scheduler
// schedules (`at(expiry - margin)`, deleted after they ran), stopped on disconnect. A notification that proves
// itself (the channel token, the clientState) asks for a read of its connection, debounced: a burst of
// notifications costs one read. Push only ever makes a read sooner: a channel that could not be made, or that
// lapsed, leaves the connection on its schedule, which still syncs it.
import { randomBytes } from 'node:crypto';
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { logger } from '../observability/logger.ts';
import { calendarAdapters } from '../calendars/adapters.ts';
import type { CalendarProvider, ProviderCredentials, ProviderName } from '../calendars/provider.ts';
import type { GoogleProvider } from '../calendars/providers/google.ts';
import type { MicrosoftProvider } from '../calendars/providers/microsoft.ts';
import {
  claimRenewal, deleteChannel, deletePushSummary, hashSecret, openDebounceWindow, readChannel, readPushSummary, recordPushEntry, removePushEntry, writeChannel,
  type PushChannel, type PushProvider,
} from '../calendars/push-store.ts';
import { digest, type CalendarTables } from '../calendars/store.ts';
import { enqueueSync } from '../calendars/sync-queue.ts';

/** Google channels are asked for a week (Google may give less: its answer's expiration is what is kept). */
export const GOOGLE_CHANNEL_TTL_SECONDS = 7 * 86_400;
/** Graph's limit for Outlook event subscriptions is 10080 minutes; ask a little less, so clocks never disagree. */
export const GRAPH_SUBSCRIPTION_MINUTES = 10_070;
/** A renewal runs this long before the channel expires (at most half its life). */
export const RENEWAL_MARGIN_SECONDS = 3_600;
/** How long a renewal holds its channel's lease: longer than a renewal takes, short enough to retry soon. */
const RENEWAL_LEASE_SECONDS = 120;

/** The routes the providers post to, under the HTTP API's own URL. */
export const notificationPaths = {
  google: '/calendars/notifications/google',
  microsoft: '/calendars/notifications/microsoft',
  lifecycle: '/calendars/notifications/microsoft/lifecycle',
} as const;

/** Where renewals are scheduled: the renewal function, the role Scheduler assumes, its group, its DLQ. */
export type RenewalTarget = { functionArn: string; roleArn: string; group: string; deadLetterArn?: string };

export function renewalTargetFromEnv(env: NodeJS.ProcessEnv = process.env, functionArn = env.CALENDAR_PUSH_RENEWAL_ARN): RenewalTarget | undefined {
  if (!functionArn || !env.CALENDAR_PUSH_ROLE_ARN || !env.CALENDAR_PUSH_SCHEDULE_GROUP) return undefined;
  return { functionArn, roleArn: env.CALENDAR_PUSH_ROLE_ARN, group: env.CALENDAR_PUSH_SCHEDULE_GROUP, deadLetterArn: env.CALENDAR_PUSH_DLQ_ARN || undefined };
}

/** The debounce window of push-triggered reads (seconds; CALENDAR_PUSH_DEBOUNCE_SECONDS, default 2). */
export function pushDebounceSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.CALENDAR_PUSH_DEBOUNCE_SECONDS ?? 2);
  return Number.isInteger(value) && value >= 0 && value <= 60 ? value : 2;
}

let scheduler: SchedulerClient | undefined;
const schedulerClient = () => (scheduler ??= new SchedulerClient({}));

/** The renewal schedule's name: one per channel and expiry, so a retried creation finds its own schedule. */
export function renewalScheduleName(channel: Pick<PushChannel, 'provider' | 'channelId' | 'expiresAt'>): string {
  return `push-${channel.provider === 'google' ? 'g' : 'm'}-${digest(`${channel.provider}\u0000${channel.channelId}`)}-${Math.floor(Date.parse(channel.expiresAt) / 60_000)}`;
}

/** When the renewal runs: the margin before expiry (at most half the remaining life), never in the past. */
export function renewalTime(expiresAt: string, now: Date): Date {
  const left = Date.parse(expiresAt) - now.getTime();
  const margin = Math.min(RENEWAL_MARGIN_SECONDS * 1000, Math.max(0, left / 2));
  return new Date(Math.max(now.getTime() + 60_000, Date.parse(expiresAt) - margin));
}

/** Scheduler's at() takes a wall-clock time without a zone (the schedule's zone, UTC here) to the second. */
const atExpression = (when: Date) => `at(${when.toISOString().slice(0, 19)})`;

/**
 * Schedules the channel's renewal, once: the name and ClientToken derive from the channel and its expiry, so a
 * retry (or a concurrent twin) meets its own schedule (ConflictException) and leaves it be.
 */
export async function scheduleRenewal(channel: PushChannel, target: RenewalTarget | undefined, now: Date): Promise<string | undefined> {
  if (!target) {
    logger.warn('calendar push renewal not scheduled: no renewal target configured', { channelId: channel.channelId });
    return undefined;
  }
  const name = renewalScheduleName(channel);
  try {
    await schedulerClient().send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: target.group,
        ClientToken: name,
        ScheduleExpression: atExpression(renewalTime(channel.expiresAt, now)),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Description: `Renews the ${channel.provider} push channel of one calendar before it expires`,
        Target: {
          Arn: target.functionArn,
          RoleArn: target.roleArn,
          Input: JSON.stringify({ provider: channel.provider, channelId: channel.channelId }),
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3_600 },
          ...(target.deadLetterArn ? { DeadLetterConfig: { Arn: target.deadLetterArn } } : {}),
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConflictException)) throw error;
  }
  return name;
}

async function deleteSchedule(name: string | undefined, target: RenewalTarget | undefined): Promise<void> {
  if (!name || !target) return;
  await schedulerClient()
    .send(new DeleteScheduleCommand({ Name: name, GroupName: target.group }))
    .catch((error: Error) => {
      if (error.name !== 'ResourceNotFoundException') logger.warn('calendar push renewal schedule not deleted', { name, error: error.message });
    });
}

const isGoogle = (p: CalendarProvider): p is GoogleProvider => p.provider === 'google' && 'watch' in p;
const isMicrosoft = (p: CalendarProvider): p is MicrosoftProvider => p.provider === 'microsoft' && 'createSubscription' in p;

export type PushContext = {
  tables: CalendarTables;
  connectionId: string;
  provider: ProviderName;
  credentials: ProviderCredentials;
  /** The HTTP API's own URL (no trailing slash): the notification routes are under it. */
  baseUrl: string;
  target: RenewalTarget | undefined;
  now?: () => Date;
};

const clock = (context: { now?: () => Date }) => (context.now ?? (() => new Date()))();

/**
 * Makes one channel for a calendar and schedules its renewal. Google's channel is recorded before it is made
 * (its id and token are ours), so its first 'sync' message finds it; a Graph subscription's id is Graph's.
 */
async function createChannel(context: Omit<PushContext, 'baseUrl'> & { address: string; lifecycleAddress?: string }, adapter: CalendarProvider, calendarId: string): Promise<PushChannel> {
  const { tables, connectionId, target } = context;
  const secret = randomBytes(32).toString('base64url');
  const now = clock(context);
  let channel: PushChannel;
  if (isGoogle(adapter)) {
    const channelId = `${connectionId}-${randomBytes(8).toString('hex')}`;
    channel = { provider: 'google', channelId, connectionId, calendarId, secretHash: hashSecret(secret), expiresAt: new Date(now.getTime() + GOOGLE_CHANNEL_TTL_SECONDS * 1000).toISOString(), address: context.address };
    await writeChannel(tables, channel);
    try {
      const made = await adapter.watch(calendarId, { channelId, token: secret, address: context.address, ttlSeconds: GOOGLE_CHANNEL_TTL_SECONDS });
      channel = { ...channel, resourceId: made.resourceId, ...(made.expiration ? { expiresAt: new Date(made.expiration).toISOString() } : {}) };
    } catch (error) {
      await deleteChannel(tables, 'google', channelId);
      throw error;
    }
  } else if (isMicrosoft(adapter)) {
    const expiresAt = new Date(now.getTime() + GRAPH_SUBSCRIPTION_MINUTES * 60_000).toISOString();
    const made = await adapter.createSubscription(calendarId, { notificationUrl: context.address, lifecycleNotificationUrl: context.lifecycleAddress, clientState: secret, expiresAt });
    channel = {
      provider: 'microsoft', channelId: made.id, connectionId, calendarId, secretHash: hashSecret(secret), expiresAt: made.expirationDateTime || expiresAt, address: context.address,
      ...(context.lifecycleAddress ? { lifecycleAddress: context.lifecycleAddress } : {}),
    };
  } else {
    throw new Error(`${adapter.provider} has no push`);
  }
  const schedule = await scheduleRenewal(channel, target, now);
  channel = { ...channel, ...(schedule ? { schedule } : {}) };
  await writeChannel(tables, channel);
  await recordPushEntry(tables, connectionId, { calendarId, provider: channel.provider, channelId: channel.channelId, expiresAt: channel.expiresAt, at: now.toISOString() });
  return channel;
}

/** Stops one channel at the provider (best effort), forgets it and its pending renewal. */
async function stopChannel(tables: CalendarTables, adapter: CalendarProvider | undefined, channel: PushChannel, target: RenewalTarget | undefined): Promise<void> {
  try {
    if (adapter && isGoogle(adapter) && channel.resourceId) await adapter.stopWatch({ channelId: channel.channelId, resourceId: channel.resourceId });
    if (adapter && isMicrosoft(adapter)) await adapter.deleteSubscription(channel.channelId);
  } catch (error) {
    // It expires on its own; its notifications, if any, no longer find a channel and enqueue nothing.
    logger.warn('calendar push channel not stopped at the provider', { channelId: channel.channelId, error: (error as Error).message });
  }
  await deleteChannel(tables, channel.provider, channel.channelId);
  await deleteSchedule(channel.schedule, target);
}

const pushProviders: ReadonlySet<ProviderName> = new Set(['google', 'microsoft']);

/**
 * Brings the connection's channels in line with its busy-checked calendars: one live channel each, none for
 * the others. Never throws: a calendar whose channel could not be made is recorded as such (and synced on the
 * schedule); the connect or flag change that called this goes on.
 */
export async function reconcilePush(context: PushContext, busyCalendarIds: string[]): Promise<void> {
  if (!pushProviders.has(context.provider)) return;
  const { tables, connectionId } = context;
  try {
    const adapter = await (await calendarAdapters()).providerFor(context.provider, context.credentials);
    const summary = await readPushSummary(tables, connectionId);
    const now = clock(context);
    const wanted = new Set(busyCalendarIds);
    const address = `${context.baseUrl}${context.provider === 'google' ? notificationPaths.google : notificationPaths.microsoft}`;
    const lifecycleAddress = context.provider === 'microsoft' ? `${context.baseUrl}${notificationPaths.lifecycle}` : undefined;
    for (const entry of Object.values(summary.calendars)) {
      if (wanted.has(entry.calendarId)) continue;
      const channel = entry.channelId ? await readChannel(tables, entry.provider, entry.channelId) : undefined;
      if (channel) await stopChannel(tables, adapter, channel, context.target);
      await removePushEntry(tables, connectionId, entry.calendarId);
    }
    for (const calendarId of busyCalendarIds) {
      const entry = summary.calendars[digest(calendarId)];
      if (entry?.channelId && entry.expiresAt && Date.parse(entry.expiresAt) > now.getTime()) continue;
      try {
        await createChannel({ ...context, address, lifecycleAddress }, adapter, calendarId);
      } catch (error) {
        logger.warn('calendar push unavailable; the schedule syncs this calendar', { connectionId, provider: context.provider, error: (error as Error).message });
        await recordPushEntry(tables, connectionId, { calendarId, provider: context.provider as PushProvider, error: (error as Error).message.slice(0, 300), at: now.toISOString() });
      }
    }
  } catch (error) {
    logger.warn('calendar push not set up', { connectionId, error: (error as Error).message });
  }
}

/** Stops every channel of the connection and deletes their pending renewals. Best effort; never throws. */
export async function stopPush(tables: CalendarTables, input: { connectionId: string; provider: ProviderName; credentials?: ProviderCredentials; target: RenewalTarget | undefined }): Promise<void> {
  if (!pushProviders.has(input.provider)) return;
  try {
    const adapter = input.credentials ? await (await calendarAdapters()).providerFor(input.provider, input.credentials).catch(() => undefined) : undefined;
    const summary = await readPushSummary(tables, input.connectionId);
    for (const entry of Object.values(summary.calendars)) {
      const channel = entry.channelId ? await readChannel(tables, entry.provider, entry.channelId) : undefined;
      if (channel) await stopChannel(tables, adapter, channel, input.target);
    }
    await deletePushSummary(tables, input.connectionId);
  } catch (error) {
    logger.warn('calendar push not stopped', { connectionId: input.connectionId, error: (error as Error).message });
  }
}

export type RenewalOutcome = 'renewed' | 'recreated' | 'gone' | 'busy' | 'disconnected';

/**
 * Renews one channel: Google's by a new channel (then the old one is stopped: channels cannot be extended),
 * Graph's by PATCHing its expiry (or, when Graph no longer has it, by a new subscription). Safe to run twice
 * at once: the channel's lease lets one renewal through; a channel already replaced is gone.
 */
export async function renewChannel(
  deps: { tables: CalendarTables; target: RenewalTarget | undefined; readConnection: (id: string) => Promise<{ provider: ProviderName; status: string } | undefined>; readCredentials: (id: string) => Promise<ProviderCredentials | undefined>; now?: () => Date },
  input: { provider: PushProvider; channelId: string; recreate?: boolean },
): Promise<RenewalOutcome> {
  const { tables, target } = deps;
  const now = clock(deps);
  const channel = await readChannel(tables, input.provider, input.channelId);
  if (!channel) return 'gone';
  const connection = await deps.readConnection(channel.connectionId);
  const credentials = connection?.status === 'connected' ? await deps.readCredentials(channel.connectionId) : undefined;
  if (!connection || !credentials) {
    // Gone, or waiting for the organizer to sign in again (a renewal would be refused): the channel lapses,
    // and reconnecting makes a new one (its summary entry is gone with it).
    await stopChannel(tables, undefined, channel, undefined);
    await removePushEntry(tables, channel.connectionId, channel.calendarId);
    return 'disconnected';
  }
  if (!(await claimRenewal(tables, channel, now, new Date(now.getTime() + RENEWAL_LEASE_SECONDS * 1000)))) return 'busy';
  const adapter = await (await calendarAdapters()).providerFor(channel.provider, credentials);
  // A channel its calendar no longer names (two flag changes at once made two; the calendar was unchecked
  // while this renewal waited) is not kept alive: it is stopped.
  const entry = (await readPushSummary(tables, channel.connectionId)).calendars[digest(channel.calendarId)];
  if (entry?.channelId !== channel.channelId) {
    await stopChannel(tables, adapter, channel, target);
    return 'gone';
  }
  const context = { tables, connectionId: channel.connectionId, provider: channel.provider, credentials, target, now: deps.now, address: channel.address, lifecycleAddress: channel.lifecycleAddress };
  if (isMicrosoft(adapter) && !input.recreate) {
    try {
      const renewed = await adapter.renewSubscription(channel.channelId, new Date(now.getTime() + GRAPH_SUBSCRIPTION_MINUTES * 60_000).toISOString());
      const { renewingUntil: _lease, schedule: previous, ...rest } = channel;
      const next: PushChannel = { ...rest, expiresAt: renewed.expirationDateTime };
      const schedule = await scheduleRenewal(next, target, now);
      await writeChannel(tables, { ...next, ...(schedule ? { schedule } : {}) });
      // Renewed ahead of its schedule (reauthorizationRequired): the earlier renewal is not needed any more.
      if (previous && previous !== schedule) await deleteSchedule(previous, target);
      await recordPushEntry(tables, channel.connectionId, { calendarId: channel.calendarId, provider: 'microsoft', channelId: channel.channelId, expiresAt: next.expiresAt, at: now.toISOString() });
      return 'renewed';
    } catch (error) {
      // Graph no longer has it (removed, or expired meanwhile): a new one takes its place below.
      if ((error as { status?: number }).status !== 404 && !/not ?found/i.test((error as Error).message)) throw error;
    }
  }
  await createChannel(context, adapter, channel.calendarId);
  await stopChannel(tables, input.recreate ? undefined : adapter, channel, target);
  return isMicrosoft(adapter) ? 'recreated' : 'renewed';
}

/**
 * A verified notification asks for a read of its connection: the first of a debounce window enqueues one read,
 * delayed to the window's end; the others inside the window join it. True when this one enqueued.
 */
export async function pushTriggeredSync(tables: CalendarTables, connectionId: string, options: { now?: Date; full?: boolean } = {}): Promise<boolean> {
  const now = options.now ?? new Date();
  const window = pushDebounceSeconds();
  if (options.full) {
    // A missed notification: whatever changed is unknown, so the calendar is read in full, not debounced away.
    await enqueueSync({ connectionId, reason: 'push', full: true });
    return true;
  }
  if (!(await openDebounceWindow(tables, connectionId, now, new Date(now.getTime() + window * 1000)))) return false;
  await enqueueSync({ connectionId, reason: 'push' }, window);
  return true;
}
