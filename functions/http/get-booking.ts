import { bookingCaller } from '../../shared/booking/access.ts';
import { readBooking } from '../../shared/booking/booking-commands.ts';
import { presentBooking } from '../../shared/booking/presenter.ts';
import { bookingTables } from '../../shared/config.ts';
import { httpHandler, json, pathParameter } from '../../shared/http/handler.ts';
import { readAttempt } from '../../shared/payments/attempts.ts';

export const handler = httpHandler(async (event) => {
  const tables = bookingTables();
  const stored = await readBooking(tables, pathParameter(event, 'id'));
  const caller = await bookingCaller(event, stored);
  const view = presentBooking(stored!.booking);
  // What the attendee needs to pay is theirs alone: not in the organizer's view, the events or the WebSocket.
  if (caller.actor === 'attendee' && view.payment?.status === 'initiated') {
    const attempt = await readAttempt(tables, view.payment.paymentId);
    if (attempt) return json(200, { ...view, payment: { ...view.payment, clientSecret: attempt.clientSecret } });
  }
  return json(200, view);
});
