// The people read models beyond each aggregate's own view, all in the state table: who belongs to which
// organization (listed by member), pending invitations (listed by invitee), and the teams of each organization.
// Every entry is written in the transaction of the event it follows from.
import { paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { putView } from '../domain/aggregate-commands.ts';
import { ruleViolated } from '../domain/decider.ts';
import type { TransactionItem } from '../eventstore/event-store.ts';
import { keys } from '../scheduling/directory.ts';
import type { OrganizationCommand, OrganizationState, Role, TeamState } from './organizations.ts';

type Tables = { client: DynamoDBDocumentClient; stateTable: string };

export const membershipKeys = {
  member: (organizationId: string, userId: string) => ({ pk: `ORG#${organizationId}`, sk: `MEMBER#${userId}` }),
  invitation: (organizationId: string, userId: string) => ({ pk: `ORG#${organizationId}`, sk: `INVITATION#${userId}` }),
  team: (organizationId: string, teamId: string) => ({ pk: `ORG#${organizationId}`, sk: `TEAM#${teamId}` }),
};
const memberOwner = (organizationId: string, userId: string) => ({ ownerKey: `MEMBER#${userId}`, ownerSort: `ORG#${organizationId}` });
const inviteeOwner = (organizationId: string, userId: string) => ({ ownerKey: `INVITEE#${userId}`, ownerSort: `INVITATION#${organizationId}` });

/** A pending invitation as its invitee sees it in GET /invitations. */
export type InvitationView = { organizationId: string; organizationName: string; role: Role; invitedBy: string; invitedAt: string };
export type MembershipView = { organizationId: string; role: Role };

const remove = (tableName: string, key: { pk: string; sk: string }): TransactionItem => ({ item: { Delete: { TableName: tableName, Key: key } } });

/**
 * The read-model writes of an organization command that the decider accepted: the organization's view, and
 * the membership and invitation entries the command adds or removes.
 */
export function organizationWrites(tableName: string, id: string, command: OrganizationCommand, after: OrganizationState, actor: string, now = new Date()): TransactionItem[] {
  if (after.status === 'none') return [];
  const view = putView(tableName, keys.organization(id), { ...after, id });
  const member = (userId: string) => putView(tableName, membershipKeys.member(id, userId), { organizationId: id, role: after.members[userId]! } satisfies MembershipView, memberOwner(id, userId));
  switch (command.type) {
    case 'Create':
      return [view, member(command.createdBy)];
    case 'Invite': {
      const invitation: InvitationView = { organizationId: id, organizationName: after.name, role: command.role, invitedBy: actor, invitedAt: now.toISOString() };
      return [view, putView(tableName, membershipKeys.invitation(id, command.userId), invitation, inviteeOwner(id, command.userId))];
    }
    case 'AcceptInvitation':
      return [view, remove(tableName, membershipKeys.invitation(id, command.userId)), member(command.userId)];
    case 'DeclineInvitation':
    case 'RevokeInvitation':
      return [view, remove(tableName, membershipKeys.invitation(id, command.userId))];
    case 'RemoveMember':
      return [view, remove(tableName, membershipKeys.member(id, command.userId))];
  }
}

/** A team's view, and on creation its entry under its organization, so that leaving can find every team. */
export function teamWrites(tableName: string, id: string, after: TeamState, created = false): TransactionItem[] {
  if (after.status === 'none') return [];
  const view = putView(tableName, keys.team(id), { ...after, id });
  return created ? [view, putView(tableName, membershipKeys.team(after.organizationId, id), { teamId: id, name: after.name })] : [view];
}

/**
 * Holds the team write to the organization as the database sees it at commit: each of `userIds` is then still an
 * accepted member. Without it, a member who leaves between our read and our write could be put on a team.
 */
export function requireMembers(tableName: string, organizationId: string, userIds: string[], path: string): TransactionItem {
  const names: Record<string, string> = { '#view': 'view', '#members': 'members' };
  const conditions = userIds.map((userId, index) => {
    names[`#u${index}`] = userId;
    return `attribute_exists(#view.#members.#u${index})`;
  });
  return {
    item: {
      ConditionCheck: {
        TableName: tableName,
        Key: keys.organization(organizationId),
        ConditionExpression: conditions.length ? conditions.join(' AND ') : 'attribute_exists(pk)',
        ExpressionAttributeNames: conditions.length ? names : undefined,
      },
    },
    onConditionFailed: () => ruleViolated('NotAnOrganizationMember', [{ path, message: 'only accepted members of the organization can be on its teams' }]),
  };
}

async function queryAll(tables: Tables, input: Record<string, unknown>): Promise<Array<Record<string, any>>> {
  const items: Array<Record<string, any>> = [];
  const pages = paginateQuery({ client: tables.client, pageSize: 100 }, { TableName: tables.stateTable, ...input });
  for await (const page of pages) items.push(...(page.Items ?? []));
  return items;
}

const byOwner = (tables: Tables, ownerKey: string, prefix: string) =>
  queryAll(tables, {
    IndexName: 'byOwner',
    KeyConditionExpression: 'ownerKey = :owner AND begins_with(ownerSort, :prefix)',
    ExpressionAttributeValues: { ':owner': ownerKey, ':prefix': prefix },
  });

/** The invitations waiting for `userId`'s answer. */
export async function invitationsOf(tables: Tables, userId: string): Promise<InvitationView[]> {
  return (await byOwner(tables, `INVITEE#${userId}`, 'INVITATION#')).map((item) => item.view as InvitationView);
}

/** The organizations `userId` is an accepted member of. */
export async function membershipsOf(tables: Tables, userId: string): Promise<MembershipView[]> {
  return (await byOwner(tables, `MEMBER#${userId}`, 'ORG#')).map((item) => item.view as MembershipView);
}

/** The ids of an organization's teams. */
export async function teamsOf(tables: Tables, organizationId: string): Promise<string[]> {
  const items = await queryAll(tables, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': `ORG#${organizationId}`, ':prefix': 'TEAM#' },
    ConsistentRead: true,
  });
  return items.map((item) => item.view.teamId as string);
}
