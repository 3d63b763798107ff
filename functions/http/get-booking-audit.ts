import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { organizer } from '../../shared/auth/identity.ts';
import { isBookingUser } from '../../shared/booking/access.ts';
import { readBooking } from '../../shared/booking/booking-commands.ts';
import { requiredEnv } from '../../shared/aws/clients.ts';
import { bookingTables } from '../../shared/config.ts';
import { httpHandler, json, pathParameter } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';

/** What the audit subscriber recorded for a booking: every event once, with when it was delivered. */
export const handler = httpHandler(async (event) => {
  const { userId } = organizer(event);
  const tables = bookingTables();
  const bookingId = pathParameter(event, 'id');
  const stored = await readBooking(tables, bookingId);
  if (!stored || !isBookingUser(stored.booking, userId)) throw problems.notFound('booking');
  const { Items = [] } = await tables.client.send(
    new QueryCommand({ TableName: requiredEnv('AUDIT_TABLE'), KeyConditionExpression: 'aggregateId = :id', ExpressionAttributeValues: { ':id': bookingId } }),
  );
  return json(200, { bookingId, entries: Items.map(({ aggregateId: _, entry: __, ...rest }) => rest) });
});
