// A local Microsoft Graph (and its Microsoft identity platform login): the part the calendar adapter uses, in
// Graph's wire format, for the real @microsoft/microsoft-graph-client pointed at it with baseUrl and
// customHosts. It serves HTTPS with a self-signed certificate made at start, because the client attaches its
// token and follows @odata.nextLink only for https URLs; processes that call it trust the certificate through
// trustLocalGraphCertificate. Faithful where clients look: status codes, {error:{code,message,innerError}},
// calendarView expansion (occurrences and exceptions), delta with @odata.nextLink/@odata.deltaLink and
// @removed, 410 SyncStateNotFound, Prefer odata.maxpagesize and outlook.timezone, transactionId dedupe,
// singleValueExtendedProperties and the $filter on them, subscriptions with the validationToken handshake,
// change and lifecycle notifications, 202/204 without a JSON content type. Dev interface under /dev as for the
// local Google. Binds to 127.0.0.1 only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { DateTime } from 'luxon';
import {
  FakeCalendarStore, changesSince, stateFile, storeFromJson, storeToJson, timeOfInstanceKey, windowAround, decodeCursor, defaultWindow, encodeCursor, instancesOf, newEvent, randomId, readBody, recordChange,
  type Fault, type FakeCalendar, type FakeEvent, type FakeTime, type FakeUser, type Instance, type LoggedRequest, type Window,
} from './fake-calendar-store.ts';

export type GraphClient = { clientId: string; clientSecret: string };

export type LocalGraphOptions = {
  port?: number;
  /** Where the self-signed certificate is kept (made once, reused): the data directory. */
  certDir?: string;
  clients?: GraphClient[];
  devAccount?: string;
  accessTokenSeconds?: number;
  /** A JSON file keeping calendars, grants and channels across restarts (npm start: in the data directory). */
  stateFile?: string;
  log?: (message: string) => void;
};

export type GraphNotification = { subscriptionId: string; url: string; kind: 'change' | 'lifecycle' | 'validation'; body: unknown; status?: number; error?: string };

export type LocalGraph = {
  url: string;
  port: number;
  /** The certificate (PEM) its HTTPS is served with: trust it with trustLocalGraphCertificate. */
  certificate: string;
  clients: GraphClient[];
  devAccount: string;
  store: FakeCalendarStore;
  requests: LoggedRequest[];
  notifications: GraphNotification[];
  notificationsSettled(): Promise<void>;
  close(): Promise<void>;
};

export const DEFAULT_GRAPH_CLIENT: GraphClient = { clientId: '00000000-0000-4000-8000-00000000c0de', clientSecret: 'local-graph-secret' };

const trusted = new Set<string>();
/**
 * Adds the local Graph's certificate to this process's default CA list (Node 24 tls.setDefaultCACertificates):
 * global fetch and https then accept it, as NODE_EXTRA_CA_CERTS would at process start.
 */
export function trustLocalGraphCertificate(pem: string): void {
  if (trusted.has(pem)) return;
  trusted.add(pem);
  const setDefault = (tls as unknown as { setDefaultCACertificates?: (certs: string[]) => void }).setDefaultCACertificates;
  const get = (tls as unknown as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  if (!setDefault || !get) throw new Error('trusting the local Graph certificate needs Node 24 (tls.setDefaultCACertificates)');
  setDefault([...new Set([...get('default'), ...trusted])]);
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI once per directory. */
function certificate(dir: string): { key: string; cert: string } {
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, 'graph-key.pem');
  const certFile = join(dir, 'graph-cert.pem');
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '825', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ], { stdio: 'ignore' });
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new Error(missing ? 'the local Microsoft Graph makes its HTTPS certificate with the openssl CLI: install it (apt-get install openssl)' : `openssl could not make the local Graph certificate: ${(error as Error).message}`);
    }
  }
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };
type Grant = { user: string; clientId: string; scope: string; revoked: boolean };
type Subscription = {
  id: string; user: string; calendarId?: string; resource: string; changeType: string; notificationUrl: string; lifecycleNotificationUrl?: string;
  clientState?: string; expirationDateTime: string; applicationId: string;
};

class GraphError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const RRULE_DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
/** Graph's default page size for calendarView and delta, and its ceiling. */
const DEFAULT_PAGE = 10;
const MAX_PAGE = 1000;
/** Outlook event subscriptions live at most 10080 minutes (7 days). */
const MAX_SUBSCRIPTION_MINUTES = 10_080;
/** The extended-property filter Graph accepts on events, the only $filter the adapter sends. */
const EXTENDED_FILTER = /^singleValueExtendedProperties\/any\((\w+):\s*\1\/id eq '([^']+)' and \1\/value eq '([^']*)'\)$/i;
const EXPAND_FILTER = /^singleValueExtendedProperties\(\$filter=id eq '([^']+)'\)$/i;

/** Graph recurrence ({pattern, range}) as RRULE lines; the kinds an organizer makes most. */
function rruleOf(recurrence: any, zone: string): string[] {
  const pattern = recurrence?.pattern;
  const range = recurrence?.range;
  if (!pattern || !range) throw new GraphError(400, 'ErrorInvalidRecurrencePattern', 'Recurrence pattern and range are required.');
  const interval = Number(pattern.interval ?? 1);
  if (!Number.isInteger(interval) || interval < 1 || interval > 99) throw new GraphError(400, 'ErrorInvalidRecurrencePattern', 'Invalid interval.');
  const parts: string[] = [];
  if (pattern.type === 'daily') parts.push('FREQ=DAILY');
  else if (pattern.type === 'weekly') {
    const days = (pattern.daysOfWeek ?? []).map((d: string) => RRULE_DAYS[WEEKDAYS.indexOf(String(d).toLowerCase())]);
    if (!days.length || days.some((d: string | undefined) => !d)) throw new GraphError(400, 'ErrorInvalidRecurrencePattern', 'Weekly recurrence needs daysOfWeek.');
    parts.push('FREQ=WEEKLY', `BYDAY=${days.join(',')}`);
  } else if (pattern.type === 'absoluteMonthly') parts.push('FREQ=MONTHLY', `BYMONTHDAY=${Number(pattern.dayOfMonth)}`);
  else throw new GraphError(400, 'ErrorInvalidRecurrencePattern', `Recurrence pattern ${pattern.type} is not supported here.`);
  parts.push(`INTERVAL=${interval}`);
  if (range.type === 'numbered') {
    const count = Number(range.numberOfOccurrences);
    if (!Number.isInteger(count) || count < 1 || count > 999) throw new GraphError(400, 'ErrorInvalidRecurrencePattern', 'Invalid numberOfOccurrences.');
    parts.push(`COUNT=${count}`);
  } else if (range.type === 'endDate') {
    const end = DateTime.fromISO(String(range.endDate), { zone }).endOf('day');
    if (!end.isValid) throw new GraphError(400, 'ErrorInvalidRecurrencePattern', 'Invalid endDate.');
    parts.push(`UNTIL=${end.toFormat('yyyyMMdd')}T235959`);
  } else if (range.type !== 'noEnd') throw new GraphError(400, 'ErrorInvalidRecurrencePattern', 'Invalid range type.');
  return [`RRULE:${parts.join(';')}`];
}

/** A Graph dateTimeTimeZone ({dateTime, timeZone}) as stored time. */
function fromGraphTime(value: any, field: string, allDay: boolean): { time: FakeTime; zone: string } {
  if (!value || typeof value.dateTime !== 'string' || value.dateTime.length > 40) throw new GraphError(400, 'ErrorInvalidRequest', `${field} is required.`);
  const zone = typeof value.timeZone === 'string' && value.timeZone ? value.timeZone : 'UTC';
  const local = DateTime.fromISO(value.dateTime.replace(/Z$/, '').replace(/(\.\d{3})\d+$/, '$1'), { zone });
  if (!local.isValid) throw new GraphError(400, 'ErrorInvalidRequest', `${field} has an invalid dateTime or timeZone.`);
  if (allDay) {
    if (local.hour || local.minute || local.second) throw new GraphError(400, 'ErrorInvalidRequest', 'All-day events must start and end at midnight.');
    return { time: { date: local.toISODate()! }, zone };
  }
  return { time: { dateTime: local.toUTC().toISO({ suppressMilliseconds: true })! }, zone };
}

export async function startLocalGraph(options: LocalGraphOptions = {}): Promise<LocalGraph> {
  const log = options.log ?? (() => {});
  const clients = options.clients ?? [DEFAULT_GRAPH_CLIENT];
  const devAccount = options.devAccount ?? 'dev@example.com';
  const tokenSeconds = options.accessTokenSeconds ?? 3599;
  const store = new FakeCalendarStore();
  const codes = new Map<string, { grantId: string; clientId: string; redirectUri: string; expires: number }>();
  const grants = new Map<string, Grant>();
  const refreshTokens = new Map<string, string>();
  const accessTokens = new Map<string, { grantId: string; expires: number }>();
  const subscriptions = new Map<string, Subscription>();
  const requests: LoggedRequest[] = [];
  type State = { store: unknown; grants: Array<[string, unknown]>; refreshTokens: Array<[string, unknown]>; subscriptions: Array<[string, unknown]> };
  const persisted = stateFile<State>(
    options.stateFile,
    (state) => {
      storeFromJson(store, state.store);
      for (const [k, v] of state.grants ?? []) grants.set(k, v as never);
      for (const [k, v] of state.refreshTokens ?? []) refreshTokens.set(k, v as never);
      for (const [k, v] of state.subscriptions ?? []) subscriptions.set(k, v as never);
    },
    () => ({ store: storeToJson(store), grants: [...grants], refreshTokens: [...refreshTokens], subscriptions: [...subscriptions] }),
  );
  const notifications: GraphNotification[] = [];
  const pending = new Set<Promise<unknown>>();
  let faults: Fault[] = [];
  const { key, cert } = certificate(options.certDir ?? mkdtempSync(join(tmpdir(), 'local-graph-')));
  let base = '';

  const clientOf = (id: string | undefined) => clients.find((c) => c.clientId === id);

  // ---- notifications ----------------------------------------------------------------------------------
  const post = (entry: GraphNotification, url: string, body: unknown) => {
    notifications.push(entry);
    if (notifications.length > 1000) notifications.shift();
    const sending = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
      .then(async (response) => {
        entry.status = response.status;
        await response.arrayBuffer().catch(() => undefined);
      })
      .catch((error: Error) => {
        entry.error = error.message;
        log(`graph notification to ${url} failed: ${error.message}`);
      })
      .finally(() => pending.delete(sending));
    pending.add(sending);
  };
  const changed = (user: FakeUser, calendar: FakeCalendar, eventId: string, changeType: 'created' | 'updated' | 'deleted') => {
    for (const s of subscriptions.values()) {
      if (Date.parse(s.expirationDateTime) < Date.now()) continue;
      if (s.user !== user.email || (s.calendarId && s.calendarId !== calendar.id) || !s.changeType.split(',').includes(changeType)) continue;
      const body = {
        value: [{
          subscriptionId: s.id, subscriptionExpirationDateTime: s.expirationDateTime, changeType, tenantId: 'local-tenant', clientState: s.clientState ?? null,
          resource: `Users/${user.id}/Events/${eventId}`,
          resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': `Users/${user.id}/Events/${eventId}`, '@odata.etag': `W/"${calendar.seq}"`, id: eventId },
        }],
      };
      post({ subscriptionId: s.id, url: s.notificationUrl, kind: 'change', body }, s.notificationUrl, body);
    }
  };
  const lifecycle = (s: Subscription, lifecycleEvent: string) => {
    const url = s.lifecycleNotificationUrl ?? s.notificationUrl;
    const body = { value: [{ subscriptionId: s.id, subscriptionExpirationDateTime: s.expirationDateTime, tenantId: 'local-tenant', clientState: s.clientState ?? null, lifecycleEvent }] };
    post({ subscriptionId: s.id, url, kind: 'lifecycle', body }, url, body);
    if (lifecycleEvent === 'subscriptionRemoved') subscriptions.delete(s.id);
  };
  /** Graph's validation handshake: the endpoint must echo the token, as text/plain, within 10 seconds. */
  const validate = async (subscriptionId: string, url: string) => {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomId(8)}`;
    const entry: GraphNotification = { subscriptionId, url, kind: 'validation', body: token };
    notifications.push(entry);
    try {
      const target = new URL(url);
      target.searchParams.set('validationToken', token);
      const response = await fetch(target, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '', signal: AbortSignal.timeout(10_000) });
      entry.status = response.status;
      const text = await response.text();
      if (response.status !== 200 || text !== token) throw new Error(`answered ${response.status} ${text.slice(0, 80)}`);
    } catch (error) {
      entry.error = (error as Error).message;
      throw new GraphError(400, 'InvalidRequest', `Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. (${(error as Error).message})`);
    }
  };

  // ---- events -----------------------------------------------------------------------------------------
  const calendarOf = (user: FakeUser, id: string | undefined): FakeCalendar => {
    const calendar = user.calendars.get(id ?? user.email);
    if (!calendar) throw new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    return calendar;
  };
  const graphTime = (t: FakeTime, zone: string) => {
    const at = 'date' in t ? DateTime.fromISO(t.date, { zone: 'UTC' }) : DateTime.fromISO(t.dateTime, { zone: 'UTC' }).setZone(zone);
    return { dateTime: at.toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'0000'"), timeZone: 'date' in t ? 'UTC' : zone };
  };

  const eventJson = (user: FakeUser, calendar: FakeCalendar, instance: Instance, zone: string, expand?: string): Record<string, unknown> => {
    const { source, master } = instance;
    const fields = { ...(master?.fields ?? {}), ...(source !== master ? source.fields : {}) };
    const allDay = 'date' in instance.start;
    const type = master ? (source === master ? 'occurrence' : 'exception') : source.recurrence ? 'seriesMaster' : 'singleInstance';
    const props = expand ? (fields.singleValueExtendedProperties ?? []).filter((p: any) => p.id.toLowerCase() === expand.toLowerCase()) : undefined;
    return {
      '@odata.etag': `W/"${instance.seq}"`,
      id: instance.id,
      createdDateTime: (master ?? source).created,
      lastModifiedDateTime: source.updated,
      changeKey: String(instance.seq),
      categories: fields.categories ?? [],
      transactionId: fields.transactionId ?? null,
      originalStartTimeZone: (master ?? source).fields.originalStartTimeZone ?? 'UTC',
      originalEndTimeZone: (master ?? source).fields.originalStartTimeZone ?? 'UTC',
      iCalUId: (master ?? source).fields.iCalUId,
      reminderMinutesBeforeStart: 15,
      isReminderOn: true,
      subject: fields.subject ?? '',
      bodyPreview: String(fields.body?.content ?? '').slice(0, 255),
      importance: fields.importance ?? 'normal',
      sensitivity: fields.sensitivity ?? 'normal',
      isAllDay: allDay,
      isCancelled: Boolean(fields.isCancelled),
      isOrganizer: fields.isOrganizer ?? true,
      showAs: fields.showAs ?? 'busy',
      type,
      ...(master ? { seriesMasterId: master.id, originalStart: 'date' in instance.originalStart! ? `${instance.originalStart!.date}T00:00:00Z` : instance.originalStart!.dateTime } : { seriesMasterId: null }),
      responseStatus: fields.responseStatus ?? { response: 'organizer', time: '0001-01-01T00:00:00Z' },
      body: fields.body ?? { contentType: 'text', content: '' },
      start: graphTime(instance.start, zone),
      end: graphTime(instance.end, zone),
      location: fields.location ?? { displayName: '' },
      recurrence: type === 'seriesMaster' ? fields.recurrence : null,
      attendees: fields.attendees ?? [],
      organizer: fields.organizer ?? { emailAddress: { name: user.name, address: user.email } },
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(instance.id)}&exvsurl=1&path=/calendar/item`,
      ...(props ? { singleValueExtendedProperties: props } : {}),
      calendarId: calendar.id,
    };
  };

  const findEvent = (user: FakeUser, id: string): { calendar: FakeCalendar; event?: FakeEvent; instance?: Instance; master?: FakeEvent } => {
    for (const calendar of user.calendars.values()) {
      const event = calendar.events.get(id);
      if (event && !event.cancelled) return { calendar, event, master: event.recurringEventId ? calendar.events.get(event.recurringEventId) : undefined };
      const split = id.lastIndexOf('_');
      const master = split > 0 ? calendar.events.get(id.slice(0, split)) : undefined;
      if (master?.recurrence && !master.cancelled) {
        const at = timeOfInstanceKey(id.slice(split + 1));
    const instance = at ? instancesOf(calendar, windowAround(at, master.timeZone), { includeCancelled: false }).find((i) => i.id === id) : undefined;
        if (instance) return { calendar, instance, master };
      }
    }
    throw new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
  };

  const applyBody = (event: FakeEvent, body: any, patch: boolean) => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new GraphError(400, 'ErrorInvalidRequest', 'The request body must be a JSON object.');
    const allDay = body.isAllDay ?? (patch ? 'date' in event.start : false);
    if (typeof allDay !== 'boolean') throw new GraphError(400, 'ErrorInvalidRequest', 'isAllDay must be a boolean.');
    if (!patch || body.start !== undefined || body.isAllDay !== undefined) {
      const start = fromGraphTime(body.start ?? graphTime(event.start, event.timeZone), 'start', allDay);
      event.start = start.time;
      event.timeZone = start.zone;
      event.fields.originalStartTimeZone = start.zone;
    }
    if (!patch || body.end !== undefined || body.isAllDay !== undefined) event.end = fromGraphTime(body.end ?? graphTime(event.end, event.timeZone), 'end', allDay).time;
    const startMs = 'date' in event.start ? Date.parse(event.start.date) : Date.parse(event.start.dateTime);
    const endMs = 'date' in event.end ? Date.parse(event.end.date) : Date.parse(event.end.dateTime);
    if (endMs < startMs) throw new GraphError(400, 'ErrorInvalidRequest', 'The end of the event is before its start.');
    if (body.recurrence !== undefined) {
      event.recurrence = body.recurrence === null ? undefined : rruleOf(body.recurrence, event.timeZone);
      event.fields.recurrence = body.recurrence;
    }
    if (body.subject !== undefined && (typeof body.subject !== 'string' || body.subject.length > 255)) throw new GraphError(400, 'ErrorInvalidRequest', 'subject must be a string of at most 255 characters.');
    for (const name of ['subject', 'body', 'showAs', 'isCancelled', 'responseStatus', 'attendees', 'location', 'categories', 'sensitivity', 'importance', 'isOrganizer', 'organizer']) {
      if (body[name] !== undefined) event.fields[name] = body[name];
    }
    if (body.singleValueExtendedProperties !== undefined) {
      if (!Array.isArray(body.singleValueExtendedProperties) || body.singleValueExtendedProperties.some((p: any) => typeof p?.id !== 'string' || typeof p?.value !== 'string')) {
        throw new GraphError(400, 'ErrorInvalidExtendedPropertyValue', 'singleValueExtendedProperties must be [{id, value}] strings.');
      }
      const merged = new Map<string, any>((event.fields.singleValueExtendedProperties ?? []).map((p: any) => [p.id.toLowerCase(), p]));
      for (const p of body.singleValueExtendedProperties) merged.set(p.id.toLowerCase(), { id: p.id, value: p.value });
      event.fields.singleValueExtendedProperties = [...merged.values()];
    }
  };

  const createEvent = (user: FakeUser, calendar: FakeCalendar, body: any): Reply => {
    if (body?.transactionId !== undefined && (typeof body.transactionId !== 'string' || body.transactionId.length > 1000)) throw new GraphError(400, 'ErrorInvalidRequest', 'transactionId must be a string.');
    if (body?.transactionId) {
      // transactionId: a second POST with the same id (a retry after a lost response) gets the first event back.
      for (const c of user.calendars.values()) {
        const existing = [...c.events.values()].find((e) => !e.cancelled && e.fields.transactionId === body.transactionId);
        if (existing) return { status: 201, body: eventJson(user, c, { id: existing.id, source: existing, start: existing.start, end: existing.end, cancelled: false, seq: existing.seq }, 'UTC') };
      }
    }
    const event = newEvent({ id: `AAMk${randomId(18)}`, start: { dateTime: '' }, end: { dateTime: '' }, timeZone: 'UTC', fields: { iCalUId: `040000008200E00074C5B7101A82E008${randomId(16).toUpperCase()}` } });
    applyBody(event, body, false);
    if (body.transactionId) event.fields.transactionId = body.transactionId;
    recordChange(calendar, event, () => {});
    changed(user, calendar, event.id, 'created');
    return { status: 201, body: eventJson(user, calendar, { id: event.id, source: event, start: event.start, end: event.end, cancelled: false, seq: event.seq }, 'UTC') };
  };

  const updateEvent = (user: FakeUser, id: string, body: any, zone: string): Reply => {
    const found = findEvent(user, id);
    let event = found.event;
    if (!event) {
      const instance = found.instance!;
      event = newEvent({ id, start: instance.start, end: instance.end, timeZone: found.master!.timeZone, recurringEventId: found.master!.id, originalStart: instance.originalStart, fields: {} });
    }
    const draft = structuredClone(event);
    applyBody(draft, body, true);
    const target = event;
    recordChange(found.calendar, target, () => Object.assign(target, draft, { seq: target.seq }));
    changed(user, found.calendar, target.id, 'updated');
    return { status: 200, body: eventJson(user, found.calendar, { id: target.id, source: target, master: found.master, start: target.start, end: target.end, originalStart: target.originalStart, cancelled: false, seq: target.seq }, zone) };
  };

  const deleteEvent = (user: FakeUser, id: string): Reply => {
    const found = findEvent(user, id);
    const target = found.event ?? newEvent({ id, start: found.instance!.start, end: found.instance!.end, timeZone: found.master!.timeZone, recurringEventId: found.master!.id, originalStart: found.instance!.originalStart, fields: {} });
    recordChange(found.calendar, target, () => {
      target.cancelled = true;
    });
    changed(user, found.calendar, target.id, 'deleted');
    return { status: 204 };
  };

  const preferences = (prefer: string | undefined) => {
    const size = /odata\.maxpagesize=(\d+)/i.exec(prefer ?? '')?.[1];
    const zone = /outlook\.timezone="?([^",;]+)"?/i.exec(prefer ?? '')?.[1];
    const valid = zone && DateTime.now().setZone(zone).isValid ? zone : 'UTC';
    return { pageSize: Math.min(Math.max(Number(size ?? DEFAULT_PAGE), 1), MAX_PAGE), zone: valid, sizeGiven: Boolean(size) };
  };
  const windowOf = (query: URLSearchParams): Window => {
    const start = query.get('startDateTime') ?? query.get('startdatetime');
    const end = query.get('endDateTime') ?? query.get('enddatetime');
    if (!start || !end) throw new GraphError(400, 'ErrorInvalidParameter', "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.");
    const from = Date.parse(start.endsWith('Z') || /[+-]\d{2}:\d{2}$/.test(start) ? start : `${start}Z`);
    const to = Date.parse(end.endsWith('Z') || /[+-]\d{2}:\d{2}$/.test(end) ? end : `${end}Z`);
    if (Number.isNaN(from) || Number.isNaN(to) || to <= from) throw new GraphError(400, 'ErrorInvalidParameter', 'StartDateTime and EndDateTime must be a valid time window.');
    return { from, to };
  };

  const calendarView = (user: FakeUser, calendar: FakeCalendar, path: string, query: URLSearchParams, prefer: string | undefined): Reply => {
    const { pageSize, zone, sizeGiven } = preferences(prefer);
    const window = windowOf(query);
    const top = Math.min(Number(query.get('$top') ?? pageSize) || pageSize, MAX_PAGE);
    const skip = Math.max(Number(query.get('$skip') ?? 0) || 0, 0);
    const items = instancesOf(calendar, window, { includeCancelled: false });
    const page = items.slice(skip, skip + top);
    const next = new URL(`${base}${path}`);
    for (const name of ['startDateTime', 'endDateTime']) next.searchParams.set(name, query.get(name)!);
    next.searchParams.set('$top', String(top));
    next.searchParams.set('$skip', String(skip + top));
    return {
      status: 200,
      headers: sizeGiven ? { 'preference-applied': `odata.maxpagesize=${pageSize}` } : {},
      body: {
        '@odata.context': `${base}/v1.0/$metadata#users('${user.email}')/calendarView`,
        value: page.map((i) => eventJson(user, calendar, i, zone)),
        ...(skip + top < items.length ? { '@odata.nextLink': next.href } : {}),
      },
    };
  };

  type DeltaState = { c: string; g: number; s: number; w: [number, number]; since?: number; o?: number };
  const delta = (user: FakeUser, calendar: FakeCalendar, path: string, query: URLSearchParams, prefer: string | undefined): Reply => {
    const { pageSize, zone } = preferences(prefer);
    const tokenValue = query.get('$deltatoken') ?? query.get('$skiptoken');
    let state: DeltaState;
    if (tokenValue) {
      const decoded = decodeCursor<DeltaState>(tokenValue);
      if (!decoded || decoded.c !== calendar.id) throw new GraphError(400, 'ErrorInvalidUrlQuery', 'The delta token is not valid.');
      if (decoded.g !== calendar.generation) throw new GraphError(410, 'SyncStateNotFound', 'The sync state generation is not found.');
      // A delta token starts a new round from its point; a skip token continues the round it belongs to.
      state = query.has('$deltatoken') ? { c: decoded.c, g: decoded.g, s: calendar.seq, w: decoded.w, since: decoded.s, o: 0 } : decoded;
    } else {
      const window = windowOf(query);
      state = { c: calendar.id, g: calendar.generation, s: calendar.seq, w: [window.from, window.to], o: 0 };
    }
    const window = { from: state.w[0], to: state.w[1] };
    let items: Array<Record<string, unknown>>;
    if (state.since === undefined) items = instancesOf(calendar, window, { includeCancelled: false }).map((i) => eventJson(user, calendar, i, zone));
    else {
      const { instances, removed } = changesSince(calendar, state.since, window);
      items = [
        ...instances.filter((i) => !i.cancelled).map((i) => eventJson(user, calendar, i, zone)),
        ...[...instances.filter((i) => i.cancelled).map((i) => i.id), ...removed].map((id) => ({ '@odata.type': '#microsoft.graph.event', id, '@removed': { reason: 'deleted' } })),
      ];
    }
    const offset = state.o ?? 0;
    const page = items.slice(offset, offset + pageSize);
    const more = offset + pageSize < items.length;
    const link = (name: string, value: DeltaState) => `${base}${path}?${name}=${encodeCursor(value)}`;
    return {
      status: 200,
      body: {
        '@odata.context': `${base}/v1.0/$metadata#Collection(event)`,
        value: page,
        ...(more ? { '@odata.nextLink': link('$skiptoken', { ...state, o: offset + pageSize }) } : { '@odata.deltaLink': link('$deltatoken', { c: state.c, g: state.g, s: state.s, w: state.w }) }),
      },
    };
  };

  const listEvents = (user: FakeUser, calendar: FakeCalendar, query: URLSearchParams, zone: string): Reply => {
    const filter = query.get('$filter');
    const expand = query.get('$expand');
    const expandId = expand ? EXPAND_FILTER.exec(expand)?.[1] : undefined;
    if (expand && !expandId) throw new GraphError(400, 'ErrorInvalidUrlQuery', 'Only $expand=singleValueExtendedProperties($filter=id eq ...) is supported here.');
    let match: RegExpExecArray | null = null;
    if (filter && !(match = EXTENDED_FILTER.exec(filter.trim()))) throw new GraphError(400, 'ErrorInvalidUrlQueryFilter', 'The $filter is not supported here.');
    const top = Math.min(Number(query.get('$top') ?? DEFAULT_PAGE) || DEFAULT_PAGE, MAX_PAGE);
    const items = [...calendar.events.values()]
      .filter((e) => !e.cancelled && !e.recurringEventId)
      .filter((e) => !match || (e.fields.singleValueExtendedProperties ?? []).some((p: any) => p.id.toLowerCase() === match![2]!.toLowerCase() && p.value === match![3]))
      .slice(0, top);
    return { status: 200, body: { value: items.map((e) => eventJson(user, calendar, { id: e.id, source: e, start: e.start, end: e.end, cancelled: false, seq: e.seq }, zone, expandId ?? match?.[2])) } };
  };

  const calendarJson = (user: FakeUser, c: FakeCalendar) => ({
    id: c.id, name: c.name, color: 'auto', isDefaultCalendar: c.primary, canEdit: true, canShare: true, canViewPrivateItems: true, isRemovable: !c.primary,
    owner: { name: user.name, address: user.email },
  });

  const subscriptionJson = (s: Subscription) => ({
    id: s.id, resource: s.resource, applicationId: s.applicationId, changeType: s.changeType, clientState: s.clientState ?? null, notificationUrl: s.notificationUrl,
    lifecycleNotificationUrl: s.lifecycleNotificationUrl ?? null, expirationDateTime: s.expirationDateTime, creatorId: 'local', latestSupportedTlsVersion: 'v1_2',
  });

  const subscriptionRoute = async (user: FakeUser, clientId: string, method: string, id: string | undefined, body: any): Promise<Reply> => {
    if (!id && method === 'GET') return { status: 200, body: { value: [...subscriptions.values()].filter((s) => s.user === user.email).map(subscriptionJson) } };
    if (!id && method === 'POST') {
      const resource = String(body?.resource ?? '').replace(/^\//, '');
      const calendarMatch = /^me\/calendars\/([^/]+)\/events$/i.exec(resource);
      if (!/^(me|users\/[^/]+)\/events$/i.test(resource) && !calendarMatch) throw new GraphError(400, 'ExtensionError', `Resource '${body?.resource}' is not supported here.`);
      if (calendarMatch) calendarOf(user, decodeURIComponent(calendarMatch[1]!));
      const changeType = String(body?.changeType ?? '');
      if (!changeType || changeType.split(',').some((t) => !['created', 'updated', 'deleted'].includes(t))) throw new GraphError(400, 'ExtensionError', 'changeType must be created, updated and/or deleted.');
      const expiration = Date.parse(body?.expirationDateTime ?? '');
      if (Number.isNaN(expiration) || expiration <= Date.now() || expiration > Date.now() + MAX_SUBSCRIPTION_MINUTES * 60_000) {
        throw new GraphError(400, 'ExtensionError', `Subscription expiration can only be 10080 minutes in the future.`);
      }
      if (body.clientState !== undefined && (typeof body.clientState !== 'string' || body.clientState.length > 128)) throw new GraphError(400, 'ExtensionError', 'clientState must be at most 128 characters.');
      for (const url of [body.notificationUrl, body.lifecycleNotificationUrl].filter(Boolean)) {
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          throw new GraphError(400, 'ExtensionError', 'The notification URL must be an absolute https URL.');
        }
        // Graph requires HTTPS; receivers on this machine are plain HTTP on loopback, so only those pass.
        if (parsed.protocol !== 'https:' && !['127.0.0.1', 'localhost'].includes(parsed.hostname)) throw new GraphError(400, 'ExtensionError', 'The notification URL must be https.');
      }
      const subscriptionId = crypto.randomUUID();
      await validate(subscriptionId, body.notificationUrl);
      if (body.lifecycleNotificationUrl) await validate(subscriptionId, body.lifecycleNotificationUrl);
      const s: Subscription = {
        id: subscriptionId, user: user.email, calendarId: calendarMatch ? decodeURIComponent(calendarMatch[1]!) : undefined, resource: body.resource, changeType,
        notificationUrl: body.notificationUrl, lifecycleNotificationUrl: body.lifecycleNotificationUrl, clientState: body.clientState,
        expirationDateTime: new Date(expiration).toISOString(), applicationId: clientId,
      };
      subscriptions.set(s.id, s);
      return { status: 201, body: subscriptionJson(s) };
    }
    const s = id ? subscriptions.get(id) : undefined;
    if (!s || s.user !== user.email) throw new GraphError(404, 'ResourceNotFound', 'The object was not found.');
    if (method === 'GET') return { status: 200, body: subscriptionJson(s) };
    if (method === 'PATCH') {
      const expiration = Date.parse(body?.expirationDateTime ?? '');
      if (Number.isNaN(expiration) || expiration <= Date.now() || expiration > Date.now() + MAX_SUBSCRIPTION_MINUTES * 60_000) throw new GraphError(400, 'ExtensionError', 'Subscription expiration can only be 10080 minutes in the future.');
      s.expirationDateTime = new Date(expiration).toISOString();
      return { status: 200, body: subscriptionJson(s) };
    }
    if (method === 'DELETE') {
      subscriptions.delete(s.id);
      return { status: 204 };
    }
    throw new GraphError(405, 'MethodNotAllowed', 'Method not allowed.');
  };

  /** The v1.0 API for one user: `segments` is the path after /v1.0. */
  const api = async (user: FakeUser, clientId: string, method: string, path: string, segments: string[], query: URLSearchParams, body: any, prefer: string | undefined): Promise<Reply> => {
    const { zone } = preferences(prefer);
    if (segments[0] === 'subscriptions') return subscriptionRoute(user, clientId, method, segments[1], body);
    if (segments[0] !== 'me') throw new GraphError(400, 'BadRequest', 'Resource not found for the segment.');
    const rest = segments.slice(1);
    if (!rest.length && method === 'GET') return { status: 200, body: { id: user.id, displayName: user.name, mail: user.email, userPrincipalName: user.email } };
    // /me/calendar/... is the default calendar; /me/calendars/{id}/... a named one; /me/events and /me/calendarView the default one.
    let calendar: FakeCalendar | undefined;
    let tail: string[];
    if (rest[0] === 'calendars' && !rest[1] && method === 'GET') return { status: 200, body: { value: [...user.calendars.values()].map((c) => calendarJson(user, c)) } };
    if (rest[0] === 'calendars' && rest[1]) (calendar = calendarOf(user, decodeURIComponent(rest[1]))), (tail = rest.slice(2));
    else if (rest[0] === 'calendar') (calendar = calendarOf(user, undefined)), (tail = rest.slice(1));
    else (tail = rest);
    if (!tail.length && calendar && method === 'GET') return { status: 200, body: calendarJson(user, calendar) };
    const target = calendar ?? calendarOf(user, undefined);
    if (tail[0] === 'calendarView' && tail[1] === 'delta' && method === 'GET') return delta(user, target, path, query, prefer);
    if (tail[0] === 'calendarView' && !tail[1] && method === 'GET') return calendarView(user, target, path, query, prefer);
    if (tail[0] === 'events') {
      const id = tail[1] ? decodeURIComponent(tail[1]) : undefined;
      if (!id && method === 'GET') return listEvents(user, target, query, zone);
      if (!id && method === 'POST') return createEvent(user, target, body);
      if (id && tail[2] === 'cancel' && method === 'POST') {
        const found = findEvent(user, id);
        if ((found.event ?? found.master)?.fields.isOrganizer === false) throw new GraphError(400, 'ErrorAccessDenied', 'Your request can\'t be completed. You need to be an organizer to cancel a meeting.');
        deleteEvent(user, id);
        return { status: 202 };
      }
      if (id && !tail[2]) {
        if (method === 'GET') {
          const found = findEvent(user, id);
          const expandId = query.get('$expand') ? EXPAND_FILTER.exec(query.get('$expand')!)?.[1] : undefined;
          const instance: Instance = found.instance ?? { id, source: found.event!, master: found.master, start: found.event!.start, end: found.event!.end, originalStart: found.event!.originalStart, cancelled: false, seq: found.event!.seq };
          return { status: 200, body: eventJson(user, found.calendar, instance, zone, expandId) };
        }
        if (method === 'PATCH') return updateEvent(user, id, body, zone);
        if (method === 'DELETE') return deleteEvent(user, id);
      }
    }
    throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${tail[0] ?? ''}'.`);
  };

  // ---- OAuth (Microsoft identity platform v2.0) --------------------------------------------------------
  const issueAccessToken = (grantId: string) => {
    const token = `eyJ0eXAiOiJKV1QiLocal.${randomId(24)}`;
    accessTokens.set(token, { grantId, expires: Date.now() + tokenSeconds * 1000 });
    return token;
  };
  const oauthError = (status: number, error: string, description: string, code: number): Reply => ({
    status,
    body: { error, error_description: `AADSTS${code}: ${description}`, error_codes: [code], timestamp: new Date().toISOString(), trace_id: randomId(8), correlation_id: randomId(8) },
  });
  const authorize = (query: URLSearchParams): Reply => {
    const client = clientOf(query.get('client_id') ?? undefined);
    const page = (status: number, text: string): Reply => ({ status, body: text, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    if (!client) return page(400, "AADSTS700016: Application with identifier was not found in the directory.");
    let redirect: URL;
    try {
      redirect = new URL(query.get('redirect_uri') ?? '');
      if (!['http:', 'https:'].includes(redirect.protocol)) throw new Error('scheme');
    } catch {
      return page(400, 'AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.');
    }
    if (query.get('response_type') !== 'code') {
      redirect.searchParams.set('error', 'unsupported_response_type');
      return { status: 302, headers: { location: redirect.href } };
    }
    const user = store.user(query.get('login_hint') || devAccount);
    const grantId = randomId(12);
    grants.set(grantId, { user: user.email, clientId: client.clientId, scope: query.get('scope') ?? '', revoked: false });
    const code = `0.local-${randomId(20)}`;
    codes.set(code, { grantId, clientId: client.clientId, redirectUri: redirect.href, expires: Date.now() + 600_000 });
    redirect.searchParams.set('code', code);
    if (query.has('state')) redirect.searchParams.set('state', query.get('state')!);
    redirect.searchParams.set('session_state', randomId(8));
    return { status: 302, headers: { location: redirect.href } };
  };
  const tokenRoute = (form: URLSearchParams): Reply => {
    const client = clientOf(form.get('client_id') ?? undefined);
    if (!client) return oauthError(400, 'unauthorized_client', 'Application was not found in the directory.', 700016);
    if (client.clientSecret !== form.get('client_secret')) return oauthError(401, 'invalid_client', 'Invalid client secret provided.', 7000215);
    const grantType = form.get('grant_type');
    const respond = (grantId: string) => {
      const grant = grants.get(grantId)!;
      const refreshToken = grant.scope.split(/\s+/).includes('offline_access') ? `0.local-refresh-${randomId(24)}` : undefined;
      if (refreshToken) refreshTokens.set(refreshToken, grantId);
      return {
        status: 200,
        body: { token_type: 'Bearer', scope: grant.scope, expires_in: tokenSeconds, ext_expires_in: tokenSeconds, access_token: issueAccessToken(grantId), ...(refreshToken ? { refresh_token: refreshToken } : {}) },
      };
    };
    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (!code || code.expires < Date.now() || code.clientId !== client.clientId) return oauthError(400, 'invalid_grant', 'The provided authorization code or refresh token has expired or is invalid.', 70008);
      if (code.redirectUri !== form.get('redirect_uri')) return oauthError(400, 'invalid_grant', 'The reply URL does not match the one used in the authorization request.', 50011);
      return respond(code.grantId);
    }
    if (grantType === 'refresh_token') {
      const grantId = refreshTokens.get(form.get('refresh_token') ?? '');
      const grant = grantId ? grants.get(grantId) : undefined;
      if (!grant || grant.clientId !== client.clientId) return oauthError(400, 'invalid_grant', 'The refresh token is malformed or not valid.', 9002313);
      if (grant.revoked) return oauthError(400, 'invalid_grant', 'The refresh token was revoked; the user must sign in again.', 50173);
      // Microsoft rotates refresh tokens: each refresh hands out a new one (the old keeps working until it expires).
      return respond(grantId!);
    }
    return oauthError(400, 'unsupported_grant_type', `The grant type ${grantType} is not supported.`, 70003);
  };
  const bearer = (authorization: string | undefined): { user: FakeUser; clientId: string } => {
    const value = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    const access = value ? accessTokens.get(value) : undefined;
    const grant = access ? grants.get(access.grantId) : undefined;
    if (!value) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    if (!access || !grant || grant.revoked || access.expires < Date.now()) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.');
    return { user: store.user(grant.user), clientId: grant.clientId };
  };

  // ---- dev interface ----------------------------------------------------------------------------------
  const dev = async (method: string, segments: string[], query: URLSearchParams, body: any): Promise<Reply> => {
    const [first, second, what, ...rest] = segments;
    if (first === 'faults') {
      if (method === 'DELETE') {
        faults = [];
        return { status: 204 };
      }
      const status = Number(body?.status);
      const count = Math.min(Number(body?.count ?? 1), 1000);
      if (!Number.isInteger(status) || status < 400 || status > 599 || !Number.isInteger(count) || count < 1) return { status: 400, body: { error: 'faults need {status: 400-599, count: 1-1000, retryAfter?}' } };
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
    if (first === 'notifications') return { status: 200, body: { notifications } };
    if (first === 'subscriptions' && second && what === 'lifecycle' && method === 'POST') {
      const s = subscriptions.get(second);
      if (!s) return { status: 404, body: { error: 'no such subscription' } };
      const event = String(body?.lifecycleEvent ?? '');
      if (!['reauthorizationRequired', 'missed', 'subscriptionRemoved'].includes(event)) return { status: 400, body: { error: 'lifecycleEvent: reauthorizationRequired | missed | subscriptionRemoved' } };
      lifecycle(s, event);
      return { status: 202 };
    }
    if (first === 'users' && second) {
      const user = store.user(decodeURIComponent(second));
      if (what === 'revoke' && method === 'POST') {
        let revoked = 0;
        for (const grant of grants.values()) if (grant.user === user.email && !grant.revoked) (grant.revoked = true), revoked++;
        return { status: 200, body: { revoked } };
      }
      if (what === 'reset-sync' && method === 'POST') {
        store.resetSync(user.email);
        return { status: 200, body: { reset: true } };
      }
      if (what === 'events' && !rest.length && method === 'GET') {
        const calendar = calendarOf(user, query.get('calendarId') ?? undefined);
        return { status: 200, body: { calendarId: calendar.id, events: [...calendar.events.values()].map((e) => ({ ...e, fields: undefined, ...e.fields })) } };
      }
      if (what === 'calendars' && !rest.length && method === 'POST') {
        const calendar = store.addCalendar(user.email, String(body?.name ?? 'Calendar').slice(0, 200));
        return { status: 201, body: calendarJson(user, calendar) };
      }
      // The rest is the API itself, acting as the user without a token: /dev/users/{email}/events, /calendars/{id}/events, ...
      // 'primary' names the default calendar here, as on the local Google's dev interface (Graph itself has no such alias).
      const apiSegments = ['me', ...(what ? [what] : []), ...rest.map((segment, i) => (what === 'calendars' && i === 0 && segment === 'primary' ? user.email : segment))];
      return api(user, 'dev', method, `/v1.0/${apiSegments.join('/')}`, apiSegments, query, body, undefined);
    }
    return { status: 404, body: { error: 'unknown dev route' } };
  };

  // ---- HTTPS ------------------------------------------------------------------------------------------
  const reply = (response: ServerResponse, { status, body, headers = {} }: Reply) => {
    // 202/204 carry no body and no JSON content type: the Graph client would try to parse the empty body.
    const text = body === undefined || status === 204 || status === 202 ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const type = text && typeof body !== 'string' ? { 'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8' } : {};
    response.writeHead(status, { ...type, 'request-id': crypto.randomUUID(), ...headers });
    response.end(text);
  };
  const errorReply = (error: GraphError): Reply => ({
    status: error.status,
    body: { error: { code: error.code, message: error.message, innerError: { date: new Date().toISOString(), 'request-id': crypto.randomUUID(), 'client-request-id': crypto.randomUUID() } } },
  });

  const server = createHttpsServer({ key, cert }, async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'https://127.0.0.1');
    const method = request.method ?? 'GET';
    // Whatever changes state (not a GET) is written to the state file shortly after.
    if (method !== 'GET') response.once('finish', () => persisted.changed());
    const path = url.pathname;
    let logged: LoggedRequest | undefined;
    try {
      const raw = await readBody(request);
      const oauth = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|token)$/.exec(path);
      if (oauth?.[2] === 'authorize' && method === 'GET') return reply(response, authorize(url.searchParams));
      if (oauth?.[2] === 'token' && method === 'POST') return reply(response, tokenRoute(new URLSearchParams(raw)));
      const json = raw && (request.headers['content-type'] ?? '').includes('json') ? JSON.parse(raw) : undefined;
      if (path.startsWith('/dev/')) return reply(response, await dev(method, path.slice(5).split('/').filter(Boolean), url.searchParams, json));
      if (!path.startsWith('/v1.0/')) return reply(response, errorReply(new GraphError(400, 'BadRequest', 'Invalid version.')));
      const segments = path.slice('/v1.0/'.length).split('/').filter(Boolean);
      logged = { at: new Date().toISOString(), method, path, status: 0 };
      requests.push(logged);
      if (requests.length > 10_000) requests.shift();
      const { user, clientId } = bearer(request.headers.authorization);
      logged.user = user.email;
      logged.calendarId = segments[1] === 'calendars' && segments[2] ? decodeURIComponent(segments[2]) : segments[1] === 'calendar' || segments[1] === 'events' || segments[1] === 'calendarView' ? user.email : undefined;
      const fault = faults[0];
      if (fault) {
        if (--fault.count <= 0) faults.shift();
        const code = fault.status === 429 ? 'TooManyRequests' : fault.status === 503 ? 'ServiceNotAvailable' : fault.status === 504 ? 'GatewayTimeout' : 'InternalServerError';
        logged.status = fault.status;
        const out = errorReply(new GraphError(fault.status, fault.reason ?? code, code === 'TooManyRequests' ? 'Too many requests.' : 'The service is unavailable.'));
        return reply(response, { ...out, headers: fault.retryAfter ? { 'retry-after': fault.retryAfter } : {} });
      }
      const out = await api(user, clientId, method, path, segments, url.searchParams, json, request.headers.prefer as string | undefined);
      logged.status = out.status;
      return reply(response, out);
    } catch (error) {
      const out = error instanceof GraphError ? errorReply(error) : error instanceof SyntaxError ? errorReply(new GraphError(400, 'BadRequest', 'Unable to read JSON request payload.')) : (log(`local graph: ${(error as Error).stack}`), errorReply(new GraphError(500, 'InternalServerError', 'An internal server error occurred.')));
      if (logged) logged.status = out.status;
      return reply(response, out);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  base = `https://127.0.0.1:${port}`;
  return {
    url: base,
    port,
    certificate: cert,
    clients,
    devAccount,
    store,
    requests,
    notifications,
    notificationsSettled: async () => {
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

