// The CalDAV adapter (RFC 4791, 6578, 6764) over tsdav. Busy time is read as objects and expanded here
// (ics.ts): servers differ in what they expand and filter, so no time-range filter or server-side expansion
// is trusted. Reads are incremental: RFC 6578 sync-collection from the stored token (changed hrefs fetched
// with calendar-multiget, 404s removed), an invalid token a full read; a server without sync-collection is
// read by getctag, then by comparing etags. An unchanged calendar costs one request: nothing is discovered,
// logged in to or listed per read (the home URL and calendar URLs come from the connection).
//
// Every request goes through one transport: Basic auth, the SSRF guard on every hop (a connection's URLs are
// the organizer's input), redirects followed by hand, 401 → CalendarAuthError, 429/5xx retried honouring
// Retry-After and then CalendarUnavailableError, bodies read up to a bound, and a count of what was sent.
// tsdav does not throw on HTTP errors: every answer's status is checked here.
import { createHash } from 'node:crypto';
import { createAccount, davRequest, propfind, syncCollection } from 'tsdav';
import type { DAVResponse } from 'tsdav';
import { first, parse, subcomponents } from '../icalendar/content.ts';
import {
  CalendarAuthError,
  CalendarRequestError,
  CalendarUnavailableError,
  type BookingCalendarEvent,
  type BusyRead,
  type BusyReadOptions,
  type CalendarProvider,
  type ExternalBusyEvent,
  type ExternalCalendar,
  type ProviderCredentials,
  type WrittenEvent,
} from '../provider.ts';
import { bookingObjectName, busyFromIcs, expansionBudget } from '../ics.ts';
import { inviteUid } from '../../notifications/invite-uid.ts';
import { checkTarget } from '../../webhooks/ssrf.ts';

export type CaldavCredentials = Extract<ProviderCredentials, { kind: 'basic' }>;

export type CaldavHooks = {
  /** The transport under the adapter (tests count requests through it); global fetch when absent. */
  fetch?: typeof fetch;
  /** Told of every HTTP exchange, retries included. */
  onRequest?: (entry: { method: string; url: string; status: number }) => void;
  /** Told of objects read but skipped or cut short (malformed iCalendar, a hostile RRULE). */
  onProblem?: (message: string) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Attempts per request on 429/5xx/network errors (3). */
  attempts?: number;
  /** Longest Retry-After waited for in place (10 s); a longer one is handed up in CalendarUnavailableError. */
  maxWaitMs?: number;
  /** Largest response body read (8 MiB). */
  maxResponseBytes?: number;
  /** Per-attempt timeout (20 s). */
  timeoutMs?: number;
  /** Loopback servers are refused unless allowed (CALDAV_ALLOW_LOOPBACK=true in the local stack). */
  allowLoopback?: boolean;
  now?: () => Date;
};

/** Objects fetched per calendar-multiget; and the most objects one read looks at. */
const MULTIGET_CHUNK = 100;
const MAX_OBJECTS = 5000;
/** Pages of a truncated (507) sync-collection answer followed in one read. */
const MAX_SYNC_PAGES = 20;
/** Hrefs kept in an etag cursor; beyond this the cursor holds the ctag alone and a change means a full read. */
const MAX_ETAG_ENTRIES = 3000;

const basicAuth = (c: { username: string; password: string }) => `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

type Counter = { requests: number; sawUnauthorized: boolean };

/** The fetch tsdav is given: see the file comment. One per adapter call, so its count is that call's. */
function transport(credentials: { username: string; password: string }, hooks: CaldavHooks, counter: Counter): typeof fetch {
  const base = hooks.fetch ?? fetch;
  const sleep = hooks.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const attempts = Math.max(1, hooks.attempts ?? 3);
  const maxWaitMs = hooks.maxWaitMs ?? 10_000;
  const maxBytes = hooks.maxResponseBytes ?? 8 * 1024 * 1024;
  const allowLoopback = hooks.allowLoopback ?? process.env.CALDAV_ALLOW_LOOPBACK === 'true';
  const checked = new Map<string, string | undefined>();
  const guard = async (url: URL) => {
    if (!checked.has(url.host)) checked.set(url.host, await checkTarget(url.href, { allowLoopback }));
    const refusal = checked.get(url.host);
    if (refusal) throw new CalendarRequestError(`CalDAV server ${url.host} ${refusal}`);
  };
  const authorization = basicAuth(credentials);

  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    let url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const origin = url.origin;
    let method = (init.method ?? 'GET').toUpperCase();
    let body = init.body;
    const manualRedirect = init.redirect === 'manual';
    for (let hop = 0; ; hop++) {
      await guard(url);
      const headers = new Headers(init.headers);
      // Credentials go to the connection's own origin only, never to where a redirect points elsewhere.
      if (url.origin === origin) headers.set('authorization', authorization);
      else headers.delete('authorization');
      const response = await attempt(url, { ...init, method, body, headers, redirect: 'manual' });
      const location = response.headers.get('location');
      if (manualRedirect || response.status < 300 || response.status >= 400 || !location || response.status === 304) return response;
      if (hop >= 5) throw new CalendarRequestError(`CalDAV: too many redirects from ${origin}`);
      url = new URL(location, url);
      if (response.status === 303) {
        method = 'GET';
        body = undefined;
      }
    }
  }) as typeof fetch;

  async function attempt(url: URL, init: RequestInit): Promise<Response> {
    let lastError = '';
    for (let n = 1; ; n++) {
      let response: Response;
      try {
        counter.requests++;
        response = await base(url, { ...init, signal: AbortSignal.timeout(hooks.timeoutMs ?? 20_000) });
      } catch (error) {
        if (error instanceof CalendarRequestError) throw error;
        lastError = `${init.method} ${url.pathname}: ${(error as Error).message}`;
        hooks.onRequest?.({ method: String(init.method), url: url.href, status: 0 });
        if (n >= attempts) throw new CalendarUnavailableError(`CalDAV server unreachable: ${lastError}`);
        await sleep(backoff(n));
        continue;
      }
      hooks.onRequest?.({ method: String(init.method), url: url.href, status: response.status });
      if (response.status === 401) {
        counter.sawUnauthorized = true;
        await response.body?.cancel();
        throw new CalendarAuthError(`CalDAV server ${url.host} refused the login (401)`);
      }
      // 501 is a server saying it does not do this (a report it lacks): an answer, not an outage.
      const transient = response.status === 429 || (response.status >= 500 && response.status !== 501);
      if (!transient) return bounded(response);
      await response.body?.cancel();
      const waitMs = retryAfterMs(response.headers.get('retry-after'), hooks.now?.() ?? new Date());
      if (n >= attempts || (waitMs !== undefined && waitMs > maxWaitMs)) {
        throw new CalendarUnavailableError(`CalDAV server ${url.host} answered ${response.status} to ${init.method} ${url.pathname}`, waitMs === undefined ? undefined : Math.ceil(waitMs / 1000));
      }
      await sleep(waitMs ?? backoff(n));
    }
  }

  async function bounded(response: Response): Promise<Response> {
    const init = { status: response.status, statusText: response.statusText, headers: response.headers };
    if (!response.body || [101, 204, 205, 304].includes(response.status)) return new Response(null, init);
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > maxBytes) {
      await response.body.cancel();
      throw new CalendarRequestError(`CalDAV response of ${declared} bytes is over the ${maxBytes} byte limit`);
    }
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new CalendarRequestError(`CalDAV response is over the ${maxBytes} byte limit`);
      }
      chunks.push(value);
    }
    return new Response(Buffer.concat(chunks), init);
  }
}

const backoff = (attempt: number) => Math.min(4000, 250 * 2 ** (attempt - 1));

/** Retry-After as delta-seconds or an HTTP date, in ms from now. */
export function retryAfterMs(value: string | null, now: Date): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** A value tsdav parsed from XML: text, CDATA or a one-element array. */
function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return text(value[0]);
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    return text(v._cdata ?? v._text ?? v.href);
  }
  return undefined;
}

/** An href as a stable id: its path, percent-encoding normalised. */
const pathOf = (href: string, base: string) => {
  const path = new URL(href, base).pathname;
  try {
    return encodeURI(decodeURI(path));
  } catch {
    return path;
  }
};

/** External ids must fit the store's bound (512): a longer path is hashed. */
const externalIdOf = (path: string) => (path.length <= 500 ? path : `sha256:${createHash('sha256').update(path).digest('hex')}`);
const etagDigest = (etag: string) => createHash('sha256').update(etag).digest('base64url').slice(0, 16);

type Cursor =
  | { v: 1; sync: string }
  | { v: 1; ctag: string; etags?: Record<string, string> };

function parseCursor(raw: string | null | undefined): Cursor | undefined {
  if (!raw || raw.length > 1_000_000) return undefined;
  try {
    const c = JSON.parse(raw);
    if (c?.v !== 1) return undefined;
    if (typeof c.sync === 'string' && c.sync.length <= 2048) return { v: 1, sync: c.sync };
    if (typeof c.ctag === 'string' && c.ctag.length <= 2048) {
      const etags = c.etags && typeof c.etags === 'object' && !Array.isArray(c.etags) ? (c.etags as Record<string, string>) : undefined;
      return { v: 1, ctag: c.ctag, etags };
    }
  } catch {
    // not ours: a full read
  }
  return undefined;
}

/** The sync-token of a multistatus answer (tsdav leaves it in `raw`). */
const syncTokenOf = (responses: DAVResponse[]) => text((responses[0]?.raw as { multistatus?: { syncToken?: unknown } } | undefined)?.multistatus?.syncToken);

export function caldavProvider(credentials: CaldavCredentials, hooks: CaldavHooks = {}): CalendarProvider {
  const serverOrigin = new URL(credentials.serverUrl).origin;
  const session = () => {
    const counter: Counter = { requests: 0, sawUnauthorized: false };
    return { counter, fetch: transport(credentials, hooks, counter) };
  };
  /** A calendar id is a URL on the connection's own server; anything else is refused before any request. */
  const calendarUrl = (calendarId: string) => {
    let url: URL;
    try {
      url = new URL(calendarId);
    } catch {
      throw new CalendarRequestError(`calendar id ${calendarId.slice(0, 100)} is not a URL`, 400);
    }
    const allowed = [serverOrigin, credentials.homeUrl ? new URL(credentials.homeUrl).origin : serverOrigin];
    if (!allowed.includes(url.origin)) throw new CalendarRequestError(`calendar ${url.origin} is not on the connection's server`, 400);
    return withSlash(url.href);
  };
  const addresses = () => [credentials.username, ...(credentials.addresses ?? [])];

  async function homeUrl(f: typeof fetch): Promise<string> {
    if (credentials.homeUrl) return credentials.homeUrl;
    const account = await discover({ serverUrl: credentials.serverUrl, username: credentials.username, password: credentials.password }, f);
    return account.homeUrl;
  }

  return {
    provider: 'caldav',

    async account() {
      const { fetch: f } = session();
      const found = await discover(credentials, f);
      return { email: found.email };
    },

    async listCalendars() {
      const { fetch: f } = session();
      return listCalendarsAt(await homeUrl(f), f);
    },

    async readBusy(calendarId, options) {
      const url = calendarUrl(calendarId);
      if (!(Date.parse(options.from) < Date.parse(options.to))) throw new RangeError('readBusy: the window needs from < to, as ISO instants');
      const { counter, fetch: f } = session();
      const budget = expansionBudget();
      const toEvent = (href: string, data: string | undefined): ExternalBusyEvent => {
        const externalEventId = externalIdOf(pathOf(href, url));
        if (data === undefined) {
          hooks.onProblem?.(`${externalEventId}: no calendar data`);
          return { externalEventId, spans: [] };
        }
        const busy = busyFromIcs(data, { from: options.from, to: options.to, timeZone: options.timeZone, addresses: addresses(), budget });
        for (const problem of busy.problems) hooks.onProblem?.(`${externalEventId}: ${problem}`);
        const spans = busy.events.flatMap((e) => e.spans);
        const bookingId = busy.events.find((e) => e.bookingId)?.bookingId;
        const summary = busy.events.find((e) => e.summary)?.summary;
        return { externalEventId, spans, ...(bookingId ? { bookingId } : {}), ...(summary ? { summary } : {}) };
      };
      const read = await readCalendar(url, options, f, toEvent);
      return { ...read, requests: counter.requests };
    },

    async putBookingEvent(calendarId, event) {
      const url = calendarUrl(calendarId);
      const { fetch: f } = session();
      return putBooking(url, event, f, hooks.now?.() ?? new Date());
    },

    async removeBookingEvent(calendarId, bookingId) {
      const url = calendarUrl(calendarId);
      const { fetch: f } = session();
      await removeBooking(url, bookingId, f, hooks.now?.() ?? new Date());
    },

    async revoke() {
      // Basic credentials: nothing to give up at the server; forgetting them is the slice's.
    },
  };

  async function readCalendar(
    url: string,
    options: BusyReadOptions,
    f: typeof fetch,
    toEvent: (href: string, data: string | undefined) => ExternalBusyEvent,
  ): Promise<Omit<BusyRead, 'requests'>> {
    const cursor = parseCursor(options.cursor);
    const self = pathOf(url, url);
    const isMember = (href: string | undefined): href is string => Boolean(href) && pathOf(href!, url) !== self;
    // Ids are normalised paths; requests carry each href as the server wrote it (servers compare them as strings).
    const hrefs = new Map<string, string>();
    const idOf = (href: string) => {
      const id = pathOf(href, url);
      if (!hrefs.has(id)) hrefs.set(id, href);
      return id;
    };

    if (cursor && 'sync' in cursor) {
      const changed = new Set<string>();
      const removed = new Set<string>();
      let token = cursor.sync;
      for (let page = 0; page < MAX_SYNC_PAGES; page++) {
        const responses = await syncCollection({ url, props: { 'd:getetag': {} }, syncLevel: 1, syncToken: token, fetch: f });
        // The request refused as a whole (not one member's 404): RFC 6578 3.2's 403 valid-sync-token for an
        // invalid or expired token, a collection recreated, or sync-collection gone. Start over; a full read
        // falls back to etags where the server no longer syncs. (401 and 5xx never get here: see transport.)
        const first = responses[0];
        if (responses.length === 1 && first && !first.ok && first.status !== 207 && !isMember(first.href)) return fullRead(url, f, toEvent, isMember, idOf, hrefs);
        let truncated = false;
        for (const r of responses) {
          if (!r.href) continue;
          if (!isMember(r.href)) {
            if (r.status === 507) truncated = true;
            continue;
          }
          const id = idOf(r.href);
          if (r.status === 404) {
            removed.add(id);
            changed.delete(id);
          } else {
            changed.add(id);
            removed.delete(id);
          }
        }
        const next = syncTokenOf(responses);
        if (!next) throw new CalendarRequestError('CalDAV sync-collection answer without a sync-token');
        token = next;
        if (!truncated) break;
      }
      if (changed.size + removed.size > MAX_OBJECTS) return fullRead(url, f, toEvent, isMember, idOf, hrefs);
      const events = changed.size ? await multiget(url, [...changed], f, toEvent, removed, hrefs) : [];
      return { full: false, events, removed: [...removed].map(externalIdOf), cursor: JSON.stringify({ v: 1, sync: token }) };
    }

    if (cursor && 'ctag' in cursor) {
      const [collection] = await propfind({ url, props: { 'cs:getctag': {} }, depth: '0', fetch: f });
      const ctag = text(collection?.props?.getctag);
      if (!collection?.ok) throw unexpected('PROPFIND getctag', collection!);
      if (ctag && ctag === cursor.ctag) return { full: false, events: [], removed: [], cursor: options.cursor! };
      if (!cursor.etags) return fullRead(url, f, toEvent, isMember, idOf, hrefs);
      const listing = await listEtags(url, f, isMember, idOf);
      const changed: string[] = [];
      for (const [id, etag] of listing.etags) if (cursor.etags[id] !== etagDigest(etag)) changed.push(id);
      const present = new Set(listing.etags.keys());
      const removed = Object.keys(cursor.etags).filter((id) => !present.has(id));
      const events = changed.length ? await multiget(url, changed, f, toEvent, new Set(), hrefs) : [];
      return { full: false, events, removed: removed.map(externalIdOf), cursor: etagCursor(listing.ctag, listing.etags) };
    }

    return fullRead(url, f, toEvent, isMember, idOf, hrefs);
  }

  /** Every object of the calendar: sync-collection from no token (hrefs and a token), or etags where the server lacks it. */
  async function fullRead(
    url: string,
    f: typeof fetch,
    toEvent: (href: string, data: string | undefined) => ExternalBusyEvent,
    isMember: (href: string | undefined) => href is string,
    idOf: (href: string) => string,
    hrefs: Map<string, string>,
  ): Promise<Omit<BusyRead, 'requests'>> {
    const responses = await syncCollection({ url, props: { 'd:getetag': {} }, syncLevel: 1, syncToken: '', fetch: f });
    const token = syncTokenOf(responses);
    const refused = responses.length === 1 && !responses[0]!.ok && responses[0]!.status !== 207 && !isMember(responses[0]!.href);
    if (!refused && token) {
      const ids = responses.filter((r) => isMember(r.href) && r.status !== 404).map((r) => idOf(r.href!));
      const events = await multiget(url, ids, f, toEvent, new Set(), hrefs);
      return { full: true, events, removed: [], cursor: JSON.stringify({ v: 1, sync: token }) };
    }
    // No sync-collection here (403 supported-report, 501, 400...): the ctag first, then every etag, then the data.
    const listing = await listEtags(url, f, isMember, idOf);
    const events = await multiget(url, [...listing.etags.keys()], f, toEvent, new Set(), hrefs);
    return { full: true, events, removed: [], cursor: listing.ctag ? etagCursor(listing.ctag, listing.etags) : null };
  }

  async function listEtags(url: string, f: typeof fetch, isMember: (href: string | undefined) => href is string, idOf: (href: string) => string) {
    const responses = await propfind({ url, props: { 'cs:getctag': {}, 'd:getetag': {}, 'd:resourcetype': {} }, depth: '1', fetch: f });
    const own = responses.find((r) => r.href && !isMember(r.href));
    if (!own?.ok && responses.length <= 1) throw unexpected('PROPFIND depth 1', responses[0]!);
    const etags = new Map<string, string>();
    for (const r of responses) {
      if (!isMember(r.href) || !r.ok) continue;
      if (r.props?.resourcetype && Object.keys(r.props.resourcetype).includes('collection')) continue;
      const etag = text(r.props?.getetag);
      if (etag) etags.set(idOf(r.href), etag);
    }
    return { ctag: text(own?.props?.getctag) ?? '', etags };
  }

  function etagCursor(ctag: string, etags: Map<string, string>): string | null {
    if (!ctag) return null;
    if (etags.size > MAX_ETAG_ENTRIES) return JSON.stringify({ v: 1, ctag });
    return JSON.stringify({ v: 1, ctag, etags: Object.fromEntries([...etags].map(([id, etag]) => [id, etagDigest(etag)])) });
  }

  async function multiget(
    url: string,
    ids: string[],
    f: typeof fetch,
    toEvent: (href: string, data: string | undefined) => ExternalBusyEvent,
    removed: Set<string>,
    hrefs: Map<string, string>,
  ): Promise<ExternalBusyEvent[]> {
    if (ids.length > MAX_OBJECTS) {
      hooks.onProblem?.(`${url}: ${ids.length} objects, read the first ${MAX_OBJECTS}`);
      ids = ids.slice(0, MAX_OBJECTS);
    }
    const events: ExternalBusyEvent[] = [];
    for (let i = 0; i < ids.length; i += MULTIGET_CHUNK) {
      const chunk = ids.slice(i, i + MULTIGET_CHUNK);
      // davRequest, not tsdav's calendarMultiGet: that throws away the whole answer when one object is a 404.
      const responses = await davRequest({
        url,
        init: {
          method: 'REPORT',
          namespace: 'c',
          headers: { depth: '1' },
          body: {
            'calendar-multiget': {
              _attributes: { 'xmlns:d': 'DAV:', 'xmlns:c': 'urn:ietf:params:xml:ns:caldav' },
              'd:prop': { 'd:getetag': {}, 'c:calendar-data': {} },
              'd:href': chunk.map((id) => hrefs.get(id) ?? id),
            },
          },
        },
        fetch: f,
      });
      if (responses.length === 1 && !responses[0]!.ok && responses[0]!.status !== 207 && !responses[0]!.props) throw unexpected('calendar-multiget', responses[0]!);
      const wanted = new Set(chunk);
      const seen = new Set<string>();
      for (const r of responses) {
        if (!r.href) continue;
        const id = pathOf(r.href, url);
        if (!wanted.has(id) || seen.has(id)) continue;
        seen.add(id);
        // Gone between the listing and the fetch: removed, as the next sync would say.
        if (r.status === 404 || r.status === 410) removed.add(id);
        else if (r.ok) events.push(toEvent(id, text(r.props?.calendarData)));
        else hooks.onProblem?.(`${id}: multiget answered ${r.status}`);
      }
      for (const id of chunk) if (!seen.has(id)) hooks.onProblem?.(`${id}: not in the multiget answer`);
    }
    return events;
  }
}

const unexpected = (what: string, r: DAVResponse) =>
  new CalendarRequestError(`CalDAV ${what} answered ${r.status} ${r.statusText ?? ''}`.trim(), r.status);

/** The calendars under a home that hold VEVENTs (one PROPFIND). */
async function listCalendarsAt(home: string, f: typeof fetch): Promise<ExternalCalendar[]> {
  const responses = await propfind({
    url: home,
    props: {
      'd:displayname': {},
      'd:resourcetype': {},
      'c:supported-calendar-component-set': {},
      'c:calendar-timezone': {},
      'd:current-user-privilege-set': {},
    },
    depth: '1',
    fetch: f,
  });
  if (responses.length === 1 && !responses[0]!.ok && responses[0]!.status !== 207) throw unexpected('PROPFIND calendar-home-set', responses[0]!);
  const calendars: ExternalCalendar[] = [];
  for (const r of responses) {
    if (!r.href || !r.ok) continue;
    if (!Object.keys(r.props?.resourcetype ?? {}).includes('calendar')) continue;
    const comps = [r.props?.supportedCalendarComponentSet?.comp ?? []].flat() as Array<{ _attributes?: { name?: string } }>;
    const names = comps.map((c) => String(c?._attributes?.name ?? '').toUpperCase()).filter(Boolean);
    // No component set means any component (RFC 4791 5.2.3).
    if (names.length && !names.includes('VEVENT')) continue;
    const privileges = JSON.stringify(r.props?.currentUserPrivilegeSet ?? '');
    const writable = !r.props?.currentUserPrivilegeSet || /"(write|write-content|all|bind)"/.test(privileges);
    const zone = /TZID:([^\r\n]+)/.exec(text(r.props?.calendarTimezone) ?? '')?.[1];
    const url = withSlash(new URL(r.href, home).href);
    const name = (text(r.props?.displayname) ?? decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? 'Calendar')).slice(0, 200);
    calendars.push({ id: url, name, primary: false, writable, ...(zone ? { timeZone: zone.trim() } : {}) });
  }
  calendars.sort((a, b) => a.id.localeCompare(b.id));
  // CalDAV has no "primary": a writable calendar at a default's usual name (Radicale's, Nextcloud's "personal",
  // iCloud's "home", DAViCal's "calendar"), else the first writable one, stands in for it.
  const usual = /\/(calendar|default|personal|home)\/$/i;
  const primary = calendars.find((c) => c.writable && usual.test(new URL(c.id).pathname)) ?? calendars.find((c) => c.writable) ?? calendars[0];
  if (primary) primary.primary = true;
  return calendars;
}

/** RFC 6764 discovery from any URL of the server: /.well-known/caldav, current-user-principal, calendar-home-set. */
async function discover(input: { serverUrl: string; username: string; password: string }, f: typeof fetch): Promise<{ homeUrl: string; principalUrl: string; email: string; addresses: string[] }> {
  const account = await createAccount({
    account: { serverUrl: input.serverUrl, accountType: 'caldav', credentials: { username: input.username, password: input.password } },
    fetch: f,
  }).catch((error: Error) => {
    if (error instanceof CalendarAuthError || error instanceof CalendarUnavailableError || error instanceof CalendarRequestError) throw error;
    throw new CalendarRequestError(`CalDAV discovery from ${input.serverUrl} failed: ${error.message.slice(0, 200)}`);
  });
  if (!account.homeUrl || !account.principalUrl) throw new CalendarRequestError(`CalDAV discovery from ${input.serverUrl} found no calendar home`);
  // The account's addresses tell its own declined invitations apart; a server that will not say is no failure.
  const principal = await propfind({ url: account.principalUrl, props: { 'c:calendar-user-address-set': {} }, depth: '0', fetch: f })
    .then(([r]) => r)
    .catch((error: Error) => {
      if (error instanceof CalendarAuthError || error instanceof CalendarUnavailableError) throw error;
      return undefined;
    });
  const hrefs = [principal?.props?.calendarUserAddressSet?.href ?? []].flat().map((h) => text(h) ?? '');
  const addresses = hrefs.filter((h) => /^mailto:/i.test(h)).map((h) => h.replace(/^mailto:/i, '').trim().toLowerCase()).filter((a) => a.length <= 254).slice(0, 20);
  const email = addresses[0] ?? (input.username.includes('@') ? input.username.toLowerCase() : input.username);
  return { homeUrl: withSlash(account.homeUrl), principalUrl: account.principalUrl, email, addresses };
}

export type CaldavDiscovery = {
  credentials: CaldavCredentials & { homeUrl: string };
  account: { email: string };
  calendars: ExternalCalendar[];
};

/**
 * Verifies a CalDAV login and finds its calendars, from the server's root or any URL below it. A wrong login
 * is a CalendarAuthError (the slice answers 422 naming `password`); a server that is not CalDAV, or that no
 * discovery reaches, a CalendarRequestError.
 */
export async function discoverCaldav(input: { serverUrl: string; username: string; password: string }, hooks: CaldavHooks = {}): Promise<CaldavDiscovery> {
  let server: URL;
  try {
    server = new URL(input.serverUrl);
  } catch {
    throw new CalendarRequestError('serverUrl is not a URL', 400);
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:') throw new CalendarRequestError('serverUrl must be http or https', 400);
  if (server.username || server.password) throw new CalendarRequestError('serverUrl must not carry credentials', 400);
  const counter: Counter = { requests: 0, sawUnauthorized: false };
  const f = transport(input, hooks, counter);
  let found: Awaited<ReturnType<typeof discover>>;
  try {
    found = await discover(input, f);
  } catch (error) {
    // tsdav tries several roots and may report the last one's failure: a 401 anywhere was the login.
    if (counter.sawUnauthorized) throw new CalendarAuthError(`CalDAV server ${server.host} refused the login`);
    throw error;
  }
  const calendars = await listCalendarsAt(found.homeUrl, f);
  return {
    credentials: { kind: 'basic', serverUrl: server.href, username: input.username, password: input.password, homeUrl: found.homeUrl, ...(found.addresses.length ? { addresses: found.addresses } : {}) },
    account: { email: found.email },
    calendars,
  };
}

/** The object's current text, etag, and the booking sequence we wrote into it (X-BOOKING-SEQUENCE). */
async function currentObject(objectUrl: string, f: typeof fetch): Promise<{ etag?: string; data: string; bookingSequence?: number; sequence: number } | undefined> {
  const response = await f(objectUrl, { method: 'GET', headers: { accept: 'text/calendar' } });
  if (response.status === 404 || response.status === 410) return undefined;
  if (!response.ok) throw new CalendarRequestError(`CalDAV GET ${new URL(objectUrl).pathname} answered ${response.status}`, response.status);
  const data = await response.text();
  let bookingSequence: number | undefined;
  let sequence = 0;
  try {
    const root = parse(data)[0];
    const vevent = root && subcomponents(root, 'VEVENT')[0];
    const x = vevent && first(vevent, 'X-BOOKING-SEQUENCE') ? Number(first(vevent, 'X-BOOKING-SEQUENCE')!.value) : NaN;
    bookingSequence = Number.isInteger(x) ? x : undefined;
    sequence = Number((vevent && first(vevent, 'SEQUENCE')?.value) ?? 0) || 0;
  } catch {
    // someone else's text under our name: overwritten below
  }
  return { etag: response.headers.get('etag') ?? undefined, data, bookingSequence, sequence };
}

/** The href of the object holding a UID, when a client saved our event under another name. */
async function findByUid(calendar: string, uid: string, f: typeof fetch): Promise<string | undefined> {
  const escaped = uid.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const responses = await davRequest({
    url: calendar,
    init: {
      method: 'REPORT',
      headers: { depth: '1', 'content-type': 'application/xml; charset=utf-8' },
      body: `<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="UID"><C:text-match collation="i;octet">${escaped}</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`,
    },
    convertIncoming: false,
    fetch: f,
  });
  const hit = responses.find((r) => r.href && r.ok && pathOf(r.href, calendar) !== pathOf(calendar, calendar));
  return hit?.href ? new URL(hit.href, calendar).href : undefined;
}

/**
 * Create-or-update, keyed by the booking: PUT If-None-Match:* creates; when the object exists (412), the
 * sequence we wrote decides: the same or a newer booking sequence is already there (a retried or concurrent
 * step, one object left), an older one is replaced with If-Match on its etag (a concurrent change → again).
 * SEQUENCE rises past whatever a calendar client may have set; X-BOOKING-SEQUENCE keeps the booking's.
 */
async function putBooking(calendar: string, event: BookingCalendarEvent, f: typeof fetch, now: Date): Promise<WrittenEvent> {
  // Imported on the first write: reads never load the VTIMEZONE data (booking-ics.ts).
  const { bookingToIcs } = await import('../booking-ics.ts');
  let objectUrl = new URL(bookingObjectName(event.bookingId), calendar).href;
  const stamp = now.toISOString();
  for (let round = 0; round < 4; round++) {
    const existing = await currentObject(objectUrl, f);
    if (!existing) {
      const created = await f(objectUrl, {
        method: 'PUT',
        headers: { 'content-type': 'text/calendar; charset=utf-8', 'if-none-match': '*' },
        body: bookingToIcs(event, stamp),
      });
      await created.arrayBuffer();
      if (created.status === 201 || created.status === 204 || created.status === 200) return { externalEventId: externalIdOf(pathOf(objectUrl, calendar)), created: true };
      if (created.status === 412) continue; // made concurrently: look again
      if (created.status === 409 || created.status === 403) {
        // Radicale: the UID already lives under another name (a client re-saved it). Update it there.
        const elsewhere = await findByUid(calendar, inviteUid(event.bookingId), f);
        if (elsewhere && elsewhere !== objectUrl) {
          objectUrl = elsewhere;
          continue;
        }
      }
      throw new CalendarRequestError(`CalDAV PUT ${new URL(objectUrl).pathname} answered ${created.status}`, created.status);
    }
    if (existing.bookingSequence !== undefined && existing.bookingSequence >= event.sequence) {
      return { externalEventId: externalIdOf(pathOf(objectUrl, calendar)), created: false };
    }
    const sequence = Math.max(event.sequence, existing.sequence + 1);
    const updated = await f(objectUrl, {
      method: 'PUT',
      headers: { 'content-type': 'text/calendar; charset=utf-8', ...(existing.etag ? { 'if-match': existing.etag } : {}) },
      body: bookingToIcs(event, stamp, { sequence }),
    });
    await updated.arrayBuffer();
    if (updated.ok) return { externalEventId: externalIdOf(pathOf(objectUrl, calendar)), created: false };
    if (updated.status === 412 || updated.status === 409) continue; // changed under us: read it again
    throw new CalendarRequestError(`CalDAV PUT ${new URL(objectUrl).pathname} answered ${updated.status}`, updated.status);
  }
  throw new CalendarUnavailableError(`CalDAV ${new URL(objectUrl).pathname} kept changing under the write; retry later`);
}

/** DELETE (gone already is fine); where the server refuses deletes, the object is rewritten STATUS:CANCELLED. */
async function removeBooking(calendar: string, bookingId: string, f: typeof fetch, now: Date): Promise<void> {
  let objectUrl = new URL(bookingObjectName(bookingId), calendar).href;
  for (let round = 0; round < 3; round++) {
    const response = await f(objectUrl, { method: 'DELETE' });
    await response.arrayBuffer();
    if (response.ok) return;
    if (response.status === 404 || response.status === 410) {
      if (round > 0) return;
      const elsewhere = await findByUid(calendar, inviteUid(bookingId), f);
      if (!elsewhere || elsewhere === objectUrl) return;
      objectUrl = elsewhere;
      continue;
    }
    if (response.status === 403 || response.status === 405) return cancelInPlace(objectUrl, f, now);
    if (response.status === 412 || response.status === 409) continue;
    throw new CalendarRequestError(`CalDAV DELETE ${new URL(objectUrl).pathname} answered ${response.status}`, response.status);
  }
}

async function cancelInPlace(objectUrl: string, f: typeof fetch, now: Date): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const existing = await currentObject(objectUrl, f);
    if (!existing) return;
    const { cancelledCopy } = await import('../booking-ics.ts');
    const response = await f(objectUrl, {
      method: 'PUT',
      headers: { 'content-type': 'text/calendar; charset=utf-8', ...(existing.etag ? { 'if-match': existing.etag } : {}) },
      body: cancelledCopy(existing.data, existing.sequence + 1, now),
    });
    await response.arrayBuffer();
    if (response.ok) return;
    if (response.status !== 412) throw new CalendarRequestError(`CalDAV could neither delete nor cancel ${new URL(objectUrl).pathname} (${response.status})`, response.status);
  }
}
