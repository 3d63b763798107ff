import { z } from 'zod';
import { email, id, personName, reasonText, timeZone } from './primitives.ts';

export const userCreated = z.object({
  name: personName,
  email,
  timeZone,
  organizationId: id.optional(),
});
export const userUpdated = z.object({
  changes: z.object({ name: personName.optional(), email: email.optional(), timeZone: timeZone.optional() }),
});
export const userDeleted = z.object({ reason: reasonText.optional() });
