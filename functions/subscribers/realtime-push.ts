import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { parseDomainEvent, type TypedEvent } from '../../events/catalog.ts';
import { dynamo, requiredEnv } from '../../shared/aws/clients.ts';
import { managementApi } from '../../shared/aws/management-api.ts';
import { readBooking } from '../../shared/booking/booking-commands.ts';
import { attendeeListener } from '../../shared/booking/access.ts';
import { bookingTables } from '../../shared/config.ts';
import { postOrForget } from '../../shared/realtime/delivery.ts';
import { eventMessage, ListenerFeed } from '../../shared/realtime/feed.ts';
import { readEventType } from '../../shared/event-types/read-model.ts';
import { readOrganization, readSchedule, readTeam } from '../../shared/scheduling/directory.ts';
import { subscriptionOwner } from '../../shared/webhooks/subscriptions.ts';

/**
 * Pushes each domain event, as published, to the live connections of the users it concerns. Each of them first
 * gives it the next position of their own feed (kept whether or not they are connected, so a client that
 * reconnects can be sent what it missed); a redelivered event keeps the position it took. Connections API
 * Gateway reports gone are forgotten; any other failure fails the delivery, to be retried and then parked.
 */
export async function handler(busEvent: EventBridgeEvent<string, unknown>): Promise<void> {
  const event = parseDomainEvent(busEvent.detail);
  const users = await concernedUsers(event);
  const tables = bookingTables();
  const feed = new ListenerFeed(tables.client, tables.stateTable);
  const api = managementApi(requiredEnv('WS_MANAGEMENT_ENDPOINT'));
  // The position is taken before the connections are read: a client that registers its connection and then
  // replays its feed either finds this event in the feed or is among the connections it is pushed to.
  const deliveries = await Promise.all(
    users.map(async (userId) => {
      const position = await feed.position(userId, busEvent.detail as { id: string });
      const message = eventMessage({ position, data: busEvent.detail });
      return (await connectionsOf(userId)).map((connectionId) => ({ connectionId, message }));
    }),
  );
  const results = await Promise.allSettled(deliveries.flat().map(({ connectionId, message }) => postOrForget(api, connectionId, message)));
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
}

/**
 * Who an event concerns, and nobody else: a booking, its organizer, its hosts and its team's current members,
 * and its attendee; an organization's or team's event, its current members and the user it is about (the
 * invitee hears of their invitation, a removed member of their removal); a schedule or event type, its owner;
 * a webhook subscription's (created, changed, disabled, deleted), its organizer.
 */
async function concernedUsers(event: TypedEvent): Promise<string[]> {
  const tables = bookingTables();
  const subject = 'userId' in (event.payload as object) ? [(event.payload as { userId: string }).userId] : [];
  switch (event.aggregateType) {
    case 'booking': {
      const stored = await readBooking(tables, event.aggregateId);
      if (!stored) return [];
      const eventType = await readEventType(tables, stored.booking.eventTypeId);
      const team = eventType?.teamId ? await readTeam(tables, eventType.teamId) : undefined;
      return [...new Set([stored.booking.organizerId, ...stored.booking.hostIds, ...(team?.memberIds ?? []), attendeeListener(event.aggregateId)])];
    }
    case 'user':
      return [event.aggregateId];
    case 'organization':
      return [...new Set([...Object.keys((await readOrganization(tables, event.aggregateId))?.members ?? {}), ...subject])];
    case 'team':
      return [...new Set([...((await readTeam(tables, event.aggregateId))?.memberIds ?? []), ...subject])];
    case 'schedule':
      return [(await readSchedule(tables, event.aggregateId))?.ownerId].filter((id): id is string => Boolean(id));
    case 'event-type':
      return [(await readEventType(tables, event.aggregateId))?.ownerId].filter((id): id is string => Boolean(id));
    case 'calendar':
      return subject;
    case 'webhook':
      return [await subscriptionOwner(tables, event.aggregateId)].filter((id): id is string => Boolean(id));
    default:
      return [];
  }
}

async function connectionsOf(userId: string): Promise<string[]> {
  const { Items = [] } = await dynamo().send(
    new QueryCommand({ TableName: requiredEnv('CONNECTIONS_TABLE'), IndexName: 'byUser', KeyConditionExpression: 'userId = :user', ExpressionAttributeValues: { ':user': userId } }),
  );
  return Items.map((item) => item.connectionId as string);
}
