import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { organizer } from '../../shared/auth/identity.ts';
import { bookingStatuses } from '../../shared/booking/decider.ts';
import type { BookingView } from '../../shared/booking/booking-commands.ts';
import { presentBooking } from '../../shared/booking/presenter.ts';
import { bookingTables } from '../../shared/config.ts';
import { httpHandler, json } from '../../shared/http/handler.ts';
import { fieldErrors, problems } from '../../shared/http/problems.ts';

const query = z.object({
  status: z.enum(bookingStatuses).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().optional(),
});

/** The bookings the caller organizes or hosts, by start time, paged with an opaque cursor. */
export const handler = httpHandler(async (event) => {
  const { userId } = organizer(event);
  const parsed = query.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw problems.invalidBody(fieldErrors(parsed.error.issues, ['query']));
  const { status, from, limit, cursor } = parsed.data;
  const tables = bookingTables();
  let startKey: Record<string, unknown> | undefined;
  try {
    startKey = cursor ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    throw problems.invalidBody([{ path: 'query.cursor', message: 'is not a cursor this API gave out' }]);
  }
  const page = await tables.client.send(
    new QueryCommand({
      TableName: tables.stateTable,
      IndexName: 'byOwner',
      KeyConditionExpression: from ? 'ownerKey = :owner AND ownerSort >= :from' : 'ownerKey = :owner',
      FilterExpression: status ? '#booking.#status = :status' : undefined,
      ExpressionAttributeNames: status ? { '#booking': 'booking', '#status': 'status' } : undefined,
      ExpressionAttributeValues: { ':owner': `VIEWER#${userId}`, ...(from ? { ':from': new Date(from).toISOString() } : {}), ...(status ? { ':status': status } : {}) },
      Limit: limit,
      ExclusiveStartKey: startKey,
    }),
  );
  const bookings = (page.Items ?? []).map((item) => presentBooking(item.booking as BookingView));
  const next = page.LastEvaluatedKey ? Buffer.from(JSON.stringify(page.LastEvaluatedKey)).toString('base64url') : undefined;
  return json(200, { bookings, nextCursor: next });
});
