import { bookingTables } from '../../shared/config.ts';
import { readEventType } from '../../shared/event-types/read-model.ts';
import { httpHandler, json } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';
import { boundOf, parseQuery } from '../../shared/http/query.ts';
import { groupSlotsByDay } from '../../shared/scheduling/availability.ts';
import { slotQueryFor, slotsOf } from '../../shared/scheduling/slots.ts';
import { readAhead } from '../../shared/scheduling/read-ahead.ts';
import { slotsQuery } from '../../shared/scheduling/requests.ts';

const MAX_RANGE_DAYS = 62;
const DAY = 86_400_000;
const query = slotsQuery;

/** Public: the bookable starts of an event type, by day in the booker's time zone. */
export const handler = httpHandler(async (event) => {
  const { eventTypeId, timeZone, ...range } = parseQuery(event, query);
  const start = boundOf(range.start, timeZone, 'start');
  const end = boundOf(range.end, timeZone, 'end');
  if (end <= start) throw problems.invalidBody([{ path: 'query.end', message: 'must be after start' }]);
  if (end - start > MAX_RANGE_DAYS * DAY) throw problems.invalidBody([{ path: 'query.end', message: `a query spans at most ${MAX_RANGE_DAYS} days` }]);
  // Every read below is answered by a read of this request; the container only remembers which ones to issue at once.
  const tables = readAhead(bookingTables(), `slots ${eventTypeId}`, `${start} ${end}`);
  const eventType = await readEventType(tables, eventTypeId);
  if (!eventType || !eventType.active) throw problems.notFound('event type');
  const slots = slotsOf(await slotQueryFor(tables, eventType, { start, end }, Date.now()));
  return json(200, { eventTypeId, timeZone, slots: groupSlotsByDay(slots, timeZone) }, { 'cache-control': 'no-store' });
});
