import type { z } from 'zod';
import { DateTime } from 'luxon';
import type { HttpEvent } from './handler.ts';
import { fieldErrors, problems } from './problems.ts';

/** The query string against `schema`; a mismatch is a 400 naming `query.<param>`. */
export function parseQuery<S extends z.ZodType>(event: HttpEvent, schema: S): z.infer<S> {
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
  const day = DateTime.fromISO(value, { zone: timeZone }).startOf('day');
  return (edge === 'end' ? day.plus({ days: 1 }) : day).toMillis();
}
