// What leaving an organization and deleting an account take with them. Each change is its own command on its
// own aggregate, through the same load-decide-append path as any request, so every one is recorded as an event
// and each step can be repeated: a retry after a failure part-way finishes the rest and redoes nothing.
import { paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { EventMetadata } from '../../events/envelope.ts';
import { executeBookingCommand, readBooking, type BookingTables, type BookingView } from '../booking/booking-commands.ts';
import { holdsTime, type BookingCommand } from '../booking/decider.ts';
import { executeCommand } from '../domain/aggregate-commands.ts';
import { DomainError, fold } from '../domain/decider.ts';
import { executeEventTypeCommand, listEventTypes, type EventTypeView } from '../event-types/event-types.ts';
import { ConcurrencyError, EventStore } from '../eventstore/event-store.ts';
import { readTeam } from '../scheduling/directory.ts';
import { organizationWrites, teamsOf, teamWrites } from './membership.ts';
import { organizationDecider, teamDecider, type OrganizationEvent, type OrganizationState } from './organizations.ts';

type Metadata = Omit<EventMetadata, 'timestamp'>;

/** The organization as its events say it is now (not as a read model may lag behind). */
export async function loadOrganization(tables: BookingTables, id: string): Promise<OrganizationState> {
  const history = (await new EventStore(tables.client, tables.eventsTable).load(id)) as unknown as OrganizationEvent[];
  return fold(organizationDecider, history);
}

/**
 * Takes `userId` off every team of the organization that lists them, each team its own command. Run before the
 * organization lets them go (so a failure leaves them a member, and a retry starts over) and again after (so a
 * team that added them in between, while they were still a member, lets them go too; after the removal no team
 * can add them, see requireMembers).
 */
export async function removeFromTeams(tables: BookingTables, organizationId: string, userId: string, metadata: Metadata): Promise<string[]> {
  const left: string[] = [];
  for (const teamId of await teamsOf(tables, organizationId)) {
    const team = await readTeam(tables, teamId);
    if (!team?.memberIds.includes(userId)) continue;
    try {
      await executeCommand(tables, {
        decider: teamDecider,
        aggregateType: 'team',
        aggregateId: teamId,
        command: { type: 'RemoveMember', userId },
        metadata,
        project: (after) => teamWrites(tables.stateTable, teamId, after),
      });
      left.push(teamId);
    } catch (error) {
      // Someone else removed them first: what we wanted.
      if (!(error instanceof DomainError && error.code === 'NotAMember')) throw error;
    }
  }
  return left;
}

/** Deactivates one event type (event-type.updated {active: false}); already inactive records nothing. */
export async function deactivateEventType(tables: BookingTables, eventType: EventTypeView, metadata: Metadata): Promise<boolean> {
  if (!eventType.active) return false;
  const { events } = await executeEventTypeCommand(tables, eventType.id, { type: 'Update', changes: { active: false } }, metadata);
  return events.length > 0;
}

/** Every event type `userId` owns, page by page. */
export const eventTypesOwnedBy = (tables: BookingTables, userId: string): Promise<EventTypeView[]> => listEventTypes(tables, userId);

/**
 * How a future booking ends when its organizer (or its only host) goes away, by the state it is in: confirmed
 * or moved ones are cancelled, one awaiting the organizer's confirmation is rejected, one the workflow has not
 * finished fails its creation. A booking waiting on the attendee's payment cannot be ended from outside the
 * workflow; its payment window closes it.
 */
function endingOf(booking: BookingView, userId: string, reason: string): BookingCommand | undefined {
  if (!holdsTime(booking)) return undefined;
  const organizes = booking.organizerId === userId;
  // A collective booking whose other hosts remain still happens without them.
  if (!organizes && !(booking.hostIds.length === 1 && booking.hostIds[0] === userId)) return undefined;
  switch (booking.status) {
    case 'confirmed':
    case 'rescheduled':
    case 'payment_failed':
      // 'organizer' when it is their own act; 'system' when the host of someone else's booking left.
      return { type: 'Cancel', by: organizes ? 'organizer' : 'system', reason };
    case 'draft':
      if (booking.awaiting === 'confirmation') return { type: 'Reject', reason };
      if (booking.awaiting === 'payment') return undefined;
      return { type: 'FailCreation', reason, step: 'organizer-left' };
    default:
      return undefined;
  }
}

const PAGE = 25;

/** Ends one booking, judged on its state as it is: if it moved on meanwhile (the workflow confirmed it), again. */
async function endBooking(tables: BookingTables, bookingId: string, userId: string, metadata: Metadata, reason: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const stored = await readBooking(tables, bookingId);
    const command = stored && endingOf(stored.booking, userId, reason);
    if (!command) return 0;
    try {
      const { events } = await executeBookingCommand(tables, { bookingId, command, metadata });
      return events.length ? 1 : 0;
    } catch (error) {
      if (attempt < 3 && (error instanceof DomainError || error instanceof ConcurrencyError)) continue;
      throw error;
    }
  }
}

/**
 * Ends every booking that has not started yet and that `userId` organizes or alone hosts, paging through their
 * listing (VIEWER#<userId>, by start) so that the work per read stays bounded however many there are. Ending a
 * booking releases its time in the same transaction. Returns how many were ended.
 */
export async function endFutureBookings(tables: BookingTables, userId: string, metadata: Metadata, reason: string, now = new Date()): Promise<number> {
  let ended = 0;
  const pages = paginateQuery(
    { client: tables.client, pageSize: PAGE },
    {
      TableName: tables.stateTable,
      IndexName: 'byOwner',
      KeyConditionExpression: 'ownerKey = :owner AND ownerSort > :now',
      ExpressionAttributeValues: { ':owner': `VIEWER#${userId}`, ':now': now.toISOString() },
    },
  );
  for await (const page of pages) {
    const results = await Promise.all(
      (page.Items ?? []).map((item) => endBooking(tables, (item.booking as BookingView).id, userId, metadata, reason)),
    );
    ended += results.reduce((a, b) => a + b, 0);
  }
  return ended;
}

/**
 * What follows once `userId` has left the organization: the teams once more, and the team event types they
 * created there, which would otherwise keep them as organizer of the team's bookings, are deactivated.
 */
export async function afterLeaving(tables: BookingTables, organizationId: string, userId: string, metadata: Metadata): Promise<void> {
  await removeFromTeams(tables, organizationId, userId, metadata);
  const teams = new Set(await teamsOf(tables, organizationId));
  for (const eventType of await eventTypesOwnedBy(tables, userId)) {
    if (eventType.teamId && teams.has(eventType.teamId)) await deactivateEventType(tables, eventType, metadata);
  }
}

/** `userId` leaves the organization, its teams first (see removeFromTeams), as RemoveMember does over HTTP. */
export async function leaveOrganization(tables: BookingTables, organizationId: string, userId: string, metadata: Metadata): Promise<void> {
  await removeFromTeams(tables, organizationId, userId, metadata);
  const command = { type: 'RemoveMember' as const, userId };
  try {
    await executeCommand(tables, {
      decider: organizationDecider,
      aggregateType: 'organization',
      aggregateId: organizationId,
      command,
      metadata,
      project: (after) => organizationWrites(tables.stateTable, organizationId, command, after, metadata.userId ?? userId),
    });
  } catch (error) {
    if (!(error instanceof DomainError && error.code === 'NotAMember')) throw error;
  }
  await afterLeaving(tables, organizationId, userId, metadata);
}
