import { randomUUID } from 'node:crypto';
import type * as z from '../../events/zod.ts';
import { newManageToken } from '../../shared/booking/access.ts';
import { executeBookingCommand, SlotTakenError, type BookingTables } from '../../shared/booking/booking-commands.ts';
import type { BookingRequest } from '../../shared/booking/decider.ts';
import { explanation } from '../../events/booking.ts';
import { presentBooking } from '../../shared/booking/presenter.ts';
import { bookingTables } from '../../shared/config.ts';
import { readEventType, type EventTypeView } from '../../shared/event-types/read-model.ts';
import { header, httpHandler, json, parseJsonBody, type HttpEvent, type HttpResult } from '../../shared/http/handler.ts';
import { IdempotentRequest, PUBLIC_CALLER } from '../../shared/http/idempotency.ts';
import type { FieldError } from '../../shared/http/problems.ts';
import { notFound, ruleViolated } from '../../shared/domain/decider.ts';
import { countAssignment, explainAssignment, rankHosts, readLoads } from '../../shared/scheduling/round-robin.ts';
import { offeredHostsAt } from '../../shared/scheduling/slots.ts';
import { readAhead } from '../../shared/scheduling/read-ahead.ts';
import { createBookingBody } from '../../shared/booking/requests.ts';
import { DEFAULT_PAYMENT_WINDOW_MINUTES } from '../../shared/payments/terms.ts';

const body = createBookingBody;
type Body = z.infer<typeof body>;

const MINUTE = 60_000;

export const handler = httpHandler(async (event) => {
  const input = parseJsonBody(event, body);
  const tables = bookingTables();
  const request = new IdempotentRequest(tables.client, tables.stateTable, event, PUBLIC_CALLER);
  return request.run(async () => {
    // The reads that steer the booking (event type, hosts, their hours and busy time) in one round where the last
    // booking of this event type predicts them; each is a read of this request. The transaction decides.
    const reads = readAhead(tables, `booking ${input.eventTypeId}`, new Date(Date.parse(input.start)).toISOString().slice(0, 10));
    const eventType = await readEventType(reads, input.eventTypeId);
    // An inactive event type does not exist for bookers, as on GET /event-types/{id} and GET /slots.
    if (!eventType || !eventType.active) throw notFound('EventTypeNotFound', 'event type does not exist');
    const start = Date.parse(input.start);
    const end = input.end ? Date.parse(input.end) : start + eventType.lengthMinutes * MINUTE;
    const errors: FieldError[] = [];
    if (start % MINUTE !== 0) errors.push({ path: 'start', message: 'must be on a whole minute' });
    if (start <= Date.now()) errors.push({ path: 'start', message: 'cannot book in the past' });
    if (end <= start) errors.push({ path: 'end', message: 'must be after start' });
    else if (end - start !== eventType.lengthMinutes * MINUTE) errors.push({ path: 'end', message: `the event lasts ${eventType.lengthMinutes} minutes` });
    if (errors.length) throw ruleViolated('InvalidBookingTime', errors);
    const freeHosts = await offeredHostsAt(reads, eventType, start);
    return book(event, tables, reads, request, eventType, input, start, end, freeHosts);
  });
});

async function book(event: HttpEvent, tables: BookingTables, reads: BookingTables, request: IdempotentRequest, eventType: EventTypeView, input: Body, start: number, end: number, freeHosts: string[]): Promise<HttpResult> {
  const roundRobin = eventType.teamId !== undefined && eventType.schedulingType === 'round_robin';
  const loads = roundRobin ? await readLoads(reads.client, reads.stateTable, eventType.id) : new Map();
  // Round robin tries the fairest free host first and the next one if another booking took them meanwhile.
  const candidates = roundRobin ? rankHosts(freeHosts, loads) : [{ hostId: freeHosts.join(','), assigned: 0 }];
  for (const candidate of candidates) {
    const hostIds = roundRobin ? [candidate.hostId] : freeHosts;
    const bookingId = randomUUID();
    const manage = newManageToken();
    const now = new Date().toISOString();
    const bookingRequest: BookingRequest = {
      eventTypeId: eventType.id,
      organizerId: eventType.ownerId,
      hostIds,
      title: `${eventType.title} with ${input.attendee.name}`,
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      bufferBeforeMinutes: eventType.bufferBeforeMinutes,
      bufferAfterMinutes: eventType.bufferAfterMinutes,
      attendee: input.attendee,
      requiresConfirmation: eventType.requiresConfirmation,
      price: eventType.price,
      // The terms are the event type's at the moment of booking; a later edit does not change what was agreed.
      paymentTerms: eventType.price ? { windowMinutes: eventType.paymentWindowMinutes ?? DEFAULT_PAYMENT_WINDOW_MINUTES, refundPolicy: eventType.refundPolicy } : undefined,
      assignment: roundRobin ? { strategy: 'round_robin', reason: explanation(explainAssignment(candidate, rankHosts(freeHosts, loads))) } : undefined,
    };
    let response = json(202, {});
    try {
      await executeBookingCommand(tables, {
        bookingId,
        metadata: { correlationId: header(event, 'x-correlation-id') ?? event.requestContext.requestId },
        command: { type: 'RequestBooking', request: bookingRequest },
        createOnly: { manageTokenHash: manage.hash },
        alongside: (view) => {
          const manageUrl = `/bookings/${bookingId}?token=${manage.token}`;
          response = json(202, { ...presentBooking(view), manageToken: manage.token, manageUrl }, { location: `/bookings/${bookingId}` });
          return [...request.remember(response), ...(roundRobin ? [countAssignment(tables.stateTable, eventType.id, candidate.hostId, now)] : [])];
        },
      });
      return response;
    } catch (error) {
      if (!(error instanceof SlotTakenError)) throw error;
    }
  }
  throw new SlotTakenError();
}
