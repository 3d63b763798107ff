import * as z from './zod.ts';
import { id, instant } from './primitives.ts';

/** A webhook target: an http(s) URL of bounded length (the SSRF guard judges where it points). */
const url = z.url().check(z.maxLength(2048));

// Outbound webhook subscriptions of an organizer. Secrets never travel in events: they are kept beside the
// subscription's read model (shared/webhooks/subscriptions.ts) and shown once, when made or rotated.
const eventNames = z.array(z.string().check(z.minLength(1), z.maxLength(100))).check(z.minLength(1), z.maxLength(50));

export const webhookCreated = z.object({
  organizerId: id,
  url,
  /** Domain event names it receives; all of its organizer's booking events when absent. */
  events: z.optional(eventNames),
  description: z.optional(z.string().check(z.maxLength(500))),
});
export const webhookUpdated = z.object({
  changes: z.partial(z.object({ url, events: z.nullable(eventNames), description: z.string().check(z.maxLength(500)), active: z.boolean() })),
});
/** A new secret signs from now on; the previous one signs too until `previousExpiresAt`. */
export const webhookSecretRotated = z.object({ previousExpiresAt: instant });
/** The URL it delivered to, for the audit trail. */
export const webhookDeleted = z.object({ url });
/** Deliveries failed without a success since `failingSince`; it stays off until its organizer turns it on. */
export const webhookDisabled = z.object({ reason: z.string().check(z.maxLength(2000)), failingSince: instant });
