import type * as z from '../../events/zod.ts';
import { dateOfDayIndex, dayIndexOf, startOfLocalDay } from '../scheduling/time-zones.ts';
import type { HttpEvent } from './handler.ts';
import { fieldErrors, problems } from './problems.ts';

/** The query string against `schema`; a mismatch is a 400 naming `query.<param>`. */
export function parseQuery<S extends z.ZodMiniType>(event: HttpEvent, schema: S): z.infer<S> {
  const parsed = schema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw problems.invalidBody(fieldErrors(parsed.error.issues, ['query']));
  return parsed.data;
}

/**
 * A date-or-instant query bound as epoch ms: an instant is itself, a date (YYYY-MM-DD) is that whole day in
 * `timeZone`: its first instant for a lower bound, the first instant of the next day for an upper bound.
 */
export function boundOf(value: string, timeZone: string, edge: 'start' | 'end'): number {
  if (value.includes('T')) return Date.parse(value);
  // The engine's zone arithmetic rather than luxon, which would cost the slot and listing bundles 70 KB.
  return startOfLocalDay(edge === 'end' ? dateOfDayIndex(dayIndexOf(value) + 1) : value, timeZone);
}
