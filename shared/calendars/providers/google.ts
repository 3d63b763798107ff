// The Google Calendar adapter: CalendarProvider over the real `googleapis` client (the calendar API's own
// module, not the whole package: the Lambda bundle stays small), with an OAuth2 client whose endpoints come
// from config (Google's, or the local Google server's).
// Busy time: events.list with singleEvents (Google expands recurrences into instances, exceptions in place),
// syncToken for incremental reads (410 → a full read). Writes: the event id is derived from the booking, so an
// insert repeated after a lost response, or racing another, hits 409 and becomes an update of that same event.
// Retries are ours (gaxios ignores Retry-After and skips POST/PATCH and 403 rateLimitExceeded): bounded, and
// honouring Retry-After up to a cap.
import { calendar as calendarApi, auth as googleAuth, type calendar_v3 } from 'googleapis/build/src/apis/calendar/index.js';
import { localIsoToInstant } from '../zone-time.ts';
import {
  CalendarAuthError, CalendarRequestError, CalendarUnavailableError,
  type BookingCalendarEvent, type BusyRead, type BusyReadOptions, type CalendarProvider, type ExternalBusyEvent, type ExternalCalendar,
  type OAuthClientConfig, type OAuthFlow, type ProviderCredentials, type WrittenEvent,
} from '../provider.ts';
import { DEFAULT_RETRY, backoffMs, retryAfterSeconds, sleep, type OAuthCredentials, type ProviderHooks, type RetryPolicy } from './retry.ts';

export type { ProviderHooks, RetryPolicy } from './retry.ts';

export const GOOGLE_SCOPES = ['https://www.googleapis.com/auth/calendar.readonly', 'https://www.googleapis.com/auth/calendar.events'];

/** The private extended property that marks an event as one of ours, naming its booking. */
const BOOKING_PROPERTY = 'bookingId';
const PAGE_SIZE = 250;
/** A busy read stops after this many pages: a calendar with more is read wrong rather than forever. */
const MAX_PAGES = 200;

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

/**
 * The Google event id of a booking: base32hex (Google's id alphabet) of "booking:<id>". Deterministic, so
 * every write of the booking names the same event; reversible, so it never collides for two bookings.
 */
export function googleEventId(bookingId: string): string {
  const bytes = Buffer.from(`booking:${bookingId}`, 'utf8');
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32HEX[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32HEX[(value << (5 - bits)) & 31];
  return out;
}

type GaxiosLike = { status?: number; response?: { status?: number; data?: any; headers?: any }; message: string };

const statusOf = (error: unknown) => (error as GaxiosLike)?.response?.status ?? (error as GaxiosLike)?.status;
const reasonOf = (error: unknown): string | undefined => {
  const data = (error as GaxiosLike)?.response?.data;
  return data?.error?.errors?.[0]?.reason ?? (typeof data?.error === 'string' ? data.error : undefined);
};
const headerOf = (error: unknown, name: string): string | undefined => {
  const headers = (error as GaxiosLike)?.response?.headers;
  if (!headers) return undefined;
  return typeof headers.get === 'function' ? (headers.get(name) ?? undefined) : headers[name];
};

const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);

/** Runs one API call with our retry policy, and turns its failure into the contract's errors. */
export async function withGoogleRetries<T>(call: () => Promise<T>, policy: RetryPolicy, counter?: { requests: number }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (counter) counter.requests += 1;
      return await call();
    } catch (error) {
      if (error instanceof CalendarAuthError || error instanceof CalendarRequestError || error instanceof CalendarUnavailableError) throw error;
      const status = statusOf(error);
      const reason = reasonOf(error);
      if (reason === 'invalid_grant' || status === 401 || reason === 'unauthorized_client') {
        throw new CalendarAuthError(`Google refused the grant (${reason ?? status})`);
      }
      const retryable = status === 429 || (status !== undefined && status >= 500) || (status === 403 && reason !== undefined && RATE_LIMIT_REASONS.has(reason)) || status === undefined;
      if (!retryable) throw new CalendarRequestError(`Google answered ${status}${reason ? ` ${reason}` : ''}`, status);
      const after = retryAfterSeconds(headerOf(error, 'retry-after'));
      if (attempt >= policy.attempts || (after !== undefined && after > policy.maxWaitSeconds)) {
        throw new CalendarUnavailableError(`Google is unavailable (${status ?? (error as Error).message}) after ${attempt} attempt(s)`, after);
      }
      await sleep(after !== undefined ? after * 1000 : backoffMs(policy, attempt));
    }
  }
}

function oauthClient(config: OAuthClientConfig, redirectUri?: string) {
  return new googleAuth.OAuth2({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    redirectUri,
    endpoints: {
      oauth2AuthBaseUrl: config.authorizeUrl,
      oauth2TokenUrl: config.tokenUrl,
      ...(config.revokeUrl ? { oauth2RevokeUrl: config.revokeUrl } : {}),
    },
    // A 401 with a token we believed valid (revoked, rotated) gets one refresh and one retry.
    forceRefreshOnFailure: true,
  });
}

/** The span an event blocks, or none: what the user sees as busy. */
function busySpans(item: calendar_v3.Schema$Event, timeZone: string): ExternalBusyEvent['spans'] {
  if (item.transparency === 'transparent') return [];
  if (item.attendees?.some((a) => a.self && a.responseStatus === 'declined')) return [];
  if (item.start?.date && item.end?.date) {
    // All-day: floating dates, blocking their days in the host's zone (23 or 25 hours across DST).
    const start = localIsoToInstant(item.start.date, timeZone);
    const end = localIsoToInstant(item.end.date, timeZone);
    return end > start ? [{ start: new Date(start).toISOString(), end: new Date(end).toISOString() }] : [];
  }
  const start = item.start?.dateTime ? Date.parse(item.start.dateTime) : NaN;
  const end = item.end?.dateTime ? Date.parse(item.end.dateTime) : NaN;
  if (Number.isNaN(start) || Number.isNaN(end) || end <= start) return [];
  return [{ start: new Date(start).toISOString(), end: new Date(end).toISOString() }];
}

export type GoogleWatch = { channelId: string; resourceId: string; expiration: number };

export type GoogleProvider = CalendarProvider & {
  /** Starts push for a calendar: Google POSTs to `address` on each change (events.watch). */
  watch(calendarId: string, input: { channelId: string; token: string; address: string; ttlSeconds: number }): Promise<GoogleWatch>;
  /** Stops a channel (channels.stop); one already gone is not an error. */
  stopWatch(input: { channelId: string; resourceId: string }): Promise<void>;
};

export function googleProvider(credentials: ProviderCredentials, config: OAuthClientConfig, hooks: ProviderHooks = {}, retry: RetryPolicy = DEFAULT_RETRY): GoogleProvider {
  if (credentials.kind !== 'oauth') throw new CalendarRequestError('the Google adapter needs OAuth credentials');
  let current: OAuthCredentials = credentials;
  const auth = oauthClient(config);
  auth.setCredentials({
    refresh_token: credentials.refreshToken,
    access_token: credentials.accessToken,
    expiry_date: credentials.accessTokenExpiresAt,
  });
  auth.on('tokens', (tokens) => {
    current = {
      kind: 'oauth',
      refreshToken: tokens.refresh_token ?? current.refreshToken,
      accessToken: tokens.access_token ?? undefined,
      accessTokenExpiresAt: tokens.expiry_date ?? undefined,
    };
    void Promise.resolve(hooks.onCredentials?.(current)).catch(() => {});
  });
  // retry: false: gaxios's own retries would ignore Retry-After and double ours.
  const api = calendarApi({ version: 'v3', auth, rootUrl: config.apiUrl.endsWith('/') ? config.apiUrl : `${config.apiUrl}/`, retry: false, timeout: 15_000 });
  const run = <T>(call: () => Promise<T>, counter?: { requests: number }) => withGoogleRetries(call, retry, counter);

  const list = async (calendarId: string, params: calendar_v3.Params$Resource$Events$List, counter: { requests: number }) => {
    const items: calendar_v3.Schema$Event[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const { data } = await run(() => api.events.list({ calendarId, singleEvents: true, maxResults: PAGE_SIZE, ...params, pageToken }), counter);
      items.push(...(data.items ?? []));
      if (!data.nextPageToken) return { items, syncToken: data.nextSyncToken ?? null };
      pageToken = data.nextPageToken;
    }
    throw new CalendarUnavailableError(`Google calendar ${calendarId} has more than ${MAX_PAGES} pages of events`);
  };

  const bookingBody = (event: BookingCalendarEvent): calendar_v3.Schema$Event => ({
    id: googleEventId(event.bookingId),
    status: 'confirmed',
    summary: event.title,
    description: `${event.description}\n\nManage this booking: ${event.manageUrl}`.trim(),
    start: { dateTime: event.start, timeZone: event.timeZone },
    end: { dateTime: event.end, timeZone: event.timeZone },
    attendees: [{ email: event.attendee.email, displayName: event.attendee.name }],
    sequence: event.sequence,
    source: { title: 'Manage booking', url: event.manageUrl },
    extendedProperties: { private: { [BOOKING_PROPERTY]: event.bookingId } },
    transparency: 'opaque',
  });

  return {
    provider: 'google',

    async account() {
      const { data } = await run(() => api.calendarList.get({ calendarId: 'primary' }));
      return { email: data.id ?? '' };
    },

    async listCalendars(): Promise<ExternalCalendar[]> {
      const calendars: ExternalCalendar[] = [];
      let pageToken: string | undefined;
      for (let page = 0; page < 20; page++) {
        const { data } = await run(() => api.calendarList.list({ maxResults: 250, pageToken }));
        for (const c of data.items ?? []) {
          if (!c.id || c.deleted) continue;
          calendars.push({
            id: c.id,
            name: c.summaryOverride ?? c.summary ?? c.id,
            primary: Boolean(c.primary),
            writable: c.accessRole === 'owner' || c.accessRole === 'writer',
            ...(c.timeZone ? { timeZone: c.timeZone } : {}),
          });
        }
        if (!data.nextPageToken) break;
        pageToken = data.nextPageToken;
      }
      return calendars;
    },

    async readBusy(calendarId: string, options: BusyReadOptions): Promise<BusyRead> {
      const counter = { requests: 0 };
      const from = Date.parse(options.from);
      const to = Date.parse(options.to);
      const toEvent = (item: calendar_v3.Schema$Event): ExternalBusyEvent => {
        // Incremental reads are not windowed by Google: keep only what overlaps ours.
        const spans = busySpans(item, options.timeZone).filter((s) => Date.parse(s.start) < to && Date.parse(s.end) > from);
        const bookingId = item.extendedProperties?.private?.[BOOKING_PROPERTY];
        return { externalEventId: item.id!, spans, ...(bookingId ? { bookingId } : {}), ...(item.summary ? { summary: item.summary.slice(0, 200) } : {}) };
      };
      if (options.cursor) {
        try {
          const { items, syncToken } = await list(calendarId, { syncToken: options.cursor, showDeleted: true }, counter);
          const events = items.filter((i) => i.id && i.status !== 'cancelled').map(toEvent);
          const removed = items.filter((i) => i.id && i.status === 'cancelled').map((i) => i.id!);
          return { full: false, events, removed, cursor: syncToken, requests: counter.requests };
        } catch (error) {
          // 410 fullSyncRequired: the token is gone; start over with a full read.
          if (!(error instanceof CalendarRequestError && error.status === 410)) throw error;
        }
      }
      const { items, syncToken } = await list(calendarId, { timeMin: new Date(from).toISOString(), timeMax: new Date(to).toISOString(), showDeleted: false }, counter);
      const events = items.filter((i) => i.id && i.status !== 'cancelled').map(toEvent);
      return { full: true, events, removed: [], cursor: syncToken, requests: counter.requests };
    },

    async putBookingEvent(calendarId: string, event: BookingCalendarEvent): Promise<WrittenEvent> {
      const body = bookingBody(event);
      const id = body.id!;
      if (event.status === 'cancelled') {
        // A cancelled booking's event is deleted (Google keeps it as status 'cancelled', under the same id).
        await this.removeBookingEvent(calendarId, event.bookingId);
        return { externalEventId: id, created: false };
      }
      try {
        await run(() => api.events.insert({ calendarId, sendUpdates: 'none', requestBody: body }));
        return { externalEventId: id, created: true };
      } catch (error) {
        // 409: the booking's event exists (an earlier attempt, or a concurrent one): update that same event.
        if (!(error instanceof CalendarRequestError && error.status === 409)) throw error;
      }
      await run(() => api.events.update({ calendarId, eventId: id, sendUpdates: 'none', requestBody: body }));
      return { externalEventId: id, created: false };
    },

    async removeBookingEvent(calendarId: string, bookingId: string): Promise<void> {
      try {
        await run(() => api.events.delete({ calendarId, eventId: googleEventId(bookingId), sendUpdates: 'none' }));
      } catch (error) {
        // 404 never written, 410 already deleted: either way it is gone.
        if (error instanceof CalendarRequestError && (error.status === 404 || error.status === 410)) return;
        throw error;
      }
    },

    async revoke(): Promise<void> {
      try {
        await run(() => auth.revokeToken(current.refreshToken));
      } catch (error) {
        // A token already revoked or expired is what we wanted.
        if (error instanceof CalendarRequestError || error instanceof CalendarAuthError) return;
        throw error;
      }
    },

    async watch(calendarId, input) {
      const { data } = await run(() =>
        api.events.watch({ calendarId, requestBody: { id: input.channelId, type: 'web_hook', address: input.address, token: input.token, params: { ttl: String(input.ttlSeconds) } } }),
      );
      return { channelId: data.id ?? input.channelId, resourceId: data.resourceId ?? '', expiration: Number(data.expiration ?? 0) };
    },

    async stopWatch(input) {
      try {
        await run(() => api.channels.stop({ requestBody: { id: input.channelId, resourceId: input.resourceId } }));
      } catch (error) {
        if (error instanceof CalendarRequestError && error.status === 404) return;
        throw error;
      }
    },
  };
}

/** Google's OAuth 2 authorization code flow, offline access (a refresh token), consent every time. */
export function googleOAuth(config: OAuthClientConfig, retry: RetryPolicy = DEFAULT_RETRY): OAuthFlow {
  return {
    authorizationUrl({ state, redirectUri }) {
      return oauthClient(config, redirectUri).generateAuthUrl({
        access_type: 'offline',
        // consent: Google hands out a refresh token only on consent, so a reconnect must ask again.
        prompt: 'consent',
        include_granted_scopes: true,
        scope: GOOGLE_SCOPES,
        state,
        redirect_uri: redirectUri,
      });
    },
    async exchangeCode({ code, redirectUri }) {
      const client = oauthClient(config, redirectUri);
      let tokens;
      try {
        ({ tokens } = await withGoogleRetries(() => client.getToken({ code, redirect_uri: redirectUri }), retry));
      } catch (error) {
        if (error instanceof CalendarRequestError) throw new CalendarAuthError(`Google refused the code (${error.message})`);
        throw error;
      }
      if (!tokens.refresh_token) throw new CalendarAuthError('Google granted no refresh token (offline access was not granted)');
      return {
        kind: 'oauth',
        refreshToken: tokens.refresh_token,
        ...(tokens.access_token ? { accessToken: tokens.access_token } : {}),
        ...(tokens.expiry_date ? { accessTokenExpiresAt: tokens.expiry_date } : {}),
      };
    },
  };
}
