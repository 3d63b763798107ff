// A typed client of the HTTP API for browsers and Node: fetch only, no dependencies. Its types come from the
// contract the handlers parse with (a type-only import, so no schema or server code reaches a bundle).
import type * as z from '../../events/zod.ts';
import type { Contract, OperationId } from '../http/contract.ts';

type Op<K extends OperationId> = Contract[K];
type BodyOf<K extends OperationId> = Op<K> extends { body: infer B extends z.ZodMiniType } ? z.input<B> : undefined;
type QueryOf<K extends OperationId> = Op<K> extends { query: infer Q extends z.ZodMiniType } ? Partial<Record<keyof z.input<Q>, string | number>> : undefined;
export type ResponseOf<K extends OperationId> = Op<K> extends { response: infer R extends z.ZodMiniType } ? z.output<R> : undefined;
type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? { [K in Name | keyof PathParams<Rest>]: string } : {};
export type Booking = ResponseOf<'getBooking'>;

export type CallOptions<K extends OperationId> = (keyof PathParams<Op<K>['path']> extends never ? { params?: undefined } : { params: PathParams<Op<K>['path']> }) &
  (BodyOf<K> extends undefined ? { body?: undefined } : { body: BodyOf<K> }) & {
    query?: QueryOf<K>;
    /** A command's key; generated when absent, and the same on every retry of this call. */
    idempotencyKey?: string;
    /** The attendee's manageToken, sent as X-Booking-Token. */
    bookingToken?: string;
    signal?: AbortSignal;
  };

/** A refusal, as the problem+json the API answered with: branch on `type`; `fields` maps each bad field's path to why. */
export class ProblemError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail?: string;
  readonly errors: Array<{ path: string; message: string }>;
  constructor(problem: { status: number; type: string; title: string; detail?: string; errors?: Array<{ path: string; message: string }> }) {
    super(problem.detail ?? problem.title);
    this.name = 'ProblemError';
    this.status = problem.status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
  }
  get fields(): Record<string, string> {
    return Object.fromEntries(this.errors.map((error) => [error.path, error.message]));
  }
}

/** No answer in time, after every attempt. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

export type ClientOptions = {
  baseUrl: string;
  /** The organizer's bearer token, or a function that gives a fresh one. */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** Attempts for a call that is safe to repeat (a GET, or a command with its Idempotency-Key); default 4. */
  attempts?: number;
  /** First backoff, doubled per attempt with jitter; default 200 ms. */
  backoffMs?: number;
  fetch?: typeof fetch;
};

// Methods and paths, repeated from the contract as plain data so the client carries no schemas. A test holds
// the two together.
export const routes = {
  health: ['GET', '/health'],
  openapi: ['GET', '/openapi.json'],
  console: ['GET', '/console'],
  createEventType: ['POST', '/event-types'],
  getEventType: ['GET', '/event-types/{id}'],
  listEventTypes: ['GET', '/event-types'],
  updateEventType: ['PATCH', '/event-types/{id}'],
  createBooking: ['POST', '/bookings'],
  listBookings: ['GET', '/bookings'],
  getBooking: ['GET', '/bookings/{id}'],
  getBookingEvents: ['GET', '/bookings/{id}/events'],
  getBookingAudit: ['GET', '/bookings/{id}/audit'],
  cancelBooking: ['POST', '/bookings/{id}/cancel'],
  rescheduleBooking: ['POST', '/bookings/{id}/reschedule'],
  confirmBooking: ['POST', '/bookings/{id}/confirm'],
  rejectBooking: ['POST', '/bookings/{id}/reject'],
  getSlots: ['GET', '/slots'],
  getMe: ['GET', '/users/me'],
  createMe: ['POST', '/users/me'],
  updateMe: ['PATCH', '/users/me'],
  deleteMe: ['DELETE', '/users/me'],
  createSchedule: ['POST', '/schedules'],
  listSchedules: ['GET', '/schedules'],
  getSchedule: ['GET', '/schedules/{id}'],
  updateSchedule: ['PATCH', '/schedules/{id}'],
  createOrganization: ['POST', '/organizations'],
  getOrganization: ['GET', '/organizations/{id}'],
  invite: ['POST', '/organizations/{id}/invitations'],
  revokeInvitation: ['DELETE', '/organizations/{id}/invitations/{userId}'],
  acceptInvitation: ['POST', '/organizations/{id}/invitations/accept'],
  declineInvitation: ['POST', '/organizations/{id}/invitations/decline'],
  listInvitations: ['GET', '/invitations'],
  removeMember: ['DELETE', '/organizations/{id}/members/{userId}'],
  createTeam: ['POST', '/organizations/{id}/teams'],
  getTeam: ['GET', '/teams/{id}'],
  addTeamMember: ['POST', '/teams/{id}/members'],
  removeTeamMember: ['DELETE', '/teams/{id}/members/{userId}'],
  retryPayment: ['POST', '/bookings/{id}/payment/retry'],
  stripeWebhook: ['POST', '/webhooks/stripe'],
  getAnalytics: ['GET', '/analytics'],
  createWebhook: ['POST', '/webhooks'],
  listWebhooks: ['GET', '/webhooks'],
  getWebhook: ['GET', '/webhooks/{id}'],
  updateWebhook: ['PATCH', '/webhooks/{id}'],
  deleteWebhook: ['DELETE', '/webhooks/{id}'],
  rotateWebhookSecret: ['POST', '/webhooks/{id}/secret/rotate'],
  listDeliveries: ['GET', '/webhooks/{id}/deliveries'],
  redeliver: ['POST', '/webhooks/{id}/deliveries/{eventId}/redeliver'],
  replayWebhook: ['POST', '/webhooks/{id}/replay'],
  connectCaldav: ['POST', '/calendars/connections'],
  listConnections: ['GET', '/calendars/connections'],
  getConnection: ['GET', '/calendars/connections/{id}'],
  updateConnection: ['PATCH', '/calendars/connections/{id}'],
  deleteConnection: ['DELETE', '/calendars/connections/{id}'],
  syncConnection: ['POST', '/calendars/connections/{id}/sync'],
  // Navigated to by the browser (a redirect to the provider), not fetched.
  connectCalendar: ['GET', '/calendars/connect/{provider}'],
  calendarCallback: ['GET', '/calendars/callback/{provider}'],
  listConflicts: ['GET', '/calendars/conflicts'],
  // Called by Google and Microsoft Graph, not by our clients; listed because every contract route is.
  googleNotification: ['POST', '/calendars/notifications/google'],
  microsoftNotification: ['POST', '/calendars/notifications/microsoft'],
  microsoftLifecycleNotification: ['POST', '/calendars/notifications/microsoft/lifecycle'],
} as const satisfies Record<OperationId, readonly [string, string]>;

const randomKey = () => globalThis.crypto.randomUUID();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Worth another attempt: the answer may differ (throttled, our failure, unavailable) and repeating is safe. */
const retryable = (status: number) => status === 429 || status >= 500;

export class BookingClient {
  private readonly options: Required<Omit<ClientOptions, 'token' | 'fetch'>> & Pick<ClientOptions, 'token'> & { fetch: typeof fetch };

  constructor(options: ClientOptions) {
    this.options = { timeoutMs: 10_000, attempts: 4, backoffMs: 200, ...options, fetch: options.fetch ?? globalThis.fetch.bind(globalThis) };
  }

  /** Calls any route by its operation id. Commands always carry an Idempotency-Key, so every retry is safe. */
  async call<K extends OperationId>(operation: K, ...args: {} extends CallOptions<K> ? [CallOptions<K>?] : [CallOptions<K>]): Promise<ResponseOf<K>> {
    const options = (args[0] ?? {}) as CallOptions<K> & { params?: Record<string, string>; body?: unknown };
    const [method, template] = routes[operation];
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(options.params![name]!));
    const query = new URLSearchParams(Object.entries(options.query ?? {}).flatMap(([k, v]): Array<[string, string]> => (v === undefined ? [] : [[k, String(v)]])));
    const url = `${this.options.baseUrl.replace(/\/$/, '')}${path}${query.size ? `?${query}` : ''}`;
    const command = method !== 'GET';
    const headers: Record<string, string> = { accept: 'application/json' };
    if (command) headers['idempotency-key'] = options.idempotencyKey ?? randomKey();
    if (options.body !== undefined || command) headers['content-type'] = 'application/json';
    if (options.bookingToken) headers['x-booking-token'] = options.bookingToken;
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    const body = command ? JSON.stringify(options.body ?? {}) : undefined;

    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.options.attempts;
      const timeout = AbortSignal.timeout(this.options.timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      let response: Response;
      try {
        response = await this.options.fetch(url, { method, headers, body, signal });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        // A lost or timed-out attempt may have been carried out: only the key makes repeating it safe, and
        // every call here has one (or is a GET).
        if (last) throw timeout.aborted ? new TimeoutError(`${method} ${path}: no answer in ${this.options.timeoutMs} ms, ${attempt} attempts`) : error;
        await sleep(this.backoff(attempt));
        continue;
      }
      if (response.status === 204) return undefined as ResponseOf<K>;
      if (response.ok) return (response.headers.get('content-type')?.includes('json') ? await response.json() : await response.text()) as ResponseOf<K>;
      if (retryable(response.status) && !last) {
        await sleep(this.backoff(attempt, response.headers.get('retry-after')));
        continue;
      }
      const text = await response.text();
      let problem: { status: number; type: string; title: string; detail?: string; errors?: Array<{ path: string; message: string }> };
      try {
        const parsed = JSON.parse(text);
        // API Gateway's own refusals (its JWT authorizer's 401, its throttle's 429) are {"message": ...}, not problems.
        problem = typeof parsed?.type === 'string' ? parsed : { status: response.status, type: 'about:blank', title: String(parsed?.message ?? response.statusText) };
      } catch {
        problem = { status: response.status, type: '/problems/unexpected', title: response.statusText || 'Unexpected answer', detail: text.slice(0, 500) };
      }
      throw new ProblemError({ ...problem, status: response.status });
    }
  }

  private backoff(attempt: number, retryAfter?: string | null): number {
    const seconds = Number(retryAfter);
    if (retryAfter && Number.isFinite(seconds)) return Math.min(seconds * 1000, 30_000);
    const base = this.options.backoffMs * 2 ** (attempt - 1);
    return base / 2 + Math.random() * base;
  }

  // The calls a booking's screen makes, named; everything else through call().
  getBooking = (id: string, options: { version?: number; bookingToken?: string } = {}) =>
    this.call('getBooking', { params: { id }, query: options.version === undefined ? {} : { version: options.version }, bookingToken: options.bookingToken });
  bookingEvents = (id: string, options: { bookingToken?: string } = {}) => this.call('getBookingEvents', { params: { id }, bookingToken: options.bookingToken });
  listBookings = (query: QueryOf<'listBookings'> = {}) => this.call('listBookings', { query });
  createBooking = (body: BodyOf<'createBooking'>, options: { idempotencyKey?: string } = {}) => this.call('createBooking', { body, ...options });
  cancelBooking = (id: string, body: BodyOf<'cancelBooking'> = {}, options: { bookingToken?: string; idempotencyKey?: string } = {}) =>
    this.call('cancelBooking', { params: { id }, body, ...options });
  rescheduleBooking = (id: string, start: string, options: { bookingToken?: string; idempotencyKey?: string } = {}) =>
    this.call('rescheduleBooking', { params: { id }, body: { start }, ...options });
  slots = (query: QueryOf<'getSlots'>) => this.call('getSlots', { query });
}
