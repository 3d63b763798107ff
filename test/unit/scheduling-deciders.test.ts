import { describe, it } from 'vitest';
import { organizationDecider, teamDecider } from '../../shared/people/organizations.ts';
import { userDecider } from '../../shared/people/users.ts';
import { scheduleDecider } from '../../shared/scheduling/schedules.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const profile = { name: 'Bettina', email: 'bettina@example.com', timeZone: 'Europe/Berlin' };

describe('user decider', () => {
  const spec = deciderSpec(userDecider);
  it('registers once, updates and deletes an active profile', () => {
    spec.given([]).when({ type: 'Register', profile }).then([{ type: 'user.created', payload: profile }]);
    spec.given([{ type: 'user.created', payload: profile }]).when({ type: 'Register', profile }).thenThrows('UserExists');
    spec.given([{ type: 'user.created', payload: profile }]).when({ type: 'UpdateProfile', changes: { name: 'B.' } }).then([{ type: 'user.updated', payload: { changes: { name: 'B.' } } }]);
    spec.given([]).when({ type: 'UpdateProfile', changes: { name: 'B.' } }).thenThrows('UserNotFound');
    spec.given([{ type: 'user.created', payload: profile }, { type: 'user.deleted', payload: {} }]).when({ type: 'Delete' }).thenThrows('UserNotFound');
  });
  it('lets a deleted user register again', () => {
    spec.given([{ type: 'user.created', payload: profile }, { type: 'user.deleted', payload: {} }]).when({ type: 'Register', profile }).then([{ type: 'user.created', payload: profile }]);
  });
});

describe('organization decider', () => {
  const spec = deciderSpec(organizationDecider);
  const created = [
    { type: 'organization.created' as const, payload: { name: 'Acme', createdBy: 'ann' } },
    { type: 'organization.member.added' as const, payload: { userId: 'ann', role: 'admin' as const } },
  ];
  it('makes its creator an admin', () => {
    spec.given([]).when({ type: 'Create', name: 'Acme', createdBy: 'ann' }).then(created);
  });
  it('adds members idempotently and changes roles', () => {
    spec.given(created).when({ type: 'AddMember', userId: 'bob', role: 'member' }).then([{ type: 'organization.member.added', payload: { userId: 'bob', role: 'member' } }]);
    spec.given(created).when({ type: 'AddMember', userId: 'ann', role: 'admin' }).thenNothing();
  });
  it('keeps at least one admin and refuses to remove a stranger', () => {
    spec.given(created).when({ type: 'RemoveMember', userId: 'ann' }).thenThrows('LastAdmin');
    spec.given(created).when({ type: 'RemoveMember', userId: 'zed' }).thenThrows('NotAMember');
    spec.given([]).when({ type: 'AddMember', userId: 'bob', role: 'member' }).thenThrows('OrganizationNotFound');
  });
});

describe('team decider', () => {
  const spec = deciderSpec(teamDecider);
  const created = [{ type: 'team.created' as const, payload: { organizationId: 'org', name: 'Support', memberIds: ['a', 'b'] } }];
  it('creates with distinct members, adds and removes', () => {
    spec.given([]).when({ type: 'Create', organizationId: 'org', name: 'Support', memberIds: ['a', 'b', 'a'] }).then(created);
    spec.given(created).when({ type: 'AddMember', userId: 'a' }).thenNothing();
    spec.given(created).when({ type: 'AddMember', userId: 'c' }).then([{ type: 'team.member.added', payload: { userId: 'c' } }]);
    spec.given(created).when({ type: 'RemoveMember', userId: 'c' }).thenThrows('NotAMember');
    spec.given(created).when({ type: 'RemoveMember', userId: 'b' }).then([{ type: 'team.member.removed', payload: { userId: 'b' } }]);
  });
});

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
