// What the providers' push notifications carry, as the notification routes parse it (and the contract
// publishes it): Google's X-Goog-* headers, Graph's validationToken query and its JSON batches.
import { z } from 'zod';

const opaque = (max: number) => z.string().min(1).max(max);

export const googleNotificationHeaders = z.object({
  'x-goog-channel-id': z.string().regex(/^[A-Za-z0-9\-_+/=]{1,64}$/, 'must be a channel id'),
  'x-goog-channel-token': opaque(256).optional(),
  'x-goog-resource-state': z.enum(['sync', 'exists', 'not_exists']),
  'x-goog-resource-id': opaque(256).optional(),
});

/** Graph's handshake on subscription create: the token to echo back as text/plain. */
export const graphValidationQuery = z.object({ validationToken: opaque(1024).optional() });

export const graphChangeNotification = z
  .object({
    subscriptionId: opaque(128),
    clientState: opaque(128).nullable().optional(),
    changeType: opaque(64).optional(),
    resource: opaque(2048).optional(),
  })
  .loose();
export const graphLifecycleNotification = graphChangeNotification.extend({ lifecycleEvent: z.enum(['reauthorizationRequired', 'missed', 'subscriptionRemoved']) });

/** A batch: Graph sends up to a few hundred notifications per POST; more is not a batch of Graph's. */
const batchOf = <T extends z.ZodType>(item: T) => z.object({ value: z.array(item).min(1).max(1000) }).loose();
export const graphChangeBatch = batchOf(graphChangeNotification);
export const graphLifecycleBatch = batchOf(graphLifecycleNotification);
