import { bookingCaller } from '../../shared/booking/access.ts';
import { readBooking } from '../../shared/booking/booking-commands.ts';
import { bookingAtVersion } from '../../shared/booking/history.ts';
import { presentBooking } from '../../shared/booking/presenter.ts';
import { bookingTables } from '../../shared/config.ts';
import { EventStore } from '../../shared/eventstore/event-store.ts';
import { getBookingQuery } from '../../shared/booking/requests.ts';
import { httpHandler, json, pathParameter } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';
import { parseQuery } from '../../shared/http/query.ts';
import { readAttempt } from '../../shared/payments/attempts.ts';

/** The booking as it is, or with `?version=N` as it was right after event N (time travel, folded from its events). */
export const handler = httpHandler(async (event) => {
  const tables = bookingTables();
  const bookingId = pathParameter(event, 'id');
  const { version } = parseQuery(event, getBookingQuery);
  const stored = await readBooking(tables, bookingId);
  const caller = await bookingCaller(event, stored);
  if (version !== undefined) {
    // A past version is what the events say; the payment's client secret is never in them, nor here.
    const past = bookingAtVersion(bookingId, await new EventStore(tables.client, tables.eventsTable).load(bookingId), version);
    if (!past) throw problems.notFound(`version ${version} of this booking`);
    return json(200, presentBooking(past));
  }
  const view = presentBooking(stored!.booking);
  // What the attendee needs to pay is theirs alone: not in the organizer's view, the events or the WebSocket.
  if (caller.actor === 'attendee' && view.payment?.status === 'initiated') {
    const attempt = await readAttempt(tables, view.payment.paymentId);
    if (attempt) return json(200, { ...view, payment: { ...view.payment, clientSecret: attempt.clientSecret } });
  }
  return json(200, view);
});
