import { PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../../events/zod.ts';
import { organizer, type Identity } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { respondToCommand } from '../../shared/http/command-response.ts';
import { httpHandler, json, parseJsonBody, pathParameter, routeHandler, type HttpEvent, type HttpResult } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';
import { logger } from '../../shared/observability/logger.ts';
import { calendarAdapters, type OAuthProviderName } from '../../shared/calendars/adapters.ts';
import { forgetBusy } from '../../shared/calendars/busy-store.ts';
import { clearPreviousDestination, connectionCommand, connectionProjection, createdAtOf, ownedBy } from '../../shared/calendars/commands.ts';
import { connectionDecider, destinationOf, type ConnectionState } from '../../shared/calendars/connection.ts';
import { CalendarAuthError, CalendarUnavailableError, type ExternalCalendar, type ProviderCredentials, type ProviderName } from '../../shared/calendars/provider.ts';
import { consumeState, signState, stateKey, verifyState } from '../../shared/calendars/oauth-state.ts';
import {
  connectionIdOf, listConnections, patchSyncState, presentConnection, readConnection, readDestination, readSyncState, writeSyncState, type ConnectionView,
} from '../../shared/calendars/store.ts';
import { enqueueSync } from '../../shared/calendars/sync-queue.ts';
import { connectCaldavBody, oauthCallbackQuery, updateConnectionBody } from '../../shared/calendars/requests.ts';
import { credentialsDelete, credentialsWrite, readCredentials, sealCredentials } from '../../shared/calendars/vault.ts';
import { reconcilePush, renewalTargetFromEnv, stopPush } from '../../shared/calendar-sync/push.ts';
import { presentPush, readPushSummary } from '../../shared/calendars/push-store.ts';

const oauthProviders = ['google', 'microsoft'] as const;

type Present = Omit<ConnectionView, 'written'>;

/** The caller's own connection, or a 404 like any stranger's. */
async function mine(event: HttpEvent, me: Identity): Promise<Present> {
  const view = await readConnection(bookingTables(), pathParameter(event, 'id'));
  if (!view || view.organizerId !== me.userId) throw problems.notFound('calendar connection');
  return view;
}

async function present(view: Present) {
  const tables = bookingTables();
  const [sync, destination, push] = await Promise.all([readSyncState(tables, view.id), readDestination(tables, view.organizerId), readPushSummary(tables, view.id)]);
  const shown = presentConnection(view, sync, destination);
  const busy = view.calendars.filter((calendar) => calendar.busy).map((calendar) => calendar.id);
  return { ...shown, sync: { ...shown.sync, push: presentPush(view.provider, push, busy, new Date()) } };
}

/** The HTTP API's own URL, as the request reached it: the push notification routes are under it. */
function apiBaseUrl(event: HttpEvent): string {
  const host = event.requestContext.domainName;
  const local = /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host);
  return `${local ? 'http' : 'https'}://${host}`;
}

/** Push channels for the connection's busy-checked calendars, and none for the others (never fails the caller). */
async function pushForBusyCalendars(id: string, provider: ProviderName, credentials: ProviderCredentials, baseUrl: string): Promise<void> {
  const tables = bookingTables();
  const view = await readConnection(tables, id);
  if (!view) return;
  await reconcilePush({ tables, connectionId: id, provider, credentials, baseUrl, target: renewalTargetFromEnv() }, view.calendars.filter((c) => c.busy).map((c) => c.id));
}

const viewOf = (id: string, state: ConnectionState, createdAt: string): Present => {
  if (state.status === 'none') throw problems.notFound('calendar connection');
  const { written: _written, ...rest } = state;
  return { ...rest, id, createdAt, updatedAt: new Date().toISOString() };
};

/**
 * Records a connection (new, or the same account connected again: its id derives from the account) with its
 * sealed credentials, and asks for its first busy-time read.
 */
async function connectAccount(
  me: Identity,
  input: { provider: ProviderName; account: string; accountEmail?: string; credentials: ProviderCredentials; calendars: ExternalCalendar[] },
  respond?: HttpEvent,
  pushBaseUrl?: string,
): Promise<{ id: string; result?: HttpResult }> {
  const tables = bookingTables();
  const id = connectionIdOf(me.userId, input.provider, input.account);
  const [pointer, createdAt, sealed] = await Promise.all([readDestination(tables, me.userId), createdAtOf(tables, id), sealCredentials(id, input.credentials)]);
  const spec = {
    aggregateId: id,
    command: {
      type: 'Connect' as const,
      organizerId: me.userId,
      provider: input.provider,
      accountEmail: input.accountEmail,
      calendars: input.calendars,
      organizerHasDestination: Boolean(pointer && pointer.connectionId !== id),
    },
    authorize: ownedBy(me.userId),
    alongside: [credentialsWrite(tables.stateTable, id, sealed)],
  };
  let result: HttpResult | undefined;
  if (respond) {
    result = await respondToCommand(respond, me, {
      ...spec,
      decider: connectionDecider,
      aggregateType: 'calendar',
      project: connectionProjection(tables, id, createdAt, pointer),
      status: 201,
      location: `/calendars/connections/${id}`,
      present: (state) => presentConnection(viewOf(id, state, createdAt), { state: 'queued', failures: 0, cursors: {} }, destinationOf(state) ? { connectionId: id, calendarId: destinationOf(state)!.id } : pointer),
      unchanged: async () => {
        // Connected and unchanged: the new credentials still replace the old (a changed password).
        await tables.client.send(new PutCommand({ TableName: tables.stateTable, Item: credentialsWrite(tables.stateTable, id, sealed).item.Put!.Item }));
        return present((await readConnection(tables, id))!);
      },
    });
  } else {
    const { events } = await connectionCommand(tables, id, { userId: me.userId, organizationId: me.organizationId }, { ...spec, createdAt, pointer });
    if (events.length === 0) {
      await tables.client.send(new PutCommand({ TableName: tables.stateTable, Item: credentialsWrite(tables.stateTable, id, sealed).item.Put!.Item }));
    }
  }
  await patchSyncState(tables, id, { state: 'queued' });
  await enqueueSync({ connectionId: id, reason: 'connect', full: true });
  // After the calendars are listed and recorded: a channel per busy-checked calendar (Google, Graph).
  if (pushBaseUrl) await pushForBusyCalendars(id, input.provider, input.credentials, pushBaseUrl);
  return { id, result };
}

/** CalDAV: the login is verified by discovery before anything is recorded; a refused one is a 422 naming `password`. */
export const create = httpHandler(async (event) => {
  const me = organizer(event);
  const input = parseJsonBody(event, connectCaldavBody);
  const adapters = await calendarAdapters();
  let discovered;
  try {
    discovered = await adapters.discoverCaldav({ serverUrl: input.serverUrl, username: input.username, password: input.password });
  } catch (error) {
    if (error instanceof CalendarAuthError) throw problems.unprocessable([{ path: 'password', message: 'the server refused this username and password' }]);
    if (error instanceof CalendarUnavailableError) throw problems.unprocessable([{ path: 'serverUrl', message: 'the CalDAV server could not be reached; try again later' }]);
    if ((error as Error).name === 'CalendarRequestError' || error instanceof TypeError) throw problems.unprocessable([{ path: 'serverUrl', message: 'no CalDAV calendars were found from this URL' }]);
    throw error;
  }
  const account = `${discovered.credentials.homeUrl ?? input.serverUrl}|${input.username}`;
  const { result } = await connectAccount(me, { provider: 'caldav', account, accountEmail: discovered.accountEmail, credentials: discovered.credentials, calendars: discovered.calendars }, event);
  return result!;
});

export const list = httpHandler(async (event) => {
  const me = organizer(event);
  const views = await listConnections(bookingTables(), me.userId);
  return json(200, { connections: await Promise.all(views.map(present)) });
});

export const get = httpHandler(async (event) => json(200, await present(await mine(event, organizer(event)))));

/** Changes the busy and destination flags; one destination per organizer, so setting one clears the other. */
export const update = httpHandler(async (event) => {
  const me = organizer(event);
  const input = parseJsonBody(event, updateConnectionBody);
  const view = await mine(event, me);
  const tables = bookingTables();
  const pointer = await readDestination(tables, me.userId);
  const result = await respondToCommand(event, me, {
    decider: connectionDecider,
    aggregateType: 'calendar',
    aggregateId: view.id,
    command: { type: 'ChangeFlags', changes: input.calendars },
    authorize: ownedBy(me.userId),
    project: connectionProjection(tables, view.id, view.createdAt, pointer),
    status: 200,
    present: (state) => presentConnection(viewOf(view.id, state, view.createdAt), { state: 'queued', failures: 0, cursors: {} }, destinationOf(state) ? { connectionId: view.id, calendarId: destinationOf(state)!.id } : pointer?.connectionId === view.id ? undefined : pointer),
    unchanged: async () => present(view),
  });
  const metadata = { userId: me.userId, organizationId: me.organizationId };
  if (input.calendars.some((calendar) => calendar.destination === true)) await clearPreviousDestination(tables, pointer, view.id, metadata);
  // A calendar no longer busy-checked stops blocking at once; one newly checked is read.
  for (const calendar of input.calendars.filter((c) => c.busy === false)) await forgetBusy(tables, me.userId, view.id, calendar.id);
  if (input.calendars.some((calendar) => calendar.busy === true)) await enqueueSync({ connectionId: view.id, reason: 'flags', full: true });
  if (view.provider !== 'caldav' && input.calendars.some((calendar) => calendar.busy !== undefined)) {
    const credentials = await readCredentials(tables, view.id).catch(() => undefined);
    if (credentials) await pushForBusyCalendars(view.id, view.provider, credentials, apiBaseUrl(event));
  }
  return result;
});

/** Disconnects: revokes what the provider allows, forgets the busy time it brought, records calendar.disconnected. */
export const remove = httpHandler(async (event) => {
  const me = organizer(event);
  const view = await mine(event, me);
  const tables = bookingTables();
  const credentials = await readCredentials(tables, view.id).catch(() => undefined);
  // Before the grant is revoked (stopping a channel needs it); best effort, never blocks the disconnect.
  await stopPush(tables, { connectionId: view.id, provider: view.provider, credentials, target: renewalTargetFromEnv() });
  if (credentials) {
    try {
      await (await (await calendarAdapters()).providerFor(view.provider, credentials)).revoke();
    } catch (error) {
      // The organizer leaves either way; a grant the provider would not revoke now expires on its own.
      logger.warn('calendar grant not revoked', { connectionId: view.id, error: (error as Error).message });
    }
  }
  const pointer = await readDestination(tables, me.userId);
  await respondToCommand(event, me, {
    decider: connectionDecider,
    aggregateType: 'calendar',
    aggregateId: view.id,
    command: { type: 'Disconnect' },
    authorize: ownedBy(me.userId),
    project: connectionProjection(tables, view.id, view.createdAt, pointer),
    alongside: [credentialsDelete(tables.stateTable, view.id)],
    status: 204,
    present: () => ({}),
  });
  await forgetBusy(tables, me.userId, view.id);
  await writeSyncState(tables, view.id, { state: 'idle', failures: 0, cursors: {} });
  return { statusCode: 204 };
});

/** Asks for a busy-time read now; 202, and the connection's sync state tells when it has run. */
export const sync = httpHandler(async (event) => {
  const me = organizer(event);
  const view = await mine(event, me);
  if (view.status === 'needs_reauth') throw problems.conflict('calendar-needs-reauth', 'This connection needs you to sign in again', 'connect the account again to resume syncing');
  const tables = bookingTables();
  await patchSyncState(tables, view.id, { state: 'queued' });
  await enqueueSync({ connectionId: view.id, reason: 'request' });
  return json(202, await present(view));
});

function oauthProvider(event: HttpEvent): OAuthProviderName {
  const provider = event.pathParameters?.provider;
  if (!oauthProviders.includes(provider as OAuthProviderName)) throw problems.notFound(`calendar provider ${String(provider).slice(0, 40)}`);
  return provider as OAuthProviderName;
}

/** Where the provider sends the organizer back: this API's callback route, as the request reached it. */
function callbackUrl(event: HttpEvent, provider: OAuthProviderName): string {
  const host = event.requestContext.domainName;
  const local = /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host);
  return `${local ? 'http' : 'https'}://${host}/calendars/callback/${provider}`;
}

/** 302 to the provider's consent page, with a signed state bound to the caller. */
export const connect = httpHandler(async (event) => {
  const me = organizer(event);
  const provider = oauthProvider(event);
  const state = await signState(await stateKey(), { organizerId: me.userId, provider });
  const flow = await (await calendarAdapters()).oauthFlow(provider);
  const location = flow.authorizationUrl({ state, redirectUri: callbackUrl(event, provider) });
  return { statusCode: 302, headers: { location, 'cache-control': 'no-store' }, body: '' };
});

const resultPage = (event: HttpEvent, outcome: { ok: true; id: string } | { ok: false; reason: string }): HttpResult => {
  const host = event.requestContext.domainName;
  const local = /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host);
  const query = outcome.ok ? `result=connected&connection=${encodeURIComponent(outcome.id)}` : `result=failed&reason=${encodeURIComponent(outcome.reason)}`;
  // The page is the callback route itself, without a code: the code leaves the address bar, and a reload of
  // the page exchanges nothing.
  return { statusCode: 302, headers: { location: `${local ? 'http' : 'https'}://${host}/calendars/callback/${event.pathParameters?.provider}?${query}`, 'cache-control': 'no-store' }, body: '' };
};


/** Public: the state is the proof of who started it. Exchanges the code, stores the grant, lists the calendars. */
export const callback = httpHandler(async (event) => {
  const provider = oauthProvider(event);
  const query = oauthCallbackQuery.safeParse(event.queryStringParameters ?? {});
  if (query.success && query.data.result && !query.data.code) return outcomePage(event);
  if (!query.success || !query.data.state) return resultPage(event, { ok: false, reason: 'invalid' });
  const verified = await verifyState(await stateKey(), query.data.state, provider);
  if ('refused' in verified) return resultPage(event, { ok: false, reason: /10 minutes/.test(verified.refused) ? 'expired' : 'invalid' });
  if (query.data.error || !query.data.code) return resultPage(event, { ok: false, reason: 'denied' });
  const tables = bookingTables();
  if (!(await consumeState(tables, verified))) return resultPage(event, { ok: false, reason: 'used' });
  const adapters = await calendarAdapters();
  try {
    const credentials = await (await adapters.oauthFlow(provider)).exchangeCode({ code: query.data.code, redirectUri: callbackUrl(event, provider) });
    const calendarProvider = await adapters.providerFor(provider, credentials);
    const [account, calendars] = await Promise.all([calendarProvider.account(), calendarProvider.listCalendars()]);
    const { id } = await connectAccount({ userId: verified.organizerId }, { provider, account: account.email, accountEmail: z.email().safeParse(account.email).success ? account.email : undefined, credentials, calendars }, undefined, apiBaseUrl(event));
    return resultPage(event, { ok: true, id });
  } catch (error) {
    if (error instanceof CalendarAuthError) return resultPage(event, { ok: false, reason: 'refused' });
    if (error instanceof CalendarUnavailableError) return resultPage(event, { ok: false, reason: 'unavailable' });
    throw error;
  }
});

const reasons: Record<string, string> = {
  invalid: 'The sign-in link was not one of ours. Start again from your calendar settings.',
  expired: 'The sign-in took longer than 10 minutes. Start again.',
  used: 'This sign-in link was already used. Start again if the calendar is not connected.',
  denied: 'Access was not granted at the provider.',
  refused: 'The provider refused the sign-in code. Start again.',
  unavailable: 'The calendar provider could not be reached. Try again in a few minutes.',
};

/** The small page the callback sends the organizer to: it worked, or why not (only our own fixed words). */
function outcomePage(event: HttpEvent): HttpResult {
  const params = event.queryStringParameters ?? {};
  const ok = params.result === 'connected';
  const message = ok ? 'Your calendar is connected. Its busy time is being read now; you can close this page.' : (reasons[params.reason ?? ''] ?? reasons.invalid!);
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${ok ? 'Calendar connected' : 'Calendar not connected'}</title></head><body><h1>${ok ? 'Calendar connected' : 'Calendar not connected'}</h1><p>${message}</p></body></html>`;
  // A page that explains, either way: the browser shows it as it is (an API refusal would be problem+json).
  return { statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'" }, body };
}

/** The one function behind every calendar route (see `sharedFunction` in infra/booking-stack.ts). */
export const handler = routeHandler({
  'POST /calendars/connections': create,
  'GET /calendars/connections': list,
  'GET /calendars/connections/{id}': get,
  'PATCH /calendars/connections/{id}': update,
  'DELETE /calendars/connections/{id}': remove,
  'POST /calendars/connections/{id}/sync': sync,
  'GET /calendars/connect/{provider}': connect,
  'GET /calendars/callback/{provider}': callback,
});
