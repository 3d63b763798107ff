import { z } from 'zod';
import { externalId } from '../../events/primitives.ts';

// What the calendar routes accept, for their handlers and shared/http/contract.ts.

/** POST /calendars/connections: CalDAV only; Google and Microsoft connect through the OAuth routes. */
export const connectCaldavBody = z.strictObject({
  provider: z.literal('caldav', { message: 'POST connects CalDAV; Google and Microsoft connect through GET /calendars/connect/{provider}' }),
  serverUrl: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }).max(2000),
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(1024),
});

/** PATCH /calendars/connections/{id}: the busy and destination flags of some of its calendars. */
export const updateConnectionBody = z.strictObject({
  calendars: z.array(z.strictObject({ id: externalId, busy: z.boolean().optional(), destination: z.boolean().optional() })).min(1).max(30),
});

/** GET /calendars/callback/{provider}: what the provider sends back, or the result page's own parameters. */
export const oauthCallbackQuery = z.object({
  code: z.string().min(1).max(4096).optional(),
  state: z.string().min(1).max(2048).optional(),
  error: z.string().max(200).optional(),
  result: z.enum(['connected', 'failed']).optional(),
});

/** GET /calendars/conflicts. */
export const conflictsQuery = z.strictObject({ status: z.enum(['open', 'resolved']).optional() });
