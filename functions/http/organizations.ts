import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { boundedList, id as anId, shortText } from '../../events/primitives.ts';
import { organizer, type Identity } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { putView } from '../../shared/domain/aggregate-commands.ts';
import { httpHandler, json, parseJsonBody, pathParameter, type HttpEvent } from '../../shared/http/handler.ts';
import { respondToCommand } from '../../shared/http/command-response.ts';
import { problems } from '../../shared/http/problems.ts';
import { organizationDecider, teamDecider, type OrganizationCommand, type OrganizationState, type TeamCommand } from '../../shared/people/organizations.ts';
import { keys, readOrganization, readTeam, type Active } from '../../shared/scheduling/directory.ts';

const tables = () => bookingTables();
const name = shortText(200);

/** An organization command, answered with the organization as it now is. */
function organizationCommand(event: HttpEvent, me: Identity, id: string, command: OrganizationCommand, status: number, authorize?: (state: OrganizationState) => void) {
  return respondToCommand(event, me, {
    decider: organizationDecider,
    aggregateType: 'organization',
    aggregateId: id,
    command,
    authorize,
    status,
    location: status === 201 ? `/organizations/${id}` : undefined,
    present: (state) => ({ ...state, id }),
    project: (state) => [putView(tables().stateTable, keys.organization(id), { ...state, id })],
  });
}

/** Only an admin of the organization may change it; everyone else is told it does not exist. */
function adminOf(me: Identity) {
  return (state: OrganizationState) => {
    if (state.status === 'none' || !state.members[me.userId]) throw problems.notFound('organization');
    if (state.members[me.userId] !== 'admin') throw problems.forbidden('only an organization admin may do that');
  };
}

export const create = httpHandler(async (event) => {
  const me = organizer(event);
  const body = parseJsonBody(event, z.strictObject({ name }));
  return organizationCommand(event, me, randomUUID(), { type: 'Create', name: body.name, createdBy: me.userId }, 201);
});

export const get = httpHandler(async (event) => {
  const me = organizer(event);
  const organization = await readOrganization(tables(), pathParameter(event, 'id'));
  if (!organization?.members[me.userId]) throw problems.notFound('organization');
  return json(200, organization);
});

export const addMember = httpHandler(async (event) => {
  const me = organizer(event);
  const id = pathParameter(event, 'id');
  const body = parseJsonBody(event, z.strictObject({ userId: anId, role: z.enum(['admin', 'member']).default('member') }));
  return organizationCommand(event, me, id, { type: 'AddMember', userId: body.userId, role: body.role }, 200, adminOf(me));
});

/** An admin removes anyone; a member may leave. */
export const removeMember = httpHandler(async (event) => {
  const me = organizer(event);
  const id = pathParameter(event, 'id');
  const userId = pathParameter(event, 'userId');
  return organizationCommand(event, me, id, { type: 'RemoveMember', userId }, 200, userId === me.userId ? undefined : adminOf(me));
});

/** A team command, answered with the team as it now is. */
function teamCommand(event: HttpEvent, me: Identity, id: string, command: TeamCommand, status: number) {
  return respondToCommand(event, me, {
    decider: teamDecider,
    aggregateType: 'team',
    aggregateId: id,
    command,
    status,
    location: status === 201 ? `/teams/${id}` : undefined,
    present: (state) => ({ ...state, id }),
    project: (state) => [putView(tables().stateTable, keys.team(id), { ...state, id })],
  });
}

async function requireAdmin(me: Identity, organizationId: string): Promise<Active<OrganizationState>> {
  const organization = await readOrganization(tables(), organizationId);
  adminOf(me)(organization ?? { status: 'none' });
  return organization!;
}

export const createTeam = httpHandler(async (event) => {
  const me = organizer(event);
  const organizationId = pathParameter(event, 'id');
  const body = parseJsonBody(event, z.strictObject({ name, memberIds: boundedList(anId, 100).default([]) }));
  const organization = await requireAdmin(me, organizationId);
  const outsiders = body.memberIds.filter((userId) => !organization.members[userId]);
  if (outsiders.length) throw problems.unprocessable(outsiders.map((userId) => ({ path: 'memberIds', message: `${userId} is not a member of the organization` })));
  return teamCommand(event, me, randomUUID(), { type: 'Create', organizationId, name: body.name, memberIds: body.memberIds }, 201);
});

export const getTeam = httpHandler(async (event) => {
  const me = organizer(event);
  const team = await readTeam(tables(), pathParameter(event, 'id'));
  const organization = team && (await readOrganization(tables(), team.organizationId));
  if (!team || !organization?.members[me.userId]) throw problems.notFound('team');
  return json(200, team);
});

export const addTeamMember = httpHandler(async (event) => {
  const me = organizer(event);
  const id = pathParameter(event, 'id');
  const { userId } = parseJsonBody(event, z.strictObject({ userId: anId }));
  const team = await readTeam(tables(), id);
  if (!team) throw problems.notFound('team');
  const organization = await requireAdmin(me, team.organizationId);
  if (!organization.members[userId]) throw problems.unprocessable([{ path: 'userId', message: 'is not a member of the organization' }]);
  return teamCommand(event, me, id, { type: 'AddMember', userId }, 200);
});

export const removeTeamMember = httpHandler(async (event) => {
  const me = organizer(event);
  const id = pathParameter(event, 'id');
  const team = await readTeam(tables(), id);
  if (!team) throw problems.notFound('team');
  await requireAdmin(me, team.organizationId);
  return teamCommand(event, me, id, { type: 'RemoveMember', userId: pathParameter(event, 'userId') }, 200);
});
