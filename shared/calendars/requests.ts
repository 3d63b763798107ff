import * as z from '../../events/zod.ts';
import { externalId } from '../../events/primitives.ts';

// What the calendar routes accept, for their handlers and shared/http/contract.ts.

/** POST /calendars/connections: CalDAV only; Google and Microsoft connect through the OAuth routes. */
export const connectCaldavBody = z.strictObject({
  provider: z.literal('caldav', { message: 'POST connects CalDAV; Google and Microsoft connect through GET /calendars/connect/{provider}' }),
  serverUrl: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }).check(z.maxLength(2000)),
  username: z.string().check(z.minLength(1), z.maxLength(256)),
  password: z.string().check(z.minLength(1), z.maxLength(1024)),
});

/** PATCH /calendars/connections/{id}: the busy and destination flags of some of its calendars. */
export const updateConnectionBody = z.strictObject({
  calendars: z.array(z.strictObject({ id: externalId, busy: z.optional(z.boolean()), destination: z.optional(z.boolean()) })).check(z.minLength(1), z.maxLength(30)),
});

/** GET /calendars/callback/{provider}: what the provider sends back, or the result page's own parameters. */
export const oauthCallbackQuery = z.object({
  code: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
  state: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
  error: z.optional(z.string().check(z.maxLength(200))),
  result: z.optional(z.enum(['connected', 'failed'])),
});

/** GET /calendars/conflicts. */
export const conflictsQuery = z.strictObject({ status: z.optional(z.enum(['open', 'resolved'])) });
