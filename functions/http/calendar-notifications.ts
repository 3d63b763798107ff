// The providers' push notifications: public routes (no JWT: Google and Graph sign nothing we could verify at
// the gateway), so each notification proves itself by the secret of its channel, compared in constant time
// against the hash kept with the channel. Unknown channels and wrong secrets change nothing and enqueue nothing.
// Answers are quick: a verified change enqueues one debounced read and returns.
import type * as z from '../../events/zod.ts';
import { bookingTables } from '../../shared/config.ts';
import { httpHandler, routeHandler, type HttpEvent, type HttpResult } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';
import { logger } from '../../shared/observability/logger.ts';
import { pushTriggeredSync, renewChannel, renewalTargetFromEnv } from '../../shared/calendar-sync/push.ts';
import { graphChangeBatch, graphLifecycleBatch, googleNotificationHeaders } from '../../shared/calendars/push-requests.ts';
import { readChannel, secretMatches, type PushChannel } from '../../shared/calendars/push-store.ts';
import { readConnection } from '../../shared/calendars/store.ts';
import { readCredentials } from '../../shared/calendars/vault.ts';

/** A notification batch is small (Graph sends at most a few hundred per POST); anything larger is not one. */
const MAX_BODY_CHARS = 256 * 1024;

const refused = () => problems.forbidden('this notification does not come from a channel of ours');

function rawBody(event: HttpEvent): string {
  const text = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? '');
  if (text.length > MAX_BODY_CHARS) throw problems.invalidBody([{ path: '(body)', message: `must be at most ${MAX_BODY_CHARS} characters` }]);
  return text;
}

/**
 * Google: the channel named by X-Goog-Channel-ID, with its token. `sync` is the handshake of a new channel:
 * 200 and nothing else. `exists`/`not_exists`: something in the calendar changed; one read is asked for.
 */
export const google = httpHandler(async (event) => {
  const parsed = googleNotificationHeaders.safeParse(event.headers ?? {});
  if (!parsed.success) throw problems.invalidBody(parsed.error.issues.map((issue) => ({ path: ['headers', ...issue.path].join('.'), message: issue.message })));
  rawBody(event);
  const headers = parsed.data;
  const channel = await readChannel(bookingTables(), 'google', headers['x-goog-channel-id']);
  const verified = channel && secretMatches(headers['x-goog-channel-token'], channel.secretHash) && (!channel.resourceId || !headers['x-goog-resource-id'] || channel.resourceId === headers['x-goog-resource-id']);
  if (!channel || !verified) throw refused();
  if (headers['x-goog-resource-state'] === 'sync') return { statusCode: 200, body: '' };
  await pushTriggeredSync(bookingTables(), channel.connectionId);
  return { statusCode: 202, body: '' };
});

/** Graph's handshake: the token echoed back, as text/plain, within 10 seconds. Nothing is read or written. */
function validation(event: HttpEvent): HttpResult | undefined {
  const token = event.queryStringParameters?.validationToken;
  if (token === undefined) return undefined;
  if (token.length < 1 || token.length > 1024) throw problems.invalidBody([{ path: 'validationToken', message: 'must be 1 to 1024 characters' }]);
  return { statusCode: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }, body: token };
}

function parseBatch<T extends z.ZodMiniType>(event: HttpEvent, schema: T): z.infer<T> {
  let value: unknown;
  try {
    value = JSON.parse(rawBody(event) || 'null');
  } catch {
    throw problems.invalidBody([{ path: '(body)', message: 'must be a JSON document' }]);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw problems.invalidBody(parsed.error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message })));
  return parsed.data;
}

/** The notifications of a batch that prove themselves, with their channels; the rest are dropped. */
async function verifiedOf<N extends { subscriptionId: string; clientState?: string | null }>(notifications: N[]): Promise<Array<{ notification: N; channel: PushChannel }>> {
  const tables = bookingTables();
  const out: Array<{ notification: N; channel: PushChannel }> = [];
  for (const notification of notifications) {
    const channel = await readChannel(tables, 'microsoft', notification.subscriptionId);
    if (channel && secretMatches(notification.clientState ?? undefined, channel.secretHash)) out.push({ notification, channel });
  }
  if (out.length < notifications.length) logger.warn('calendar push notifications refused', { refused: notifications.length - out.length });
  return out;
}

/** Graph change notifications: each verified one asks for a read of its connection (debounced per connection). */
export const microsoft = httpHandler(async (event) => {
  const handshake = validation(event);
  if (handshake) return handshake;
  const batch = parseBatch(event, graphChangeBatch);
  const verified = await verifiedOf(batch.value);
  if (verified.length === 0) throw refused();
  for (const connectionId of new Set(verified.map(({ channel }) => channel.connectionId))) await pushTriggeredSync(bookingTables(), connectionId);
  return { statusCode: 202, body: '' };
});

/**
 * Graph lifecycle notifications: reauthorizationRequired renews the subscription now; missed reads the
 * connection in full (some changes were not notified); subscriptionRemoved makes a new subscription (and reads
 * in full, since changes since the removal were not notified either).
 */
export const lifecycle = httpHandler(async (event) => {
  const handshake = validation(event);
  if (handshake) return handshake;
  const batch = parseBatch(event, graphLifecycleBatch);
  const verified = await verifiedOf(batch.value);
  if (verified.length === 0) throw refused();
  const tables = bookingTables();
  const deps = { tables, target: renewalTargetFromEnv(), readConnection: (id: string) => readConnection(tables, id), readCredentials: (id: string) => readCredentials(tables, id) };
  for (const { notification, channel } of verified) {
    const kind = notification.lifecycleEvent;
    if (kind === 'missed') {
      await pushTriggeredSync(tables, channel.connectionId, { full: true });
      continue;
    }
    try {
      const outcome = await renewChannel(deps, { provider: 'microsoft', channelId: channel.channelId, recreate: kind === 'subscriptionRemoved' });
      logger.info('calendar push lifecycle handled', { lifecycleEvent: kind, outcome, connectionId: channel.connectionId });
    } catch (error) {
      // The subscription lapses; the schedule still syncs the calendar, and its renewal schedule tries again.
      logger.warn('calendar push lifecycle not handled', { lifecycleEvent: kind, connectionId: channel.connectionId, error: (error as Error).message });
    }
    if (kind === 'subscriptionRemoved') await pushTriggeredSync(tables, channel.connectionId, { full: true });
  }
  return { statusCode: 202, body: '' };
});

/** One function for the three notification routes (see `sharedFunction` in infra/booking-stack.ts). */
export const handler = routeHandler({
  'POST /calendars/notifications/google': google,
  'POST /calendars/notifications/microsoft': microsoft,
  'POST /calendars/notifications/microsoft/lifecycle': lifecycle,
});
