import { describe, it } from 'vitest';
import { scheduleDecider } from '../../shared/scheduling/schedules.ts';
import { deciderSpec } from '../support/decider-spec.ts';

// The user, organization and team deciders are specified in people-deciders.test.ts.

describe('schedule decider', () => {
  const spec = deciderSpec(scheduleDecider);
  const definition = { name: 'Office', timeZone: 'Europe/Berlin', weekly: [{ day: 'mon' as const, start: '09:00', end: '17:00' }], overrides: [], outOfOffice: [] };
  it('is created once and updated with only the changed fields', () => {
    spec.given([]).when({ type: 'Create', ownerId: 'ann', isDefault: true, definition }).then([{ type: 'schedule.created', payload: { ...definition, ownerId: 'ann', isDefault: true } }]);
    const created = [{ type: 'schedule.created' as const, payload: { ...definition, ownerId: 'ann', isDefault: true } }];
    spec.given(created).when({ type: 'Create', ownerId: 'ann', isDefault: true, definition }).thenThrows('ScheduleExists');
    spec.given(created).when({ type: 'Update', changes: { name: 'Studio' } }).then([{ type: 'schedule.updated', payload: { changes: { name: 'Studio' } } }]);
    spec.given([]).when({ type: 'Update', changes: { name: 'Studio' } }).thenThrows('ScheduleNotFound');
  });
});
