// The contract between the calendars slice (connections, busy-time store, booking writes) and the three
// provider adapters (Google Calendar, Microsoft Graph, CalDAV). The slice never sees a provider's wire format;
// an adapter never sees our tables. Everything here is plain data, so the slice's deciders stay pure.

export type ProviderName = 'google' | 'microsoft' | 'caldav';

/** What an adapter needs to act for one connection. Stored encrypted; never in events, logs or responses. */
export type ProviderCredentials =
  | { kind: 'oauth'; refreshToken: string; accessToken?: string; accessTokenExpiresAt?: number }
  | {
      kind: 'basic';
      serverUrl: string;
      username: string;
      password: string;
      /** Found by discovery (CalDAV calendar-home-set): reads and listings start here, with no discovery. */
      homeUrl?: string;
      /** The account's calendar user addresses (CalDAV calendar-user-address-set): its declined invitations block nothing. */
      addresses?: string[];
    };

/** One calendar of a connection, as the provider lists it. `id` is the provider's (a URL for CalDAV). */
export type ExternalCalendar = { id: string; name: string; primary: boolean; writable: boolean; timeZone?: string };

/** A half-open span [start, end) as ISO-8601 UTC instants. */
export type BusySpan = { start: string; end: string };

/**
 * One external event as it bears on busy time: every instance of a recurring event within the window, already
 * filtered to what the user sees as busy (transparent/free, declined and cancelled instances dropped, all-day
 * events as their days in the host's zone). `spans` empty means the event exists but blocks nothing.
 * `bookingId` is set when the event is one this system wrote (so it is not counted twice, nor seen as a conflict).
 */
export type ExternalBusyEvent = { externalEventId: string; spans: BusySpan[]; bookingId?: string; summary?: string };

/**
 * The answer to a busy-time read. A full read (`full: true`) lists every event in the window: whatever the
 * store held for this calendar and is not listed is gone. An incremental read lists only what changed since the
 * cursor: `events` replace those events' spans, `removed` ends them; nothing else is touched.
 * `cursor` is what the next incremental read starts from (Google syncToken, Graph deltaLink, CalDAV sync-token,
 * or null where the calendar offers none). `requests` counts the HTTP requests the read made.
 */
export type BusyRead = { full: boolean; events: ExternalBusyEvent[]; removed: string[]; cursor: string | null; requests: number };

export type BusyReadOptions = {
  /** Window of interest; recurring events are expanded within it. */
  from: string;
  to: string;
  /** The host's schedule zone: all-day (floating) dates block their day in it. */
  timeZone: string;
  /** From a previous read of the same calendar; absent or rejected by the provider → a full read. */
  cursor?: string | null;
};

/** A booking as it is written into a host's destination calendar. */
export type BookingCalendarEvent = {
  bookingId: string;
  /** Rises with every change of the booking (its event-store version works): iCalendar SEQUENCE. */
  sequence: number;
  status: 'confirmed' | 'cancelled';
  title: string;
  description: string;
  start: string;
  end: string;
  timeZone: string;
  organizer: { name?: string; email: string };
  attendee: { name: string; email: string };
  manageUrl: string;
};

/** Where a booking's event lives in the provider, so a later update or delete finds the same one. */
export type WrittenEvent = { externalEventId: string; created: boolean };

/**
 * One connection's view of its provider. Every write is keyed by the booking: the external id is derived from
 * `bookingId` (CalDAV object name and UID, Google event id, Graph transactionId + extended property), so the
 * same call made twice, or concurrently, leaves one event.
 */
export interface CalendarProvider {
  readonly provider: ProviderName;
  /** The account the credentials act for (an email address where the provider has one). */
  account(): Promise<{ email: string }>;
  listCalendars(): Promise<ExternalCalendar[]>;
  readBusy(calendarId: string, options: BusyReadOptions): Promise<BusyRead>;
  /** Creates the booking's event, or updates it in place when it exists (same UID, SEQUENCE up). */
  putBookingEvent(calendarId: string, event: BookingCalendarEvent): Promise<WrittenEvent>;
  /** Deletes (or cancels) the booking's event; an event already gone is not an error. */
  removeBookingEvent(calendarId: string, bookingId: string): Promise<void>;
  /** Gives up the grant where the provider allows it (OAuth revocation); CalDAV has nothing to revoke. */
  revoke(): Promise<void>;
}

/**
 * The grant no longer works (OAuth `invalid_grant`, a 401 after a refresh, CalDAV 401): the connection needs
 * the organizer to reconnect. Never retried.
 */
export class CalendarAuthError extends Error {
  override readonly name = 'CalendarAuthError';
}

/** The provider is unavailable or throttling after the adapter's own retries; worth retrying later. */
export class CalendarUnavailableError extends Error {
  override readonly name = 'CalendarUnavailableError';
  readonly retryAfterSeconds?: number;
  constructor(message: string, retryAfterSeconds?: number) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The provider refused the request for a reason retrying will not change (bad calendar id, 403, 400). */
export class CalendarRequestError extends Error {
  override readonly name = 'CalendarRequestError';
  readonly status?: number;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

/** An OAuth client of ours at a provider, and where that provider's endpoints are (real, or the local fakes). */
export type OAuthClientConfig = {
  clientId: string;
  clientSecret: string;
  /** The consent page the organizer is sent to. */
  authorizeUrl: string;
  tokenUrl: string;
  /** The API's root (Google: rootUrl; Graph: baseUrl). */
  apiUrl: string;
  revokeUrl?: string;
};

/** The OAuth 2 authorization code flow of one provider (Google, Microsoft). */
export interface OAuthFlow {
  /** The consent page URL for this state and redirect. */
  authorizationUrl(input: { state: string; redirectUri: string }): string;
  /** Exchanges the code the callback received; a refused code is a CalendarAuthError. */
  exchangeCode(input: { code: string; redirectUri: string }): Promise<Extract<ProviderCredentials, { kind: 'oauth' }>>;
}
