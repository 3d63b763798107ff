// Given/when/then specs of the people deciders: users, organizations (membership by invitation), teams.
import { describe, it } from 'vitest';
import { organizationDecider, teamDecider, type OrganizationEvent } from '../../shared/people/organizations.ts';
import { userDecider } from '../../shared/people/users.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const profile = { name: 'Bettina', email: 'bettina@example.com', timeZone: 'Europe/Berlin' };

describe('user decider', () => {
  const spec = deciderSpec(userDecider);
  const registered = [{ type: 'user.created' as const, payload: profile }];
  const deleted = [...registered, { type: 'user.deleted' as const, payload: {} }];
  it('registers once, updates and deletes an active profile', () => {
    spec.given([]).when({ type: 'Register', profile }).then([{ type: 'user.created', payload: profile }]);
    spec.given(registered).when({ type: 'Register', profile }).thenThrows('UserExists');
    spec.given(registered).when({ type: 'UpdateProfile', changes: { name: 'B.' } }).then([{ type: 'user.updated', payload: { changes: { name: 'B.' } } }]);
    spec.given([]).when({ type: 'UpdateProfile', changes: { name: 'B.' } }).thenThrows('UserNotFound');
    spec.given(registered).when({ type: 'Delete' }).then([{ type: 'user.deleted', payload: { reason: undefined } }]);
    spec.given([]).when({ type: 'Delete' }).thenThrows('UserNotFound');
  });
  it('records only the fields an update really changes', () => {
    spec.given(registered).when({ type: 'UpdateProfile', changes: { name: 'Bettina', timeZone: 'Europe/Paris' } }).then([{ type: 'user.updated', payload: { changes: { timeZone: 'Europe/Paris' } } }]);
    spec.given(registered).when({ type: 'UpdateProfile', changes: { name: 'Bettina' } }).thenNothing();
    spec.given(registered).when({ type: 'UpdateProfile', changes: {} }).thenNothing();
  });
  it('deletes once: deleting again records nothing, so a retry can finish the clean-up', () => {
    spec.given(deleted).when({ type: 'Delete' }).thenNothing();
    spec.given(deleted).when({ type: 'UpdateProfile', changes: { name: 'B.' } }).thenThrows('UserNotFound');
  });
  it('lets a deleted user register again', () => {
    spec.given(deleted).when({ type: 'Register', profile }).then([{ type: 'user.created', payload: profile }]);
  });
});

describe('organization decider', () => {
  const spec = deciderSpec(organizationDecider);
  const created: OrganizationEvent[] = [
    { type: 'organization.created', payload: { name: 'Acme', createdBy: 'ann' } },
    { type: 'organization.member.added', payload: { userId: 'ann', role: 'admin' } },
  ];
  const invitedBob: OrganizationEvent[] = [...created, { type: 'organization.member.invited', payload: { userId: 'bob', role: 'member' } }];
  const withBob: OrganizationEvent[] = [...invitedBob, { type: 'organization.member.added', payload: { userId: 'bob', role: 'member' } }];

  it('makes its creator an admin', () => {
    spec.given([]).when({ type: 'Create', name: 'Acme', createdBy: 'ann' }).then(created);
    spec.given(created).when({ type: 'Create', name: 'Acme', createdBy: 'ann' }).thenThrows('OrganizationExists');
  });
  it('invites rather than adds: an invitation makes nobody a member', () => {
    spec.given(created).when({ type: 'Invite', userId: 'bob', role: 'member' }).then([{ type: 'organization.member.invited', payload: { userId: 'bob', role: 'member' } }]);
    spec.given(invitedBob).when({ type: 'RemoveMember', userId: 'bob' }).thenThrows('NotAMember');
  });
  it('invites idempotently, may change the offered role, and does not invite members', () => {
    spec.given(invitedBob).when({ type: 'Invite', userId: 'bob', role: 'member' }).thenNothing();
    spec.given(invitedBob).when({ type: 'Invite', userId: 'bob', role: 'admin' }).then([{ type: 'organization.member.invited', payload: { userId: 'bob', role: 'admin' } }]);
    spec.given(created).when({ type: 'Invite', userId: 'ann', role: 'member' }).thenThrows('AlreadyMember');
  });
  it('adds the invitee, with the invited role, only when they accept', () => {
    spec.given(invitedBob).when({ type: 'AcceptInvitation', userId: 'bob' }).then([{ type: 'organization.member.added', payload: { userId: 'bob', role: 'member' } }]);
    spec.given(created).when({ type: 'AcceptInvitation', userId: 'bob' }).thenThrows('InvitationNotFound');
    // Accepting uses the invitation up.
    spec.given(withBob).when({ type: 'AcceptInvitation', userId: 'bob' }).thenThrows('AlreadyMember');
    spec.given(withBob).when({ type: 'DeclineInvitation', userId: 'bob' }).thenThrows('InvitationNotFound');
  });
  it('lets the invitee decline and an admin revoke, after which accepting fails', () => {
    const declined: OrganizationEvent[] = [...invitedBob, { type: 'organization.invitation.declined', payload: { userId: 'bob' } }];
    spec.given(invitedBob).when({ type: 'DeclineInvitation', userId: 'bob' }).then([{ type: 'organization.invitation.declined', payload: { userId: 'bob' } }]);
    spec.given(declined).when({ type: 'AcceptInvitation', userId: 'bob' }).thenThrows('InvitationNotFound');
    const revoked: OrganizationEvent[] = [...invitedBob, { type: 'organization.invitation.revoked', payload: { userId: 'bob' } }];
    spec.given(invitedBob).when({ type: 'RevokeInvitation', userId: 'bob' }).then([{ type: 'organization.invitation.revoked', payload: { userId: 'bob' } }]);
    spec.given(revoked).when({ type: 'AcceptInvitation', userId: 'bob' }).thenThrows('InvitationNotFound');
    spec.given(revoked).when({ type: 'RevokeInvitation', userId: 'bob' }).thenThrows('InvitationNotFound');
    // A declined invitee can be invited again.
    spec.given(declined).when({ type: 'Invite', userId: 'bob', role: 'member' }).then([{ type: 'organization.member.invited', payload: { userId: 'bob', role: 'member' } }]);
  });
  it('keeps an admin while others remain; the last member may leave; strangers are not members', () => {
    spec.given(withBob).when({ type: 'RemoveMember', userId: 'ann' }).thenThrows('LastAdmin');
    spec.given(withBob).when({ type: 'RemoveMember', userId: 'bob' }).then([{ type: 'organization.member.removed', payload: { userId: 'bob' } }]);
    spec.given(created).when({ type: 'RemoveMember', userId: 'ann' }).then([{ type: 'organization.member.removed', payload: { userId: 'ann' } }]);
    spec.given(created).when({ type: 'RemoveMember', userId: 'zed' }).thenThrows('NotAMember');
  });
  it('knows no organization before it is created', () => {
    for (const command of [
      { type: 'Invite', userId: 'bob', role: 'member' },
      { type: 'AcceptInvitation', userId: 'bob' },
      { type: 'DeclineInvitation', userId: 'bob' },
      { type: 'RevokeInvitation', userId: 'bob' },
      { type: 'RemoveMember', userId: 'bob' },
    ] as const) {
      spec.given([]).when(command).thenThrows('OrganizationNotFound');
    }
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
    spec.given([]).when({ type: 'AddMember', userId: 'c' }).thenThrows('TeamNotFound');
  });
});
