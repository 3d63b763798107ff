import type { Event } from '../../events/envelope.ts';
import type { PayloadOf } from '../../events/catalog.ts';
import { DomainError, definedOnly, notFound, unreachable, type Decider } from '../domain/decider.ts';

export type UserProfile = PayloadOf<'user.created'>;
export type UserState = { status: 'none' } | ({ status: 'active' | 'deleted'; defaultScheduleId?: string } & UserProfile);
export type UserEvent = Event<'user.created', UserProfile> | Event<'user.updated', PayloadOf<'user.updated'>> | Event<'user.deleted', PayloadOf<'user.deleted'>>;
export type UserCommand =
  | { type: 'Register'; profile: UserProfile }
  | { type: 'UpdateProfile'; changes: PayloadOf<'user.updated'>['changes'] }
  | { type: 'Delete'; reason?: string };

export const userDecider: Decider<UserCommand, UserState, UserEvent> = {
  initialState: { status: 'none' },
  decide(command, state) {
    switch (command.type) {
      case 'Register':
        if (state.status === 'active') throw new DomainError('UserExists', 'this user already has a profile');
        return [{ type: 'user.created', payload: command.profile }];
      case 'UpdateProfile':
        if (state.status !== 'active') throw notFound('UserNotFound', 'create your profile first');
        return [{ type: 'user.updated', payload: { changes: command.changes } }];
      case 'Delete':
        if (state.status !== 'active') throw notFound('UserNotFound', 'there is no profile to delete');
        return [{ type: 'user.deleted', payload: { reason: command.reason } }];
      default:
        return unreachable(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'user.created':
        return { ...event.payload, status: 'active' };
      case 'user.updated':
        return state.status === 'none' ? state : { ...state, ...definedOnly(event.payload.changes) };
      case 'user.deleted':
        return state.status === 'none' ? state : { ...state, status: 'deleted' };
      default:
        return unreachable(event);
    }
  },
};
