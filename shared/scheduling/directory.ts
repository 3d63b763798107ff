// Reads of the read models the scheduling features share: users, organizations, teams, schedules.
import { BatchGetCommand, GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TransactionItem } from '../eventstore/event-store.ts';
import { conflict } from '../domain/decider.ts';
import type { OrganizationState, TeamState } from '../people/organizations.ts';
import type { UserState } from '../people/users.ts';
import type { Schedule } from './availability.ts';
import { defaultSchedule, type ScheduleState } from './schedules.ts';

type Tables = { client: DynamoDBDocumentClient; stateTable: string };

export const keys = {
  user: (id: string) => ({ pk: `USER#${id}`, sk: 'USER' }),
  defaultSchedule: (userId: string) => ({ pk: `USER#${userId}`, sk: 'DEFAULT_SCHEDULE' }),
  organization: (id: string) => ({ pk: `ORG#${id}`, sk: 'ORG' }),
  team: (id: string) => ({ pk: `TEAM#${id}`, sk: 'TEAM' }),
  schedule: (id: string) => ({ pk: `SCHEDULE#${id}`, sk: 'SCHEDULE' }),
};

async function view<T>(tables: Tables, key: { pk: string; sk: string }): Promise<T | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: key, ConsistentRead: true }));
  return Item?.view as T | undefined;
}

export type Active<S> = Exclude<S, { status: 'none' }> & { id: string };

export const readUser = (t: Tables, id: string) => view<Active<UserState>>(t, keys.user(id));
export const readOrganization = (t: Tables, id: string) => view<Active<OrganizationState>>(t, keys.organization(id));
export const readTeam = (t: Tables, id: string) => view<Active<TeamState>>(t, keys.team(id));
export const readSchedule = (t: Tables, id: string) => view<Active<ScheduleState>>(t, keys.schedule(id));

/**
 * A user's default schedule is one pointer per user, so exactly one schedule (or none) is the default and
 * making another the default switches the old one off. Schedule views read `isDefault` from it.
 */
export function pointDefaultSchedule(tableName: string, userId: string, scheduleId: string): TransactionItem {
  return { item: { Put: { TableName: tableName, Item: { ...keys.defaultSchedule(userId), view: { scheduleId } } } } };
}

/** Clears the pointer, only if it still points at this schedule. */
export function clearDefaultSchedule(tableName: string, userId: string, scheduleId: string): TransactionItem {
  return {
    item: {
      Delete: {
        TableName: tableName,
        Key: keys.defaultSchedule(userId),
        ConditionExpression: 'attribute_not_exists(pk) OR #view.scheduleId = :id',
        ExpressionAttributeNames: { '#view': 'view' },
        ExpressionAttributeValues: { ':id': scheduleId },
      },
    },
    onConditionFailed: () => conflict('DefaultScheduleMoved', 'another schedule became the default at the same moment; reload and try again'),
  };
}

export async function readDefaultScheduleId(t: Tables, userId: string): Promise<string | undefined> {
  return (await view<{ scheduleId: string }>(t, keys.defaultSchedule(userId)))?.scheduleId;
}

export async function listOwned<T>(t: Tables, ownerKey: string, sortPrefix: string): Promise<T[]> {
  const { Items = [] } = await t.client.send(
    new QueryCommand({
      TableName: t.stateTable,
      IndexName: 'byOwner',
      KeyConditionExpression: 'ownerKey = :owner AND begins_with(ownerSort, :prefix)',
      ExpressionAttributeValues: { ':owner': ownerKey, ':prefix': sortPrefix },
    }),
  );
  return Items.map((item) => item.view as T);
}

/**
 * The weekly hours each user works by: their default schedule if they made one, else weekdays 9 to 5 in their
 * profile's zone (UTC without a profile). One batch read for the whole team.
 */
export async function defaultSchedulesOf(t: Tables, userIds: string[]): Promise<Map<string, Schedule>> {
  const result = new Map<string, Schedule>();
  if (!userIds.length) return result;
  const read = async (requested: Array<{ pk: string; sk: string }>) => {
    const items: Array<Record<string, any>> = [];
    for (let i = 0; i < requested.length; i += 100) {
      const { Responses } = await t.client.send(new BatchGetCommand({ RequestItems: { [t.stateTable]: { Keys: requested.slice(i, i + 100), ConsistentRead: true } } }));
      items.push(...(Responses?.[t.stateTable] ?? []));
    }
    return new Map(items.map((item) => [`${item.pk}|${item.sk}`, item.view]));
  };
  const first = await read(userIds.flatMap((id) => [keys.user(id), keys.defaultSchedule(id)]));
  const scheduleIds = userIds.map((id) => first.get(`USER#${id}|DEFAULT_SCHEDULE`)?.scheduleId as string | undefined);
  const schedules = await read(scheduleIds.filter((id): id is string => Boolean(id)).map((id) => keys.schedule(id)));
  userIds.forEach((userId, index) => {
    const scheduleId = scheduleIds[index];
    const schedule = scheduleId ? schedules.get(`SCHEDULE#${scheduleId}|SCHEDULE`) : undefined;
    const profile = first.get(`USER#${userId}|USER`) as Active<UserState> | undefined;
    result.set(userId, schedule ? toEngineSchedule(schedule) : defaultSchedule(profile?.status === 'active' ? profile.timeZone : 'UTC'));
  });
  return result;
}

export function toEngineSchedule(schedule: { timeZone: string; weekly: Schedule['weekly']; overrides?: Schedule['overrides']; outOfOffice?: Schedule['outOfOffice'] }): Schedule {
  return { timeZone: schedule.timeZone, weekly: schedule.weekly, overrides: schedule.overrides ?? [], outOfOffice: schedule.outOfOffice ?? [] };
}
