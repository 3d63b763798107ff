import * as z from './zod.ts';
import { boundedList, clip, email, externalId, id, instant, longText, money, personName, reasonText, shortText, timeZone } from './primitives.ts';

export { isValidTimeZone } from './primitives.ts';

const isoInstant = instant;

/**
 * A ceiling on the hosts whose time one booking claims. The booking's one transaction (at most 100 actions)
 * writes each host's claim cells, busy interval and view, so in practice fewer fit: a team that large needs a
 * rule of its own before it can book collectively.
 */
export const MAX_HOSTS = 50;
/** Text we compose (a failure's cause, a round-robin explanation) is cut to this before it goes into an event. */
export const MAX_EXPLANATION = 2000;
export const explanation = (text: string) => clip(text, MAX_EXPLANATION);

export const attendeeSchema = z.object({
  name: personName,
  email,
  timeZone,
});
export type Attendee = z.infer<typeof attendeeSchema>;

export const actorSchema = z.enum(['attendee', 'organizer', 'system']);
export const priceSchema = z.object({ amount: money, currency: z.string().check(z.length(3)) });
const buffer = z.int().check(z.gte(0), z.lte(240));
/**
 * How much of a paid booking's price a cancellation gives back: all of it until `fullRefundUntilHoursBefore`
 * hours before the start, `laterRefundPercent` of it after. The organizer cancelling or rejecting always refunds
 * in full. Without a policy every cancellation refunds in full.
 */
export const refundPolicySchema = z.object({
  fullRefundUntilHoursBefore: z.int().check(z.gte(0), z.lte(8760)),
  laterRefundPercent: z._default(z.int().check(z.gte(0), z.lte(100)), 0),
});
/** The payment terms of a priced booking, fixed when it is requested so a later edit of the event type cannot change them. */
export const paymentTermsSchema = z.object({ windowMinutes: z.int().check(z.gte(1), z.lte(1440)), refundPolicy: z.optional(refundPolicySchema) });

export const bookingRequested = z.object({
  eventTypeId: id,
  organizerId: id,
  /** The hosts whose time the booking claims: the owner, every collective host, or the round-robin pick. */
  hostIds: boundedList(id, MAX_HOSTS).check(z.minLength(1)),
  title: shortText(500),
  start: isoInstant,
  end: isoInstant,
  bufferBeforeMinutes: buffer,
  bufferAfterMinutes: buffer,
  attendee: attendeeSchema,
  requiresConfirmation: z.boolean(),
  price: z.optional(priceSchema),
  paymentTerms: z.optional(paymentTermsSchema),
  /** Why the round-robin assignment picked this host; absent for other scheduling types. */
  assignment: z.optional(z.object({ strategy: shortText(50), reason: z.string().check(z.maxLength(MAX_EXPLANATION)) })),
});
export const bookingCreated = z.object({
  eventTypeId: id,
  organizerId: id,
  hostIds: boundedList(id, MAX_HOSTS).check(z.minLength(1)),
  start: isoInstant,
  end: isoInstant,
  awaiting: z.enum(['confirmation', 'payment', 'nothing']),
});
export const bookingConfirmed = z.object({ confirmedBy: actorSchema, start: isoInstant, end: isoInstant });
export const bookingUpdated = z.object({
  changes: z.object({ title: z.optional(shortText(500)), notes: z.optional(longText), location: z.optional(z.string().check(z.maxLength(1000))) }),
});
export const bookingCancelled = z.object({ reason: z.optional(reasonText), cancelledBy: actorSchema });
export const bookingRejected = z.object({ reason: z.optional(reasonText) });
export const bookingRescheduled = z.object({
  previousStart: isoInstant,
  previousEnd: isoInstant,
  start: isoInstant,
  end: isoInstant,
  rescheduledBy: actorSchema,
});
export const bookingCreationFailed = z.object({ reason: z.string().check(z.maxLength(MAX_EXPLANATION)), step: z.string().check(z.maxLength(100)) });
export const bookingCompleted = z.object({ completedAt: isoInstant });

export const paymentInitiated = z.object({
  /** The Stripe PaymentIntent of this attempt. */
  paymentId: externalId,
  provider: z.literal('stripe'),
  amount: money,
  currency: z.string().check(z.length(3)),
  /** 1 for the first attempt, one more for each retry. */
  attempt: z.int().check(z.gte(1)),
  /** When the attempt's payment window ends: unpaid by then, the booking lets its time go. */
  expiresAt: isoInstant,
});
export const paymentCompleted = z.object({ paymentId: externalId, amount: money, currency: z.string().check(z.length(3)) });
export const paymentFailed = z.object({
  paymentId: externalId,
  /** Stripe's message, or `expired` when the payment window passed unpaid. */
  reason: z.string().check(z.maxLength(MAX_EXPLANATION)),
  /** Stripe's error `code` and `decline_code`, when Stripe gave them. */
  code: z.optional(z.string().check(z.maxLength(200))),
  declineCode: z.optional(z.string().check(z.maxLength(200))),
});
export const paymentRefunded = z.object({
  paymentId: externalId,
  amount: money,
  currency: z.string().check(z.length(3)),
  reason: z.optional(reasonText),
});
