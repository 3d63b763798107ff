// Push channels in the state table: one item per channel (a Google watch channel, a Graph subscription), keyed
// by the id the provider's notifications name, so a notification finds its channel in one read; and one summary
// item beside the connection saying which channel serves each busy-checked calendar and until when (what the
// organizer sees as `sync.push`). The channel's secret (Google's channel token, Graph's clientState) is kept
// as its SHA-256 only: a notification proves itself by carrying the secret, and a leaked table does not.
import { createHash, timingSafeEqual } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { calendarKeys, digest, type CalendarTables } from './store.ts';

export type PushProvider = 'google' | 'microsoft';

/** One channel as stored. `address` is where the provider posts (kept for renewals, which have no request). */
export type PushChannel = {
  provider: PushProvider;
  channelId: string;
  connectionId: string;
  calendarId: string;
  /** Google's resourceId (channels.stop needs it); none for Graph. */
  resourceId?: string;
  secretHash: string;
  expiresAt: string;
  address: string;
  lifecycleAddress?: string;
  /** The pending renewal's Scheduler schedule (deleted with the channel). */
  schedule?: string;
  /** A renewal in progress holds this lease until then (a repeated Scheduler delivery waits it out). */
  renewingUntil?: string;
};

/** One calendar's push as the connection's summary holds it. */
export type PushEntry = { calendarId: string; provider: PushProvider; channelId?: string; expiresAt?: string; error?: string; at: string };
export type PushSummary = { calendars: Record<string, PushEntry>; debounceUntil?: string };

export const pushKeys = {
  channel: (provider: PushProvider, channelId: string) => ({ pk: `CALPUSH#${provider}#${channelId}`, sk: 'CHANNEL' }),
  summary: (connectionId: string) => ({ ...calendarKeys.connection(connectionId), sk: 'PUSH' }),
};

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('base64url');

/** Whether `presented` is the secret whose hash is stored: compared in constant time, whatever its length. */
export function secretMatches(presented: string | undefined, storedHash: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(hashSecret(presented));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function readChannel(tables: CalendarTables, provider: PushProvider, channelId: string): Promise<PushChannel | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: pushKeys.channel(provider, channelId), ConsistentRead: true }));
  return Item?.channel as PushChannel | undefined;
}

export async function writeChannel(tables: CalendarTables, channel: PushChannel): Promise<void> {
  await tables.client.send(new PutCommand({ TableName: tables.stateTable, Item: { ...pushKeys.channel(channel.provider, channel.channelId), channel } }));
}

export async function deleteChannel(tables: CalendarTables, provider: PushProvider, channelId: string): Promise<void> {
  await tables.client.send(new DeleteCommand({ TableName: tables.stateTable, Key: pushKeys.channel(provider, channelId) }));
}

/**
 * Takes the channel's renewal lease until `until`, unless another renewal holds it: Scheduler delivers at least
 * once, and two renewals of one Google channel would leave two channels. False: someone else is renewing.
 */
export async function claimRenewal(tables: CalendarTables, channel: PushChannel, now: Date, until: Date): Promise<boolean> {
  try {
    await tables.client.send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key: pushKeys.channel(channel.provider, channel.channelId),
        UpdateExpression: 'SET channel.renewingUntil = :until',
        ConditionExpression: 'attribute_exists(channel) AND (attribute_not_exists(channel.renewingUntil) OR channel.renewingUntil < :now)',
        ExpressionAttributeValues: { ':until': until.toISOString(), ':now': now.toISOString() },
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

export async function readPushSummary(tables: CalendarTables, connectionId: string): Promise<PushSummary> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: pushKeys.summary(connectionId), ConsistentRead: true }));
  return { calendars: (Item?.calendars as PushSummary['calendars'] | undefined) ?? {}, debounceUntil: Item?.debounceUntil as string | undefined };
}

/** Records one calendar's push (or that it could not be set up) without touching the others'. */
export async function recordPushEntry(tables: CalendarTables, connectionId: string, entry: PushEntry): Promise<void> {
  const key = digest(entry.calendarId);
  const setEntry = () =>
    tables.client.send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key: pushKeys.summary(connectionId),
        UpdateExpression: 'SET #calendars.#key = :entry',
        ConditionExpression: 'attribute_exists(#calendars)',
        ExpressionAttributeNames: { '#calendars': 'calendars', '#key': key },
        ExpressionAttributeValues: { ':entry': entry },
      }),
    );
  try {
    await setEntry();
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    // The first entry makes the map (a nested path cannot be set in a map that is not there).
    await tables.client.send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key: pushKeys.summary(connectionId),
        UpdateExpression: 'SET #calendars = if_not_exists(#calendars, :empty)',
        ExpressionAttributeNames: { '#calendars': 'calendars' },
        ExpressionAttributeValues: { ':empty': {} },
      }),
    );
    await setEntry();
  }
}

export async function removePushEntry(tables: CalendarTables, connectionId: string, calendarId: string): Promise<void> {
  await tables.client
    .send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key: pushKeys.summary(connectionId),
        UpdateExpression: 'REMOVE #calendars.#key',
        ConditionExpression: 'attribute_exists(#calendars)',
        ExpressionAttributeNames: { '#calendars': 'calendars', '#key': digest(calendarId) },
      }),
    )
    .catch((error) => {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    });
}

export async function deletePushSummary(tables: CalendarTables, connectionId: string): Promise<void> {
  await tables.client.send(new DeleteCommand({ TableName: tables.stateTable, Key: pushKeys.summary(connectionId) }));
}

/**
 * The debounce of push-triggered reads: true for the first trigger of a window (the caller enqueues one read,
 * delayed to the window's end), false for every trigger inside a window already open (that read will see
 * their changes too: it starts after them). One conditional write decides, so concurrent notifications agree.
 */
export async function openDebounceWindow(tables: CalendarTables, connectionId: string, now: Date, windowEnd: Date): Promise<boolean> {
  try {
    await tables.client.send(
      new UpdateCommand({
        TableName: tables.stateTable,
        Key: pushKeys.summary(connectionId),
        UpdateExpression: 'SET debounceUntil = :end',
        ConditionExpression: 'attribute_not_exists(debounceUntil) OR debounceUntil <= :now',
        ExpressionAttributeValues: { ':end': windowEnd.toISOString(), ':now': now.toISOString() },
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/** What the organizer sees: push is active while every busy-checked calendar has a live channel. */
export function presentPush(provider: string, summary: PushSummary, busyCalendarIds: string[], now: Date): { state: 'active' | 'unavailable' | 'none'; expiresAt: string | null; error: string | null } {
  if (provider === 'caldav' || busyCalendarIds.length === 0) return { state: 'none', expiresAt: null, error: null };
  const entries = busyCalendarIds.map((id) => summary.calendars[digest(id)]);
  const live = entries.filter((e): e is PushEntry => Boolean(e?.channelId && e.expiresAt && Date.parse(e.expiresAt) > now.getTime()));
  const failed = entries.find((e) => e?.error);
  const expiresAt = live.length ? live.map((e) => e.expiresAt!).sort()[0]! : null;
  return { state: live.length === entries.length ? 'active' : 'unavailable', expiresAt, error: failed?.error?.slice(0, 300) ?? null };
}
