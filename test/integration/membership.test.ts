// The people read models and the offboarding steps against real DynamoDB Local: the team's own transaction
// refuses a user who is not (or no longer) an accepted member, leaving sweeps every team of the organization,
// and ending a user's future bookings pages through however many there are.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { executeBookingCommand, readBooking, type BookingTables } from '../../shared/booking/booking-commands.ts';
import type { BookingRequest } from '../../shared/booking/decider.ts';
import { executeCommand } from '../../shared/domain/aggregate-commands.ts';
import { DomainError } from '../../shared/domain/decider.ts';
import { invitationsOf, membershipsOf, organizationWrites, requireMembers, teamsOf, teamWrites } from '../../shared/people/membership.ts';
import { endFutureBookings, leaveOrganization } from '../../shared/people/offboarding.ts';
import { organizationDecider, teamDecider, type OrganizationCommand, type TeamCommand } from '../../shared/people/organizations.ts';
import { readOrganization, readTeam } from '../../shared/scheduling/directory.ts';
import { createTestTables } from '../support/tables.ts';
import { hostsOf } from '../../shared/scheduling/slots.ts';
import type { EventTypeView } from '../../shared/event-types/event-types.ts';

let tables: BookingTables;
const metadata = { userId: 'ann' };

beforeAll(async () => {
  const test = await createTestTables();
  tables = { client: test.client, eventsTable: test.events, stateTable: test.state };
});

const organization = (id: string, command: OrganizationCommand) =>
  executeCommand(tables, {
    decider: organizationDecider,
    aggregateType: 'organization',
    aggregateId: id,
    command,
    metadata,
    project: (after) => organizationWrites(tables.stateTable, id, command, after, 'ann'),
  });

const team = (id: string, organizationId: string, command: TeamCommand, members: string[] = []) =>
  executeCommand(tables, {
    decider: teamDecider,
    aggregateType: 'team',
    aggregateId: id,
    command,
    metadata,
    project: (after) => teamWrites(tables.stateTable, id, after, command.type === 'Create'),
    alongside: [requireMembers(tables.stateTable, organizationId, members, 'memberIds')],
  });

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('the command was not refused');
}

async function organizationWith(members: string[]): Promise<string> {
  const id = randomUUID();
  await organization(id, { type: 'Create', name: 'Acme', createdBy: 'ann' });
  for (const userId of members) {
    await organization(id, { type: 'Invite', userId, role: 'member' });
    await organization(id, { type: 'AcceptInvitation', userId });
  }
  return id;
}

describe('team membership is checked in the team\'s own transaction', () => {
  it('refuses an invitee who has not accepted, and writes nothing', async () => {
    const orgId = await organizationWith([]);
    await organization(orgId, { type: 'Invite', userId: 'ivy', role: 'member' });
    expect((await invitationsOf(tables, 'ivy')).map((i) => i.organizationId)).toEqual([orgId]);
    const teamId = randomUUID();
    const refused = await refusal(team(teamId, orgId, { type: 'Create', organizationId: orgId, name: 'T', memberIds: ['ann', 'ivy'] }, ['ann', 'ivy']));
    expect(refused).toMatchObject({ code: 'NotAnOrganizationMember', kind: 'rule' });
    expect(await readTeam(tables, teamId)).toBeUndefined();
    expect(await teamsOf(tables, orgId)).toEqual([]);
  });

  it('refuses a user who left between the check and the write', async () => {
    const orgId = await organizationWith(['bob']);
    const teamId = randomUUID();
    await team(teamId, orgId, { type: 'Create', organizationId: orgId, name: 'T', memberIds: [] });
    // What a handler read a moment ago no longer holds when its transaction commits.
    await organization(orgId, { type: 'RemoveMember', userId: 'bob' });
    const refused = await refusal(team(teamId, orgId, { type: 'AddMember', userId: 'bob' }, ['bob']));
    expect(refused.code).toBe('NotAnOrganizationMember');
    expect((await readTeam(tables, teamId))!.memberIds).toEqual([]);
  });
});

describe('leaving an organization', () => {
  it('takes the leaver off every team of that organization and no other, and out of its member index', async () => {
    const orgId = await organizationWith(['bob', 'cat']);
    const elsewhere = await organizationWith(['bob']);
    const teamIds = [randomUUID(), randomUUID(), randomUUID()];
    await team(teamIds[0]!, orgId, { type: 'Create', organizationId: orgId, name: 'A', memberIds: ['bob', 'cat'] }, ['bob', 'cat']);
    await team(teamIds[1]!, orgId, { type: 'Create', organizationId: orgId, name: 'B', memberIds: ['cat'] }, ['cat']);
    await team(teamIds[2]!, elsewhere, { type: 'Create', organizationId: elsewhere, name: 'C', memberIds: ['bob'] }, ['bob']);
    expect((await membershipsOf(tables, 'bob')).map((m) => m.organizationId).sort()).toEqual([orgId, elsewhere].sort());

    await leaveOrganization(tables, orgId, 'bob', { userId: 'bob' });
    expect((await readTeam(tables, teamIds[0]!))!.memberIds).toEqual(['cat']);
    expect((await readTeam(tables, teamIds[1]!))!.memberIds).toEqual(['cat']);
    expect((await readTeam(tables, teamIds[2]!))!.memberIds).toEqual(['bob']);
    expect((await readOrganization(tables, orgId))!.members).toEqual({ ann: 'admin', cat: 'member' });
    expect((await membershipsOf(tables, 'bob')).map((m) => m.organizationId)).toEqual([elsewhere]);
    // Leaving again changes nothing and does not fail.
    await leaveOrganization(tables, orgId, 'bob', { userId: 'bob' });
  });
});

describe('ending a user\'s future bookings', () => {
  const request = (start: Date, hostIds: string[], organizerId = hostIds[0]!): BookingRequest => ({
    eventTypeId: 'et-1',
    organizerId,
    hostIds,
    title: 'Call',
    start: start.toISOString(),
    end: new Date(start.getTime() + 30 * 60_000).toISOString(),
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    attendee: { name: 'Ada', email: 'ada@example.com', timeZone: 'UTC' },
    requiresConfirmation: false,
  });
  async function confirmed(booking: BookingRequest): Promise<string> {
    const id = randomUUID();
    await executeBookingCommand(tables, { bookingId: id, command: { type: 'RequestBooking', request: booking }, metadata: {} });
    await executeBookingCommand(tables, { bookingId: id, command: { type: 'AcceptBooking' }, metadata: {} });
    return id;
  }

  it('pages through more than a page of them, cancels each by the organizer, and leaves others\' bookings alone', async () => {
    const user = `organizer-${randomUUID()}`;
    const base = Date.UTC(2031, 0, 6, 9);
    const own = await Promise.all(Array.from({ length: 60 }, (_, i) => confirmed(request(new Date(base + i * 3_600_000), [user]))));
    // A collective booking another host still holds; and one where the user is the only host of someone else's.
    const shared = await confirmed(request(new Date(base + 200 * 3_600_000), ['colleague', user], 'colleague'));
    const hosted = await confirmed(request(new Date(base + 100 * 3_600_000), [user], 'team-owner'));

    expect(await endFutureBookings(tables, user, { userId: user }, 'account deleted')).toBe(61);
    for (const id of own) expect((await readBooking(tables, id))!.booking).toMatchObject({ status: 'cancelled', cancellation: { by: 'organizer', reason: 'account deleted' } });
    expect((await readBooking(tables, hosted))!.booking.cancellation).toMatchObject({ by: 'system' });
    expect((await readBooking(tables, shared))!.booking.status).toBe('confirmed');
    expect(await endFutureBookings(tables, user, { userId: user }, 'account deleted')).toBe(0);
  }, 120_000);
});

describe('hosting follows the organization as well as the team', () => {
  it('a member the organization let go is never a host, even while a team still lists them', async () => {
    const orgId = await organizationWith(['bob', 'cat']);
    const teamId = randomUUID();
    await team(teamId, orgId, { type: 'Create', organizationId: orgId, name: 'Hosts', memberIds: ['bob', 'cat'] }, ['bob', 'cat']);
    const eventType = { teamId, ownerId: 'ann' } as EventTypeView;
    expect(await hostsOf(tables, eventType)).toEqual(['bob', 'cat']);
    // A departure interrupted after the organization's removal and before the team's (what leaveOrganization
    // avoids by order, and a crash or an older read model could still leave behind).
    await organization(orgId, { type: 'RemoveMember', userId: 'bob' });
    expect((await readTeam(tables, teamId))!.memberIds).toEqual(['bob', 'cat']);
    expect(await hostsOf(tables, eventType)).toEqual(['cat']);
  });
});
