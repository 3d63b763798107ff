import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { attendeeSchema } from '../../events/booking.ts';
import { newManageToken } from '../../shared/booking/access.ts';
import { executeBookingCommand, SlotTakenError } from '../../shared/booking/booking-commands.ts';
import { presentBooking } from '../../shared/booking/presenter.ts';
import { bookingTables } from '../../shared/config.ts';
import { readEventType } from '../../shared/event-types/event-types.ts';
import { header, httpHandler, json, parseJsonBody } from '../../shared/http/handler.ts';
import { IdempotentRequest } from '../../shared/http/idempotency.ts';
import { problems, type FieldError } from '../../shared/http/problems.ts';

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with an offset, e.g. 2030-01-07T09:00:00Z' });
const body = z.object({
  eventTypeId: z.string().min(1),
  start: instant,
  end: instant.optional(),
  attendee: attendeeSchema,
});

const MINUTE = 60_000;

export const handler = httpHandler(async (event) => {
  const input = parseJsonBody(event, body);
  const tables = bookingTables();
  const request = new IdempotentRequest(tables.client, tables.stateTable, event, 'public');
  return request.run(async () => {
    const eventType = await readEventType(tables, input.eventTypeId);
    const start = Date.parse(input.start);
    const end = input.end ? Date.parse(input.end) : start + (eventType?.lengthMinutes ?? 0) * MINUTE;
    const errors: FieldError[] = [];
    if (!eventType) errors.push({ path: 'eventTypeId', message: 'no such event type' });
    else if (!eventType.active) errors.push({ path: 'eventTypeId', message: 'the event type is not active' });
    if (start % MINUTE !== 0) errors.push({ path: 'start', message: 'must be on a whole minute' });
    if (start <= Date.now()) errors.push({ path: 'start', message: 'cannot book in the past' });
    if (end <= start) errors.push({ path: 'end', message: 'must be after start' });
    else if (eventType && end - start !== eventType.lengthMinutes * MINUTE) {
      errors.push({ path: 'end', message: `the event lasts ${eventType.lengthMinutes} minutes` });
    }
    if (errors.length || !eventType) throw problems.unprocessable(errors);

    const bookingId = randomUUID();
    const manage = newManageToken();
    const correlationId = header(event, 'x-correlation-id') ?? event.requestContext.requestId;
    let response = json(202, {});
    try {
      await executeBookingCommand(tables, {
        bookingId,
        metadata: { correlationId },
        command: {
          type: 'RequestBooking',
          request: {
            eventTypeId: eventType.id,
            organizerId: eventType.ownerId,
            hostIds: [eventType.ownerId],
            title: `${eventType.title} with ${input.attendee.name}`,
            start: new Date(start).toISOString(),
            end: new Date(end).toISOString(),
            bufferBeforeMinutes: eventType.bufferBeforeMinutes,
            bufferAfterMinutes: eventType.bufferAfterMinutes,
            attendee: input.attendee,
            requiresConfirmation: eventType.requiresConfirmation,
          },
        },
        createOnly: { manageTokenHash: manage.hash },
        alongside: (view) => {
          const manageUrl = `/bookings/${bookingId}?token=${manage.token}`;
          response = json(202, { ...presentBooking(view), manageToken: manage.token, manageUrl }, { location: `/bookings/${bookingId}` });
          return request.remember(response);
        },
      });
    } catch (error) {
      if (error instanceof SlotTakenError) throw problems.conflict('slot-taken', 'That time is taken', error.message);
      throw error;
    }
    return response;
  });
});
