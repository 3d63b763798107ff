import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { bookingCaller } from '../../shared/booking/access.ts';
import { readBooking } from '../../shared/booking/booking-commands.ts';
import { presentBooking } from '../../shared/booking/presenter.ts';
import { bookingTables } from '../../shared/config.ts';
import { conflict } from '../../shared/domain/decider.ts';
import { httpHandler, json, pathParameter } from '../../shared/http/handler.ts';
import { IdempotentRequest } from '../../shared/http/idempotency.ts';
import { takeRetryToken } from '../../shared/payments/attempts.ts';
import { resumeWithSuccess } from '../../shared/payments/resume.ts';

/**
 * POST /bookings/{id}/payment/retry (attendee or organizer). A failed payment's booking waits in its workflow
 * for this: the route resumes it, and the workflow starts the next attempt (a new PaymentIntent, a new
 * payment.initiated). 202: the new attempt's details follow on GET /bookings/{id} and the WebSocket.
 */
export const handler = httpHandler(async (event) => {
  const tables = bookingTables();
  const bookingId = pathParameter(event, 'id');
  const stored = await readBooking(tables, bookingId);
  const caller = await bookingCaller(event, stored);
  const request = new IdempotentRequest(tables.client, tables.stateTable, event, caller.identity?.userId ?? 'attendee');
  return request.run(async () => {
    const booking = stored!.booking;
    if (booking.status !== 'payment_failed') throw conflict('InvalidTransition', `cannot retry the payment of a booking that is ${booking.status}`);
    // Taken once: two retries at the same moment start one attempt.
    const retry = await takeRetryToken(tables, bookingId);
    if (!retry || (await resumeWithSuccess(retry.taskToken, { retry: retry.attempt + 1 })) === 'gone') {
      throw conflict('RetryClosed', 'the payment window has passed; the booking is being released');
    }
    const response = json(202, { ...presentBooking(booking), retrying: { attempt: retry.attempt + 1 } });
    const remember = request.remember(response);
    if (remember.length) await tables.client.send(new TransactWriteCommand({ TransactItems: remember.map((write) => write.item) as never }));
    return response;
  });
});
