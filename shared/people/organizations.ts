import type { Event } from '../../events/envelope.ts';
import type { PayloadOf } from '../../events/catalog.ts';
import { conflict, DomainError, notFound, unreachable, type Decider } from '../domain/decider.ts';

export type Role = 'admin' | 'member';
export type OrganizationState =
  | { status: 'none' }
  | {
      status: 'active';
      name: string;
      members: Record<string, Role>;
      /** Pending invitations by invitee, with the role accepting gives them. */
      invitations: Record<string, Role>;
    };
export type OrganizationEvent =
  | Event<'organization.created', PayloadOf<'organization.created'>>
  | Event<'organization.member.invited', PayloadOf<'organization.member.invited'>>
  | Event<'organization.member.added', PayloadOf<'organization.member.added'>>
  | Event<'organization.invitation.declined', PayloadOf<'organization.invitation.declined'>>
  | Event<'organization.invitation.revoked', PayloadOf<'organization.invitation.revoked'>>
  | Event<'organization.member.removed', PayloadOf<'organization.member.removed'>>;
/** Nobody joins without saying yes: an admin invites, the invitee accepts (or declines), an admin may revoke. */
export type OrganizationCommand =
  | { type: 'Create'; name: string; createdBy: string }
  | { type: 'Invite'; userId: string; role: Role }
  | { type: 'AcceptInvitation'; userId: string }
  | { type: 'DeclineInvitation'; userId: string }
  | { type: 'RevokeInvitation'; userId: string }
  | { type: 'RemoveMember'; userId: string };

/**
 * The one answer for an organization the caller may not see, whether it exists or not, so that ids of other
 * tenants cannot be probed.
 */
export const organizationNotFound = () => notFound('OrganizationNotFound', 'organization does not exist');
export const teamNotFound = () => notFound('TeamNotFound', 'team does not exist');

export const organizationDecider: Decider<OrganizationCommand, OrganizationState, OrganizationEvent> = {
  initialState: { status: 'none' },
  decide(command, state) {
    if (command.type === 'Create') {
      if (state.status !== 'none') throw new DomainError('OrganizationExists', 'organization already exists');
      return [
        { type: 'organization.created', payload: { name: command.name, createdBy: command.createdBy } },
        // Whoever creates an organization administers it.
        { type: 'organization.member.added', payload: { userId: command.createdBy, role: 'admin' } },
      ];
    }
    if (state.status === 'none') throw organizationNotFound();
    const { userId } = command;
    switch (command.type) {
      case 'Invite':
        if (state.members[userId]) throw conflict('AlreadyMember', `${userId} is already a member`);
        if (state.invitations[userId] === command.role) return [];
        return [{ type: 'organization.member.invited', payload: { userId, role: command.role } }];
      case 'AcceptInvitation': {
        if (state.members[userId]) throw conflict('AlreadyMember', 'you are already a member');
        const role = state.invitations[userId];
        if (!role) throw notFound('InvitationNotFound', 'there is no pending invitation for you');
        return [{ type: 'organization.member.added', payload: { userId, role } }];
      }
      case 'DeclineInvitation':
        if (!state.invitations[userId]) throw notFound('InvitationNotFound', 'there is no pending invitation for you');
        return [{ type: 'organization.invitation.declined', payload: { userId } }];
      case 'RevokeInvitation':
        if (!state.invitations[userId]) throw notFound('InvitationNotFound', `${userId} has no pending invitation`);
        return [{ type: 'organization.invitation.revoked', payload: { userId } }];
      case 'RemoveMember': {
        if (!state.members[userId]) throw notFound('NotAMember', `${userId} is not a member`);
        const admins = Object.entries(state.members).filter(([, role]) => role === 'admin').map(([id]) => id);
        const othersRemain = Object.keys(state.members).length > 1;
        // The last member may go (the organization is then empty); the last admin may not leave others behind.
        if (othersRemain && admins.length === 1 && admins[0] === userId) {
          throw conflict('LastAdmin', 'an organization with members keeps at least one admin: make another member admin first');
        }
        return [{ type: 'organization.member.removed', payload: { userId } }];
      }
      default:
        return unreachable(command);
    }
  },
  evolve(state, event) {
    if (event.type === 'organization.created') return { status: 'active', name: event.payload.name, members: {}, invitations: {} };
    if (state.status === 'none') return state;
    const { [event.payload.userId]: _invitation, ...otherInvitations } = state.invitations ?? {};
    switch (event.type) {
      case 'organization.member.invited':
        return { ...state, invitations: { ...state.invitations, [event.payload.userId]: event.payload.role } };
      case 'organization.member.added':
        // Accepting uses the invitation up.
        return { ...state, members: { ...state.members, [event.payload.userId]: event.payload.role }, invitations: otherInvitations };
      case 'organization.invitation.declined':
      case 'organization.invitation.revoked':
        return { ...state, invitations: otherInvitations };
      case 'organization.member.removed': {
        const { [event.payload.userId]: _member, ...members } = state.members;
        return { ...state, members };
      }
      default:
        return unreachable(event);
    }
  },
};

/** Whether `userId` is an accepted member of the organization (invitees are not). */
export function isMember(state: OrganizationState | undefined, userId: string): boolean {
  return state?.status === 'active' && Boolean(state.members[userId]);
}

export type TeamState = { status: 'none' } | { status: 'active'; organizationId: string; name: string; memberIds: string[] };
export type TeamEvent =
  | Event<'team.created', PayloadOf<'team.created'>>
  | Event<'team.member.added', PayloadOf<'team.member.added'>>
  | Event<'team.member.removed', PayloadOf<'team.member.removed'>>;
export type TeamCommand =
  | { type: 'Create'; organizationId: string; name: string; memberIds: string[] }
  | { type: 'AddMember'; userId: string }
  | { type: 'RemoveMember'; userId: string };

export const teamDecider: Decider<TeamCommand, TeamState, TeamEvent> = {
  initialState: { status: 'none' },
  decide(command, state) {
    if (command.type === 'Create') {
      if (state.status !== 'none') throw new DomainError('TeamExists', 'team already exists');
      return [{ type: 'team.created', payload: { organizationId: command.organizationId, name: command.name, memberIds: [...new Set(command.memberIds)] } }];
    }
    if (state.status === 'none') throw teamNotFound();
    switch (command.type) {
      case 'AddMember':
        return state.memberIds.includes(command.userId) ? [] : [{ type: 'team.member.added', payload: { userId: command.userId } }];
      case 'RemoveMember':
        if (!state.memberIds.includes(command.userId)) throw notFound('NotAMember', `${command.userId} is not on this team`);
        return [{ type: 'team.member.removed', payload: { userId: command.userId } }];
      default:
        return unreachable(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'team.created':
        return { status: 'active', ...event.payload };
      case 'team.member.added':
        return state.status === 'none' ? state : { ...state, memberIds: [...state.memberIds, event.payload.userId] };
      case 'team.member.removed':
        return state.status === 'none' ? state : { ...state, memberIds: state.memberIds.filter((id) => id !== event.payload.userId) };
      default:
        return unreachable(event);
    }
  },
};
