// Who may call what, on the local stack over real HTTP: every route of the synthesized template against every
// kind of caller, with the status each must get; a foreign resource answers exactly like one that does not
// exist. And on the WebSocket: only the users an event concerns hear of it.
import { randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { startCaldavServer, type CaldavServer } from '../../infra/local/caldav-server.ts';
import { connect, futureSlot, startTestStack, type LiveSocket, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
/** A real CalDAV server for the calendar connection routes: one login the world connects, one DELETE spends. */
let dav: CaldavServer;
let davDir: string;
const davLogins = { kept: { username: 'mx-dav', password: 'mx-dav-password' }, spent: { username: 'mx-dav-gone', password: 'mx-dav-gone-password' } };
const attendee = { name: 'Grace Hopper', email: 'grace@example.com', timeZone: 'UTC' };

/**
 * The callers. `owner` owns everything the requests name and administers organization A; `member` is an
 * accepted, non-admin member of A and on its team; `other` belongs nowhere; `foreign` administers organization
 * B; then no credentials, the owner's token expired, the owner's token with its signature changed, the booking's
 * own attendee token, and the attendee token of another tenant's booking.
 */
const callers = ['owner', 'member', 'other', 'foreign', 'anonymous', 'expired', 'tampered', 'attendee', 'otherAttendee'] as const;
type Caller = (typeof callers)[number];
type Expected = Record<Caller, number>;

const ids = { owner: 'mx-ann', member: 'mx-bob', other: 'mx-olga', foreign: 'mx-zed' } as const;

type World = {
  tokens: Record<'owner' | 'member' | 'other' | 'foreign' | 'expired' | 'tampered', string>;
  scheduleId: string;
  eventTypeId: string;
  confirmEventTypeId: string;
  organizationId: string;
  teamId: string;
  booking: { id: string; manageToken: string };
  foreignBooking: { id: string; manageToken: string };
  webhookId: string;
  webhookEventId: string;
  connectionId: string;
  calendarId: string;
};
let world: World;

type Request = { params?: Record<string, string>; query?: string; body?: unknown; attendeeToken?: string; headers?: Record<string, string> };
type Row = {
  route: string;
  expected: Expected;
  /** The request each caller makes; it may first make fresh resources for a caller whose call will change them. */
  request: (caller: Caller) => Promise<Request> | Request;
  /** Callers whose 404 is about something they may see (their own missing invitation), not a hidden resource. */
  notAlike?: Caller[];
  /** Ids that must not appear in what a caller other than the owner is shown. */
  private?: () => string[];
};

// Expectations by how a route is reached (infra/booking-stack.ts `access`).
const byOrganizer = (statuses: Pick<Expected, 'owner' | 'member' | 'other' | 'foreign'>): Expected => ({
  ...statuses,
  anonymous: 401,
  expired: 401,
  tampered: 401,
  attendee: 401,
  otherAttendee: 401,
});
const byOrganizerOrAttendee = (statuses: Pick<Expected, 'owner' | 'member' | 'other' | 'foreign' | 'attendee'>): Expected => ({
  ...statuses,
  anonymous: 401,
  expired: 401,
  tampered: 401,
  otherAttendee: 404,
});
const byAnyone = (status: number): Expected => Object.fromEntries(callers.map((caller) => [caller, status])) as Expected;
const hidden = { member: 404, other: 404, foreign: 404 } as const;

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const response = await fetch(stack.httpUrl + path, {
    method,
    redirect: 'manual',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  // The console answers HTML; everything else JSON or problem+json (or, for the OAuth callback, a redirect).
  const isJson = response.headers.get('content-type')?.includes('json');
  let parsed: any;
  try {
    parsed = text && isJson ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, contentType: response.headers.get('content-type') ?? '' };
}
/** Every answer the matrix got, by route template, to be checked against GET /openapi.json at the end. */
const answers: Array<{ route: string; caller: Caller; status: number; contentType: string; body: unknown; text: string }> = [];
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function credentials(caller: Caller, request: Request): Record<string, string> {
  switch (caller) {
    case 'anonymous':
      return {};
    case 'attendee':
      return { 'x-booking-token': request.attendeeToken ?? world.booking.manageToken };
    case 'otherAttendee':
      return { 'x-booking-token': world.foreignBooking.manageToken };
    default:
      return bearer(world.tokens[caller]);
  }
}

let slot = 0;
/** A start nobody else in this file books: 10:00-16:00 UTC on weekdays from two weeks ahead. */
const nextSlot = () => futureSlot(10 + Math.floor(slot / 7), slot++ % 7).toISOString();

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 200 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

async function book(eventTypeId: string, wait: (booking: any) => boolean = (b) => b.status === 'confirmed') {
  const made = await call('POST', '/bookings', {}, { eventTypeId, start: nextSlot(), attendee });
  expect(made.status).toBe(202);
  await until(() => call('GET', `/bookings/${made.body.id}?token=${made.body.manageToken}`), (r) => wait(r.body));
  return { id: made.body.id as string, manageToken: made.body.manageToken as string };
}
const freshBooking = () => book(world.eventTypeId);
const awaitingConfirmation = () => book(world.confirmEventTypeId, (b) => b.awaiting === 'confirmation');

async function asOwner(method: string, path: string, body?: unknown) {
  const response = await call(method, path, bearer(world.tokens.owner), body);
  expect(response.status, `${method} ${path}: ${response.text}`).toBeLessThan(300);
  return response.body;
}
async function join(userId: string, organizationId = world.organizationId) {
  await asOwner('POST', `/organizations/${organizationId}/invitations`, { userId });
  expect((await call('POST', `/organizations/${organizationId}/invitations/accept`, bearer(await stack.issuer.sign(userId)))).status).toBe(200);
}

const succeeds = (caller: Caller, ...who: Caller[]) => who.includes(caller);

/** One row per route of the template; a route added without a row fails the coverage test below. */
const rows: Row[] = [
  { route: 'GET /health', expected: byAnyone(200), request: () => ({}) },
  // Public documents: the same for everyone, whatever token is sent.
  { route: 'GET /openapi.json', expected: byAnyone(200), request: () => ({}) },
  { route: 'GET /console', expected: byAnyone(200), request: () => ({}) },
  {
    route: 'POST /event-types',
    expected: byOrganizer({ owner: 201, member: 201, other: 201, foreign: 201 }),
    request: (caller) => ({ body: { title: 'New', slug: `mx-new-${caller}`, lengthMinutes: 30 } }),
  },
  {
    route: 'GET /event-types/{id}',
    // Public (booking pages read it); a token that is sent must be valid.
    expected: { ...byAnyone(200), expired: 401, tampered: 401 },
    request: () => ({ params: { id: world.eventTypeId } }),
    private: () => [world.scheduleId, ids.owner],
  },
  { route: 'GET /event-types', expected: byOrganizer({ owner: 200, member: 200, other: 200, foreign: 200 }), request: () => ({}), private: () => [world.eventTypeId] },
  {
    route: 'PATCH /event-types/{id}',
    expected: byOrganizer({ owner: 200, ...hidden }),
    request: () => ({ params: { id: world.eventTypeId }, body: { description: `changed ${randomUUID()}` } }),
  },
  { route: 'POST /bookings', expected: byAnyone(202), request: () => ({ body: { eventTypeId: world.eventTypeId, start: nextSlot(), attendee } }) },
  { route: 'GET /bookings', expected: byOrganizer({ owner: 200, member: 200, other: 200, foreign: 200 }), request: () => ({}), private: () => [world.booking.id] },
  { route: 'GET /bookings/{id}', expected: byOrganizerOrAttendee({ owner: 200, ...hidden, attendee: 200 }), request: () => ({ params: { id: world.booking.id } }) },
  { route: 'GET /bookings/{id}/events', expected: byOrganizerOrAttendee({ owner: 200, ...hidden, attendee: 200 }), request: () => ({ params: { id: world.booking.id } }) },
  { route: 'GET /bookings/{id}/audit', expected: byOrganizer({ owner: 200, ...hidden }), request: () => ({ params: { id: world.booking.id } }) },
  {
    route: 'POST /bookings/{id}/cancel',
    expected: byOrganizerOrAttendee({ owner: 200, ...hidden, attendee: 200 }),
    request: async (caller) => {
      const booking = succeeds(caller, 'owner', 'attendee') ? await freshBooking() : world.booking;
      return { params: { id: booking.id }, body: {}, attendeeToken: booking.manageToken };
    },
  },
  {
    route: 'POST /bookings/{id}/reschedule',
    expected: byOrganizerOrAttendee({ owner: 200, ...hidden, attendee: 200 }),
    request: async (caller) => {
      const booking = succeeds(caller, 'owner', 'attendee') ? await freshBooking() : world.booking;
      return { params: { id: booking.id }, body: { start: nextSlot() }, attendeeToken: booking.manageToken };
    },
  },
  {
    // A booking that is not payment_failed: who may ask is told it cannot be retried (409), anyone else that it
    // does not exist. The payments tests cover a real retry.
    route: 'POST /bookings/{id}/payment/retry',
    expected: byOrganizerOrAttendee({ owner: 409, ...hidden, attendee: 409 }),
    request: () => ({ params: { id: world.booking.id }, attendeeToken: world.booking.manageToken }),
  },
  // Stripe's, not a person's: without Stripe's signature over the body, whoever sends it gets a 400.
  { route: 'POST /webhooks/stripe', expected: byAnyone(400), request: () => ({ body: { id: 'evt_1', type: 'payment_intent.succeeded' } }) },
  {
    route: 'POST /bookings/{id}/confirm',
    expected: byOrganizer({ owner: 200, ...hidden }),
    request: async (caller) => ({ params: { id: (caller === 'owner' ? await awaitingConfirmation() : world.booking).id }, body: {} }),
  },
  {
    route: 'POST /bookings/{id}/reject',
    expected: byOrganizer({ owner: 200, ...hidden }),
    request: async (caller) => ({ params: { id: (caller === 'owner' ? await awaitingConfirmation() : world.booking).id }, body: {} }),
  },
  {
    route: 'GET /slots',
    expected: byAnyone(200),
    request: () => {
      const day = nextSlot().slice(0, 10);
      return { query: `eventTypeId=${world.eventTypeId}&start=${day}&end=${day}&timeZone=UTC` };
    },
  },
  { route: 'GET /users/me', expected: byOrganizer({ owner: 200, member: 200, other: 200, foreign: 200 }), request: () => ({}), private: () => [ids.owner] },
  {
    route: 'POST /users/me',
    // Everyone with a token already has a profile.
    expected: byOrganizer({ owner: 409, member: 409, other: 409, foreign: 409 }),
    request: () => ({ body: { name: 'Again', email: 'again@example.com', timeZone: 'UTC' } }),
  },
  { route: 'PATCH /users/me', expected: byOrganizer({ owner: 200, member: 200, other: 200, foreign: 200 }), request: () => ({ body: { name: `Renamed ${randomUUID()}` } }), private: () => [ids.owner] },
  {
    route: 'POST /schedules',
    expected: byOrganizer({ owner: 201, member: 201, other: 201, foreign: 201 }),
    request: () => ({ body: { name: 'More', timeZone: 'UTC', weekly: [{ day: 'sat', start: '09:00', end: '10:00' }], isDefault: false } }),
  },
  { route: 'GET /schedules', expected: byOrganizer({ owner: 200, member: 200, other: 200, foreign: 200 }), request: () => ({}), private: () => [world.scheduleId] },
  { route: 'GET /schedules/{id}', expected: byOrganizer({ owner: 200, ...hidden }), request: () => ({ params: { id: world.scheduleId } }) },
  { route: 'PATCH /schedules/{id}', expected: byOrganizer({ owner: 200, ...hidden }), request: () => ({ params: { id: world.scheduleId }, body: { name: `Hours ${randomUUID()}` } }) },
  { route: 'POST /organizations', expected: byOrganizer({ owner: 201, member: 201, other: 201, foreign: 201 }), request: () => ({ body: { name: 'Another' } }) },
  {
    route: 'GET /organizations/{id}',
    expected: byOrganizer({ owner: 200, member: 200, other: 404, foreign: 404 }),
    request: () => ({ params: { id: world.organizationId } }),
  },
  {
    route: 'POST /organizations/{id}/invitations',
    expected: byOrganizer({ owner: 201, member: 403, other: 404, foreign: 404 }),
    request: (caller) => ({ params: { id: world.organizationId }, body: { userId: `mx-invitee-${caller}` } }),
  },
  {
    route: 'DELETE /organizations/{id}/invitations/{userId}',
    expected: byOrganizer({ owner: 200, member: 403, other: 404, foreign: 404 }),
    request: async () => {
      const userId = `mx-revocable-${randomUUID()}`;
      await asOwner('POST', `/organizations/${world.organizationId}/invitations`, { userId });
      return { params: { id: world.organizationId, userId } };
    },
  },
  {
    route: 'POST /organizations/{id}/invitations/accept',
    // Members have nothing to accept; to anyone not invited the organization does not exist.
    expected: byOrganizer({ owner: 409, member: 409, other: 404, foreign: 404 }),
    request: () => ({ params: { id: world.organizationId } }),
  },
  {
    route: 'POST /organizations/{id}/invitations/decline',
    expected: byOrganizer({ owner: 404, member: 404, other: 404, foreign: 404 }),
    request: () => ({ params: { id: world.organizationId } }),
    // A member may see the organization; their 404 is about the invitation they do not have.
    notAlike: ['owner', 'member'],
  },
  {
    route: 'DELETE /organizations/{id}/members/{userId}',
    expected: byOrganizer({ owner: 200, member: 403, other: 404, foreign: 404 }),
    request: async (caller) => {
      if (caller !== 'owner') return { params: { id: world.organizationId, userId: ids.owner } };
      const userId = `mx-removable-${randomUUID()}`;
      await join(userId);
      return { params: { id: world.organizationId, userId } };
    },
  },
  {
    route: 'POST /organizations/{id}/teams',
    expected: byOrganizer({ owner: 201, member: 403, other: 404, foreign: 404 }),
    request: () => ({ params: { id: world.organizationId }, body: { name: 'Another team' } }),
  },
  { route: 'GET /invitations', expected: byOrganizer({ owner: 200, member: 200, other: 200, foreign: 200 }), request: () => ({}), private: () => [world.organizationId] },
  { route: 'GET /teams/{id}', expected: byOrganizer({ owner: 200, member: 200, other: 404, foreign: 404 }), request: () => ({ params: { id: world.teamId } }) },
  {
    route: 'POST /teams/{id}/members',
    expected: byOrganizer({ owner: 200, member: 403, other: 404, foreign: 404 }),
    request: () => ({ params: { id: world.teamId }, body: { userId: ids.member } }),
  },
  {
    route: 'DELETE /teams/{id}/members/{userId}',
    expected: byOrganizer({ owner: 200, member: 403, other: 404, foreign: 404 }),
    request: async (caller) => {
      if (caller !== 'owner') return { params: { id: world.teamId, userId: ids.owner } };
      const team = await asOwner('POST', `/organizations/${world.organizationId}/teams`, { name: 'Short-lived', memberIds: [ids.member] });
      return { params: { id: team.id, userId: ids.member } };
    },
  },
  // Webhooks: a loopback receiver is allowed on the local stack alone (nothing listens there; deliveries fail).
  { route: 'POST /webhooks', expected: byOrganizer({ owner: 201, member: 201, other: 201, foreign: 201 }), request: () => ({ body: { url: 'http://127.0.0.1:9/mx' } }) },
  { route: 'GET /webhooks', expected: byOrganizer({ owner: 200, member: 200, other: 200, foreign: 200 }), request: () => ({}), private: () => [world.webhookId] },
  { route: 'GET /webhooks/{id}', expected: byOrganizer({ owner: 200, ...hidden }), request: () => ({ params: { id: world.webhookId } }) },
  { route: 'PATCH /webhooks/{id}', expected: byOrganizer({ owner: 200, ...hidden }), request: () => ({ params: { id: world.webhookId }, body: { description: `Hook ${randomUUID()}` } }) },
  { route: 'POST /webhooks/{id}/secret/rotate', expected: byOrganizer({ owner: 200, ...hidden }), request: () => ({ params: { id: world.webhookId } }) },
  { route: 'GET /webhooks/{id}/deliveries', expected: byOrganizer({ owner: 200, ...hidden }), request: () => ({ params: { id: world.webhookId } }), private: () => [world.webhookEventId] },
  {
    route: 'POST /webhooks/{id}/deliveries/{eventId}/redeliver',
    expected: byOrganizer({ owner: 202, ...hidden }),
    request: () => ({ params: { id: world.webhookId, eventId: world.webhookEventId } }),
  },
  {
    route: 'POST /webhooks/{id}/replay',
    expected: byOrganizer({ owner: 202, ...hidden }),
    request: () => ({ params: { id: world.webhookId }, body: { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString() } }),
  },
  {
    route: 'DELETE /webhooks/{id}',
    expected: byOrganizer({ owner: 204, ...hidden }),
    request: async (caller) => {
      if (caller !== 'owner') return { params: { id: world.webhookId } };
      return { params: { id: (await asOwner('POST', '/webhooks', { url: 'http://127.0.0.1:9/gone' })).id } };
    },
  },
  // Calendar connections: each organizer connects his own (the same CalDAV account makes a connection per organizer).
  {
    route: 'POST /calendars/connections',
    expected: byOrganizer({ owner: 201, member: 201, other: 201, foreign: 201 }),
    request: () => ({ body: { provider: 'caldav', serverUrl: dav.url, ...davLogins.kept } }),
  },
  { route: 'GET /calendars/connections', expected: byOrganizer({ owner: 200, member: 200, other: 200, foreign: 200 }), request: () => ({}), private: () => [world.connectionId] },
  { route: 'GET /calendars/connections/{id}', expected: byOrganizer({ owner: 200, ...hidden }), request: () => ({ params: { id: world.connectionId } }) },
  {
    route: 'PATCH /calendars/connections/{id}',
    expected: byOrganizer({ owner: 200, ...hidden }),
    request: () => ({ params: { id: world.connectionId }, body: { calendars: [{ id: world.calendarId, busy: true }] } }),
  },
  { route: 'POST /calendars/connections/{id}/sync', expected: byOrganizer({ owner: 202, ...hidden }), request: () => ({ params: { id: world.connectionId } }) },
  {
    route: 'DELETE /calendars/connections/{id}',
    expected: byOrganizer({ owner: 204, ...hidden }),
    request: async (caller) => {
      if (caller !== 'owner') return { params: { id: world.connectionId } };
      return { params: { id: (await asOwner('POST', '/calendars/connections', { provider: 'caldav', serverUrl: dav.url, ...davLogins.spent })).id } };
    },
  },
  // To the provider's consent page, with a state signed for the caller.
  { route: 'GET /calendars/connect/{provider}', expected: byOrganizer({ owner: 302, member: 302, other: 302, foreign: 302 }), request: () => ({ params: { provider: 'google' } }) },
  // The provider sends the browser back here: no token counts, only the state; without one, the page says why.
  { route: 'GET /calendars/callback/{provider}', expected: byAnyone(302), request: () => ({ params: { provider: 'google' }, query: 'code=nothing' }) },
  // The providers' push notifications: no token counts, only the channel's secret; without it, a 403 and
  // nothing enqueued (calendar-push.test.ts shows the 2xx of verified ones, from the local Google and Graph).
  {
    route: 'POST /calendars/notifications/google',
    expected: byAnyone(403),
    request: () => ({ headers: { 'x-goog-channel-id': `${world.connectionId}-0000000000000000`, 'x-goog-channel-token': 'guessed', 'x-goog-resource-state': 'exists' } }),
  },
  { route: 'POST /calendars/notifications/microsoft', expected: byAnyone(403), request: () => ({ body: { value: [{ subscriptionId: randomUUID(), clientState: 'guessed', changeType: 'created' }] } }) },
  {
    route: 'POST /calendars/notifications/microsoft/lifecycle',
    expected: byAnyone(403),
    request: () => ({ body: { value: [{ subscriptionId: randomUUID(), clientState: 'guessed', lifecycleEvent: 'subscriptionRemoved' }] } }),
  },
  // Each caller sees the conflicts of their own calendars only (none of the owner's here).
  { route: 'GET /calendars/conflicts', expected: byOrganizer({ owner: 200, member: 200, other: 200, foreign: 200 }), request: () => ({ query: 'status=open' }) },
  {
    route: 'GET /analytics',
    expected: byOrganizer({ owner: 200, member: 200, other: 200, foreign: 200 }),
    request: () => ({ query: `from=${new Date().toISOString().slice(0, 10)}&to=${new Date().toISOString().slice(0, 10)}` }),
  },
  {
    // Last, as it ends the accounts: the owner is refused (the last admin of A while members remain), the
    // member leaves A, and the two others go.
    route: 'DELETE /users/me',
    expected: byOrganizer({ owner: 409, member: 200, other: 200, foreign: 200 }),
    request: () => ({}),
  },
];

function pathOf(route: string, request: Request, ghost = false): string {
  const [, template] = route.split(' ') as [string, string];
  const params: Record<string, string> = { ...request.params, ...(ghost ? { id: randomUUID() } : {}) };
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${route}: no value for {${name}}`);
    return encodeURIComponent(value);
  });
  return request.query ? `${path}?${request.query}` : path;
}

const withoutInstance = (body: Record<string, unknown>) => ({ ...body, instance: undefined });

beforeAll(async () => {
  davDir = mkdtempSync(joinPath(tmpdir(), 'matrix-dav-'));
  [stack, dav] = await Promise.all([startTestStack(), startCaldavServer({ dataDir: davDir, users: Object.fromEntries(Object.values(davLogins).map((l) => [l.username, l.password])) })]);
  const sign = (userId: string) => stack.issuer.sign(userId);
  const ownerToken = await sign(ids.owner);
  const [header, payload, signature] = ownerToken.split('.') as [string, string, string];
  const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
  const tokens: World['tokens'] = {
    owner: ownerToken,
    member: await sign(ids.member),
    other: await sign(ids.other),
    foreign: await sign(ids.foreign),
    expired: await stack.issuer.sign(ids.owner, {}, '1 hour ago'),
    tampered: `${header}.${payload}.${flipped}`,
  };
  world = { tokens } as World;
  for (const who of ['owner', 'member', 'other', 'foreign'] as const) {
    expect((await call('POST', '/users/me', bearer(tokens[who]), { name: who, email: `${who}@example.com`, timeZone: 'UTC' })).status).toBe(201);
  }
  const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ day, start: '09:00', end: '17:00' }));
  world.scheduleId = (await asOwner('POST', '/schedules', { name: 'Hours', timeZone: 'UTC', weekly: weekdays })).id;
  world.eventTypeId = (await asOwner('POST', '/event-types', { title: 'Intro', slug: 'mx-intro', lengthMinutes: 30, scheduleId: world.scheduleId })).id;
  world.confirmEventTypeId = (await asOwner('POST', '/event-types', { title: 'Vetted', slug: 'mx-vetted', lengthMinutes: 30, requiresConfirmation: true })).id;
  world.organizationId = (await asOwner('POST', '/organizations', { name: 'Org A' })).id;
  await join(ids.member);
  world.teamId = (await asOwner('POST', `/organizations/${world.organizationId}/teams`, { name: 'Team A', memberIds: [ids.owner, ids.member] })).id;
  const foreignOrg = await call('POST', '/organizations', bearer(tokens.foreign), { name: 'Org B' });
  expect(foreignOrg.status).toBe(201);
  const foreignType = await call('POST', '/event-types', bearer(tokens.foreign), { title: 'Zed', slug: 'mx-zed', lengthMinutes: 30 });
  // The owner's webhook, made before the booking, so that the booking's events are delivered to it.
  world.webhookId = (await asOwner('POST', '/webhooks', { url: 'http://127.0.0.1:9/mx' })).id;
  world.booking = await freshBooking();
  world.foreignBooking = await book(foreignType.body.id);
  world.webhookEventId = (await asOwner('GET', `/bookings/${world.booking.id}/events`)).events[0].id;
  const connection = await asOwner('POST', '/calendars/connections', { provider: 'caldav', serverUrl: dav.url, ...davLogins.kept });
  world.connectionId = connection.id;
  world.calendarId = connection.calendars[0].id;
  await until(() => call('GET', `/webhooks/${world.webhookId}/deliveries`, bearer(tokens.owner)), (r) => r.body.deliveries.some((d: any) => d.eventId === world.webhookEventId));
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  await dav?.close();
  if (davDir) rmSync(davDir, { recursive: true, force: true });
});

describe('authorization matrix', () => {
  it('has a row for every HTTP route of the synthesized template, and none for a route it does not have', () => {
    const template = inject('template');
    const routeKeys = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
      .map((resource) => resource.Properties!.RouteKey as string)
      .filter((key) => !key.startsWith('$'));
    expect(rows.map((row) => row.route).sort()).toEqual([...routeKeys].sort());
  });

  // One test per route, in the table's order (DELETE /users/me last); each runs every caller.
  it.each(rows.map((row) => [row.route, row] as const))('%s', async (route, row) => {
    const [method] = route.split(' ') as [string];
    const failures: string[] = [];
    for (const caller of callers) {
      const request = await row.request(caller);
      const response = await call(method, pathOf(route, request), { ...credentials(caller, request), ...request.headers }, request.body);
      answers.push({ route, caller, status: response.status, contentType: response.contentType, body: response.body, text: response.text });
      const expected = row.expected[caller];
      if (response.status !== expected) {
        failures.push(`${caller}: expected ${expected}, got ${response.status} ${response.text.slice(0, 200)}`);
        continue;
      }
      if (response.status === 404 && route.includes('{id}') && !row.notAlike?.includes(caller)) {
        // A hidden resource answers exactly as one that never existed.
        const ghost = await call(method, pathOf(route, request, true), credentials(caller, request), request.body);
        if (ghost.status !== 404 || JSON.stringify(withoutInstance(ghost.body)) !== JSON.stringify(withoutInstance(response.body))) {
          failures.push(`${caller}: the 404 differs from a nonexistent id's: ${response.text} vs ${ghost.text}`);
        }
      }
      if (caller !== 'owner' && response.status < 300 && row.private) {
        for (const secret of row.private()) if (response.text.includes(secret)) failures.push(`${caller}: the answer shows ${secret}`);
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('every answer above is one the OpenAPI document lists for its route, and its body validates', async () => {
    const document = (await call('GET', '/openapi.json')).body;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    const named = Object.fromEntries(Object.entries(document.components.schemas).map(([name, schema]) => [`#/components/schemas/${name}`, ajv.compile(schema as object)]));
    const mismatches: string[] = [];
    for (const answer of answers) {
      const [method, path] = answer.route.split(' ') as [string, string];
      const response = document.paths[path]?.[method.toLowerCase()]?.responses?.[String(answer.status)];
      const where = `${answer.route} (${answer.caller}) ${answer.status}`;
      if (!response) {
        mismatches.push(`${where}: not in the document`);
        continue;
      }
      const content = response.content as Record<string, { schema: any }> | undefined;
      if (!content) {
        if (answer.text !== '') mismatches.push(`${where}: the document says no body, got ${answer.text.slice(0, 100)}`);
        continue;
      }
      const [type, { schema }] = Object.entries(content)[0]!;
      if (!answer.contentType.startsWith(type)) mismatches.push(`${where}: ${answer.contentType}, the document says ${type}`);
      const validate = schema.$ref ? named[schema.$ref]! : ajv.compile(schema);
      if (!validate(type.includes('json') ? answer.body : answer.text)) mismatches.push(`${where}: ${ajv.errorsText(validate.errors)}`);
    }
    expect(answers.length).toBe(rows.length * callers.length);
    expect(mismatches).toEqual([]);
  });
});

describe('live events go only to the users they concern', () => {
  type Listener = 'organizer' | 'unrelated' | 'foreignMember' | 'attendee' | 'otherAttendee' | 'member' | 'invitee';
  const sockets = {} as Record<Listener, LiveSocket>;
  const of = (socket: LiveSocket, aggregateId: string) => socket.messages.filter((m) => m.type === 'event' && m.data.aggregateId === aggregateId).map((m) => m.data.type as string);

  beforeAll(async () => {
    // The matrix ended the other accounts; these listeners are new ones.
    const sign = (userId: string) => stack.issuer.sign(userId);
    const tokens = { organizer: await sign('ws-ann'), unrelated: await sign('ws-olga'), foreignMember: await sign('ws-zed'), member: await sign('ws-bob'), invitee: await sign('ws-ivy') };
    for (const [listener, token] of Object.entries(tokens)) sockets[listener as Listener] = await connect(`${stack.wsUrl}/?token=${token}`);
    expect((await call('POST', '/organizations', bearer(tokens.foreignMember), { name: 'WS B' })).status).toBe(201);
    world.tokens.owner = tokens.organizer;
  }, 60_000);
  afterAll(() => Object.values(sockets).forEach((socket) => socket.close()));

  it('refuses a socket with an expired or tampered token, or another booking\'s token for this booking', async () => {
    await expect(connect(`${stack.wsUrl}/?token=${world.tokens.expired}`)).rejects.toThrow(/401/);
    await expect(connect(`${stack.wsUrl}/?token=${world.tokens.tampered}`)).rejects.toThrow(/401/);
    await expect(connect(`${stack.wsUrl}/?booking=${world.booking.id}&bookingToken=${world.foreignBooking.manageToken}`)).rejects.toThrow(/401/);
  });

  it('tells a booking to its organizer and its attendee, not to an unrelated user, another tenant or another attendee', async () => {
    const eventType = await asOwner('POST', '/event-types', { title: 'Live', slug: 'ws-live', lengthMinutes: 30 });
    const other = await book(eventType.id);
    sockets.otherAttendee = await connect(`${stack.wsUrl}/?booking=${other.id}&bookingToken=${other.manageToken}`);
    const booking = await book(eventType.id);
    sockets.attendee = await connect(`${stack.wsUrl}/?booking=${booking.id}&bookingToken=${booking.manageToken}`);
    expect((await call('POST', `/bookings/${booking.id}/cancel`, { 'x-booking-token': booking.manageToken }, {})).status).toBe(200);
    await sockets.organizer.next((m) => m.data?.aggregateId === booking.id && m.data.type === 'booking.cancelled');
    await sockets.attendee.next((m) => m.data?.aggregateId === booking.id && m.data.type === 'booking.cancelled');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(of(sockets.organizer, booking.id)).toEqual(expect.arrayContaining(['booking.requested', 'booking.created', 'booking.confirmed', 'booking.cancelled']));
    expect(of(sockets.attendee, booking.id)).toContain('booking.cancelled');
    for (const listener of ['unrelated', 'foreignMember', 'otherAttendee', 'member', 'invitee'] as const) expect(of(sockets[listener], booking.id), listener).toEqual([]);
    // An attendee's socket carries their own booking's events and nothing else.
    for (const listener of ['attendee', 'otherAttendee'] as const) {
      const own = listener === 'attendee' ? booking.id : other.id;
      expect(sockets[listener].messages.filter((m) => m.type === 'event' && m.data.aggregateId !== own), listener).toEqual([]);
    }
  });

  it('tells an organization\'s events to its members and the user each is about, and to nobody else', async () => {
    const organization = await asOwner('POST', '/organizations', { name: 'WS A' });
    await asOwner('POST', `/organizations/${organization.id}/invitations`, { userId: 'ws-bob' });
    expect((await call('POST', `/organizations/${organization.id}/invitations/accept`, bearer(await stack.issuer.sign('ws-bob')))).status).toBe(200);
    await asOwner('POST', `/organizations/${organization.id}/invitations`, { userId: 'ws-ivy' });
    const team = await asOwner('POST', `/organizations/${organization.id}/teams`, { name: 'WS team', memberIds: ['ws-bob'] });
    await sockets.member.next((m) => m.data?.aggregateId === team.id && m.data.type === 'team.created');
    await sockets.invitee.next((m) => m.data?.aggregateId === organization.id && m.data.type === 'organization.member.invited');
    await sockets.organizer.next((m) => m.data?.aggregateId === organization.id && m.data.type === 'organization.member.invited' && m.data.payload.userId === 'ws-ivy');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The invitee hears of their own invitation only, not of the organization's other business.
    expect(of(sockets.invitee, organization.id)).toEqual(['organization.member.invited']);
    expect(of(sockets.invitee, team.id)).toEqual([]);
    expect(of(sockets.member, organization.id)).toEqual(expect.arrayContaining(['organization.member.added', 'organization.member.invited']));
    for (const listener of ['unrelated', 'foreignMember', 'attendee', 'otherAttendee'] as const) {
      expect(of(sockets[listener], organization.id), listener).toEqual([]);
      expect(of(sockets[listener], team.id), listener).toEqual([]);
    }
  });
});
