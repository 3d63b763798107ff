import * as z from '../../events/zod.ts';
import { id } from '../../events/primitives.ts';
import { actorSchema, bookingRequested } from '../../events/booking.ts';
import { analyticsQuery } from '../analytics/requests.ts';
import { bookingStatuses } from '../booking/decider.ts';
import { createBookingBody, getBookingQuery, listBookingsQuery, reasonBody, rescheduleBody } from '../booking/requests.ts';
import { createEventTypeBody, updateEventTypeBody } from '../event-types/requests.ts';
import { createProfileBody, updateProfileBody } from '../people/requests.ts';
import { addTeamMemberBody, createOrganizationBody, createTeamBody, inviteBody, slotsQuery } from '../scheduling/requests.ts';
import { createScheduleBody, updateScheduleBody } from '../scheduling/schedule-requests.ts';
import { createWebhookBody, deliveriesQuery, replayBody, updateWebhookBody } from '../webhooks/requests.ts';
import { conflictsQuery, connectCaldavBody, oauthCallbackQuery, updateConnectionBody } from '../calendars/requests.ts';
import { googleNotificationHeaders, graphChangeBatch, graphLifecycleBatch, graphValidationQuery } from '../calendars/push-requests.ts';

/**
 * The HTTP contract: every route with the schemas its handler parses (body, query) and what it answers. The
 * schemas live in each slice's requests.ts, which the handlers import (so a handler bundles its own schemas,
 * not this whole list), and the OpenAPI document is generated from here, so what is published is what is
 * enforced; a test holds this list to the stack's routes. Keyed by operation id. Pure: zod and the event
 * catalog only, so the typed client can take its types from it.
 */

/** A booking as the API shows it (shared/booking/presenter.ts). */
export const bookingSchema = z.extend(bookingRequested, {
  id,
  status: z.enum(bookingStatuses),
  awaiting: z.optional(z.enum(['confirmation', 'payment'])),
  price: z.optional(z.object({ amount: z.number(), currency: z.string() })),
  payment: z.optional(
    z.object({
      paymentId: z.string(),
      status: z.enum(['initiated', 'completed', 'failed', 'refunded']),
      amount: z.number(),
      currency: z.string(),
      attempt: z.int(),
      expiresAt: z.string(),
      failure: z.optional(z.object({ reason: z.string(), code: z.optional(z.string()), declineCode: z.optional(z.string()) })),
      refundedAmount: z.optional(z.number()),
      /** To the attendee alone, while the payment waits: what Stripe.js confirms the payment with. */
      clientSecret: z.optional(z.string()),
    }),
  ),
  cancellation: z.optional(z.object({ by: actorSchema, reason: z.optional(z.string()), kind: z.enum(['cancelled', 'rejected', 'creation_failed']), step: z.optional(z.string()) })),
  previousTimes: z.optional(z.array(z.object({ start: z.string(), end: z.string() }))),
  version: z.int().check(z.gte(1)),
  updatedAt: z.string(),
});
export const createdBookingSchema = z.extend(bookingSchema, { manageToken: z.string(), manageUrl: z.string() });
const domainEventSchema = z.object({
  id: z.string(),
  type: z.string(),
  aggregateId: z.string(),
  aggregateType: z.string(),
  version: z.int(),
  payload: z.record(z.string(), z.unknown()),
  metadata: z.looseObject({ timestamp: z.string() }),
});
/** Answers whose shape the handlers do not yet pin down here are objects; their fields are in the README. */
const anObject = z.looseObject({});

/** A webhook subscription as the API shows it (shared/webhooks/subscriptions.ts presentSubscription). */
const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.nullable(z.array(z.string())),
  description: z.optional(z.string()),
  active: z.boolean(),
  disabledReason: z.optional(z.string()),
  createdAt: z.string(),
  updatedAt: z.optional(z.string()),
});

/** A calendar connection as the API shows it (shared/calendars/store.ts#presentConnection); never its credentials. */
const connectionSchema = z.object({
  id: z.string(),
  provider: z.enum(['google', 'microsoft', 'caldav']),
  accountEmail: z.optional(z.string()),
  status: z.enum(['connected', 'needs_reauth']),
  reauthReason: z.optional(z.string()),
  calendars: z.array(z.object({ id: z.string(), name: z.string(), primary: z.boolean(), writable: z.boolean(), busy: z.boolean(), destination: z.boolean() })),
  sync: z.object({
    state: z.string(),
    lastSuccessAt: z.nullable(z.string()),
    lastError: z.nullable(z.string()),
    nextRunAt: z.nullable(z.string()),
    // drifted: our events found changed by hand in the destination (calendar.event.drifted); rewritten: bookings the last read wrote back.
    counts: z.looseObject({ requests: z.nullable(z.number()), failures: z.optional(z.nullable(z.number())), drifted: z.optional(z.number()), rewritten: z.optional(z.number()) }),
    /** Google watch channels / Graph subscriptions: active while every busy-checked calendar has a live one (CalDAV: none). */
    push: z.optional(z.object({ state: z.enum(['active', 'unavailable', 'none']), expiresAt: z.nullable(z.string()), error: z.nullable(z.string()) })),
  }),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** API Gateway's own answer when its JWT authorizer refuses a token (HTTP APIs cannot shape it as a problem). */
export const gatewayUnauthorizedSchema = z.object({ message: z.literal('Unauthorized') });

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.optional(z.string()),
  instance: z.optional(z.string()),
  errors: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
});

/** Who may call: anyone, an organizer's JWT, that or the attendee's booking token, or Stripe (its signature). */
export type Security = 'public' | 'organizer' | 'organizer-or-attendee' | 'stripe';
type Route = {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  security: Security;
  summary: string;
  body?: z.ZodMiniType;
  query?: z.ZodMiniType;
  /** Headers the handler parses (a provider's notification headers): a bad one is a 400 naming it. */
  headers?: z.ZodMiniType;
  /** The success status and its body (none for a 204). */
  status: number;
  response?: z.ZodMiniType;
  /** A command: an Idempotency-Key makes its retries safe. */
  command?: boolean;
  /** A public route that reads a bearer token when one is sent (its owner sees more): a bad one is a 401. */
  optionalToken?: boolean;
  /** Refuses a known caller without the role it takes (an organization's admin): 403. */
  forbidden?: boolean;
};

const route = <const R extends Route>(r: R) => r;

export const contract = {
  health: route({ method: 'GET', path: '/health', security: 'public', summary: 'Liveness', status: 200, response: anObject }),
  openapi: route({ method: 'GET', path: '/openapi.json', security: 'public', summary: 'This document', status: 200, response: anObject }),
  console: route({ method: 'GET', path: '/console', security: 'public', summary: 'The operator console (HTML)', status: 200, response: z.string() }),
  createEventType: route({ method: 'POST', path: '/event-types', security: 'organizer', summary: 'Create an event type', body: createEventTypeBody, status: 201, response: anObject, command: true }),
  getEventType: route({ method: 'GET', path: '/event-types/{id}', security: 'public', optionalToken: true, summary: 'An event type (all of it to its owner)', status: 200, response: anObject }),
  listEventTypes: route({ method: 'GET', path: '/event-types', security: 'organizer', summary: 'Your event types', status: 200, response: anObject }),
  updateEventType: route({ method: 'PATCH', path: '/event-types/{id}', security: 'organizer', summary: 'Change an event type', body: updateEventTypeBody, status: 200, response: anObject, command: true }),
  createBooking: route({
    method: 'POST',
    path: '/bookings',
    security: 'public',
    summary: 'Request a booking',
    body: createBookingBody,
    status: 202,
    response: createdBookingSchema,
    command: true,
  }),
  listBookings: route({
    method: 'GET',
    path: '/bookings',
    security: 'organizer',
    summary: 'The bookings you organize or host, by start',
    query: listBookingsQuery,
    status: 200,
    response: z.object({ bookings: z.array(bookingSchema), cursor: z.optional(z.string()) }),
  }),
  getBooking: route({
    method: 'GET',
    path: '/bookings/{id}',
    security: 'organizer-or-attendee',
    summary: 'A booking; with ?version=N, as it was right after event N',
    query: getBookingQuery,
    status: 200,
    response: bookingSchema,
  }),
  getBookingEvents: route({ method: 'GET', path: '/bookings/{id}/events', security: 'organizer-or-attendee', summary: "A booking's events, versions 1..n", status: 200, response: z.object({ bookingId: z.string(), events: z.array(domainEventSchema) }) }),
  getBookingAudit: route({ method: 'GET', path: '/bookings/{id}/audit', security: 'organizer', summary: 'What the audit subscriber recorded', status: 200, response: anObject }),
  cancelBooking: route({ method: 'POST', path: '/bookings/{id}/cancel', security: 'organizer-or-attendee', summary: 'Cancel a booking', body: reasonBody, status: 200, response: bookingSchema, command: true }),
  rescheduleBooking: route({ method: 'POST', path: '/bookings/{id}/reschedule', security: 'organizer-or-attendee', summary: 'Move a confirmed booking', body: rescheduleBody, status: 200, response: bookingSchema, command: true }),
  confirmBooking: route({ method: 'POST', path: '/bookings/{id}/confirm', security: 'organizer', summary: 'Confirm a booking that waits for it', status: 200, response: bookingSchema, command: true }),
  rejectBooking: route({ method: 'POST', path: '/bookings/{id}/reject', security: 'organizer', summary: 'Decline a request', body: reasonBody, status: 200, response: bookingSchema, command: true }),
  getSlots: route({
    method: 'GET',
    path: '/slots',
    security: 'public',
    summary: 'Bookable starts by day',
    query: slotsQuery,
    status: 200,
    response: z.object({ eventTypeId: z.string(), timeZone: z.string(), slots: z.record(z.string(), z.array(z.looseObject({ start: z.string() }))) }),
  }),
  getMe: route({ method: 'GET', path: '/users/me', security: 'organizer', summary: 'Your profile', status: 200, response: anObject }),
  createMe: route({ method: 'POST', path: '/users/me', security: 'organizer', summary: 'Create your profile', body: createProfileBody, status: 201, response: anObject, command: true }),
  updateMe: route({ method: 'PATCH', path: '/users/me', security: 'organizer', summary: 'Change your profile', body: updateProfileBody, status: 200, response: anObject, command: true }),
  deleteMe: route({ method: 'DELETE', path: '/users/me', security: 'organizer', summary: 'Delete your account', status: 200, response: anObject, command: true }),
  createSchedule: route({ method: 'POST', path: '/schedules', security: 'organizer', summary: 'Create a schedule', body: createScheduleBody, status: 201, response: anObject, command: true }),
  listSchedules: route({ method: 'GET', path: '/schedules', security: 'organizer', summary: 'Your schedules', status: 200, response: anObject }),
  getSchedule: route({ method: 'GET', path: '/schedules/{id}', security: 'organizer', summary: 'A schedule', status: 200, response: anObject }),
  updateSchedule: route({ method: 'PATCH', path: '/schedules/{id}', security: 'organizer', summary: 'Change a schedule', body: updateScheduleBody, status: 200, response: anObject, command: true }),
  createOrganization: route({ method: 'POST', path: '/organizations', security: 'organizer', summary: 'Create an organization', body: createOrganizationBody, status: 201, response: anObject, command: true }),
  getOrganization: route({ method: 'GET', path: '/organizations/{id}', security: 'organizer', summary: 'An organization', status: 200, response: anObject }),
  invite: route({ method: 'POST', path: '/organizations/{id}/invitations', security: 'organizer', summary: 'Invite a user', body: inviteBody, status: 201, response: anObject, command: true, forbidden: true }),
  revokeInvitation: route({ method: 'DELETE', path: '/organizations/{id}/invitations/{userId}', security: 'organizer', summary: 'Revoke an invitation', status: 200, response: anObject, command: true, forbidden: true }),
  acceptInvitation: route({ method: 'POST', path: '/organizations/{id}/invitations/accept', security: 'organizer', summary: 'Accept an invitation', status: 200, response: anObject, command: true }),
  declineInvitation: route({ method: 'POST', path: '/organizations/{id}/invitations/decline', security: 'organizer', summary: 'Decline an invitation', status: 200, response: anObject, command: true }),
  listInvitations: route({ method: 'GET', path: '/invitations', security: 'organizer', summary: 'Invitations waiting for your answer', status: 200, response: anObject }),
  removeMember: route({ method: 'DELETE', path: '/organizations/{id}/members/{userId}', security: 'organizer', summary: 'Remove a member', status: 200, response: anObject, command: true, forbidden: true }),
  createTeam: route({ method: 'POST', path: '/organizations/{id}/teams', security: 'organizer', summary: 'Create a team', body: createTeamBody, status: 201, response: anObject, command: true, forbidden: true }),
  getTeam: route({ method: 'GET', path: '/teams/{id}', security: 'organizer', summary: 'A team', status: 200, response: anObject }),
  addTeamMember: route({ method: 'POST', path: '/teams/{id}/members', security: 'organizer', summary: 'Add a team member', body: addTeamMemberBody, status: 200, response: anObject, command: true, forbidden: true }),
  removeTeamMember: route({ method: 'DELETE', path: '/teams/{id}/members/{userId}', security: 'organizer', summary: 'Remove a team member', status: 200, response: anObject, command: true, forbidden: true }),
  retryPayment: route({
    method: 'POST',
    path: '/bookings/{id}/payment/retry',
    security: 'organizer-or-attendee',
    summary: 'Try a failed payment again (a new attempt follows on the booking and the WebSocket)',
    status: 202,
    response: z.extend(bookingSchema, { retrying: z.object({ attempt: z.int() }) }),
    command: true,
  }),
  stripeWebhook: route({
    method: 'POST',
    path: '/webhooks/stripe',
    security: 'stripe',
    summary: "Stripe's signed event notifications (payment_intent.*), verified against the Stripe-Signature header",
    body: z.looseObject({ id: z.string(), type: z.string(), data: z.looseObject({ object: z.looseObject({}) }) }),
    status: 200,
    response: z.object({ received: z.literal(true), duplicate: z.optional(z.literal(true)) }),
  }),
  getAnalytics: route({
    method: 'GET',
    path: '/analytics',
    security: 'organizer',
    summary: "Your daily figures, or an organization's (its admins)",
    query: analyticsQuery,
    status: 200,
    response: z.object({ from: z.string(), to: z.string(), organizationId: z.optional(z.string()), totals: anObject, days: z.array(z.looseObject({ date: z.string() })) }),
  }),
  createWebhook: route({ method: 'POST', path: '/webhooks', security: 'organizer', summary: 'Subscribe a URL to your bookings\' events (the secret is in this answer only)', body: createWebhookBody, status: 201, response: z.extend(webhookSchema, { secret: z.string() }), command: true }),
  listWebhooks: route({ method: 'GET', path: '/webhooks', security: 'organizer', summary: 'Your webhooks', status: 200, response: z.object({ webhooks: z.array(webhookSchema) }) }),
  getWebhook: route({ method: 'GET', path: '/webhooks/{id}', security: 'organizer', summary: 'A webhook', status: 200, response: webhookSchema }),
  updateWebhook: route({ method: 'PATCH', path: '/webhooks/{id}', security: 'organizer', summary: 'Change a webhook (active: true turns a disabled one back on)', body: updateWebhookBody, status: 200, response: webhookSchema, command: true }),
  deleteWebhook: route({ method: 'DELETE', path: '/webhooks/{id}', security: 'organizer', summary: 'Delete a webhook', status: 204, command: true }),
  rotateWebhookSecret: route({
    method: 'POST',
    path: '/webhooks/{id}/secret/rotate',
    security: 'organizer',
    summary: 'A new signing secret; the previous one signs too for a day',
    status: 200,
    response: z.object({ id: z.string(), secret: z.string(), previousSecretExpiresAt: z.string() }),
    command: true,
  }),
  listDeliveries: route({ method: 'GET', path: '/webhooks/{id}/deliveries', security: 'organizer', summary: 'The delivery log, newest event first', query: deliveriesQuery, status: 200, response: z.object({ deliveries: z.array(anObject), next: z.optional(z.string()) }) }),
  redeliver: route({ method: 'POST', path: '/webhooks/{id}/deliveries/{eventId}/redeliver', security: 'organizer', summary: 'Send one delivery again now', status: 202, response: anObject, command: true }),
  replayWebhook: route({ method: 'POST', path: '/webhooks/{id}/replay', security: 'organizer', summary: 'Send every wanted event of a time range (at most 31 days)', body: replayBody, status: 202, response: anObject, command: true }),
  connectCaldav: route({ method: 'POST', path: '/calendars/connections', security: 'organizer', summary: 'Connect a CalDAV account (the login is verified; a refused one is a 422 naming password)', body: connectCaldavBody, status: 201, response: connectionSchema, command: true }),
  listConnections: route({ method: 'GET', path: '/calendars/connections', security: 'organizer', summary: 'Your calendar connections with their calendars, flags and sync state', status: 200, response: z.object({ connections: z.array(connectionSchema) }) }),
  getConnection: route({ method: 'GET', path: '/calendars/connections/{id}', security: 'organizer', summary: 'A calendar connection', status: 200, response: connectionSchema }),
  updateConnection: route({ method: 'PATCH', path: '/calendars/connections/{id}', security: 'organizer', summary: "Change calendars' busy and destination flags (one destination per organizer)", body: updateConnectionBody, status: 200, response: connectionSchema, command: true }),
  deleteConnection: route({ method: 'DELETE', path: '/calendars/connections/{id}', security: 'organizer', summary: 'Disconnect: revoke what the provider allows and forget the busy time it brought', status: 204, command: true }),
  syncConnection: route({ method: 'POST', path: '/calendars/connections/{id}/sync', security: 'organizer', summary: 'Read busy time again now (202; the sync state tells when it ran)', status: 202, response: connectionSchema, command: true }),
  connectCalendar: route({ method: 'GET', path: '/calendars/connect/{provider}', security: 'organizer', summary: "302 to Google's or Microsoft's consent page with a signed state bound to you", status: 302 }),
  calendarCallback: route({ method: 'GET', path: '/calendars/callback/{provider}', security: 'public', summary: 'Where the provider sends the organizer back: exchanges the code, then 302 to a page saying how it went (HTML)', query: oauthCallbackQuery, status: 302 }),
  googleNotification: route({
    method: 'POST',
    path: '/calendars/notifications/google',
    security: 'public',
    forbidden: true,
    summary: "Google Calendar's push notifications: X-Goog-Channel-ID must name a channel of ours and X-Goog-Channel-Token match its secret (else 403, nothing changes); resource state sync is the handshake (200), exists/not_exists ask for a read of that connection (202)",
    headers: googleNotificationHeaders,
    status: 202,
  }),
  microsoftNotification: route({
    method: 'POST',
    path: '/calendars/notifications/microsoft',
    security: 'public',
    forbidden: true,
    summary: "Microsoft Graph's change notifications: ?validationToken= is echoed as text/plain (200); a batch's notifications whose clientState matches their subscription's ask for a read (202), the others are dropped (403 when none matches)",
    query: graphValidationQuery,
    body: graphChangeBatch,
    status: 202,
  }),
  microsoftLifecycleNotification: route({
    method: 'POST',
    path: '/calendars/notifications/microsoft/lifecycle',
    security: 'public',
    forbidden: true,
    summary: "Microsoft Graph's lifecycle notifications, verified by clientState: reauthorizationRequired renews the subscription, missed reads the calendar in full, subscriptionRemoved makes a new subscription (202)",
    query: graphValidationQuery,
    body: graphLifecycleBatch,
    status: 202,
  }),
  listConflicts: route({ method: 'GET', path: '/calendars/conflicts', security: 'organizer', summary: 'Your calendar conflicts (external events over your bookings) with their severity', query: conflictsQuery, status: 200, response: z.object({ conflicts: z.array(anObject) }) }),
};

export type Contract = typeof contract;
export type OperationId = keyof Contract;
