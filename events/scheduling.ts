import { z } from 'zod';
import { boundedList, date, id, longText, money, shortText, timeZone } from './primitives.ts';
import { refundPolicySchema } from './booking.ts';

const clock = z.string().max(5).regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (00:00 to 24:00)');
export const timeRangeSchema = z.object({ start: clock, end: clock }).refine((r) => r.end > r.start, { message: 'end must be after start', path: ['end'] });

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const scheduleFields = {
  name: shortText(100),
  timeZone,
  weekly: z.array(z.object({ day: z.enum(weekdays), start: clock, end: clock }).refine((r) => r.end > r.start, { message: 'end must be after start', path: ['end'] })).max(50),
  // At most 200 override days of 4 ranges each keeps a schedule's events under 45 KB (see the catalog test).
  overrides: z.array(z.object({ date, ranges: z.array(timeRangeSchema).max(4) })).max(200),
  outOfOffice: z.array(z.object({ start: date, end: date }).refine((r) => r.end >= r.start, { message: 'end must not be before start', path: ['end'] })).max(100),
};

/** Weekly hours in a time zone, with date overrides (an empty list of ranges is a day off) and out-of-office. */
export const scheduleDefinition = z.object({ ...scheduleFields, overrides: scheduleFields.overrides.default([]), outOfOffice: scheduleFields.outOfOffice.default([]) });

export const scheduleCreated = scheduleDefinition.extend({ ownerId: id, isDefault: z.boolean() });
// Updates name only what changes: no defaults here, or a partial update would reset the fields it leaves out.
// `isDefault` makes the schedule its owner's default (true) or leaves its owner with none (false).
export const scheduleUpdated = z.object({ changes: z.object({ ...scheduleFields, isDefault: z.boolean() }).partial() });

export const organizationCreated = z.object({ name: shortText(200), createdBy: id });
export const organizationMemberAdded = z.object({ userId: id, role: z.enum(['admin', 'member']) });
export const organizationMemberRemoved = z.object({ userId: id });
// Membership needs the member's consent: an admin invites, and only the invitee's accept adds them.
export const organizationMemberInvited = z.object({ userId: id, role: z.enum(['admin', 'member']) });
export const organizationInvitationDeclined = z.object({ userId: id });
export const organizationInvitationRevoked = z.object({ userId: id });

export const teamCreated = z.object({ organizationId: id, name: shortText(200), memberIds: boundedList(id, 100) });
export const teamMemberAdded = z.object({ userId: id });
export const teamMemberRemoved = z.object({ userId: id });

export const bookingWindowSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('rolling'), days: z.number().int().min(1).max(3650) }),
  z.object({ type: z.literal('range'), start: date, end: date }),
]);

const eventTypeFields = {
  title: shortText(200),
  slug: z.string().max(100).regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lower-case words joined by hyphens'),
  description: longText.optional(),
  lengthMinutes: z.number().int().min(5).max(720),
  slotIntervalMinutes: z.number().int().min(5).max(720).optional(),
  minimumNoticeMinutes: z.number().int().min(0).max(525_600),
  bufferBeforeMinutes: z.number().int().min(0).max(240),
  bufferAfterMinutes: z.number().int().min(0).max(240),
  bookingWindow: bookingWindowSchema.optional(),
  requiresConfirmation: z.boolean(),
  // Either case: Stripe writes `eur`, ISO 4217 `EUR`; payments send it to Stripe in lower case.
  price: z.object({ amount: money, currency: z.string().max(3).regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 code such as EUR') }).optional(),
  /** How long an attendee has to pay, from the start of each payment attempt (30 minutes unless set). */
  paymentWindowMinutes: z.number().int().min(1).max(1440).optional(),
  refundPolicy: refundPolicySchema.optional(),
  active: z.boolean(),
  scheduleId: id.optional(),
  teamId: id.optional(),
  schedulingType: z.enum(['collective', 'round_robin']).optional(),
};

/** Everything an event type is, with the defaults a new one gets; the created event carries it whole. */
export const eventTypeSettings = z.object({
  ...eventTypeFields,
  minimumNoticeMinutes: eventTypeFields.minimumNoticeMinutes.default(0),
  bufferBeforeMinutes: eventTypeFields.bufferBeforeMinutes.default(0),
  bufferAfterMinutes: eventTypeFields.bufferAfterMinutes.default(0),
  requiresConfirmation: eventTypeFields.requiresConfirmation.default(false),
  active: eventTypeFields.active.default(true),
});
export const eventTypeCreated = eventTypeSettings.extend({ ownerId: id });
// Updates carry only the changed fields: no defaults, or they would reset what the update leaves out.
export const eventTypeUpdated = z.object({ changes: z.object(eventTypeFields).partial() });
