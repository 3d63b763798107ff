import { z } from 'zod';
import { id, instant } from './primitives.ts';

/** A webhook target: an http(s) URL of bounded length (the SSRF guard judges where it points). */
const url = z.url().max(2048);

// Outbound webhook subscriptions of an organizer. Secrets never travel in events: they are kept beside the
// subscription's read model (shared/webhooks/subscriptions.ts) and shown once, when made or rotated.
const eventNames = z.array(z.string().min(1).max(100)).min(1).max(50);

export const webhookCreated = z.object({
  organizerId: id,
  url,
  /** Domain event names it receives; all of its organizer's booking events when absent. */
  events: eventNames.optional(),
  description: z.string().max(500).optional(),
});
export const webhookUpdated = z.object({
  changes: z.object({ url, events: eventNames.nullable(), description: z.string().max(500), active: z.boolean() }).partial(),
});
/** A new secret signs from now on; the previous one signs too until `previousExpiresAt`. */
export const webhookSecretRotated = z.object({ previousExpiresAt: instant });
/** The URL it delivered to, for the audit trail. */
export const webhookDeleted = z.object({ url });
/** Deliveries failed without a success since `failingSince`; it stays off until its organizer turns it on. */
export const webhookDisabled = z.object({ reason: z.string().max(2000), failingSince: instant });
