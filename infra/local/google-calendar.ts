// A local Google Calendar: the OAuth endpoints (consent that approves the dev account at once, token,
// revoke) and the Calendar v3 API the adapter uses, in Google's wire format, for the real `googleapis` client
// pointed at it with rootUrl and the OAuth2 client's endpoints. Faithful where clients look: status codes,
// error shapes ({error:{code,message,errors:[{domain,reason}]}}), paging, syncToken (and its restrictions),
// 410 fullSyncRequired, singleEvents expansion with instance ids, push notifications to watch channels.
// A dev interface under /dev changes calendars "as if in Google Calendar", revokes grants, injects faults and
// counts requests. Binds to 127.0.0.1 only.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import {
  FakeCalendarStore, changesSince, stateFile, storeFromJson, storeToJson, timeOfInstanceKey, windowAround, decodeCursor, defaultWindow, encodeCursor, instanceKey, instancesOf, newEvent, randomId, readBody, recordChange,
  type Fault, type FakeCalendar, type FakeEvent, type FakeTime, type FakeUser, type Instance, type LoggedRequest, type Window,
} from './fake-calendar-store.ts';

export type GoogleClient = { clientId: string; clientSecret: string };

export type LocalGoogleOptions = {
  port?: number;
  clients?: GoogleClient[];
  /** The account the consent page approves when the request names none (login_hint). */
  devAccount?: string;
  /** Access token lifetime in seconds (Google's is 3599). */
  accessTokenSeconds?: number;
  /** A JSON file keeping calendars, grants and channels across restarts (npm start: in the data directory). */
  stateFile?: string;
  log?: (message: string) => void;
};

export type PushDelivery = { channelId: string; address: string; state: string; messageNumber: number; status?: number; error?: string };

export type LocalGoogle = {
  url: string;
  port: number;
  clients: GoogleClient[];
  devAccount: string;
  store: FakeCalendarStore;
  requests: LoggedRequest[];
  deliveries: PushDelivery[];
  /** Resolves once every push notification sent so far has been answered (or failed). */
  pushesSettled(): Promise<void>;
  close(): Promise<void>;
};

export const DEFAULT_GOOGLE_CLIENT: GoogleClient = { clientId: 'local-google-client.apps.googleusercontent.com', clientSecret: 'local-google-secret' };

type Grant = { user: string; clientId: string; scope: string; revoked: boolean };
type Channel = { id: string; token?: string; address: string; resourceId: string; user: string; calendarId: string; expiration: number; messageNumber: number };
type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

class GoogleError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

const MAX_RESULTS_DEFAULT = 250;
const MAX_RESULTS_LIMIT = 2500;
/** Google event ids: base32hex characters (a-v, 0-9), 5 to 1024 of them. */
const EVENT_ID = /^[a-v0-9]{5,1024}$/;

const toGoogleTime = (t: FakeTime, timeZone?: string) => ('date' in t ? { date: t.date } : { dateTime: t.dateTime, ...(timeZone ? { timeZone } : {}) });

function fromGoogleTime(value: any, field: string): { time: FakeTime; timeZone?: string } {
  if (value && typeof value.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value.date)) return { time: { date: value.date } };
  if (value && typeof value.dateTime === 'string') {
    const at = Date.parse(value.dateTime);
    if (!Number.isNaN(at) && /(Z|[+-]\d{2}:\d{2})$/.test(value.dateTime)) return { time: { dateTime: new Date(at).toISOString().replace('.000', '') }, timeZone: value.timeZone };
    if (typeof value.timeZone === 'string') {
      // A wall-clock time in a named zone, as Google accepts it.
      const zoned = DateTime.fromISO(value.dateTime, { zone: value.timeZone });
      if (zoned.isValid) return { time: { dateTime: zoned.toUTC().toISO({ suppressMilliseconds: true })! }, timeZone: value.timeZone };
    }
  }
  throw new GoogleError(400, 'invalid', `Invalid ${field} time.`);
}
export async function startLocalGoogle(options: LocalGoogleOptions = {}): Promise<LocalGoogle> {
  const log = options.log ?? (() => {});
  const clients = options.clients ?? [DEFAULT_GOOGLE_CLIENT];
  const devAccount = options.devAccount ?? 'dev@example.com';
  const tokenSeconds = options.accessTokenSeconds ?? 3599;
  const store = new FakeCalendarStore();
  const codes = new Map<string, { grantId: string; clientId: string; redirectUri: string; expires: number }>();
  const grants = new Map<string, Grant>();
  const refreshTokens = new Map<string, string>();
  const accessTokens = new Map<string, { grantId: string; expires: number }>();
  const channels = new Map<string, Channel>();
  const requests: LoggedRequest[] = [];
  type State = { store: unknown; grants: Array<[string, unknown]>; refreshTokens: Array<[string, unknown]>; channels: Array<[string, unknown]> };
  const persisted = stateFile<State>(
    options.stateFile,
    (state) => {
      storeFromJson(store, state.store);
      for (const [k, v] of state.grants ?? []) grants.set(k, v as never);
      for (const [k, v] of state.refreshTokens ?? []) refreshTokens.set(k, v as never);
      for (const [k, v] of state.channels ?? []) channels.set(k, v as never);
    },
    () => ({ store: storeToJson(store), grants: [...grants], refreshTokens: [...refreshTokens], channels: [...channels] }),
  );
  const deliveries: PushDelivery[] = [];
  const pending = new Set<Promise<void>>();
  let faults: Fault[] = [];

  const clientOf = (id: string | undefined) => clients.find((c) => c.clientId === id);

  // ---- push -------------------------------------------------------------------------------------------
  const send = (channel: Channel, state: 'sync' | 'exists' | 'not_exists') => {
    channel.messageNumber += 1;
    const delivery: PushDelivery = { channelId: channel.id, address: channel.address, state, messageNumber: channel.messageNumber };
    deliveries.push(delivery);
    if (deliveries.length > 1000) deliveries.shift();
    const headers: Record<string, string> = {
      'X-Goog-Channel-ID': channel.id,
      'X-Goog-Channel-Expiration': new Date(channel.expiration).toUTCString(),
      'X-Goog-Resource-ID': channel.resourceId,
      'X-Goog-Resource-URI': `https://www.googleapis.com/calendar/v3/calendars/${encodeURIComponent(channel.calendarId)}/events?alt=json`,
      'X-Goog-Resource-State': state,
      'X-Goog-Message-Number': String(channel.messageNumber),
      ...(channel.token ? { 'X-Goog-Channel-Token': channel.token } : {}),
    };
    const sending = fetch(channel.address, { method: 'POST', headers, body: '', signal: AbortSignal.timeout(10_000) })
      .then(async (response) => {
        delivery.status = response.status;
        await response.arrayBuffer().catch(() => undefined);
      })
      .catch((error: Error) => {
        delivery.error = error.message;
        log(`google push to ${channel.address} failed: ${error.message}`);
      })
      .finally(() => pending.delete(sending));
    pending.add(sending);
  };
  const changed = (user: string, calendarId: string) => {
    for (const channel of channels.values()) {
      if (channel.expiration < Date.now()) channels.delete(channel.id);
      else if (channel.user === user && channel.calendarId === calendarId) send(channel, 'exists');
    }
  };

  // ---- calendar API -----------------------------------------------------------------------------------
  const calendarOf = (user: FakeUser, id: string): FakeCalendar => {
    const calendar = user.calendars.get(id === 'primary' ? user.email : id.toLowerCase() === user.email ? user.email : id);
    if (!calendar) throw new GoogleError(404, 'notFound', 'Not Found');
    return calendar;
  };

  const eventJson = (calendar: FakeCalendar, user: FakeUser, instance: Instance): Record<string, unknown> => {
    const { source, master } = instance;
    const base = master ?? source;
    if (instance.cancelled) {
      // Google lists deleted events with only these fields.
      return {
        kind: 'calendar#event', etag: `"${instance.seq}"`, id: instance.id, status: 'cancelled',
        ...(master ? { recurringEventId: master.id, originalStartTime: toGoogleTime(instance.originalStart!, master.timeZone) } : {}),
      };
    }
    const fields = { ...(master?.fields ?? {}), ...(source !== master ? source.fields : {}) };
    return {
      kind: 'calendar#event',
      etag: `"${instance.seq}"`,
      id: instance.id,
      status: fields.status === 'tentative' ? 'tentative' : 'confirmed',
      htmlLink: `https://calendar.google.com/calendar/event?eid=${Buffer.from(`${instance.id} ${calendar.id}`).toString('base64url')}`,
      created: base.created,
      updated: source.updated,
      summary: fields.summary,
      description: fields.description,
      location: fields.location,
      creator: { email: user.email, self: true },
      organizer: fields.organizer ?? { email: calendar.id, self: true },
      start: toGoogleTime(instance.start, base.fields.startTimeZone),
      end: toGoogleTime(instance.end, base.fields.endTimeZone ?? base.fields.startTimeZone),
      ...(master ? { recurringEventId: master.id, originalStartTime: toGoogleTime(instance.originalStart!, master.timeZone) } : {}),
      ...(!master && source.recurrence ? { recurrence: source.recurrence } : {}),
      ...(fields.transparency ? { transparency: fields.transparency } : {}),
      ...(fields.visibility ? { visibility: fields.visibility } : {}),
      iCalUID: base.fields.iCalUID ?? `${base.id}@google.com`,
      sequence: fields.sequence ?? 0,
      ...(fields.attendees ? { attendees: fields.attendees } : {}),
      ...(fields.extendedProperties ? { extendedProperties: fields.extendedProperties } : {}),
      ...(fields.source ? { source: fields.source } : {}),
      reminders: { useDefault: true },
      eventType: 'default',
    };
  };

  /** The stored event behind an id: a single event or series, an exception, or (made on demand) an instance. */
  const resolve = (calendar: FakeCalendar, id: string): { event?: FakeEvent; master?: FakeEvent; instance?: Instance } => {
    const event = calendar.events.get(id);
    if (event) return { event, master: event.recurringEventId ? calendar.events.get(event.recurringEventId) : undefined };
    const split = id.lastIndexOf('_');
    if (split < 0) return {};
    const master = calendar.events.get(id.slice(0, split));
    if (!master?.recurrence) return {};
    const at = timeOfInstanceKey(id.slice(split + 1));
    const instance = at ? instancesOf(calendar, windowAround(at, master.timeZone), { includeCancelled: false }).find((i) => i.id === id) : undefined;
    return instance ? { master, instance } : {};
  };

  /** Stores the fields of an event resource (insert, update, patch). */
  const applyResource = (event: FakeEvent, body: any, patch: boolean) => {
    if (!patch || body.start !== undefined) {
      const start = fromGoogleTime(body.start, 'start');
      event.start = start.time;
      event.fields.startTimeZone = start.timeZone;
      if (start.timeZone) event.timeZone = start.timeZone;
    }
    if (!patch || body.end !== undefined) {
      const end = fromGoogleTime(body.end, 'end');
      event.end = end.time;
      event.fields.endTimeZone = end.timeZone;
    }
    if (('date' in event.start) !== ('date' in event.end)) throw new GoogleError(400, 'invalid', 'Start and end times must either both be date or both be dateTime.');
    const startMs = 'date' in event.start ? Date.parse(event.start.date) : Date.parse(event.start.dateTime);
    const endMs = 'date' in event.end ? Date.parse(event.end.date) : Date.parse(event.end.dateTime);
    if (endMs <= startMs && !('date' in event.start && endMs === startMs)) throw new GoogleError(400, 'timeRangeEmpty', 'The specified time range is empty.');
    if (!patch || body.recurrence !== undefined) {
      if (body.recurrence !== undefined && (!Array.isArray(body.recurrence) || body.recurrence.some((l: unknown) => typeof l !== 'string' || l.length > 1000))) {
        throw new GoogleError(400, 'invalid', 'Invalid recurrence rule.');
      }
      event.recurrence = body.recurrence?.length ? body.recurrence : undefined;
    }
    const keep = patch ? event.fields : { startTimeZone: event.fields.startTimeZone, endTimeZone: event.fields.endTimeZone, iCalUID: event.fields.iCalUID };
    event.fields = { ...keep };
    for (const name of ['summary', 'description', 'location', 'transparency', 'visibility', 'attendees', 'extendedProperties', 'sequence', 'source', 'organizer', 'status']) {
      if (body[name] !== undefined) event.fields[name] = body[name];
    }
    if (patch && body.extendedProperties && event.fields.extendedProperties) {
      event.fields.extendedProperties = {
        private: { ...(event.fields.extendedProperties.private ?? {}), ...(body.extendedProperties.private ?? {}) },
        shared: { ...(event.fields.extendedProperties.shared ?? {}), ...(body.extendedProperties.shared ?? {}) },
      };
    }
    if (!patch || body.status !== undefined) event.cancelled = body.status === 'cancelled';
    if (typeof body.iCalUID === 'string') event.fields.iCalUID = body.iCalUID;
  };

  const listEvents = (user: FakeUser, calendar: FakeCalendar, query: URLSearchParams): Reply => {
    const syncToken = query.get('syncToken');
    if (syncToken && (query.has('timeMin') || query.has('timeMax') || query.has('q') || query.has('orderBy') || query.has('updatedMin') || query.has('iCalUID') || query.has('privateExtendedProperty'))) {
      throw new GoogleError(400, 'invalid', 'Sync token cannot be used with other query parameters.');
    }
    const maxResults = Math.min(Number(query.get('maxResults') ?? MAX_RESULTS_DEFAULT) || MAX_RESULTS_DEFAULT, MAX_RESULTS_LIMIT);
    const singleEvents = query.get('singleEvents') === 'true';
    type Page = { o: number; s: number; g: number; since?: number; w?: [number, number] | null };
    const pageToken = query.get('pageToken');
    const page = pageToken ? decodeCursor<Page>(pageToken) : undefined;
    if (pageToken && (!page || page.g !== calendar.generation)) throw new GoogleError(400, 'invalid', 'Invalid page token value.');
    let since: number | undefined = page?.since;
    let window: Window | undefined;
    let tokenWindow: [number, number] | null = page?.w ?? null;
    if (syncToken && !page) {
      const token = decodeCursor<{ c: string; g: number; s: number; w: [number, number] | null }>(syncToken);
      if (!token || token.c !== calendar.id) throw new GoogleError(400, 'invalid', 'Invalid sync token value.');
      if (token.g !== calendar.generation) throw new GoogleError(410, 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.');
      since = token.s;
      tokenWindow = token.w;
    }
    if (!syncToken && !page) {
      const timeMin = query.get('timeMin');
      const timeMax = query.get('timeMax');
      for (const [name, value] of [['timeMin', timeMin], ['timeMax', timeMax]] as const) {
        if (value !== null && (Number.isNaN(Date.parse(value)) || !/(Z|[+-]\d{2}:\d{2})$/.test(value))) throw new GoogleError(400, 'badRequest', `Bad Request: invalid ${name}`);
      }
      if (timeMin && timeMax && Date.parse(timeMax) <= Date.parse(timeMin)) throw new GoogleError(400, 'timeRangeEmpty', 'The specified time range is empty.');
      tokenWindow = timeMin || timeMax ? [timeMin ? Date.parse(timeMin) : defaultWindow().from, timeMax ? Date.parse(timeMax) : defaultWindow().to] : null;
    }
    window = tokenWindow ? { from: tokenWindow[0], to: tokenWindow[1] } : defaultWindow();
    const snapshot = page?.s ?? calendar.seq;
    let items: Array<Record<string, unknown>>;
    if (since !== undefined) {
      const { instances, removed } = changesSince(calendar, since, window);
      const chosen = singleEvents ? instances : collapse(calendar, instances);
      items = [...chosen.map((i) => eventJson(calendar, user, i)), ...removed.map((id) => ({ kind: 'calendar#event', id, status: 'cancelled' }))];
    } else {
      const showDeleted = query.get('showDeleted') === 'true';
      const instances = instancesOf(calendar, window, { includeCancelled: showDeleted });
      items = (singleEvents ? instances : collapse(calendar, instances)).map((i) => eventJson(calendar, user, i));
    }
    const offset = page?.o ?? 0;
    const slice = items.slice(offset, offset + maxResults);
    const more = offset + maxResults < items.length;
    return {
      status: 200,
      body: {
        kind: 'calendar#events',
        etag: `"${snapshot}"`,
        summary: calendar.name,
        updated: new Date().toISOString(),
        timeZone: calendar.timeZone,
        accessRole: 'owner',
        defaultReminders: [],
        items: slice,
        ...(more
          ? { nextPageToken: encodeCursor({ o: offset + maxResults, s: snapshot, g: calendar.generation, since, w: tokenWindow } satisfies Page) }
          : { nextSyncToken: encodeCursor({ c: calendar.id, g: calendar.generation, s: snapshot, w: tokenWindow }) }),
      },
    };
  };

  /** singleEvents=false: a series is listed once, as its master. */
  const collapse = (calendar: FakeCalendar, instances: Instance[]): Instance[] => {
    const out: Instance[] = [];
    const seen = new Set<string>();
    for (const i of instances) {
      if (!i.master) out.push(i);
      else if (!seen.has(i.master.id)) {
        seen.add(i.master.id);
        const m = i.master;
        out.push({ id: m.id, source: m, start: m.start, end: m.end, cancelled: m.cancelled, seq: m.seq });
      }
    }
    void calendar;
    return out;
  };

  const insertEvent = (user: FakeUser, calendar: FakeCalendar, body: any, imported: boolean): Reply => {
    if (!body || typeof body !== 'object') throw new GoogleError(400, 'invalid', 'Invalid resource.');
    if (body.id !== undefined && (typeof body.id !== 'string' || !EVENT_ID.test(body.id))) throw new GoogleError(400, 'invalid', 'Invalid resource id value.');
    const id: string = body.id ?? randomId(13).replace(/[w-z]/g, 'a');
    if (calendar.events.has(id)) throw new GoogleError(409, 'duplicate', 'The requested identifier already exists.');
    if (imported && typeof body.iCalUID !== 'string') throw new GoogleError(400, 'required', 'Missing iCalUID.');
    if (imported) {
      // import is idempotent on iCalUID: the same UID again updates that event.
      const existing = [...calendar.events.values()].find((e) => e.fields.iCalUID === body.iCalUID);
      if (existing) return updateEvent(user, calendar, existing, body, false);
    }
    const event = newEvent({ id, start: { dateTime: '' }, end: { dateTime: '' }, timeZone: calendar.timeZone, fields: {} });
    applyResource(event, body, false);
    recordChange(calendar, event, () => {});
    changed(user.email, calendar.id);
    return { status: 200, body: eventJson(calendar, user, { id, source: event, start: event.start, end: event.end, cancelled: event.cancelled, seq: event.seq }) };
  };

  const updateEvent = (user: FakeUser, calendar: FakeCalendar, event: FakeEvent, body: any, patch: boolean): Reply => {
    const draft = structuredClone(event);
    applyResource(draft, patch ? body : { ...body, start: body.start ?? undefined }, patch);
    recordChange(calendar, event, () => Object.assign(event, draft, { seq: event.seq }));
    changed(user.email, calendar.id);
    const master = event.recurringEventId ? calendar.events.get(event.recurringEventId) : undefined;
    return {
      status: 200,
      body: eventJson(calendar, user, { id: event.id, source: event, master, start: event.start, end: event.end, originalStart: event.originalStart, cancelled: event.cancelled, seq: event.seq }),
    };
  };

  const eventRoute = (user: FakeUser, calendar: FakeCalendar, id: string, method: string, body: any): Reply => {
    const found = resolve(calendar, id);
    if (method === 'GET') {
      if (found.event) {
        const master = found.master;
        return { status: 200, body: eventJson(calendar, user, { id, source: found.event, master, start: found.event.start, end: found.event.end, originalStart: found.event.originalStart, cancelled: found.event.cancelled, seq: found.event.seq }) };
      }
      if (found.instance) return { status: 200, body: eventJson(calendar, user, found.instance) };
      throw new GoogleError(404, 'notFound', 'Not Found');
    }
    if (!found.event && !found.instance) throw new GoogleError(404, 'notFound', 'Not Found');
    let event = found.event;
    if (!event) {
      // Changing one instance of a series makes it an exception of its own.
      const instance = found.instance!;
      event = newEvent({
        id, start: instance.start, end: instance.end, timeZone: found.master!.timeZone, recurringEventId: found.master!.id, originalStart: instance.originalStart,
        fields: { ...found.master!.fields },
      });
    }
    if (method === 'DELETE') {
      if (event.cancelled) throw new GoogleError(410, 'deleted', 'Resource has been deleted');
      const target = event;
      recordChange(calendar, target, () => {
        target.cancelled = true;
      });
      changed(user.email, calendar.id);
      return { status: 204 };
    }
    if (method === 'PUT' || method === 'PATCH') {
      if (!body || typeof body !== 'object') throw new GoogleError(400, 'invalid', 'Invalid resource.');
      // An update brings a deleted event back (its id stays taken, as in Google).
      return updateEvent(user, calendar, event, method === 'PUT' ? { status: 'confirmed', ...body } : body, method === 'PATCH');
    }
    throw new GoogleError(405, 'methodNotAllowed', 'Method not allowed');
  };

  const freeBusy = (user: FakeUser, body: any): Reply => {
    if (!body?.timeMin || !body?.timeMax || !Array.isArray(body.items)) throw new GoogleError(400, 'required', 'Missing timeMin, timeMax or items.');
    const window = { from: Date.parse(body.timeMin), to: Date.parse(body.timeMax) };
    const calendars: Record<string, unknown> = {};
    for (const { id } of body.items.slice(0, 50)) {
      const calendar = user.calendars.get(id === 'primary' ? user.email : id);
      if (!calendar) {
        calendars[id] = { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
        continue;
      }
      const busy = instancesOf(calendar, window, { includeCancelled: false })
        .filter((i) => ((i.source !== i.master ? i.source.fields : i.master?.fields) ?? i.source.fields).transparency !== 'transparent')
        .map((i) => ({
          start: 'date' in i.start ? DateTime.fromISO(i.start.date, { zone: body.timeZone ?? calendar.timeZone }).toUTC().toISO() : i.start.dateTime,
          end: 'date' in i.end ? DateTime.fromISO(i.end.date, { zone: body.timeZone ?? calendar.timeZone }).toUTC().toISO() : i.end.dateTime,
        }));
      calendars[id] = { busy };
    }
    return { status: 200, body: { kind: 'calendar#freeBusy', timeMin: body.timeMin, timeMax: body.timeMax, calendars } };
  };

  const watch = (user: FakeUser, calendar: FakeCalendar, body: any): Reply => {
    if (typeof body?.id !== 'string' || !/^[A-Za-z0-9\-_+/=]{1,64}$/.test(body.id)) throw new GoogleError(400, 'invalid', 'Invalid channel id.');
    if (body.type !== 'web_hook' && body.type !== 'webhook') throw new GoogleError(400, 'invalid', 'Invalid channel type.');
    let address: URL;
    try {
      address = new URL(body.address);
    } catch {
      throw new GoogleError(400, 'push.webhookUrlNotHttps', 'WebHook callback must be HTTPS.');
    }
    // Google demands HTTPS; this machine's receivers are plain HTTP on loopback, so only those are let through.
    if (address.protocol !== 'https:' && !['127.0.0.1', 'localhost'].includes(address.hostname)) throw new GoogleError(400, 'push.webhookUrlNotHttps', 'WebHook callback must be HTTPS.');
    if ([...channels.values()].some((c) => c.id === body.id)) throw new GoogleError(400, 'channelIdNotUnique', 'Channel id not unique.');
    const ttl = Math.min(Number(body.params?.ttl ?? 604_800) || 604_800, 2_592_000);
    const resourceId = createHash('sha1').update(`${user.email}/${calendar.id}`).digest('base64url').slice(0, 27);
    const channel: Channel = { id: body.id, token: body.token, address: address.href, resourceId, user: user.email, calendarId: calendar.id, expiration: Date.now() + ttl * 1000, messageNumber: 0 };
    channels.set(channel.id, channel);
    // Google confirms a new channel with a 'sync' message.
    send(channel, 'sync');
    return {
      status: 200,
      body: { kind: 'api#channel', id: channel.id, resourceId, resourceUri: `https://www.googleapis.com/calendar/v3/calendars/${encodeURIComponent(calendar.id)}/events?alt=json`, token: channel.token, expiration: String(channel.expiration) },
    };
  };

  /** The Calendar v3 API for one user: `segments` is the path after /calendar/v3. */
  const api = (user: FakeUser, method: string, segments: string[], query: URLSearchParams, body: any): Reply => {
    const [first, second, third, fourth, fifth] = segments;
    if (first === 'users' && second === 'me' && third === 'calendarList' && method === 'GET') {
      const calendars = [...user.calendars.values()];
      if (fourth) {
        const calendar = calendarOf(user, decodeURIComponent(fourth));
        return { status: 200, body: calendarListEntry(calendar) };
      }
      return { status: 200, body: { kind: 'calendar#calendarList', etag: '"1"', items: calendars.map(calendarListEntry), nextSyncToken: encodeCursor({ list: 1 }) } };
    }
    if (first === 'freeBusy' && method === 'POST') return freeBusy(user, body);
    if (first === 'channels' && second === 'stop' && method === 'POST') {
      const channel = channels.get(body?.id);
      if (!channel || channel.resourceId !== body?.resourceId || channel.user !== user.email) throw new GoogleError(404, 'notFound', `Channel '${body?.id}' not found for project`);
      channels.delete(channel.id);
      return { status: 204 };
    }
    if (first === 'calendars' && second) {
      const calendar = calendarOf(user, decodeURIComponent(second));
      if (!third && method === 'GET') return { status: 200, body: { kind: 'calendar#calendar', id: calendar.id, summary: calendar.name, timeZone: calendar.timeZone } };
      if (third === 'events') {
        if (!fourth && method === 'GET') return listEvents(user, calendar, query);
        if (!fourth && method === 'POST') return insertEvent(user, calendar, body, false);
        if (fourth === 'import' && method === 'POST') return insertEvent(user, calendar, body, true);
        if (fourth === 'watch' && method === 'POST') return watch(user, calendar, body);
        if (fourth && !fifth) return eventRoute(user, calendar, decodeURIComponent(fourth), method, body);
      }
    }
    throw new GoogleError(404, 'notFound', 'Not Found');
  };

  const calendarListEntry = (c: FakeCalendar) => ({
    kind: 'calendar#calendarListEntry', id: c.id, summary: c.name, timeZone: c.timeZone, accessRole: 'owner', primary: c.primary || undefined,
    selected: true, defaultReminders: [],
  });

  // ---- OAuth ------------------------------------------------------------------------------------------
  const issueAccessToken = (grantId: string) => {
    const token = `ya29.local-${randomId(24)}`;
    accessTokens.set(token, { grantId, expires: Date.now() + tokenSeconds * 1000 });
    return token;
  };
  const oauthError = (status: number, error: string, description: string): Reply => ({ status, body: { error, error_description: description } });

  const authorize = (query: URLSearchParams): Reply => {
    const client = clientOf(query.get('client_id') ?? undefined);
    if (!client) return { status: 401, body: 'Error 401: invalid_client\nThe OAuth client was not found.', headers: { 'content-type': 'text/plain; charset=utf-8' } };
    let redirect: URL;
    try {
      redirect = new URL(query.get('redirect_uri') ?? '');
      if (!['http:', 'https:'].includes(redirect.protocol)) throw new Error('scheme');
    } catch {
      return { status: 400, body: 'Error 400: redirect_uri_mismatch\nThe redirect URI in the request is not valid.', headers: { 'content-type': 'text/plain; charset=utf-8' } };
    }
    if (query.get('response_type') !== 'code') {
      redirect.searchParams.set('error', 'unsupported_response_type');
      return { status: 302, headers: { location: redirect.href } };
    }
    const user = store.user(query.get('login_hint') || devAccount);
    const grantId = randomId(12);
    grants.set(grantId, { user: user.email, clientId: client.clientId, scope: query.get('scope') ?? '', revoked: false });
    const code = `4/local-${randomId(16)}`;
    codes.set(code, { grantId, clientId: client.clientId, redirectUri: redirect.href, expires: Date.now() + 600_000 });
    redirect.searchParams.set('code', code);
    if (query.has('state')) redirect.searchParams.set('state', query.get('state')!);
    redirect.searchParams.set('scope', query.get('scope') ?? '');
    return { status: 302, headers: { location: redirect.href } };
  };

  const token = (form: URLSearchParams, authorization: string | undefined): Reply => {
    let clientId = form.get('client_id') ?? undefined;
    let clientSecret = form.get('client_secret') ?? undefined;
    if (authorization?.startsWith('Basic ')) [clientId, clientSecret] = Buffer.from(authorization.slice(6), 'base64').toString().split(':');
    const client = clientOf(clientId);
    if (!client || client.clientSecret !== clientSecret) return oauthError(401, 'invalid_client', 'Unauthorized');
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (!code || code.expires < Date.now() || code.clientId !== client.clientId) return oauthError(400, 'invalid_grant', 'Malformed auth code.');
      if (code.redirectUri !== form.get('redirect_uri')) return oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
      const refreshToken = `1//local-${randomId(24)}`;
      refreshTokens.set(refreshToken, code.grantId);
      const grant = grants.get(code.grantId)!;
      return {
        status: 200,
        body: { access_token: issueAccessToken(code.grantId), expires_in: tokenSeconds, refresh_token: refreshToken, scope: grant.scope, token_type: 'Bearer' },
      };
    }
    if (grantType === 'refresh_token') {
      const grantId = refreshTokens.get(form.get('refresh_token') ?? '');
      const grant = grantId ? grants.get(grantId) : undefined;
      if (!grant || grant.revoked || grant.clientId !== client.clientId) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
      return { status: 200, body: { access_token: issueAccessToken(grantId!), expires_in: tokenSeconds, scope: grant.scope, token_type: 'Bearer' } };
    }
    return oauthError(400, 'unsupported_grant_type', 'Invalid grant_type: ' + grantType);
  };

  const revoke = (tokenValue: string): Reply => {
    const grantId = refreshTokens.get(tokenValue) ?? accessTokens.get(tokenValue)?.grantId;
    const grant = grantId ? grants.get(grantId) : undefined;
    if (!grant || grant.revoked) return oauthError(400, 'invalid_token', 'Token expired or revoked');
    grant.revoked = true;
    return { status: 200, body: {} };
  };

  const bearerUser = (authorization: string | undefined): FakeUser => {
    const value = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    const access = value ? accessTokens.get(value) : undefined;
    const grant = access ? grants.get(access.grantId) : undefined;
    if (!access || !grant || grant.revoked || access.expires < Date.now()) {
      throw Object.assign(new GoogleError(401, 'authError', 'Request had invalid authentication credentials.'), { location: 'Authorization' });
    }
    return store.user(grant.user);
  };

  // ---- dev interface ----------------------------------------------------------------------------------
  const dev = (method: string, segments: string[], query: URLSearchParams, body: any): Reply => {
    const [first, email, what, ...rest] = segments;
    if (first === 'faults') {
      if (method === 'DELETE') {
        faults = [];
        return { status: 204 };
      }
      const status = Number(body?.status);
      const count = Math.min(Number(body?.count ?? 1), 1000);
      if (!Number.isInteger(status) || status < 400 || status > 599 || !Number.isInteger(count) || count < 1) return { status: 400, body: { error: 'faults need {status: 400-599, count: 1-1000, retryAfter?, reason?}' } };
      faults.push({ count, status, retryAfter: body.retryAfter === undefined ? undefined : String(body.retryAfter), reason: body.reason });
      return { status: 201, body: { faults } };
    }
    if (first === 'requests') {
      if (method === 'DELETE') {
        requests.length = 0;
        return { status: 204 };
      }
      const user = query.get('user')?.toLowerCase();
      const chosen = user ? requests.filter((r) => r.user === user) : requests;
      const byCalendar: Record<string, number> = {};
      for (const r of chosen) if (r.calendarId) byCalendar[r.calendarId] = (byCalendar[r.calendarId] ?? 0) + 1;
      return { status: 200, body: { total: chosen.length, byCalendar, requests: chosen.slice(-500) } };
    }
    if (first === 'deliveries') return { status: 200, body: { deliveries } };
    if (first === 'users' && email) {
      const user = store.user(decodeURIComponent(email));
      if (what === 'revoke' && method === 'POST') {
        let revoked = 0;
        for (const grant of grants.values()) if (grant.user === user.email && !grant.revoked) (grant.revoked = true), revoked++;
        return { status: 200, body: { revoked } };
      }
      if (what === 'reset-sync' && method === 'POST') {
        store.resetSync(user.email);
        return { status: 200, body: { reset: true } };
      }
      if (what === 'events' && method === 'GET') {
        const calendar = calendarOf(user, query.get('calendarId') ?? 'primary');
        return { status: 200, body: { calendarId: calendar.id, events: [...calendar.events.values()].map((e) => ({ ...e, fields: undefined, ...e.fields })) } };
      }
      if (what === 'calendars' && !rest.length && method === 'POST') {
        const calendar = store.addCalendar(user.email, String(body?.summary ?? 'Calendar').slice(0, 200), typeof body?.timeZone === 'string' ? body.timeZone : 'UTC');
        return { status: 201, body: calendarListEntry(calendar) };
      }
      if (what === 'calendars') return api(user, method, ['calendars', ...rest], query, body);
      if (what === 'calendarList' || !what) return api(user, 'GET', ['users', 'me', 'calendarList'], query, body);
    }
    return { status: 404, body: { error: 'unknown dev route' } };
  };

  // ---- HTTP -------------------------------------------------------------------------------------------
  const reply = (response: ServerResponse, { status, body, headers = {} }: Reply) => {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const type = body === undefined ? {} : typeof body === 'string' ? {} : { 'content-type': 'application/json; charset=UTF-8' };
    response.writeHead(status, { ...type, ...headers });
    response.end(text);
  };
  const googleErrorReply = (error: GoogleError): Reply => ({
    status: error.status,
    body: { error: { code: error.status, message: error.message, errors: [{ domain: error.reason === 'authError' ? 'global' : error.status === 403 ? 'usageLimits' : 'global', reason: error.reason, message: error.message }], ...(error.status === 401 ? { status: 'UNAUTHENTICATED' } : {}) } },
    headers: error.status === 401 ? { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' } : {},
  });

  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    // Whatever changes state (not a GET) is written to the state file shortly after.
    if (method !== 'GET') response.once('finish', () => persisted.changed());
    const path = url.pathname;
    let logged: LoggedRequest | undefined;
    try {
      const raw = await readBody(request);
      if (path === '/o/oauth2/v2/auth' || path === '/o/oauth2/auth') return reply(response, authorize(url.searchParams));
      if (path === '/token' && method === 'POST') return reply(response, token(new URLSearchParams(raw), request.headers.authorization));
      if ((path === '/revoke' || path === '/o/oauth2/revoke') && method === 'POST') return reply(response, revoke(url.searchParams.get('token') ?? new URLSearchParams(raw).get('token') ?? ''));
      const json = raw && (request.headers['content-type'] ?? '').includes('json') ? JSON.parse(raw) : undefined;
      if (path.startsWith('/dev/')) return reply(response, dev(method, path.slice(5).split('/').filter(Boolean), url.searchParams, json));
      if (!path.startsWith('/calendar/v3/')) return reply(response, { status: 404, body: 'Not Found', headers: { 'content-type': 'text/html; charset=UTF-8' } });
      const segments = path.slice('/calendar/v3/'.length).split('/').filter(Boolean);
      logged = { at: new Date().toISOString(), method, path, status: 0 };
      requests.push(logged);
      if (requests.length > 10_000) requests.shift();
      const user = bearerUser(request.headers.authorization);
      logged.user = user.email;
      if (segments[0] === 'calendars' && segments[1]) logged.calendarId = decodeURIComponent(segments[1]) === 'primary' ? user.email : decodeURIComponent(segments[1]);
      const fault = faults[0];
      if (fault) {
        if (--fault.count <= 0) faults.shift();
        const error = new GoogleError(fault.status, fault.reason ?? (fault.status === 429 ? 'rateLimitExceeded' : fault.status === 403 ? 'rateLimitExceeded' : 'backendError'), fault.status === 429 ? 'Rate Limit Exceeded' : 'Backend Error');
        const out = googleErrorReply(error);
        logged.status = fault.status;
        return reply(response, { ...out, headers: { ...out.headers, ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) } });
      }
      const out = api(user, method, segments, url.searchParams, json);
      logged.status = out.status;
      return reply(response, out);
    } catch (error) {
      const out = error instanceof GoogleError ? googleErrorReply(error) : error instanceof SyntaxError ? googleErrorReply(new GoogleError(400, 'parseError', 'Parse Error')) : (log(`local google: ${(error as Error).stack}`), googleErrorReply(new GoogleError(500, 'backendError', 'Backend Error')));
      if (logged) logged.status = out.status;
      return reply(response, out);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    clients,
    devAccount,
    store,
    requests,
    deliveries,
    pushesSettled: async () => {
      while (pending.size) await Promise.allSettled([...pending]);
    },
    close: async () => {
      await Promise.allSettled([...pending]);
      persisted.flush();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type { FakeEvent };
export { instanceKey };
