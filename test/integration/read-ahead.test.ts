// The slot path's read-ahead (shared/scheduling/read-ahead.ts) against DynamoDB Local: after a first request, the
// next one issues all its reads in one round; and however the event type, its team, the hosts' schedules or
// their busy time change between requests, a request reads exactly what a request without read-ahead reads.
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchWriteCommand, DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTestTables, type TestTables } from '../support/tables.ts';
import { readAhead } from '../../shared/scheduling/read-ahead.ts';
import { slotQueryFor, slotsOf } from '../../shared/scheduling/slots.ts';
import { keys } from '../../shared/scheduling/directory.ts';
import { eventTypeKey, readEventType } from '../../shared/event-types/read-model.ts';
import { busyDayKey } from '../../shared/booking/time-claims.ts';
import { groupSlotsByDay } from '../../shared/scheduling/availability.ts';

const DAY = 86_400_000;
const monthStart = Date.UTC(2031, 2, 1);
const range = { start: monthStart, end: monthStart + 14 * DAY };
const now = Date.UTC(2031, 1, 1);

/** The real client, counting what it is sent and how many sends were started before the first one answered. */
function counting(real: DynamoDBDocumentClient) {
  const stats = { sent: 0, beforeFirstAnswer: 0, answered: false };
  const client = Object.create(real) as DynamoDBDocumentClient;
  client.send = (async (command: never) => {
    stats.sent++;
    if (!stats.answered) stats.beforeFirstAnswer++;
    try {
      return await real.send(command);
    } finally {
      stats.answered = true;
    }
  }) as DynamoDBDocumentClient['send'];
  return { client, stats };
}

let t: TestTables;
const put = (item: Record<string, unknown>) => t.client.send(new PutCommand({ TableName: t.state, Item: item }));
const weekdays = (start: string, end: string) => (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, start, end }));

async function seed(eventTypeId: string, hosts: string[]) {
  await put({ ...eventTypeKey(eventTypeId), view: { id: eventTypeId, ownerId: hosts[0], title: 'Demo', slug: 'demo', lengthMinutes: 30, slotIntervalMinutes: 15, bufferBeforeMinutes: 0, bufferAfterMinutes: 0, minimumNoticeMinutes: 0, active: true, requiresConfirmation: false, teamId: `team-${eventTypeId}`, schedulingType: 'round_robin', createdAt: '2031-01-01T00:00:00Z' } });
  await put({ ...keys.team(`team-${eventTypeId}`), view: { status: 'active', id: `team-${eventTypeId}`, organizationId: `org-${eventTypeId}`, name: 'Sales', memberIds: hosts } });
  await put({ ...keys.organization(`org-${eventTypeId}`), view: { status: 'active', id: `org-${eventTypeId}`, name: 'Co', members: Object.fromEntries(hosts.map((h) => [h, 'member'])), invitations: {} } });
  for (const [n, host] of hosts.entries()) {
    await put({ ...keys.user(host), view: { status: 'active', id: host, name: host, email: `${host}@example.com`, timeZone: n % 2 ? 'Europe/Berlin' : 'America/New_York' } });
    if (n % 2 === 0) {
      await put({ ...keys.defaultSchedule(host), view: { scheduleId: `s-${host}` } });
      await put({ ...keys.schedule(`s-${host}`), view: { status: 'active', id: `s-${host}`, ownerId: host, name: 'Work', timeZone: 'America/New_York', weekly: weekdays('09:00', '17:00') } });
    }
    await busy(host, monthStart + (n + 2) * DAY + 15 * 3_600_000, 60);
  }
}

async function busy(host: string, start: number, minutes: number) {
  const day = Math.floor(start / DAY);
  await t.client.send(new PutCommand({ TableName: t.state, Item: { ...busyDayKey(host, day), [`b_x${start}`]: [start, start + minutes * 60_000] } }));
}

/** GET /slots' reads: the event type, then everything slotQueryFor reads; and what the answer would be. */
async function slotsRead(tables: { client: DynamoDBDocumentClient; stateTable: string }, eventTypeId: string) {
  const eventType = await readEventType(tables, eventTypeId);
  if (!eventType?.active) return { eventType };
  const query = await slotQueryFor(tables, eventType, range, now);
  return { eventType, query, slots: groupSlotsByDay(slotsOf(query), 'UTC') };
}

beforeAll(async () => {
  t = await createTestTables();
});

describe('read-ahead on the slot path', () => {
  it('reads what a plain request reads, and after the first request issues every read in one round', async () => {
    const id = 'et-round';
    await seed(id, ['h1', 'h2', 'h3', 'h4']);
    const plain = await slotsRead({ client: t.client, stateTable: t.state }, id);
    expect(Object.values(plain.slots!).flat().length).toBeGreaterThan(100);

    const first = counting(t.client);
    expect(await slotsRead(readAhead({ client: first.client, stateTable: t.state }, `slots ${id}`, 'march'), id)).toEqual(plain);
    // Event type, team, organization, then the hosts' profiles and pointers, then schedules and busy days.
    expect(first.stats.beforeFirstAnswer).toBe(1);

    const second = counting(t.client);
    expect(await slotsRead(readAhead({ client: second.client, stateTable: t.state }, `slots ${id}`, 'march'), id)).toEqual(plain);
    // One BatchGetItem for every item, one query per host's busy days and one per host's calendar busy time
    // (shared/calendars/busy-store.ts), all started before any answered.
    expect(second.stats.sent).toBe(1 + 4 + 4);
    expect(second.stats.beforeFirstAnswer).toBe(second.stats.sent);

    // Another range of the same event type reads ahead the items, not the other range's queries.
    const other = counting(t.client);
    await slotsRead(readAhead({ client: other.client, stateTable: t.state }, `slots ${id}`, 'april'), id);
    expect(other.stats.beforeFirstAnswer).toBe(1);
    expect(other.stats.sent).toBe(1 + 4 + 4);
  });

  it('sees every change made between requests, as a plain request does', async () => {
    const id = 'et-change';
    await seed(id, ['c1', 'c2', 'c3']);
    const changes: Array<[string, () => Promise<unknown>]> = [
      ['nothing', async () => {}],
      ['a longer meeting with buffers', () => put({ ...eventTypeKey(id), view: { id, ownerId: 'c1', title: 'Demo', slug: 'demo', lengthMinutes: 45, slotIntervalMinutes: 15, bufferBeforeMinutes: 10, bufferAfterMinutes: 5, minimumNoticeMinutes: 0, active: true, requiresConfirmation: false, teamId: `team-${id}`, schedulingType: 'round_robin', createdAt: '2031-01-01T00:00:00Z' } })],
      ['a new team member', async () => {
        await put({ ...keys.user('c4'), view: { status: 'active', id: 'c4', name: 'c4', email: 'c4@example.com', timeZone: 'Asia/Tokyo' } });
        await put({ ...keys.organization(`org-${id}`), view: { status: 'active', id: `org-${id}`, name: 'Co', members: { c1: 'member', c2: 'member', c3: 'member', c4: 'member' }, invitations: {} } });
        await put({ ...keys.team(`team-${id}`), view: { status: 'active', id: `team-${id}`, organizationId: `org-${id}`, name: 'Sales', memberIds: ['c1', 'c2', 'c3', 'c4'] } });
      }],
      ['a host leaves the organization (the team still lists them)', () => put({ ...keys.organization(`org-${id}`), view: { status: 'active', id: `org-${id}`, name: 'Co', members: { c1: 'member', c3: 'member', c4: 'member' }, invitations: {} } })],
      ['a host points their default at another schedule', async () => {
        await put({ ...keys.schedule('s-c3-late'), view: { status: 'active', id: 's-c3-late', ownerId: 'c3', name: 'Late', timeZone: 'Europe/Berlin', weekly: weekdays('14:00', '22:00') } });
        await put({ ...keys.defaultSchedule('c3'), view: { scheduleId: 's-c3-late' } });
      }],
      ['the schedule itself changes', () => put({ ...keys.schedule('s-c3-late'), view: { status: 'active', id: 's-c3-late', ownerId: 'c3', name: 'Late', timeZone: 'Europe/Berlin', weekly: weekdays('16:00', '20:00') } })],
      ['a host drops their default schedule', () => t.client.send(new DeleteCommand({ TableName: t.state, Key: keys.defaultSchedule('c1') }))],
      ['new busy time', async () => {
        await busy('c3', monthStart + 3 * DAY + 16 * 3_600_000, 90);
        await busy('c4', monthStart + 4 * DAY + 2 * 3_600_000, 240);
      }],
      ['the event type is switched off', () => put({ ...eventTypeKey(id), view: { id, ownerId: 'c1', title: 'Demo', slug: 'demo', lengthMinutes: 45, active: false, teamId: `team-${id}`, schedulingType: 'round_robin', createdAt: '2031-01-01T00:00:00Z' } })],
      ['and on again, as a different team', async () => {
        await t.client.send(new BatchWriteCommand({ RequestItems: { [t.state]: [{ PutRequest: { Item: { ...keys.team('team-b'), view: { status: 'active', id: 'team-b', organizationId: `org-${id}`, name: 'B', memberIds: ['c4'] } } } }] } }));
        await put({ ...eventTypeKey(id), view: { id, ownerId: 'c1', title: 'Demo', slug: 'demo', lengthMinutes: 30, slotIntervalMinutes: 30, bufferBeforeMinutes: 0, bufferAfterMinutes: 0, minimumNoticeMinutes: 0, active: true, requiresConfirmation: false, teamId: 'team-b', schedulingType: 'round_robin', createdAt: '2031-01-01T00:00:00Z' } });
      }],
    ];
    let previous: unknown;
    for (const [change, apply] of changes) {
      // Twice after each change: the first request after it runs on a plan from before it, the second on its own.
      await apply();
      const plain = await slotsRead({ client: t.client, stateTable: t.state }, id);
      expect(plain, `${change} changes what is read`).not.toEqual(change === 'nothing' ? {} : previous);
      for (const attempt of [1, 2]) expect(await slotsRead(readAhead({ client: t.client, stateTable: t.state }, `slots ${id}`, 'march'), id), `${change}, request ${attempt}`).toEqual(plain);
      previous = plain;
    }
  });

  it('passes writes and other tables straight through', async () => {
    const tables = readAhead({ client: t.client, stateTable: t.state }, 'slots et-write', 'x');
    await tables.client.send(new PutCommand({ TableName: t.state, Item: { pk: 'W', sk: 'W', n: 1 } }));
    await tables.client.send(new PutCommand({ TableName: t.state, Item: { pk: 'W', sk: 'W', n: 2 } }));
    const again = readAhead({ client: t.client, stateTable: t.state }, 'slots et-write', 'x');
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
    expect((await again.client.send(new GetCommand({ TableName: t.state, Key: { pk: 'W', sk: 'W' }, ConsistentRead: true }))).Item?.n).toBe(2);
    expect((await again.client.send(new GetCommand({ TableName: t.events, Key: { aggregateId: 'none', version: 1 } }))).Item).toBeUndefined();
  });
});
