import { z } from 'zod';

const isoInstant = z.iso.datetime({ offset: true });
const timeZone = z.string().min(1).refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin');

const knownZones = new Set<string>();

export function isValidTimeZone(zone: string): boolean {
  if (knownZones.has(zone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    return false;
  }
  knownZones.add(zone);
  return true;
}

export const attendeeSchema = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.email(),
  timeZone,
});
export type Attendee = z.infer<typeof attendeeSchema>;

export const actorSchema = z.enum(['attendee', 'organizer', 'system']);
export const priceSchema = z.object({ amount: z.number().int().positive(), currency: z.string().length(3) });
/**
 * How much of a paid booking's price a cancellation gives back: all of it until `fullRefundUntilHoursBefore`
 * hours before the start, `laterRefundPercent` of it after. The organizer cancelling or rejecting always refunds
 * in full. Without a policy every cancellation refunds in full.
 */
export const refundPolicySchema = z.object({
  fullRefundUntilHoursBefore: z.number().int().min(0).max(8760),
  laterRefundPercent: z.number().int().min(0).max(100).default(0),
});
/** The payment terms of a priced booking, fixed when it is requested so a later edit of the event type cannot change them. */
export const paymentTermsSchema = z.object({ windowMinutes: z.number().int().min(1).max(1440), refundPolicy: refundPolicySchema.optional() });

export const bookingRequested = z.object({
  eventTypeId: z.string(),
  organizerId: z.string(),
  /** The hosts whose time the booking claims: the owner, every collective host, or the round-robin pick. */
  hostIds: z.array(z.string()).min(1),
  title: z.string(),
  start: isoInstant,
  end: isoInstant,
  bufferBeforeMinutes: z.number().int().min(0),
  bufferAfterMinutes: z.number().int().min(0),
  attendee: attendeeSchema,
  requiresConfirmation: z.boolean(),
  price: priceSchema.optional(),
  paymentTerms: paymentTermsSchema.optional(),
  /** Why the round-robin assignment picked this host; absent for other scheduling types. */
  assignment: z.object({ strategy: z.string(), reason: z.string() }).optional(),
});
export const bookingCreated = z.object({
  eventTypeId: z.string(),
  organizerId: z.string(),
  hostIds: z.array(z.string()).min(1),
  start: isoInstant,
  end: isoInstant,
  awaiting: z.enum(['confirmation', 'payment', 'nothing']),
});
export const bookingConfirmed = z.object({ confirmedBy: actorSchema, start: isoInstant, end: isoInstant });
export const bookingUpdated = z.object({
  changes: z.object({ title: z.string().optional(), notes: z.string().optional(), location: z.string().optional() }),
});
export const bookingCancelled = z.object({ reason: z.string().optional(), cancelledBy: actorSchema });
export const bookingRejected = z.object({ reason: z.string().optional() });
export const bookingRescheduled = z.object({
  previousStart: isoInstant,
  previousEnd: isoInstant,
  start: isoInstant,
  end: isoInstant,
  rescheduledBy: actorSchema,
});
export const bookingCreationFailed = z.object({ reason: z.string(), step: z.string() });
export const bookingCompleted = z.object({ completedAt: isoInstant });

export const paymentInitiated = z.object({
  /** The Stripe PaymentIntent of this attempt. */
  paymentId: z.string(),
  provider: z.literal('stripe'),
  amount: z.number().int().positive(),
  currency: z.string().length(3),
  /** 1 for the first attempt, one more for each retry. */
  attempt: z.number().int().min(1),
  /** When the attempt's payment window ends: unpaid by then, the booking lets its time go. */
  expiresAt: isoInstant,
});
export const paymentCompleted = z.object({ paymentId: z.string(), amount: z.number().int().positive(), currency: z.string().length(3) });
export const paymentFailed = z.object({
  paymentId: z.string(),
  /** Stripe's message, or `expired` when the payment window passed unpaid. */
  reason: z.string(),
  /** Stripe's error `code` and `decline_code`, when Stripe gave them. */
  code: z.string().optional(),
  declineCode: z.string().optional(),
});
export const paymentRefunded = z.object({
  paymentId: z.string(),
  amount: z.number().int().positive(),
  currency: z.string().length(3),
  reason: z.string().optional(),
});
