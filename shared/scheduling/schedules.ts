import type { z } from 'zod';
import type { Event } from '../../events/envelope.ts';
import type { PayloadOf } from '../../events/catalog.ts';
import type { scheduleDefinition } from '../../events/scheduling.ts';
import { DomainError, definedOnly, unreachable, type Decider } from '../domain/decider.ts';
import type { Schedule } from './availability.ts';

export type ScheduleDefinition = z.infer<typeof scheduleDefinition>;
export type ScheduleState = { status: 'none' } | ({ status: 'active' } & PayloadOf<'schedule.created'>);
export type ScheduleEvent = Event<'schedule.created', PayloadOf<'schedule.created'>> | Event<'schedule.updated', PayloadOf<'schedule.updated'>>;
export type ScheduleCommand =
  | { type: 'Create'; ownerId: string; isDefault: boolean; definition: ScheduleDefinition }
  | { type: 'Update'; changes: Partial<ScheduleDefinition> };

export const scheduleDecider: Decider<ScheduleCommand, ScheduleState, ScheduleEvent> = {
  initialState: { status: 'none' },
  decide(command, state) {
    switch (command.type) {
      case 'Create':
        if (state.status !== 'none') throw new DomainError('ScheduleExists', 'schedule already exists');
        return [{ type: 'schedule.created', payload: { ...command.definition, ownerId: command.ownerId, isDefault: command.isDefault } }];
      case 'Update':
        if (state.status === 'none') throw new DomainError('ScheduleNotFound', 'schedule does not exist');
        return [{ type: 'schedule.updated', payload: { changes: command.changes } }];
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
