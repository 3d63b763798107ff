import type * as z from '../../events/zod.ts';
import type { Event } from '../../events/envelope.ts';
import type { PayloadOf } from '../../events/catalog.ts';
import type { scheduleDefinition } from '../../events/scheduling.ts';
import { DomainError, definedOnly, notFound, unreachable, type Decider } from '../domain/decider.ts';
import type { Schedule } from './availability.ts';

export type ScheduleDefinition = z.infer<typeof scheduleDefinition>;
export type ScheduleState = { status: 'none' } | ({ status: 'active' } & PayloadOf<'schedule.created'>);
export type ScheduleEvent = Event<'schedule.created', PayloadOf<'schedule.created'>> | Event<'schedule.updated', PayloadOf<'schedule.updated'>>;
export type ScheduleCommand =
  | { type: 'Create'; ownerId: string; isDefault: boolean; definition: ScheduleDefinition }
  | { type: 'Update'; changes: PayloadOf<'schedule.updated'>['changes'] };

export const scheduleDecider: Decider<ScheduleCommand, ScheduleState, ScheduleEvent> = {
  initialState: { status: 'none' },
  decide(command, state) {
    switch (command.type) {
      case 'Create':
        if (state.status !== 'none') throw new DomainError('ScheduleExists', 'schedule already exists');
        return [{ type: 'schedule.created', payload: { ...command.definition, ownerId: command.ownerId, isDefault: command.isDefault } }];
      case 'Update':
        if (state.status === 'none') throw notFound('ScheduleNotFound', 'schedule does not exist');
        {
          // Only what really changes is recorded. Whether a schedule is the default is its owner's pointer's
          // to say, not this stream's, so the caller sends `isDefault` only when it does change.
          const changes = Object.fromEntries(
            Object.entries(command.changes).filter(([key, value]) => value !== undefined && (key === 'isDefault' || JSON.stringify(value) !== JSON.stringify((state as Record<string, unknown>)[key]))),
          );
          return Object.keys(changes).length ? [{ type: 'schedule.updated', payload: { changes } }] : [];
        }
      default:
        return unreachable(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'schedule.created':
        return { status: 'active', ...event.payload };
      case 'schedule.updated':
        return state.status === 'none' ? state : { ...state, ...definedOnly(event.payload.changes) };
      default:
        return unreachable(event);
    }
  },
};

/** What an organizer without a schedule of their own offers: weekdays 09:00-17:00 in their zone, UTC if none. */
export function defaultSchedule(timeZone = 'UTC'): Schedule {
  return { timeZone, weekly: (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, start: '09:00', end: '17:00' })) };
}
