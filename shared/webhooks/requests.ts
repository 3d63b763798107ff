import * as z from '../../events/zod.ts';
import { eventCatalog, eventTypeNames } from '../../events/catalog.ts';

/**
 * What the webhook routes accept, for their handlers and shared/http/contract.ts; zod and the catalog only.
 */

/** The event names a webhook may ask for: the booking's, as the catalog names them. */
export const bookingEventNames = eventTypeNames.filter((name) => eventCatalog[name].aggregateType === 'booking');
const eventNames = z.array(z.enum(bookingEventNames as [string, ...string[]], { message: `must be one of ${bookingEventNames.join(', ')}` })).check(z.minLength(1), z.maxLength(50));
const url = z.url({ message: 'must be an absolute http(s) URL' }).check(z.maxLength(2000));
export const createWebhookBody = z.object({ url, events: z.optional(eventNames), description: z.optional(z.string().check(z.trim(), z.maxLength(500))) });
export const updateWebhookBody = z.object({
  url: z.optional(url),
  events: z.optional(z.nullable(eventNames)),
  description: z.optional(z.string().check(z.trim(), z.maxLength(500))),
  active: z.optional(z.boolean()),
});

export const deliveriesQuery = z.object({ limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 25), cursor: z.optional(z.string().check(z.maxLength(2000))) });

export const replayBody = z
  .object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) })
  .check(
    z.refine((r) => Date.parse(r.to) > Date.parse(r.from), { message: 'must be after from', path: ['to'] }),
    z.refine((r) => Date.parse(r.to) - Date.parse(r.from) <= 31 * 86_400_000, { message: 'a replay spans at most 31 days', path: ['to'] }),
  );
