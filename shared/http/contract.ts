import { z } from 'zod';
import { actorSchema, attendeeSchema, bookingRequested } from '../../events/booking.ts';
import { userCreated, userUpdated } from '../../events/others.ts';
import { boundedList, dateOrInstant, id, instant, reasonText, shortText, timeZone } from '../../events/primitives.ts';
import { eventTypeSettings, eventTypeUpdated, scheduleDefinition, scheduleUpdated } from '../../events/scheduling.ts';
import { bookingStatuses } from '../booking/decider.ts';

/**
 * The HTTP contract: every route with the schemas its handler parses (body, query) and what it answers. The
 * handlers import their schemas from here and the OpenAPI document is generated from here, so what is published
 * is what is enforced; a test holds this list to the stack's routes. Keyed by operation id. Pure: zod and the
 * event catalog only, so the typed client can take its types from it.
 */

// Strict bodies: a field we do not know (a typo, a field of another version) is a 400 naming it.
const reasonBody = z.strictObject({ reason: reasonText.optional() });
const role = z.enum(['admin', 'member']);

/** A booking as the API shows it (shared/booking/presenter.ts). */
export const bookingSchema = bookingRequested.extend({
  id,
  status: z.enum(bookingStatuses),
  awaiting: z.enum(['confirmation', 'payment']).optional(),
  payment: z.object({ paymentId: z.string(), amount: z.number(), currency: z.string(), state: z.enum(['initiated', 'completed', 'failed', 'refunded']) }).optional(),
  cancellation: z.object({ by: actorSchema, reason: z.string().optional(), kind: z.enum(['cancelled', 'rejected', 'creation_failed']), step: z.string().optional() }).optional(),
  previousTimes: z.array(z.object({ start: z.string(), end: z.string() })).optional(),
  version: z.number().int().min(1),
  updatedAt: z.string(),
});
export const createdBookingSchema = bookingSchema.extend({ manageToken: z.string(), manageUrl: z.string() });
const domainEventSchema = z.object({
  id: z.string(),
  type: z.string(),
  aggregateId: z.string(),
  aggregateType: z.string(),
  version: z.number().int(),
  payload: z.record(z.string(), z.unknown()),
  metadata: z.object({ timestamp: z.string() }).loose(),
});
/** Answers whose shape the handlers do not yet pin down here are objects; their fields are in the README. */
const anObject = z.object({}).loose();

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export type Security = 'public' | 'organizer' | 'organizer-or-attendee';
type Route = {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  security: Security;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** The success status and its body. */
  status: number;
  response: z.ZodType;
  /** A command: an Idempotency-Key makes its retries safe. */
  command?: boolean;
};

const route = <const R extends Route>(r: R) => r;

export const contract = {
  health: route({ method: 'GET', path: '/health', security: 'public', summary: 'Liveness', status: 200, response: anObject }),
  openapi: route({ method: 'GET', path: '/openapi.json', security: 'public', summary: 'This document', status: 200, response: anObject }),
  console: route({ method: 'GET', path: '/console', security: 'public', summary: 'The operator console (HTML)', status: 200, response: z.string() }),
  createEventType: route({ method: 'POST', path: '/event-types', security: 'organizer', summary: 'Create an event type', body: z.strictObject(eventTypeSettings.shape), status: 201, response: anObject, command: true }),
  getEventType: route({ method: 'GET', path: '/event-types/{id}', security: 'public', summary: 'An event type (all of it to its owner)', status: 200, response: anObject }),
  listEventTypes: route({ method: 'GET', path: '/event-types', security: 'organizer', summary: 'Your event types', status: 200, response: anObject }),
  updateEventType: route({ method: 'PATCH', path: '/event-types/{id}', security: 'organizer', summary: 'Change an event type', body: z.strictObject(eventTypeUpdated.shape.changes.shape), status: 200, response: anObject, command: true }),
  createBooking: route({
    method: 'POST',
    path: '/bookings',
    security: 'public',
    summary: 'Request a booking',
    body: z.strictObject({ eventTypeId: id, start: instant, end: instant.optional(), attendee: attendeeSchema }),
    status: 202,
    response: createdBookingSchema,
    command: true,
  }),
  listBookings: route({
    method: 'GET',
    path: '/bookings',
    security: 'organizer',
    summary: 'The bookings you organize or host, by start',
    query: z.object({
      status: z.enum(bookingStatuses).optional(),
      /** A date-time, or a date: that day's start in `timeZone` (UTC unless given), as /slots reads dates. */
      from: dateOrInstant.optional(),
      timeZone: timeZone.default('UTC'),
      limit: z.coerce.number().int().min(1).max(100).default(50),
      cursor: z.string().max(1024).optional(),
    }),
    status: 200,
    response: z.object({ bookings: z.array(bookingSchema), cursor: z.string().optional() }),
  }),
  getBooking: route({
    method: 'GET',
    path: '/bookings/{id}',
    security: 'organizer-or-attendee',
    summary: 'A booking; with ?version=N, as it was right after event N',
    query: z.object({
      /** The attendee's booking token, as an alternative to the X-Booking-Token header. */
      token: z.string().max(128).optional(),
      /** Time travel: the booking as it was right after event N of its stream. */
      version: z.coerce.number().int().min(1).max(1_000_000).optional(),
    }),
    status: 200,
    response: bookingSchema,
  }),
  getBookingEvents: route({ method: 'GET', path: '/bookings/{id}/events', security: 'organizer-or-attendee', summary: "A booking's events, versions 1..n", status: 200, response: z.object({ bookingId: z.string(), events: z.array(domainEventSchema) }) }),
  getBookingAudit: route({ method: 'GET', path: '/bookings/{id}/audit', security: 'organizer', summary: 'What the audit subscriber recorded', status: 200, response: anObject }),
  cancelBooking: route({ method: 'POST', path: '/bookings/{id}/cancel', security: 'organizer-or-attendee', summary: 'Cancel a booking', body: reasonBody, status: 200, response: bookingSchema, command: true }),
  rescheduleBooking: route({ method: 'POST', path: '/bookings/{id}/reschedule', security: 'organizer-or-attendee', summary: 'Move a confirmed booking', body: z.strictObject({ start: instant }), status: 200, response: bookingSchema, command: true }),
  confirmBooking: route({ method: 'POST', path: '/bookings/{id}/confirm', security: 'organizer', summary: 'Confirm a booking that waits for it', status: 200, response: bookingSchema, command: true }),
  rejectBooking: route({ method: 'POST', path: '/bookings/{id}/reject', security: 'organizer', summary: 'Decline a request', body: reasonBody, status: 200, response: bookingSchema, command: true }),
  getSlots: route({
    method: 'GET',
    path: '/slots',
    security: 'public',
    summary: 'Bookable starts by day',
    query: z.object({ eventTypeId: id, start: dateOrInstant, end: dateOrInstant, timeZone: timeZone.default('UTC') }),
    status: 200,
    response: z.object({ slots: z.record(z.string(), z.array(z.object({ start: z.string() }).loose())) }),
  }),
  getMe: route({ method: 'GET', path: '/users/me', security: 'organizer', summary: 'Your profile', status: 200, response: anObject }),
  createMe: route({ method: 'POST', path: '/users/me', security: 'organizer', summary: 'Create your profile', body: z.strictObject(userCreated.shape), status: 201, response: anObject, command: true }),
  updateMe: route({ method: 'PATCH', path: '/users/me', security: 'organizer', summary: 'Change your profile', body: z.strictObject(userUpdated.shape.changes.shape), status: 200, response: anObject, command: true }),
  deleteMe: route({ method: 'DELETE', path: '/users/me', security: 'organizer', summary: 'Delete your account', status: 200, response: anObject, command: true }),
  createSchedule: route({ method: 'POST', path: '/schedules', security: 'organizer', summary: 'Create a schedule', body: z.strictObject({ ...scheduleDefinition.shape, isDefault: z.boolean().optional() }), status: 201, response: anObject, command: true }),
  listSchedules: route({ method: 'GET', path: '/schedules', security: 'organizer', summary: 'Your schedules', status: 200, response: anObject }),
  getSchedule: route({ method: 'GET', path: '/schedules/{id}', security: 'organizer', summary: 'A schedule', status: 200, response: anObject }),
  updateSchedule: route({ method: 'PATCH', path: '/schedules/{id}', security: 'organizer', summary: 'Change a schedule', body: z.strictObject(scheduleUpdated.shape.changes.shape), status: 200, response: anObject, command: true }),
  createOrganization: route({ method: 'POST', path: '/organizations', security: 'organizer', summary: 'Create an organization', body: z.strictObject({ name: shortText(200) }), status: 201, response: anObject, command: true }),
  getOrganization: route({ method: 'GET', path: '/organizations/{id}', security: 'organizer', summary: 'An organization', status: 200, response: anObject }),
  invite: route({ method: 'POST', path: '/organizations/{id}/invitations', security: 'organizer', summary: 'Invite a user', body: z.strictObject({ userId: id, role: role.default('member') }), status: 201, response: anObject, command: true }),
  revokeInvitation: route({ method: 'DELETE', path: '/organizations/{id}/invitations/{userId}', security: 'organizer', summary: 'Revoke an invitation', status: 200, response: anObject, command: true }),
  acceptInvitation: route({ method: 'POST', path: '/organizations/{id}/invitations/accept', security: 'organizer', summary: 'Accept an invitation', status: 200, response: anObject, command: true }),
  declineInvitation: route({ method: 'POST', path: '/organizations/{id}/invitations/decline', security: 'organizer', summary: 'Decline an invitation', status: 200, response: anObject, command: true }),
  listInvitations: route({ method: 'GET', path: '/invitations', security: 'organizer', summary: 'Invitations waiting for your answer', status: 200, response: anObject }),
  removeMember: route({ method: 'DELETE', path: '/organizations/{id}/members/{userId}', security: 'organizer', summary: 'Remove a member', status: 200, response: anObject, command: true }),
  createTeam: route({ method: 'POST', path: '/organizations/{id}/teams', security: 'organizer', summary: 'Create a team', body: z.strictObject({ name: shortText(200), memberIds: boundedList(id, 90).default([]) }), status: 201, response: anObject, command: true }),
  getTeam: route({ method: 'GET', path: '/teams/{id}', security: 'organizer', summary: 'A team', status: 200, response: anObject }),
  addTeamMember: route({ method: 'POST', path: '/teams/{id}/members', security: 'organizer', summary: 'Add a team member', body: z.strictObject({ userId: id }), status: 200, response: anObject, command: true }),
  removeTeamMember: route({ method: 'DELETE', path: '/teams/{id}/members/{userId}', security: 'organizer', summary: 'Remove a team member', status: 200, response: anObject, command: true }),
};

export type Contract = typeof contract;
export type OperationId = keyof Contract;
