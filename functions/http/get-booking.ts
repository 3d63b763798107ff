import { bookingCaller } from '../../shared/booking/access.ts';
import { readBooking } from '../../shared/booking/booking-commands.ts';
import { bookingAtVersion } from '../../shared/booking/history.ts';
import { presentBooking } from '../../shared/booking/presenter.ts';
import { bookingTables } from '../../shared/config.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { contract } from '../../shared/http/contract.ts';
import { httpHandler, json, pathParameter } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';
import { parseQuery } from '../../shared/http/query.ts';

/** The booking as it is, or with `?version=N` as it was right after event N (time travel, folded from its events). */
export const handler = httpHandler(async (event) => {
  const tables = bookingTables();
  const bookingId = pathParameter(event, 'id');
  const { version } = parseQuery(event, contract.getBooking.query);
  const stored = await readBooking(tables, bookingId);
  await bookingCaller(event, stored);
  if (version === undefined) return json(200, presentBooking(stored!.booking));
  const past = bookingAtVersion(bookingId, await new EventStore(tables.client, tables.eventsTable).load(bookingId), version);
  if (!past) throw problems.notFound(`version ${version} of this booking`);
  return json(200, presentBooking(past));
});
