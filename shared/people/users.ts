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
        {
          // Only what really changes is recorded; an update that changes nothing records nothing.
          const changes = Object.fromEntries(Object.entries(definedOnly(command.changes)).filter(([key, value]) => state[key as keyof UserProfile] !== value));
          return Object.keys(changes).length ? [{ type: 'user.updated', payload: { changes } }] : [];
        }
      case 'Delete':
        // Deleting again records nothing, so a retry can finish the clean-up a failed first attempt left.
        if (state.status === 'deleted') return [];
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
