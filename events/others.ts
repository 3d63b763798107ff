import * as z from './zod.ts';
import { email, id, personName, reasonText, timeZone } from './primitives.ts';

export const userCreated = z.object({
  name: personName,
  email,
  timeZone,
  organizationId: z.optional(id),
});
export const userUpdated = z.object({
  changes: z.object({ name: z.optional(personName), email: z.optional(email), timeZone: z.optional(timeZone) }),
});
export const userDeleted = z.object({ reason: z.optional(reasonText) });
