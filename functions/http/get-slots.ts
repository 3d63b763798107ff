import { z } from 'zod';
import { isValidTimeZone } from '../../events/booking.ts';
import { bookingTables } from '../../shared/config.ts';
import { readEventType } from '../../shared/event-types/event-types.ts';
import { httpHandler, json } from '../../shared/http/handler.ts';
import { fieldErrors, problems } from '../../shared/http/problems.ts';
import { groupSlotsByDay } from '../../shared/scheduling/availability.ts';
import { slotQueryFor, slotsOf } from '../../shared/scheduling/slots.ts';
import { DateTime } from 'luxon';

const MAX_RANGE_DAYS = 62;
const DAY = 86_400_000;
const dateOrInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { message: 'must be a date (YYYY-MM-DD) or an ISO 8601 date-time with an offset' });
const query = z.object({
  eventTypeId: z.string().min(1),
  start: dateOrInstant,
  end: dateOrInstant,
  timeZone: z.string().refine(isValidTimeZone, 'must be an IANA time zone such as America/New_York').default('UTC'),
});

/** A date means that whole day in the requested zone (start of `start`, end of `end`); an instant is itself. */
function bound(value: string, timeZone: string, edge: 'start' | 'end'): number {
  if (value.includes('T')) return Date.parse(value);
  const day = DateTime.fromISO(value, { zone: timeZone }).startOf('day');
  return (edge === 'end' ? day.plus({ days: 1 }) : day).toMillis();
}

/** Public: the bookable starts of an event type, by day in the booker's time zone. */
export const handler = httpHandler(async (event) => {
  const parsed = query.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw problems.invalidBody(fieldErrors(parsed.error.issues, ['query']));
  const { eventTypeId, timeZone } = parsed.data;
  const start = bound(parsed.data.start, timeZone, 'start');
  const end = bound(parsed.data.end, timeZone, 'end');
  if (end <= start) throw problems.invalidBody([{ path: 'query.end', message: 'must be after start' }]);
  if (end - start > MAX_RANGE_DAYS * DAY) throw problems.invalidBody([{ path: 'query.end', message: `a query spans at most ${MAX_RANGE_DAYS} days` }]);
  const tables = bookingTables();
  const eventType = await readEventType(tables, eventTypeId);
  if (!eventType || !eventType.active) throw problems.notFound('event type');
  const slots = slotsOf(await slotQueryFor(tables, eventType, { start, end }, Date.now()));
  return json(200, { eventTypeId, timeZone, slots: groupSlotsByDay(slots, timeZone) }, { 'cache-control': 'no-store' });
});
