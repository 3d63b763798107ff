import * as z from './zod.ts';
import { boundedList, date, id, longText, money, shortText, timeZone } from './primitives.ts';
import { refundPolicySchema } from './booking.ts';

const clock = z.string().check(z.maxLength(5), z.regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (00:00 to 24:00)'));
export const timeRangeSchema = z.object({ start: clock, end: clock }).check(z.refine((r) => r.end > r.start, { message: 'end must be after start', path: ['end'] }));

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const scheduleFields = {
  name: shortText(100),
  timeZone,
  weekly: z
    .array(z.object({ day: z.enum(weekdays), start: clock, end: clock }).check(z.refine((r) => r.end > r.start, { message: 'end must be after start', path: ['end'] })))
    .check(z.maxLength(50)),
  // At most 200 override days of 4 ranges each keeps a schedule's events under 45 KB (see the catalog test).
  overrides: z.array(z.object({ date, ranges: z.array(timeRangeSchema).check(z.maxLength(4)) })).check(z.maxLength(200)),
  outOfOffice: z
    .array(z.object({ start: date, end: date }).check(z.refine((r) => r.end >= r.start, { message: 'end must not be before start', path: ['end'] })))
    .check(z.maxLength(100)),
};

/** Weekly hours in a time zone, with date overrides (an empty list of ranges is a day off) and out-of-office. */
export const scheduleDefinition = z.object({ ...scheduleFields, overrides: z._default(scheduleFields.overrides, []), outOfOffice: z._default(scheduleFields.outOfOffice, []) });

export const scheduleCreated = z.extend(scheduleDefinition, { ownerId: id, isDefault: z.boolean() });
// Updates name only what changes: no defaults here, or a partial update would reset the fields it leaves out.
// `isDefault` makes the schedule its owner's default (true) or leaves its owner with none (false).
export const scheduleUpdated = z.object({ changes: z.partial(z.object({ ...scheduleFields, isDefault: z.boolean() })) });

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
  z.object({ type: z.literal('rolling'), days: z.int().check(z.gte(1), z.lte(3650)) }),
  z.object({ type: z.literal('range'), start: date, end: date }),
]);

const eventTypeFields = {
  title: shortText(200),
  slug: z.string().check(z.maxLength(100), z.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lower-case words joined by hyphens')),
  description: z.optional(longText),
  lengthMinutes: z.int().check(z.gte(5), z.lte(720)),
  slotIntervalMinutes: z.optional(z.int().check(z.gte(5), z.lte(720))),
  minimumNoticeMinutes: z.int().check(z.gte(0), z.lte(525_600)),
  bufferBeforeMinutes: z.int().check(z.gte(0), z.lte(240)),
  bufferAfterMinutes: z.int().check(z.gte(0), z.lte(240)),
  bookingWindow: z.optional(bookingWindowSchema),
  requiresConfirmation: z.boolean(),
  // Either case: Stripe writes `eur`, ISO 4217 `EUR`; payments send it to Stripe in lower case.
  price: z.optional(z.object({ amount: money, currency: z.string().check(z.maxLength(3), z.regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 code such as EUR')) })),
  /** How long an attendee has to pay, from the start of each payment attempt (30 minutes unless set). */
  paymentWindowMinutes: z.optional(z.int().check(z.gte(1), z.lte(1440))),
  refundPolicy: z.optional(refundPolicySchema),
  active: z.boolean(),
  scheduleId: z.optional(id),
  teamId: z.optional(id),
  schedulingType: z.optional(z.enum(['collective', 'round_robin'])),
};

/** Everything an event type is, with the defaults a new one gets; the created event carries it whole. */
export const eventTypeSettings = z.object({
  ...eventTypeFields,
  minimumNoticeMinutes: z._default(eventTypeFields.minimumNoticeMinutes, 0),
  bufferBeforeMinutes: z._default(eventTypeFields.bufferBeforeMinutes, 0),
  bufferAfterMinutes: z._default(eventTypeFields.bufferAfterMinutes, 0),
  requiresConfirmation: z._default(eventTypeFields.requiresConfirmation, false),
  active: z._default(eventTypeFields.active, true),
});
export const eventTypeCreated = z.extend(eventTypeSettings, { ownerId: id });
// Updates carry only the changed fields: no defaults, or they would reset what the update leaves out.
export const eventTypeUpdated = z.object({ changes: z.partial(z.object(eventTypeFields)) });
