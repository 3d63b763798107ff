import type { Event } from '../../events/envelope.ts';
import type { PayloadOf } from '../../events/catalog.ts';
import { DomainError, notFound, unreachable, type Decider } from '../domain/decider.ts';

export type Role = 'admin' | 'member';
export type OrganizationState = { status: 'none' } | { status: 'active'; name: string; members: Record<string, Role> };
export type OrganizationEvent =
  | Event<'organization.created', PayloadOf<'organization.created'>>
  | Event<'organization.member.added', PayloadOf<'organization.member.added'>>
  | Event<'organization.member.removed', PayloadOf<'organization.member.removed'>>;
export type OrganizationCommand =
  | { type: 'Create'; name: string; createdBy: string }
  | { type: 'AddMember'; userId: string; role: Role }
  | { type: 'RemoveMember'; userId: string };

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
    if (state.status === 'none') throw notFound('OrganizationNotFound', 'organization does not exist');
    switch (command.type) {
      case 'AddMember':
        if (state.members[command.userId] === command.role) return [];
        return [{ type: 'organization.member.added', payload: { userId: command.userId, role: command.role } }];
      case 'RemoveMember': {
        if (!state.members[command.userId]) throw notFound('NotAMember', `${command.userId} is not a member`);
        const admins = Object.entries(state.members).filter(([, role]) => role === 'admin').map(([id]) => id);
        if (admins.length === 1 && admins[0] === command.userId) throw new DomainError('LastAdmin', 'an organization keeps at least one admin');
        return [{ type: 'organization.member.removed', payload: { userId: command.userId } }];
      }
      default:
        return unreachable(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'organization.created':
        return { status: 'active', name: event.payload.name, members: {} };
      case 'organization.member.added':
        return state.status === 'none' ? state : { ...state, members: { ...state.members, [event.payload.userId]: event.payload.role } };
      case 'organization.member.removed': {
        if (state.status === 'none') return state;
        const { [event.payload.userId]: _, ...members } = state.members;
        return { ...state, members };
      }
      default:
        return unreachable(event);
    }
  },
};

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
    if (state.status === 'none') throw notFound('TeamNotFound', 'team does not exist');
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
