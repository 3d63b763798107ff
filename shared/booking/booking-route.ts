import { bookingCaller, type BookingCaller } from './access.ts';
import { executeBookingCommand, readBooking, type BookingView } from './booking-commands.ts';
import type { BookingCommand } from './decider.ts';
import { presentBooking } from './presenter.ts';
import { bookingTables } from '../config.ts';
import { header, httpHandler, json, pathParameter, type HttpEvent } from '../http/handler.ts';
import { IdempotentRequest } from '../http/idempotency.ts';
import { problems } from '../http/problems.ts';

type CommandFor = (event: HttpEvent, caller: BookingCaller, booking: BookingView) => BookingCommand | Promise<BookingCommand>;

/**
 * The shape every command route on one booking shares: find the booking, establish who asks, build the
 * command, execute it once per Idempotency-Key, answer with the booking as it now is.
 */
export function bookingCommandRoute(options: { allow: Array<BookingCaller['actor']>; command: CommandFor }) {
  return httpHandler(async (event) => {
    const tables = bookingTables();
    const bookingId = pathParameter(event, 'id');
    const stored = await readBooking(tables, bookingId);
    const caller = await bookingCaller(event, stored);
    if (!options.allow.includes(caller.actor)) throw problems.forbidden(`only the organizer may ${event.routeKey.split('/').at(-1)} a booking`);
    const request = new IdempotentRequest(tables.client, tables.stateTable, event, caller.identity?.userId ?? 'attendee');
    // A retry gets the first answer before anything is judged again against the booking as it is now.
    return request.run(async () => {
      const command = await options.command(event, caller, stored!.booking);
      let response = json(200, {});
      const result = await executeBookingCommand(tables, {
        bookingId,
        command,
        metadata: {
          userId: caller.identity?.userId,
          organizationId: caller.identity?.organizationId,
          correlationId: header(event, 'x-correlation-id') ?? event.requestContext.requestId,
        },
        alongside: (view) => {
          response = json(200, presentBooking(view));
          return request.remember(response);
        },
      });
      if (result.events.length === 0) {
        // Nothing to record, perhaps because a twin of this request (same key) recorded it a moment ago.
        response = (await request.replay()) ?? json(200, presentBooking(result.booking));
      }
      return response;
    });
  });
}
