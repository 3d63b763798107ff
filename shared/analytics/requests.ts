import * as z from '../../events/zod.ts';

/** What GET /analytics accepts, for its handler and shared/http/contract.ts. */
const date = z.iso.date({ message: 'must be a date YYYY-MM-DD' });
const DAY = 86_400_000;
export const analyticsQuery = z.object({ from: date, to: date, organizationId: z.optional(z.string().check(z.minLength(1), z.maxLength(200))) }).check(
  z.refine((q) => q.to >= q.from, { message: 'must not be before from', path: ['to'] }),
  // Dates parse as UTC midnights, so their difference is whole days (no zone, no daylight saving).
  z.refine((q) => (Date.parse(q.to) - Date.parse(q.from)) / DAY < 366, { message: 'a range spans at most 366 days', path: ['to'] }),
);
