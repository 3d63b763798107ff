import { z } from 'zod';
import { isValidTimeZone, refundPolicySchema } from './booking.ts';

const timeZone = z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin');
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (00:00 to 24:00)');
const date = z.iso.date({ message: 'must be a date YYYY-MM-DD' });
export const timeRangeSchema = z.object({ start: clock, end: clock }).refine((r) => r.end > r.start, { message: 'end must be after start', path: ['end'] });

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const scheduleFields = {
  name: z.string().trim().min(1).max(100),
  timeZone,
  weekly: z.array(z.object({ day: z.enum(weekdays), start: clock, end: clock }).refine((r) => r.end > r.start, { message: 'end must be after start', path: ['end'] })).max(100),
  overrides: z.array(z.object({ date, ranges: z.array(timeRangeSchema).max(20) })).max(366),
  outOfOffice: z.array(z.object({ start: date, end: date }).refine((r) => r.end >= r.start, { message: 'end must not be before start', path: ['end'] })).max(100),
};

/** Weekly hours in a time zone, with date overrides (an empty list of ranges is a day off) and out-of-office. */
export const scheduleDefinition = z.object({ ...scheduleFields, overrides: scheduleFields.overrides.default([]), outOfOffice: scheduleFields.outOfOffice.default([]) });

export const scheduleCreated = scheduleDefinition.extend({ ownerId: z.string(), isDefault: z.boolean() });
// Updates name only what changes: no defaults here, or a partial update would reset the fields it leaves out.
// `isDefault` makes the schedule its owner's default (true) or leaves its owner with none (false).
export const scheduleUpdated = z.object({ changes: z.object({ ...scheduleFields, isDefault: z.boolean() }).partial() });

export const organizationCreated = z.object({ name: z.string(), createdBy: z.string() });
export const organizationMemberAdded = z.object({ userId: z.string(), role: z.enum(['admin', 'member']) });
export const organizationMemberRemoved = z.object({ userId: z.string() });

export const teamCreated = z.object({ organizationId: z.string(), name: z.string(), memberIds: z.array(z.string()) });
export const teamMemberAdded = z.object({ userId: z.string() });
export const teamMemberRemoved = z.object({ userId: z.string() });

export const bookingWindowSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('rolling'), days: z.number().int().min(1).max(3650) }),
  z.object({ type: z.literal('range'), start: date, end: date }),
]);

const eventTypeFields = {
  title: z.string().trim().min(1).max(200),
  slug: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lower-case words joined by hyphens'),
  description: z.string().max(5000).optional(),
  lengthMinutes: z.number().int().min(5).max(720),
  slotIntervalMinutes: z.number().int().min(5).max(720).optional(),
  minimumNoticeMinutes: z.number().int().min(0).max(525_600),
  bufferBeforeMinutes: z.number().int().min(0).max(240),
  bufferAfterMinutes: z.number().int().min(0).max(240),
  bookingWindow: bookingWindowSchema.optional(),
  requiresConfirmation: z.boolean(),
  // Either case: Stripe writes `eur`, ISO 4217 `EUR`; payments send it to Stripe in lower case.
  price: z.object({ amount: z.number().int().positive(), currency: z.string().regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 code such as EUR') }).optional(),
  /** How long an attendee has to pay, from the start of each payment attempt (30 minutes unless set). */
  paymentWindowMinutes: z.number().int().min(1).max(1440).optional(),
  refundPolicy: refundPolicySchema.optional(),
  active: z.boolean(),
  scheduleId: z.string().optional(),
  teamId: z.string().optional(),
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
export const eventTypeCreated = eventTypeSettings.extend({ ownerId: z.string() });
// Updates carry only the changed fields: no defaults, or they would reset what the update leaves out.
export const eventTypeUpdated = z.object({ changes: z.object(eventTypeFields).partial() });
