// Tenant boundaries on the local stack, over real HTTP: membership by invitation, teams of accepted members
// only, leaving an organization leaves its teams and their hosting, and deleting an account ends what others
// could still reach through it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
const attendee = { name: 'Grace Hopper', email: 'grace@example.com', timeZone: 'UTC' };

async function call(method: string, path: string, options: { token?: string; body?: unknown } = {}) {
  const response = await fetch(stack.httpUrl + path, {
    method,
    headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const tokens = new Map<string, string>();
const as = async (userId: string) => tokens.get(userId) ?? tokens.set(userId, await stack.issuer.sign(userId)).get(userId)!;

async function organization(admin: string, name: string, members: string[] = []): Promise<string> {
  const org = await call('POST', '/organizations', { token: await as(admin), body: { name } });
  expect(org.status).toBe(201);
  for (const userId of members) {
    expect((await call('POST', `/organizations/${org.body.id}/invitations`, { token: await as(admin), body: { userId } })).status).toBe(201);
    expect((await call('POST', `/organizations/${org.body.id}/invitations/accept`, { token: await as(userId) })).status).toBe(200);
  }
  return org.body.id;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 100 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

/** How many starts the event type offers on `day` (slots do not say who hosts them; bookings do). */
const slotCount = async (eventTypeId: string, day: Date) => {
  const date = day.toISOString().slice(0, 10);
  const { body } = await call('GET', `/slots?eventTypeId=${eventTypeId}&start=${date}&end=${date}&timeZone=UTC`);
  return (body.slots?.[date] ?? []).length as number;
};

beforeAll(async () => {
  stack = await startTestStack();
}, 120_000);
afterAll(async () => stack?.stop());

describe('membership by invitation', () => {
  it('makes nobody a member without their consent: invited, listed to the invitee, accepted', async () => {
    const orgId = await organization('inv-admin', 'Invites Inc');
    const invited = await call('POST', `/organizations/${orgId}/invitations`, { token: await as('inv-admin'), body: { userId: 'inv-bob', role: 'admin' } });
    expect(invited.status).toBe(201);
    expect(invited.body.members).toEqual({ 'inv-admin': 'admin' });
    expect(invited.body.invitations).toEqual({ 'inv-bob': 'admin' });
    // Invited is not a member: the organization is still hidden from the invitee, and no team may take them.
    expect((await call('GET', `/organizations/${orgId}`, { token: await as('inv-bob') })).status).toBe(404);
    const early = await call('POST', `/organizations/${orgId}/teams`, { token: await as('inv-admin'), body: { name: 'Early', memberIds: ['inv-bob'] } });
    expect(early.status).toBe(422);
    const listed = await call('GET', '/invitations', { token: await as('inv-bob') });
    expect(listed.body.invitations).toEqual([expect.objectContaining({ organizationId: orgId, organizationName: 'Invites Inc', role: 'admin', invitedBy: 'inv-admin' })]);
    expect((await call('GET', '/invitations', { token: await as('inv-admin') })).body.invitations).toEqual([]);

    const accepted = await call('POST', `/organizations/${orgId}/invitations/accept`, { token: await as('inv-bob') });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ members: { 'inv-admin': 'admin', 'inv-bob': 'admin' }, invitations: {} });
    expect((await call('GET', '/invitations', { token: await as('inv-bob') })).body.invitations).toEqual([]);
    expect((await call('GET', `/organizations/${orgId}`, { token: await as('inv-bob') })).status).toBe(200);
    expect((await call('POST', `/organizations/${orgId}/invitations/accept`, { token: await as('inv-bob') })).status).toBe(409);
    expect((await call('POST', `/organizations/${orgId}/invitations`, { token: await as('inv-admin'), body: { userId: 'inv-bob' } })).status).toBe(409);
  });

  it('lets the invitee decline and an admin revoke; neither leaves a member, and strangers cannot answer', async () => {
    const orgId = await organization('dec-admin', 'Declines Ltd');
    const admin = await as('dec-admin');
    await call('POST', `/organizations/${orgId}/invitations`, { token: admin, body: { userId: 'dec-carl' } });
    await call('POST', `/organizations/${orgId}/invitations`, { token: admin, body: { userId: 'dec-dora' } });
    // Only the invitee answers their invitation; to anyone else the organization does not exist.
    const stranger = await call('POST', `/organizations/${orgId}/invitations/accept`, { token: await as('dec-eve') });
    expect(stranger.status).toBe(404);
    const declined = await call('POST', `/organizations/${orgId}/invitations/decline`, { token: await as('dec-carl') });
    expect(declined).toMatchObject({ status: 200, body: { organizationId: orgId, invitation: 'declined' } });
    expect(declined.body.members).toBeUndefined();
    expect((await call('POST', `/organizations/${orgId}/invitations/accept`, { token: await as('dec-carl') })).status).toBe(404);

    expect((await call('DELETE', `/organizations/${orgId}/invitations/dec-dora`, { token: admin })).body.invitations).toEqual({});
    expect((await call('GET', '/invitations', { token: await as('dec-dora') })).body.invitations).toEqual([]);
    expect((await call('POST', `/organizations/${orgId}/invitations/accept`, { token: await as('dec-dora') })).status).toBe(404);
    expect((await call('GET', `/organizations/${orgId}`, { token: admin })).body.members).toEqual({ 'dec-admin': 'admin' });
    expect((await call('DELETE', `/organizations/${orgId}/invitations/dec-dora`, { token: admin })).status).toBe(404);
  });

  it('lets only admins invite: a member is forbidden, a stranger told the organization does not exist', async () => {
    const orgId = await organization('adm-admin', 'Admins', ['adm-member']);
    expect((await call('POST', `/organizations/${orgId}/invitations`, { token: await as('adm-member'), body: { userId: 'x' } })).status).toBe(403);
    expect((await call('POST', `/organizations/${orgId}/invitations`, { token: await as('adm-stranger'), body: { userId: 'x' } })).status).toBe(404);
    expect((await call('POST', `/organizations/${orgId}/invitations`, { token: await as('adm-admin'), body: { userId: 'x', extra: 1 } })).status).toBe(400);
  });
});

describe('teams of accepted members, and leaving', () => {
  it('takes a leaver off every team of the organization, and so out of its hosting', async () => {
    const orgId = await organization('lv-admin', 'Leavers', ['lv-a', 'lv-b']);
    const admin = await as('lv-admin');
    const teams = await Promise.all(['One', 'Two'].map((name) => call('POST', `/organizations/${orgId}/teams`, { token: admin, body: { name, memberIds: ['lv-a', 'lv-b'] } })));
    expect(teams.map((t) => t.status)).toEqual([201, 201]);
    const [one, two] = teams.map((t) => t.body.id as string);
    const eventType = await call('POST', '/event-types', { token: admin, body: { title: 'Support', slug: 'lv-support', lengthMinutes: 30, teamId: one, schedulingType: 'round_robin' } });
    expect(eventType.status).toBe(201);
    const day = futureSlot(3);
    expect(await slotCount(eventType.body.id, day)).toBeGreaterThan(0);

    const left = await call('DELETE', `/organizations/${orgId}/members/lv-a`, { token: await as('lv-a') });
    expect(left).toMatchObject({ status: 200, body: { organizationId: orgId, left: true } });
    for (const teamId of [one, two]) expect((await call('GET', `/teams/${teamId}`, { token: admin })).body.memberIds).toEqual(['lv-b']);
    expect((await call('GET', `/teams/${one}`, { token: await as('lv-a') })).status).toBe(404);
    for (let i = 0; i < 3; i++) {
      const booked = await call('POST', '/bookings', { body: { eventTypeId: eventType.body.id, start: futureSlot(3, i).toISOString(), attendee } });
      expect(booked.body.hostIds).toEqual(['lv-b']);
    }
    // Nor can an admin put them back without a new invitation.
    expect((await call('POST', `/teams/${one}/members`, { token: admin, body: { userId: 'lv-a' } })).status).toBe(422);

    // An admin removing a member does the same.
    expect((await call('DELETE', `/organizations/${orgId}/members/lv-b`, { token: admin })).body.members).toEqual({ 'lv-admin': 'admin' });
    expect((await call('GET', `/teams/${two}`, { token: admin })).body.memberIds).toEqual([]);
    expect(await slotCount(eventType.body.id, day)).toBe(0);
  });

  it('keeps an admin while members remain, and a member cannot remove others', async () => {
    const orgId = await organization('ka-admin', 'Keeps', ['ka-member', 'ka-other']);
    expect((await call('DELETE', `/organizations/${orgId}/members/ka-admin`, { token: await as('ka-admin') })).status).toBe(409);
    expect((await call('DELETE', `/organizations/${orgId}/members/ka-other`, { token: await as('ka-member') })).status).toBe(403);
    expect((await call('DELETE', `/organizations/${orgId}/members/ka-other`, { token: await as('ka-stranger') })).status).toBe(404);
  });
});

describe('deleting an account', () => {
  it('deactivates its event types, leaves its organizations and teams, and cancels its future bookings', async () => {
    const gone = await as('del-gone');
    expect((await call('POST', '/users/me', { token: gone, body: { name: 'Gone', email: 'gone@example.com', timeZone: 'UTC' } })).status).toBe(201);
    const personal = (await call('POST', '/event-types', { token: gone, body: { title: 'Chat', slug: 'del-chat', lengthMinutes: 30 } })).body;
    const vetted = (await call('POST', '/event-types', { token: gone, body: { title: 'Vetted', slug: 'del-vetted', lengthMinutes: 30, requiresConfirmation: true } })).body;
    const orgId = await organization('del-admin', 'Deleters', ['del-gone', 'del-stays']);
    const team = (await call('POST', `/organizations/${orgId}/teams`, { token: await as('del-admin'), body: { name: 'Hosts', memberIds: ['del-gone', 'del-stays'] } })).body;
    const teamType = (await call('POST', '/event-types', { token: await as('del-admin'), body: { title: 'Team', slug: 'del-team', lengthMinutes: 30, teamId: team.id, schedulingType: 'collective' } })).body;

    const confirmed = (await call('POST', '/bookings', { body: { eventTypeId: personal.id, start: futureSlot(5).toISOString(), attendee } })).body;
    const waiting = (await call('POST', '/bookings', { body: { eventTypeId: vetted.id, start: futureSlot(5, 1).toISOString(), attendee } })).body;
    const collective = (await call('POST', '/bookings', { body: { eventTypeId: teamType.id, start: futureSlot(5, 2).toISOString(), attendee } })).body;
    expect(collective.hostIds).toEqual(['del-gone', 'del-stays']);
    await until(() => call('GET', `/bookings/${confirmed.id}`, { token: gone }), (r) => r.body.status === 'confirmed');
    await until(() => call('GET', `/bookings/${waiting.id}`, { token: gone }), (r) => r.body.awaiting === 'confirmation');

    const deleted = await call('DELETE', '/users/me', { token: gone });
    expect(deleted).toMatchObject({ status: 200, body: { status: 'deleted', eventTypesDeactivated: 2, organizationsLeft: 1, bookingsCancelled: 2 } });

    // Their event types: gone to the public, inactive to themselves, and not bookable.
    expect((await call('GET', `/event-types/${personal.id}`)).status).toBe(404);
    expect((await call('GET', `/event-types/${personal.id}`, { token: gone })).body.active).toBe(false);
    expect((await call('POST', '/bookings', { body: { eventTypeId: personal.id, start: futureSlot(6).toISOString(), attendee } })).status).toBe(404);
    // Their future bookings: cancelled by the organizer (their own act), or rejected while unconfirmed; time released.
    expect((await call('GET', `/bookings/${confirmed.id}?token=${confirmed.manageToken}`)).body).toMatchObject({ status: 'cancelled', cancellation: { by: 'organizer', kind: 'cancelled' } });
    expect((await call('GET', `/bookings/${waiting.id}?token=${waiting.manageToken}`)).body).toMatchObject({ status: 'cancelled', cancellation: { kind: 'rejected' } });
    // A collective booking whose other host remains still happens.
    expect((await call('GET', `/bookings/${collective.id}?token=${collective.manageToken}`)).body.status).not.toBe('cancelled');
    // Their organizations and teams: left, and no longer offered as a host.
    expect((await call('GET', `/organizations/${orgId}`, { token: await as('del-admin') })).body.members).toEqual({ 'del-admin': 'admin', 'del-stays': 'member' });
    expect((await call('GET', `/teams/${team.id}`, { token: await as('del-admin') })).body.memberIds).toEqual(['del-stays']);
    expect((await call('POST', '/bookings', { body: { eventTypeId: teamType.id, start: futureSlot(6).toISOString(), attendee } })).body.hostIds).toEqual(['del-stays']);
    // Deleting again finishes anything left and changes nothing more.
    expect((await call('DELETE', '/users/me', { token: gone })).body).toMatchObject({ status: 'deleted', eventTypesDeactivated: 0, bookingsCancelled: 0 });
  });

  it('refuses to delete the last admin of an organization with members, before changing anything', async () => {
    const orgId = await organization('last-admin', 'Orphans', ['last-member']);
    const eventType = (await call('POST', '/event-types', { token: await as('last-admin'), body: { title: 'Mine', slug: 'last-mine', lengthMinutes: 30 } })).body;
    expect((await call('POST', '/users/me', { token: await as('last-admin'), body: { name: 'Last', email: 'last@example.com', timeZone: 'UTC' } })).status).toBe(201);
    expect((await call('DELETE', '/users/me', { token: await as('last-admin') })).status).toBe(409);
    expect((await call('GET', `/event-types/${eventType.id}`)).status).toBe(200);
    expect((await call('GET', `/organizations/${orgId}`, { token: await as('last-admin') })).status).toBe(200);
  });
});

describe('PATCH /users/me', () => {
  it('takes the changed fields flat, like the other PATCH routes, and refuses unknown ones', async () => {
    const token = await as('patcher');
    await call('POST', '/users/me', { token, body: { name: 'Pat', email: 'pat@example.com', timeZone: 'UTC' } });
    expect((await call('PATCH', '/users/me', { token, body: { name: 'Patricia' } })).body).toMatchObject({ name: 'Patricia', email: 'pat@example.com' });
    const nested = await call('PATCH', '/users/me', { token, body: { changes: { name: 'Old style' } } });
    expect(nested.status).toBe(400);
    expect(nested.body.errors[0].message).toMatch(/not a field/i);
    expect((await call('PATCH', '/users/me', { token, body: { timeZone: 'Mars/Olympus' } })).status).toBe(400);
    expect((await call('GET', '/users/me', { token })).body.name).toBe('Patricia');
  });
});

describe('GET /event-types/{id}', () => {
  it('shows the owner everything, anyone else what a booking page needs, and an inactive one to nobody else', async () => {
    const token = await as('et-owner');
    const schedule = (await call('POST', '/schedules', { token, body: { name: 'Hours', timeZone: 'UTC', weekly: [{ day: 'mon', start: '09:00', end: '17:00' }] } })).body;
    const eventType = (await call('POST', '/event-types', { token, body: { title: 'Intro', slug: 'et-intro', lengthMinutes: 30, scheduleId: schedule.id, description: 'Say hi' } })).body;
    expect((await call('GET', `/event-types/${eventType.id}`, { token })).body).toMatchObject({ scheduleId: schedule.id, ownerId: 'et-owner', createdAt: expect.any(String) });
    const seen = (await call('GET', `/event-types/${eventType.id}`)).body;
    expect(seen).toEqual({ id: eventType.id, title: 'Intro', slug: 'et-intro', description: 'Say hi', lengthMinutes: 30, requiresConfirmation: false, minimumNoticeMinutes: 0 });
    expect((await call('GET', `/event-types/${eventType.id}`, { token: await as('et-other') })).body).toEqual(seen);
    await call('PATCH', `/event-types/${eventType.id}`, { token, body: { active: false } });
    const hidden = await call('GET', `/event-types/${eventType.id}`, { token: await as('et-other') });
    const never = await call('GET', '/event-types/no-such-event-type', { token: await as('et-other') });
    expect(hidden.status).toBe(404);
    expect({ ...hidden.body, instance: undefined }).toEqual({ ...never.body, instance: undefined });
    expect((await call('GET', `/event-types/${eventType.id}`, { token })).status).toBe(200);
  });
});
