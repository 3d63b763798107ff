import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { isId } from '../../events/primitives.ts';
import { verifyToken } from '../../shared/auth/identity.ts';
import { dynamo, requiredEnv } from '../../shared/aws/clients.ts';
import { attendeeListener, holdsManageToken } from '../../shared/booking/access.ts';
import { readBooking } from '../../shared/booking/booking-commands.ts';
import { bookingTables } from '../../shared/config.ts';
import { feedPosition } from '../../shared/realtime/feed.ts';

/** API Gateway closes a WebSocket after two hours; the record outlives it a little, then TTL removes it. */
const CONNECTION_LIFETIME_SECONDS = 2 * 60 * 60 + 10 * 60;

type ConnectEvent = APIGatewayProxyWebsocketEventV2 & { queryStringParameters?: Record<string, string | undefined> };

/**
 * Organizers connect with their token (`?token=<JWT>`) and hear about everything they organize or host; an
 * attendee connects with their booking token (`?booking=<id>&bookingToken=<token>`) and hears about that booking.
 * `&after=<position>` asks for what was missed since: see ws/default.ts.
 */
export async function handler(event: ConnectEvent): Promise<{ statusCode: number; body?: string }> {
  const query = event.queryStringParameters ?? {};
  const resumeAfter = query.after === undefined ? undefined : feedPosition(query.after);
  if (resumeAfter === null) return { statusCode: 400, body: '?after= is the last position you received, a whole number' };
  let userId: string | undefined;
  if (query.token) {
    try {
      ({ userId } = await verifyToken(query.token));
    } catch {
      return { statusCode: 401, body: 'the token is not valid' };
    }
  } else if (query.booking && query.bookingToken) {
    // An id that cannot exist is not looked up (nor allowed to overflow a DynamoDB key).
    const stored = isId(query.booking) ? await readBooking(bookingTables(), query.booking) : undefined;
    if (!stored || !holdsManageToken(stored, query.bookingToken)) return { statusCode: 401, body: 'the booking token is not valid' };
    userId = attendeeListener(query.booking);
  } else {
    return { statusCode: 401, body: 'pass ?token=<organizer token>, or ?booking=<id>&bookingToken=<booking token>' };
  }
  await dynamo().send(
    new PutCommand({
      TableName: requiredEnv('CONNECTIONS_TABLE'),
      Item: {
        connectionId: event.requestContext.connectionId,
        userId,
        connectedAt: new Date().toISOString(),
        // Sent once the client asks ({"action":"resume"}): API Gateway cannot send on a connection before
        // $connect has answered, and the connection is registered first, so nothing falls between replay and live.
        resumeAfter,
        expiresAt: Math.floor(Date.now() / 1000) + CONNECTION_LIFETIME_SECONDS,
      },
    }),
  );
  return { statusCode: 200 };
}
