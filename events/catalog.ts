import type * as z from './zod.ts';
import * as booking from './booking.ts';
import * as calendars from './calendars.ts';
import * as calendarSync from './calendar-sync.ts';
import * as others from './others.ts';
import * as scheduling from './scheduling.ts';
import * as webhooks from './webhooks.ts';
import { envelopeSchema, type DomainEvent } from './envelope.ts';

type CatalogEntry = {
  aggregateType: 'booking' | 'user' | 'organization' | 'team' | 'schedule' | 'event-type' | 'calendar' | 'webhook';
  /** Version of the payload schema; a breaking change adds a new version, never edits an old one. */
  schemaVersion: number;
  payload: z.ZodMiniType;
};

/**
 * Every event type the system knows, by the name it travels under. Who emits and who consumes each one is
 * written down in events/README.md; the samples in events/samples are checked against these schemas.
 */
export const eventCatalog = {
  'booking.requested': { aggregateType: 'booking', schemaVersion: 1, payload: booking.bookingRequested },
  'booking.created': { aggregateType: 'booking', schemaVersion: 1, payload: booking.bookingCreated },
  'booking.confirmed': { aggregateType: 'booking', schemaVersion: 1, payload: booking.bookingConfirmed },
  'booking.updated': { aggregateType: 'booking', schemaVersion: 1, payload: booking.bookingUpdated },
  'booking.cancelled': { aggregateType: 'booking', schemaVersion: 1, payload: booking.bookingCancelled },
  'booking.rejected': { aggregateType: 'booking', schemaVersion: 1, payload: booking.bookingRejected },
  'booking.rescheduled': { aggregateType: 'booking', schemaVersion: 1, payload: booking.bookingRescheduled },
  'booking.creation.failed': { aggregateType: 'booking', schemaVersion: 1, payload: booking.bookingCreationFailed },
  'booking.completed': { aggregateType: 'booking', schemaVersion: 1, payload: booking.bookingCompleted },
  'payment.initiated': { aggregateType: 'booking', schemaVersion: 1, payload: booking.paymentInitiated },
  'payment.completed': { aggregateType: 'booking', schemaVersion: 1, payload: booking.paymentCompleted },
  'payment.failed': { aggregateType: 'booking', schemaVersion: 1, payload: booking.paymentFailed },
  'payment.refunded': { aggregateType: 'booking', schemaVersion: 1, payload: booking.paymentRefunded },
  'user.created': { aggregateType: 'user', schemaVersion: 1, payload: others.userCreated },
  'user.updated': { aggregateType: 'user', schemaVersion: 1, payload: others.userUpdated },
  'user.deleted': { aggregateType: 'user', schemaVersion: 1, payload: others.userDeleted },
  'organization.created': { aggregateType: 'organization', schemaVersion: 1, payload: scheduling.organizationCreated },
  'organization.member.added': { aggregateType: 'organization', schemaVersion: 1, payload: scheduling.organizationMemberAdded },
  'organization.member.removed': { aggregateType: 'organization', schemaVersion: 1, payload: scheduling.organizationMemberRemoved },
  'organization.member.invited': { aggregateType: 'organization', schemaVersion: 1, payload: scheduling.organizationMemberInvited },
  'organization.invitation.declined': { aggregateType: 'organization', schemaVersion: 1, payload: scheduling.organizationInvitationDeclined },
  'organization.invitation.revoked': { aggregateType: 'organization', schemaVersion: 1, payload: scheduling.organizationInvitationRevoked },
  'team.created': { aggregateType: 'team', schemaVersion: 1, payload: scheduling.teamCreated },
  'team.member.added': { aggregateType: 'team', schemaVersion: 1, payload: scheduling.teamMemberAdded },
  'team.member.removed': { aggregateType: 'team', schemaVersion: 1, payload: scheduling.teamMemberRemoved },
  'schedule.created': { aggregateType: 'schedule', schemaVersion: 1, payload: scheduling.scheduleCreated },
  'schedule.updated': { aggregateType: 'schedule', schemaVersion: 1, payload: scheduling.scheduleUpdated },
  'event-type.created': { aggregateType: 'event-type', schemaVersion: 1, payload: scheduling.eventTypeCreated },
  'event-type.updated': { aggregateType: 'event-type', schemaVersion: 1, payload: scheduling.eventTypeUpdated },
  'calendar.connected': { aggregateType: 'calendar', schemaVersion: 1, payload: calendars.calendarConnected },
  'calendar.calendars.changed': { aggregateType: 'calendar', schemaVersion: 1, payload: calendars.calendarCalendarsChanged },
  'calendar.reauth.required': { aggregateType: 'calendar', schemaVersion: 1, payload: calendars.calendarReauthRequired },
  'calendar.disconnected': { aggregateType: 'calendar', schemaVersion: 1, payload: calendars.calendarDisconnected },
  'calendar.event.created': { aggregateType: 'calendar', schemaVersion: 1, payload: calendars.calendarEventCreated },
  'calendar.event.updated': { aggregateType: 'calendar', schemaVersion: 1, payload: calendars.calendarEventUpdated },
  'calendar.event.deleted': { aggregateType: 'calendar', schemaVersion: 1, payload: calendars.calendarEventDeleted },
  'calendar.conflict.detected': { aggregateType: 'calendar', schemaVersion: 1, payload: calendarSync.calendarConflictDetected },
  'calendar.conflict.resolved': { aggregateType: 'calendar', schemaVersion: 1, payload: calendarSync.calendarConflictResolved },
  'calendar.sync.failing': { aggregateType: 'calendar', schemaVersion: 1, payload: calendarSync.calendarSyncFailing },
  'calendar.event.drifted': { aggregateType: 'calendar', schemaVersion: 1, payload: calendarSync.calendarEventDrifted },
  'webhook.created': { aggregateType: 'webhook', schemaVersion: 1, payload: webhooks.webhookCreated },
  'webhook.updated': { aggregateType: 'webhook', schemaVersion: 1, payload: webhooks.webhookUpdated },
  'webhook.secret.rotated': { aggregateType: 'webhook', schemaVersion: 1, payload: webhooks.webhookSecretRotated },
  'webhook.deleted': { aggregateType: 'webhook', schemaVersion: 1, payload: webhooks.webhookDeleted },
  'webhook.disabled': { aggregateType: 'webhook', schemaVersion: 1, payload: webhooks.webhookDisabled },
} as const satisfies Record<string, CatalogEntry>;

export type EventTypeName = keyof typeof eventCatalog;
export type PayloadOf<T extends EventTypeName> = z.infer<(typeof eventCatalog)[T]['payload']>;
export const eventTypeNames = Object.keys(eventCatalog) as EventTypeName[];

/** The event as its type says it is: a union that switch statements can narrow on `type`. */
export type TypedEvent<T extends EventTypeName = EventTypeName> = T extends EventTypeName
  ? DomainEvent<T, PayloadOf<T>>
  : never;

export class InvalidEventError extends Error {
  readonly issues: z.core.$ZodIssue[];
  constructor(message: string, issues: z.core.$ZodIssue[]) {
    super(message);
    this.name = 'InvalidEventError';
    this.issues = issues;
  }
}

export function isEventTypeName(type: string): type is EventTypeName {
  return Object.hasOwn(eventCatalog, type);
}

/** Checks an envelope and its payload against the catalog; nothing crosses a boundary without this. */
export function parseDomainEvent(input: unknown): TypedEvent {
  const envelope = envelopeSchema.safeParse(input);
  if (!envelope.success) throw new InvalidEventError('invalid event envelope', envelope.error.issues);
  const { type } = envelope.data;
  if (!isEventTypeName(type)) throw new InvalidEventError(`unknown event type ${type}`, []);
  const entry = eventCatalog[type];
  if (envelope.data.aggregateType !== entry.aggregateType) {
    throw new InvalidEventError(`${type} belongs to aggregate type ${entry.aggregateType}`, []);
  }
  const payload = entry.payload.safeParse(envelope.data.payload);
  if (!payload.success) throw new InvalidEventError(`invalid ${type} payload`, payload.error.issues);
  return { ...envelope.data, payload: payload.data } as TypedEvent;
}
