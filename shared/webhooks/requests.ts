import { z } from 'zod';
import { eventCatalog, eventTypeNames } from '../../events/catalog.ts';

/**
 * What the webhook routes accept, for their handlers and shared/http/contract.ts; zod and the catalog only.
 */

/** The event names a webhook may ask for: the booking's, as the catalog names them. */
export const bookingEventNames = eventTypeNames.filter((name) => eventCatalog[name].aggregateType === 'booking');
const eventNames = z.array(z.enum(bookingEventNames as [string, ...string[]], { message: `must be one of ${bookingEventNames.join(', ')}` })).min(1).max(50);
const url = z.url({ message: 'must be an absolute http(s) URL' }).max(2000);
export const createWebhookBody = z.object({ url, events: eventNames.optional(), description: z.string().trim().max(500).optional() });
export const updateWebhookBody = z.object({ url: url.optional(), events: eventNames.nullable().optional(), description: z.string().trim().max(500).optional(), active: z.boolean().optional() });

export const deliveriesQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(25), cursor: z.string().max(2000).optional() });

export const replayBody = z
  .object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) })
  .refine((r) => Date.parse(r.to) > Date.parse(r.from), { message: 'must be after from', path: ['to'] })
  .refine((r) => Date.parse(r.to) - Date.parse(r.from) <= 31 * 86_400_000, { message: 'a replay spans at most 31 days', path: ['to'] });
