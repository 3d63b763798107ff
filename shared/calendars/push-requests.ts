// What the providers' push notifications carry, as the notification routes parse it (and the contract
// publishes it): Google's X-Goog-* headers, Graph's validationToken query and its JSON batches.
import * as z from '../../events/zod.ts';

const opaque = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

export const googleNotificationHeaders = z.object({
  'x-goog-channel-id': z.string().check(z.regex(/^[A-Za-z0-9\-_+/=]{1,64}$/, 'must be a channel id')),
  'x-goog-channel-token': z.optional(opaque(256)),
  'x-goog-resource-state': z.enum(['sync', 'exists', 'not_exists']),
  'x-goog-resource-id': z.optional(opaque(256)),
});

/** Graph's handshake on subscription create: the token to echo back as text/plain. */
export const graphValidationQuery = z.object({ validationToken: z.optional(opaque(1024)) });

export const graphChangeNotification = z.looseObject({
  subscriptionId: opaque(128),
  clientState: z.optional(z.nullable(opaque(128))),
  changeType: z.optional(opaque(64)),
  resource: z.optional(opaque(2048)),
});
export const graphLifecycleNotification = z.extend(graphChangeNotification, { lifecycleEvent: z.enum(['reauthorizationRequired', 'missed', 'subscriptionRemoved']) });

/** A batch: Graph sends up to a few hundred notifications per POST; more is not a batch of Graph's. */
const batchOf = <T extends z.ZodMiniType>(item: T) => z.looseObject({ value: z.array(item).check(z.minLength(1), z.maxLength(1000)) });
export const graphChangeBatch = batchOf(graphChangeNotification);
export const graphLifecycleBatch = batchOf(graphLifecycleNotification);
