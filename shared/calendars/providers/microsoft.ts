// The Microsoft Graph adapter: CalendarProvider over @microsoft/microsoft-graph-client, with the token
// endpoint of the Microsoft identity platform (or the local Graph's) for refreshes.
// Busy time: calendarView/delta, which expands recurrences into occurrences and exceptions as calendarView does;
// the first round is the full read and its @odata.deltaLink the cursor (410 SyncStateNotFound → a full read).
// Writes: the booking's event carries a single-value extended property naming the booking and a transactionId
// derived from it; a write first looks the event up by that property, so a retry after a lost response updates
// instead of creating, and Graph's transactionId dedupe covers two writes racing.
// Retries: the client's RetryHandler honours Retry-After on 429/503/504 (bounded, capped wait); 500/502 and
// network errors are retried here; 401 gets one token refresh.
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  AuthenticationHandler, Client, GraphError, HTTPMessageHandler, RedirectHandler, RetryHandler, RetryHandlerOptions, TelemetryHandler,
  type Context, type Middleware,
} from '@microsoft/microsoft-graph-client';
import { instantToWallClock, localIsoToInstant } from '../zone-time.ts';
import {
  CalendarAuthError, CalendarRequestError, CalendarUnavailableError,
  type BookingCalendarEvent, type BusyRead, type BusyReadOptions, type CalendarProvider, type ExternalBusyEvent, type ExternalCalendar,
  type OAuthClientConfig, type OAuthFlow, type ProviderCredentials, type WrittenEvent,
} from '../provider.ts';
import { DEFAULT_RETRY, backoffMs, retryAfterSeconds, sleep, type OAuthCredentials, type ProviderHooks, type RetryPolicy } from './retry.ts';

export const MICROSOFT_SCOPES = ['offline_access', 'User.Read', 'Calendars.ReadWrite'];

/**
 * The extended property that names the booking an event was written for. A named string property in a
 * property set (GUID) of our own, so no other app's property can be mistaken for it.
 */
export const BOOKING_PROPERTY_ID = 'String {7b1c3f4e-5a3d-4c8e-9f0b-b00c1e9e0a11} Name bookingId';
const PAGE_SIZE = 100;
const MAX_PAGES = 200;
/** Refresh this long before the access token's expiry, so a call never leaves with a token about to lapse. */
const EXPIRY_MARGIN_MS = 60_000;

/** The transactionId of a booking's event: deterministic, so Graph dedupes a repeated create. */
export const graphTransactionId = (bookingId: string) => `booking-engine:${bookingId}`;
const bookingOfTransaction = (transactionId: unknown) =>
  typeof transactionId === 'string' && transactionId.startsWith('booking-engine:') ? transactionId.slice('booking-engine:'.length) : undefined;

/** Counts the HTTP requests of one adapter call (RetryHandler's retries included): BusyRead.requests. */
const requestCounter = new AsyncLocalStorage<{ requests: number }>();
class CountingHandler implements Middleware {
  private next?: Middleware;
  async execute(context: Context): Promise<void> {
    const counter = requestCounter.getStore();
    if (counter) counter.requests += 1;
    await this.next!.execute(context);
  }
  setNext(next: Middleware): void {
    this.next = next;
  }
}

type TokenResponse = { access_token?: string; refresh_token?: string; expires_in?: number; error?: string; error_description?: string };

/** One request to the token endpoint; retried on 429/5xx and network errors; refusals become CalendarAuthError. */
async function tokenRequest(config: OAuthClientConfig, form: Record<string, string>, policy: RetryPolicy): Promise<OAuthCredentials & { accessToken: string }> {
  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(config.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ client_id: config.clientId, client_secret: config.clientSecret, ...form }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      if (attempt >= policy.attempts) throw new CalendarUnavailableError(`Microsoft login unreachable: ${(error as Error).message}`);
      await sleep(backoffMs(policy, attempt));
      continue;
    }
    const body = (await response.json().catch(() => ({}))) as TokenResponse;
    if (response.ok && body.access_token) {
      return {
        kind: 'oauth',
        accessToken: body.access_token,
        refreshToken: body.refresh_token ?? form.refresh_token ?? '',
        accessTokenExpiresAt: Date.now() + Number(body.expires_in ?? 3600) * 1000,
      };
    }
    if (response.status === 429 || response.status >= 500) {
      const after = retryAfterSeconds(response.headers.get('retry-after'));
      if (attempt >= policy.attempts || (after !== undefined && after > policy.maxWaitSeconds)) throw new CalendarUnavailableError(`Microsoft login answered ${response.status}`, after);
      await sleep(after !== undefined ? after * 1000 : backoffMs(policy, attempt));
      continue;
    }
    // invalid_grant (revoked, expired, consent withdrawn), interaction_required, ...: the organizer must reconnect.
    if (body.error === 'invalid_client' || body.error === 'unauthorized_client') throw new CalendarRequestError(`Microsoft refused our client: ${body.error}`, response.status);
    throw new CalendarAuthError(`Microsoft refused the grant (${body.error ?? response.status})`);
  }
}

/** A Graph time ({dateTime, timeZone}) as an instant; all-day dates are handled by the caller. */
const instantOf = (value: { dateTime?: string | null; timeZone?: string | null } | undefined) => {
  if (!value?.dateTime) return NaN;
  const zone = !value.timeZone || value.timeZone === 'UTC' || value.timeZone === 'tzone://Microsoft/Utc' ? 'UTC' : value.timeZone;
  return localIsoToInstant(value.dateTime, zone);
};

function busySpans(item: any, timeZone: string): ExternalBusyEvent['spans'] {
  // free (and working elsewhere) is what Outlook shows as not busy; cancelled meetings and declined invitations block nothing.
  if (item.showAs === 'free' || item.showAs === 'workingElsewhere' || item.isCancelled || item.responseStatus?.response === 'declined') return [];
  if (item.isAllDay) {
    const start = localIsoToInstant(String(item.start?.dateTime ?? '').slice(0, 10), timeZone);
    const end = localIsoToInstant(String(item.end?.dateTime ?? '').slice(0, 10), timeZone);
    return end > start ? [{ start: new Date(start).toISOString(), end: new Date(end).toISOString() }] : [];
  }
  const start = instantOf(item.start);
  const end = instantOf(item.end);
  if (Number.isNaN(start) || Number.isNaN(end) || end <= start) return [];
  return [{ start: new Date(start).toISOString(), end: new Date(end).toISOString() }];
}

export type GraphSubscription = { id: string; expirationDateTime: string };

export type MicrosoftProvider = CalendarProvider & {
  /** Push for a calendar: Graph validates notificationUrl (the validationToken echo), then POSTs changes. */
  createSubscription(calendarId: string, input: { notificationUrl: string; lifecycleNotificationUrl?: string; clientState: string; expiresAt: string }): Promise<GraphSubscription>;
  renewSubscription(subscriptionId: string, expiresAt: string): Promise<GraphSubscription>;
  /** One already gone is not an error. */
  deleteSubscription(subscriptionId: string): Promise<void>;
};

export function microsoftProvider(credentials: ProviderCredentials, config: OAuthClientConfig, hooks: ProviderHooks = {}, retry: RetryPolicy = DEFAULT_RETRY): MicrosoftProvider {
  if (credentials.kind !== 'oauth') throw new CalendarRequestError('the Microsoft adapter needs OAuth credentials');
  let current: OAuthCredentials = credentials;
  let refreshing: Promise<string> | undefined;
  const refresh = () =>
    (refreshing ??= tokenRequest(config, { grant_type: 'refresh_token', refresh_token: current.refreshToken, scope: MICROSOFT_SCOPES.join(' ') }, retry)
      .then((fresh) => {
        current = fresh;
        void Promise.resolve(hooks.onCredentials?.(fresh)).catch(() => {});
        return fresh.accessToken;
      })
      .finally(() => {
        refreshing = undefined;
      }));
  const accessToken = async () =>
    current.accessToken && (current.accessTokenExpiresAt ?? 0) - EXPIRY_MARGIN_MS > Date.now() ? current.accessToken : refresh();

  const retryOptions = new RetryHandlerOptions(1, Math.max(retry.attempts - 1, 0), (_delay, _attempt, _request, _options, response) => {
    // A wait longer than we may spend here ends the call: the caller retries later (retryAfterSeconds).
    const after = retryAfterSeconds((response as Response | undefined)?.headers?.get('retry-after'));
    return after === undefined || after <= retry.maxWaitSeconds;
  });
  const authentication = new AuthenticationHandler({ getAccessToken: accessToken });
  const retrying = new RetryHandler(retryOptions);
  const redirecting = new RedirectHandler();
  const telemetry = new TelemetryHandler();
  const counting = new CountingHandler();
  authentication.setNext(retrying);
  retrying.setNext(redirecting);
  redirecting.setNext(telemetry);
  telemetry.setNext(counting);
  counting.setNext(new HTTPMessageHandler());
  const chain = [authentication];
  const apiUrl = config.apiUrl.endsWith('/') ? config.apiUrl : `${config.apiUrl}/`;
  const client = Client.initWithMiddleware({ middleware: chain[0], baseUrl: apiUrl, defaultVersion: 'v1.0', customHosts: new Set([new URL(apiUrl).hostname]) });
  const prefer = `outlook.timezone="UTC", odata.maxpagesize=${PAGE_SIZE}`;

  /** One Graph call with our policy on top of the client's: 401 → one refresh; 500/502/network → backoff; errors → the contract's. */
  const call = async <T>(request: () => Promise<T>): Promise<T> => {
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        if (error instanceof CalendarAuthError || error instanceof CalendarRequestError || error instanceof CalendarUnavailableError) throw error;
        const status = error instanceof GraphError ? error.statusCode : -1;
        if (status === 401) {
          if (refreshed) throw new CalendarAuthError('Microsoft Graph refused the token after a refresh');
          refreshed = true;
          current = { ...current, accessToken: undefined, accessTokenExpiresAt: undefined };
          await refresh();
          continue;
        }
        const after = retryAfterSeconds(error instanceof GraphError ? error.headers?.get('retry-after') : undefined);
        if (status === 429 || status === 503 || status === 504) {
          // The RetryHandler already spent its attempts (or the wait was too long): give up for now.
          throw new CalendarUnavailableError(`Microsoft Graph answered ${status}`, after);
        }
        if (status === -1 || status === 500 || status === 502) {
          if (attempt >= retry.attempts) throw new CalendarUnavailableError(`Microsoft Graph unavailable (${status === -1 ? (error as Error).message : status}) after ${attempt} attempt(s)`, after);
          await sleep(backoffMs(retry, attempt));
          continue;
        }
        throw new CalendarRequestError(`Microsoft Graph answered ${status} ${(error as GraphError).code ?? ''}`.trim(), status);
      }
    }
  };

  const calendarPath = (calendarId: string) => `/me/calendars/${encodeURIComponent(calendarId)}`;
  const quote = (value: string) => value.replace(/'/g, "''");

  const findBookingEvent = async (calendarId: string, bookingId: string): Promise<any | undefined> => {
    const page = await call(() =>
      client
        .api(`${calendarPath(calendarId)}/events`)
        .filter(`singleValueExtendedProperties/Any(ep: ep/id eq '${quote(BOOKING_PROPERTY_ID)}' and ep/value eq '${quote(bookingId)}')`)
        .select(['id', 'subject', 'start', 'end'])
        .header('Prefer', 'outlook.timezone="UTC"')
        .get(),
    );
    return page?.value?.[0];
  };

  const bookingBody = (event: BookingCalendarEvent) => {
    const wall = (iso: string) => instantToWallClock(Date.parse(iso), event.timeZone);
    return {
      subject: event.title,
      // The attendee is named here, not in `attendees`: Outlook would send its own meeting request on top of ours.
      body: { contentType: 'text', content: `${event.description}\n\nWith: ${event.attendee.name} <${event.attendee.email}>\nManage this booking: ${event.manageUrl}`.trim() },
      start: { dateTime: wall(event.start), timeZone: event.timeZone },
      end: { dateTime: wall(event.end), timeZone: event.timeZone },
      showAs: 'busy',
      isReminderOn: true,
      singleValueExtendedProperties: [{ id: BOOKING_PROPERTY_ID, value: event.bookingId }],
    };
  };
  const sameAs = (found: any, event: BookingCalendarEvent) =>
    found?.subject === event.title && instantOf(found.start) === Date.parse(event.start) && instantOf(found.end) === Date.parse(event.end);

  const pages = async (first: () => Promise<any>) => {
    const items: any[] = [];
    let page = await call(first);
    for (let n = 1; ; n++) {
      items.push(...(page.value ?? []));
      const next = page['@odata.nextLink'];
      if (!next) return { items, deltaLink: (page['@odata.deltaLink'] as string | undefined) ?? null };
      if (n >= MAX_PAGES) throw new CalendarUnavailableError(`Microsoft calendar has more than ${MAX_PAGES} pages of events`);
      page = await call(() => client.api(next).header('Prefer', prefer).get());
    }
  };

  return {
    provider: 'microsoft',

    async account() {
      const me = await call(() => client.api('/me').select(['mail', 'userPrincipalName']).get());
      return { email: me.mail ?? me.userPrincipalName ?? '' };
    },

    async listCalendars(): Promise<ExternalCalendar[]> {
      const { items } = await pages(() => client.api('/me/calendars').top(100).get());
      return items.map((c) => ({ id: c.id, name: c.name ?? c.id, primary: Boolean(c.isDefaultCalendar), writable: c.canEdit !== false }));
    },

    async readBusy(calendarId: string, options: BusyReadOptions): Promise<BusyRead> {
      const counter = { requests: 0 };
      return requestCounter.run(counter, async () => {
        const from = Date.parse(options.from);
        const to = Date.parse(options.to);
        const toEvent = (item: any): ExternalBusyEvent => {
          const spans = busySpans(item, options.timeZone).filter((s) => Date.parse(s.start) < to && Date.parse(s.end) > from);
          const bookingId =
            bookingOfTransaction(item.transactionId) ??
            item.singleValueExtendedProperties?.find((p: any) => String(p.id).toLowerCase() === BOOKING_PROPERTY_ID.toLowerCase())?.value;
          return { externalEventId: item.id, spans, ...(bookingId ? { bookingId } : {}), ...(item.subject ? { summary: String(item.subject).slice(0, 200) } : {}) };
        };
        const split = (items: any[]) => ({
          events: items.filter((i) => i.id && !i['@removed'] && i.type !== 'seriesMaster').map(toEvent),
          removed: items.filter((i) => i.id && i['@removed']).map((i) => String(i.id)),
        });
        if (options.cursor) {
          try {
            const { items, deltaLink } = await pages(() => client.api(options.cursor!).header('Prefer', prefer).get());
            return { full: false, ...split(items), cursor: deltaLink, requests: counter.requests };
          } catch (error) {
            // 410 SyncStateNotFound: the delta state is gone; read everything again.
            if (!(error instanceof CalendarRequestError && error.status === 410)) throw error;
          }
        }
        const { items, deltaLink } = await pages(() =>
          client
            .api(`${calendarPath(calendarId)}/calendarView/delta`)
            .query({ startDateTime: new Date(from).toISOString(), endDateTime: new Date(to).toISOString() })
            .header('Prefer', prefer)
            .get(),
        );
        return { full: true, events: split(items).events, removed: [], cursor: deltaLink, requests: counter.requests };
      });
    },

    async putBookingEvent(calendarId: string, event: BookingCalendarEvent): Promise<WrittenEvent> {
      const found = await findBookingEvent(calendarId, event.bookingId);
      if (event.status === 'cancelled') {
        if (found) await this.removeBookingEvent(calendarId, event.bookingId);
        return { externalEventId: found?.id ?? '', created: false };
      }
      const body = bookingBody(event);
      if (found) {
        await call(() => client.api(`/me/events/${encodeURIComponent(found.id)}`).patch(body));
        return { externalEventId: found.id, created: false };
      }
      const made = await call(() =>
        client.api(`${calendarPath(calendarId)}/events`).header('Prefer', 'outlook.timezone="UTC"').post({ ...body, transactionId: graphTransactionId(event.bookingId) }),
      );
      // Graph answered with an event made earlier under the same transactionId (a racing or lost write): bring it up to date.
      if (!sameAs(made, event)) await call(() => client.api(`/me/events/${encodeURIComponent(made.id)}`).patch(body));
      return { externalEventId: made.id, created: true };
    },

    async removeBookingEvent(calendarId: string, bookingId: string): Promise<void> {
      const found = await findBookingEvent(calendarId, bookingId);
      if (!found) return;
      try {
        await call(() => client.api(`/me/events/${encodeURIComponent(found.id)}`).delete());
      } catch (error) {
        if (error instanceof CalendarRequestError && error.status === 404) return;
        throw error;
      }
    },

    async revoke(): Promise<void> {
      // Graph has no revocation of one app's grant (revokeSignInSessions signs the user out of everything);
      // where a revocation endpoint is configured (the local Graph), use it; otherwise forgetting the token is all.
      if (!config.revokeUrl) return;
      await fetch(config.revokeUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: current.refreshToken, client_id: config.clientId }), signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    },

    async createSubscription(calendarId, input) {
      const made = await call(() =>
        client.api('/subscriptions').post({
          changeType: 'created,updated,deleted',
          notificationUrl: input.notificationUrl,
          ...(input.lifecycleNotificationUrl ? { lifecycleNotificationUrl: input.lifecycleNotificationUrl } : {}),
          resource: `me/calendars/${calendarId}/events`,
          expirationDateTime: input.expiresAt,
          clientState: input.clientState,
        }),
      );
      return { id: made.id, expirationDateTime: made.expirationDateTime };
    },

    async renewSubscription(subscriptionId, expiresAt) {
      const made = await call(() => client.api(`/subscriptions/${encodeURIComponent(subscriptionId)}`).patch({ expirationDateTime: expiresAt }));
      return { id: made.id, expirationDateTime: made.expirationDateTime };
    },

    async deleteSubscription(subscriptionId) {
      try {
        await call(() => client.api(`/subscriptions/${encodeURIComponent(subscriptionId)}`).delete());
      } catch (error) {
        if (error instanceof CalendarRequestError && error.status === 404) return;
        throw error;
      }
    },
  };
}

/** The Microsoft identity platform's authorization code flow (v2.0 endpoints), with offline_access for a refresh token. */
export function microsoftOAuth(config: OAuthClientConfig, retry: RetryPolicy = DEFAULT_RETRY): OAuthFlow {
  return {
    authorizationUrl({ state, redirectUri }) {
      const url = new URL(config.authorizeUrl);
      url.search = new URLSearchParams({
        client_id: config.clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        response_mode: 'query',
        scope: MICROSOFT_SCOPES.join(' '),
        state,
        prompt: 'select_account',
      }).toString();
      return url.href;
    },
    async exchangeCode({ code, redirectUri }) {
      const made = await tokenRequest(config, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, scope: MICROSOFT_SCOPES.join(' ') }, retry);
      if (!made.refreshToken) throw new CalendarAuthError('Microsoft granted no refresh token (offline_access was not granted)');
      return made;
    },
  };
}
