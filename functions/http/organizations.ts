import { randomUUID } from 'node:crypto';
import { organizer, type Identity } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { httpHandler, json, parseJsonBody, pathParameter, type HttpEvent } from '../../shared/http/handler.ts';
import { respondToCommand } from '../../shared/http/command-response.ts';
import { IdempotentRequest } from '../../shared/http/idempotency.ts';
import { problems } from '../../shared/http/problems.ts';
import { invitationsOf, organizationWrites, requireMembers, teamWrites } from '../../shared/people/membership.ts';
import { afterLeaving, loadOrganization, removeFromTeams } from '../../shared/people/offboarding.ts';
import {
  isMember,
  organizationDecider,
  organizationNotFound,
  teamDecider,
  teamNotFound,
  type OrganizationCommand,
  type OrganizationState,
  type TeamCommand,
} from '../../shared/people/organizations.ts';
import { readOrganization, readTeam } from '../../shared/scheduling/directory.ts';
import type { TransactionItem } from '../../shared/eventstore/event-store.ts';
import { addTeamMemberBody, createOrganizationBody, createTeamBody, inviteBody } from '../../shared/scheduling/requests.ts';

const tables = () => bookingTables();

type Authorize = (state: OrganizationState) => void;

/** An organization command, answered with `present` of the organization as it now is. */
function organizationCommand(event: HttpEvent, me: Identity, id: string, command: OrganizationCommand, options: { status?: number; authorize?: Authorize; present?: (state: OrganizationState) => Record<string, unknown> } = {}) {
  const status = options.status ?? 200;
  return respondToCommand(event, me, {
    decider: organizationDecider,
    aggregateType: 'organization',
    aggregateId: id,
    command,
    authorize: options.authorize,
    status,
    location: status === 201 ? `/organizations/${id}` : undefined,
    present: options.present ?? ((state) => ({ ...state, id })),
    project: (state) => organizationWrites(tables().stateTable, id, command, state, me.userId),
  });
}

// To anyone who is not a member an organization does not exist, whether it does or not: the same 404 for both.
const memberOf = (me: Identity): Authorize => (state) => {
  if (!isMember(state, me.userId)) throw organizationNotFound();
};
/** Members may see the organization; only admins change it. */
const adminOf = (me: Identity): Authorize => (state) => {
  memberOf(me)(state);
  if (state.status === 'active' && state.members[me.userId] !== 'admin') throw problems.forbidden('only an organization admin may do that');
};
/** The invitee (or a member) learns the organization exists; everyone else does not. */
const inviteeOf = (me: Identity): Authorize => (state) => {
  if (state.status === 'none' || (!state.members[me.userId] && !state.invitations?.[me.userId])) throw organizationNotFound();
};

export const create = httpHandler(async (event) => {
  const me = organizer(event);
  const body = parseJsonBody(event, createOrganizationBody);
  return organizationCommand(event, me, randomUUID(), { type: 'Create', name: body.name, createdBy: me.userId }, { status: 201 });
});

export const get = httpHandler(async (event) => {
  const me = organizer(event);
  const organization = await readOrganization(tables(), pathParameter(event, 'id'));
  memberOf(me)(organization ?? { status: 'none' });
  return json(200, organization);
});

/** An admin invites a user; they become a member only by accepting. */
export const invite = httpHandler(async (event) => {
  const me = organizer(event);
  const body = parseJsonBody(event, inviteBody);
  return organizationCommand(event, me, pathParameter(event, 'id'), { type: 'Invite', userId: body.userId, role: body.role }, { status: 201, authorize: adminOf(me) });
});

/** The caller's pending invitations, from every organization. */
export const listInvitations = httpHandler(async (event) => {
  const me = organizer(event);
  return json(200, { invitations: await invitationsOf(tables(), me.userId) });
});

export const acceptInvitation = httpHandler(async (event) => {
  const me = organizer(event);
  return organizationCommand(event, me, pathParameter(event, 'id'), { type: 'AcceptInvitation', userId: me.userId }, { authorize: inviteeOf(me) });
});

export const declineInvitation = httpHandler(async (event) => {
  const me = organizer(event);
  const id = pathParameter(event, 'id');
  // Having said no, the invitee is shown no more of the organization than that.
  return organizationCommand(event, me, id, { type: 'DeclineInvitation', userId: me.userId }, { authorize: inviteeOf(me), present: () => ({ organizationId: id, invitation: 'declined' }) });
});

export const revokeInvitation = httpHandler(async (event) => {
  const me = organizer(event);
  return organizationCommand(event, me, pathParameter(event, 'id'), { type: 'RevokeInvitation', userId: pathParameter(event, 'userId') }, { authorize: adminOf(me) });
});

/**
 * An admin removes anyone; a member may leave. Leaving an organization leaves its teams, and so their event
 * types' hosting, in the same request: the teams first (a failure then leaves the member where they were, and
 * a retry starts over), then the organization, then the teams once more for any that added them in between.
 */
export const removeMember = httpHandler(async (event) => {
  const me = organizer(event);
  const id = pathParameter(event, 'id');
  const leaver = pathParameter(event, 'userId');
  const t = tables();
  const earlier = await new IdempotentRequest(t.client, t.stateTable, event, me.userId).replay();
  if (earlier) return earlier;
  const authorize = leaver === me.userId ? memberOf(me) : adminOf(me);
  const before = await loadOrganization(t, id);
  authorize(before);
  // Refused (not a member, the last admin) before anything changes.
  organizationDecider.decide({ type: 'RemoveMember', userId: leaver }, before);
  const metadata = { userId: me.userId, organizationId: me.organizationId };
  await removeFromTeams(t, id, leaver, metadata);
  const response = await organizationCommand(event, me, id, { type: 'RemoveMember', userId: leaver }, {
    authorize,
    // Who left sees no more of the organization.
    present: (state) => (leaver === me.userId ? { organizationId: id, left: true } : { ...state, id }),
  });
  if (response.statusCode === 200) await afterLeaving(t, id, leaver, metadata);
  return response;
});

/** A team command, answered with the team as it now is. */
function teamCommand(event: HttpEvent, me: Identity, id: string, command: TeamCommand, status: number, alongside: TransactionItem[] = []) {
  return respondToCommand(event, me, {
    decider: teamDecider,
    aggregateType: 'team',
    aggregateId: id,
    command,
    status,
    alongside,
    location: status === 201 ? `/teams/${id}` : undefined,
    present: (state) => ({ ...state, id }),
    project: (state) => teamWrites(tables().stateTable, id, state, command.type === 'Create'),
  });
}

/** A team is as visible as its organization: to members; and changed by its admins (or, leaving, by a member). */
async function visibleTeam(me: Identity, teamId: string) {
  const team = await readTeam(tables(), teamId);
  const organization = team && (await readOrganization(tables(), team.organizationId));
  if (!team || !isMember(organization, me.userId)) throw teamNotFound();
  return { team, organization: organization! };
}
const requireAdmin = (me: Identity, organization: OrganizationState) => {
  if (organization.status === 'active' && organization.members[me.userId] !== 'admin') throw problems.forbidden('only an organization admin may do that');
};

function outsidersOf(organization: OrganizationState, userIds: string[], path: string) {
  const outsiders = userIds.filter((id) => !isMember(organization, id));
  if (outsiders.length) throw problems.unprocessable(outsiders.map((id) => ({ path, message: `${id} is not an accepted member of the organization` })));
}

export const createTeam = httpHandler(async (event) => {
  const me = organizer(event);
  const organizationId = pathParameter(event, 'id');
  const body = parseJsonBody(event, createTeamBody);
  const organization = (await readOrganization(tables(), organizationId)) ?? { status: 'none' as const };
  adminOf(me)(organization);
  outsidersOf(organization, body.memberIds, 'memberIds');
  return teamCommand(event, me, randomUUID(), { type: 'Create', organizationId, name: body.name, memberIds: body.memberIds }, 201, [
    requireMembers(tables().stateTable, organizationId, [...new Set(body.memberIds)], 'memberIds'),
  ]);
});

export const getTeam = httpHandler(async (event) => {
  const me = organizer(event);
  const { team } = await visibleTeam(me, pathParameter(event, 'id'));
  return json(200, team);
});

export const addTeamMember = httpHandler(async (event) => {
  const me = organizer(event);
  const id = pathParameter(event, 'id');
  const body = parseJsonBody(event, addTeamMemberBody);
  const { team, organization } = await visibleTeam(me, id);
  requireAdmin(me, organization);
  outsidersOf(organization, [body.userId], 'userId');
  return teamCommand(event, me, id, { type: 'AddMember', userId: body.userId }, 200, [requireMembers(tables().stateTable, team.organizationId, [body.userId], 'userId')]);
});

export const removeTeamMember = httpHandler(async (event) => {
  const me = organizer(event);
  const id = pathParameter(event, 'id');
  const leaver = pathParameter(event, 'userId');
  const { organization } = await visibleTeam(me, id);
  if (leaver !== me.userId) requireAdmin(me, organization);
  return teamCommand(event, me, id, { type: 'RemoveMember', userId: leaver }, 200);
});
