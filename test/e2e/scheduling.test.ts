// Scheduling on the local stack, over real HTTP: schedules in one zone read in another across DST changes,
// buffers and notice, teams (collective and round robin), and no double booking under concurrency.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
const attendee = { name: 'Grace Hopper', email: 'grace@example.com', timeZone: 'America/New_York' };

async function call(method: string, path: string, options: { token?: string; body?: unknown; key?: string } = {}) {
  const response = await fetch(stack.httpUrl + path, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.key ? { 'idempotency-key': options.key } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack?.stop());

describe('slots across time zones and DST, buffers and notice', () => {
  let token: string;
  let eventTypeId: string;

  beforeAll(async () => {
    token = await stack.issuer.sign('berlin-organizer');
    expect((await call('POST', '/users/me', { token, body: { name: 'Bettina', email: 'bettina@example.com', timeZone: 'Europe/Berlin' } })).status).toBe(201);
    const schedule = await call('POST', '/schedules', {
      token,
      body: { name: 'Office hours', timeZone: 'Europe/Berlin', weekly: weekdays.map((day) => ({ day, start: '09:00', end: '17:00' })), overrides: [{ date: '2027-03-19', ranges: [] }] },
    });
    expect(schedule.status).toBe(201);
    expect(schedule.body.isDefault).toBe(true);
    const eventType = await call('POST', '/event-types', {
      token,
      body: { title: 'Consultation', slug: 'consultation', lengthMinutes: 30, scheduleId: schedule.body.id, bufferBeforeMinutes: 10, bufferAfterMinutes: 20, minimumNoticeMinutes: 120 },
    });
    expect(eventType.status).toBe(201);
    eventTypeId = eventType.body.id;
  });

  /** What the schedule allows, worked out independently: Berlin wall-clock times shown in New York. */
  function expectedStarts(date: string): string[] {
    const day = DateTime.fromISO(date, { zone: 'Europe/Berlin' });
    if (day.weekday > 5 || date === '2027-03-19') return [];
    return Array.from({ length: 16 }, (_, i) => day.set({ hour: 9, minute: 30 * i }).setZone('America/New_York').toISO({ suppressMilliseconds: true })!);
  }

  it('offers exactly the schedule\'s times in America/New_York across the US and EU DST changes', async () => {
    const { status, body } = await call('GET', `/slots?eventTypeId=${eventTypeId}&start=2027-03-10&end=2027-03-31&timeZone=America/New_York`);
    expect(status).toBe(200);
    const expected: Record<string, string[]> = {};
    for (let d = DateTime.fromISO('2027-03-10'); d <= DateTime.fromISO('2027-03-31'); d = d.plus({ days: 1 })) {
      const starts = expectedStarts(d.toISODate()!);
      if (starts.length) expected[d.toISODate()!] = starts;
    }
    const actual = Object.fromEntries(Object.entries(body.slots as Record<string, Array<{ start: string }>>).map(([day, slots]) => [day, slots.map((s) => s.start)]));
    expect(actual).toEqual(expected);
    // The three regimes: 6 h apart before 14 March, 5 h until the EU switch on 28 March, 6 h again after.
    expect(actual['2027-03-12']![0]).toBe('2027-03-12T03:00:00-05:00');
    expect(actual['2027-03-16']![0]).toBe('2027-03-16T04:00:00-04:00');
    expect(actual['2027-03-30']![0]).toBe('2027-03-30T03:00:00-04:00');
  });

  it('takes a booked time and its buffers out of the slots', async () => {
    const query = `/slots?eventTypeId=${eventTypeId}&start=2027-03-16&end=2027-03-16&timeZone=America/New_York`;
    const before = (await call('GET', query)).body.slots['2027-03-16'].map((s: { start: string }) => s.start);
    const booked = await call('POST', '/bookings', { body: { eventTypeId, start: '2027-03-16T06:00:00-04:00', attendee } }); // 11:00 in Berlin
    expect(booked.status).toBe(202);
    const after = (await call('GET', query)).body.slots['2027-03-16'].map((s: { start: string }) => s.start);
    // Claimed: 10:50-11:50 Berlin. A start s is blocked when [s-10, s+50) meets it: 10:30, 11:00 and 11:30.
    expect(before.filter((s: string) => !after.includes(s))).toEqual(['2027-03-16T05:30:00-04:00', '2027-03-16T06:00:00-04:00', '2027-03-16T06:30:00-04:00']);
    expect(after).toHaveLength(before.length - 3);
  });

  it('reschedules onto a time the schedule offers, even one overlapping the old time, and frees the old one', async () => {
    const query = `/slots?eventTypeId=${eventTypeId}&start=2027-03-17&end=2027-03-17&timeZone=Europe/Berlin`;
    const booking = (await call('POST', '/bookings', { body: { eventTypeId, start: '2027-03-17T14:00:00+01:00', attendee } })).body;
    let status = booking.status;
    for (let i = 0; i < 100 && status !== 'confirmed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await call('GET', `/bookings/${booking.id}`, { token })).body.status;
    }
    expect(status).toBe('confirmed');
    const offHours = await call('POST', `/bookings/${booking.id}/reschedule?token=${booking.manageToken}`, { body: { start: '2027-03-17T19:00:00+01:00' } });
    expect(offHours.status).toBe(422);
    const moved = await call('POST', `/bookings/${booking.id}/reschedule?token=${booking.manageToken}`, { body: { start: '2027-03-17T14:30:00+01:00' } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ status: 'confirmed', start: '2027-03-17T13:30:00.000Z', previousTimes: [{ start: '2027-03-17T13:00:00.000Z' }] });
    const starts = (await call('GET', query)).body.slots['2027-03-17'].map((slot: { start: string }) => slot.start);
    expect(starts).toContain('2027-03-17T13:30:00+01:00');
    expect(starts).not.toContain('2027-03-17T14:00:00+01:00');
    expect(starts).not.toContain('2027-03-17T14:30:00+01:00');
  });

  it('follows changes to the event type and its schedule, and stops offering a deactivated event type', async () => {
    const eventType = (await call('POST', '/event-types', { token, body: { title: 'Flexible', slug: 'flexible', lengthMinutes: 60 } })).body;
    const day = (query: string) => call('GET', `/slots?eventTypeId=${eventType.id}&start=2027-04-13&end=2027-04-13&timeZone=Europe/Berlin${query}`);
    const starts = async () => ((await day('')).body.slots['2027-04-13'] ?? []).map((slot: { start: string }) => slot.start.slice(11, 16));
    expect(await starts()).toEqual(['09:00', '10:00', '11:00', '12:00', '13:00', '14:00', '15:00', '16:00']);
    const patched = await call('PATCH', `/event-types/${eventType.id}`, { token, body: { slotIntervalMinutes: 120 } });
    expect(patched.body).toMatchObject({ slotIntervalMinutes: 120, lengthMinutes: 60, bufferAfterMinutes: 0 });
    expect(await starts()).toEqual(['09:00', '11:00', '13:00', '15:00']);
    const schedules = (await call('GET', '/schedules', { token })).body.schedules;
    const office = schedules[0];
    expect((await call('PATCH', `/schedules/${office.id}`, { token, body: { overrides: [{ date: '2027-04-13', ranges: [{ start: '12:00', end: '14:00' }] }] } })).status).toBe(200);
    expect(await starts()).toEqual(['12:00']);
    expect((await call('GET', `/schedules/${office.id}`, { token })).body.overrides).toHaveLength(1);
    expect((await call('PATCH', `/event-types/${eventType.id}`, { token, body: { active: false } })).status).toBe(200);
    expect((await day('')).status).toBe(404);
    // An inactive event type does not exist for bookers: 404 on its slots, on booking it and on reading it.
    const refused = await call('POST', '/bookings', { body: { eventTypeId: eventType.id, start: '2027-04-13T12:00:00+02:00', attendee } });
    expect(refused.status).toBe(404);
    expect(refused.body.type).toBe('/problems/event-type-not-found');
    const stranger = await stack.issuer.sign('someone-else');
    expect((await call('PATCH', `/event-types/${eventType.id}`, { token: stranger, body: { active: true } })).status).toBe(404);
    // Restore the shared schedule for the tests after this one.
    await call('PATCH', `/schedules/${office.id}`, { token, body: { overrides: [{ date: '2027-03-19', ranges: [] }] } });
  });

  it('refuses a time the schedule does not offer with 422, and one inside the notice', async () => {
    const offHours = await call('POST', '/bookings', { body: { eventTypeId, start: '2027-03-16T20:00:00Z', attendee } });
    expect(offHours.status).toBe(422);
    expect(offHours.body.type).toBe('/problems/time-not-offered');
    expect(offHours.body.errors[0]).toMatchObject({ path: 'start', message: expect.stringContaining('outside the working hours') });
    const dayOff = await call('POST', '/bookings', { body: { eventTypeId, start: '2027-03-19T10:00:00+01:00', attendee } });
    expect(dayOff.status).toBe(422);
    expect(dayOff.body.errors[0].message).toContain('outside the working hours');
  });

  it('lets exactly one booking hold any minute when 100 overlapping requests race; the rest get 409, none a 5xx', async () => {
    const racy = await call('POST', '/event-types', { token, body: { title: 'Quick', slug: 'quick', lengthMinutes: 30, slotIntervalMinutes: 5 } });
    const base = Date.parse('2027-04-06T10:00:00+02:00');
    const starts = Array.from({ length: 100 }, (_, i) => base + ((i * 37) % 13) * 5 * 60_000); // 13 distinct, overlapping starts
    const responses = await Promise.all(starts.map((start, i) => call('POST', '/bookings', { body: { eventTypeId: racy.body.id, start: new Date(start).toISOString(), attendee: { ...attendee, email: `racer${i}@example.com` } } })));
    expect(responses.filter((r) => r.status >= 500)).toEqual([]);
    expect(responses.every((r) => r.status === 202 || r.status === 409)).toBe(true);
    const accepted = responses.filter((r) => r.status === 202).map((r) => ({ start: Date.parse(r.body.start), end: Date.parse(r.body.end) }));
    expect(accepted.length).toBeGreaterThan(0);
    for (let minute = base; minute < base + 2 * 3_600_000; minute += 60_000) {
      expect(accepted.filter((b) => b.start <= minute && minute < b.end).length).toBeLessThanOrEqual(1);
    }
    // Every refusal was a real overlap with a booking that won.
    responses.forEach((r, i) => {
      if (r.status === 409) expect(accepted.some((b) => b.start < starts[i]! + 1_800_000 && starts[i]! < b.end)).toBe(true);
    });
  });
});

describe('teams', () => {
  let admin: string;
  let teamId: string;

  beforeAll(async () => {
    admin = await stack.issuer.sign('team-admin');
    const org = await call('POST', '/organizations', { token: admin, body: { name: 'Acme' } });
    expect(org.status).toBe(201);
    for (const userId of ['host-a', 'host-b']) {
      // Members join by invitation, which the invitee accepts.
      expect((await call('POST', `/organizations/${org.body.id}/invitations`, { token: admin, body: { userId } })).status).toBe(201);
      expect((await call('POST', `/organizations/${org.body.id}/invitations/accept`, { token: await stack.issuer.sign(userId) })).status).toBe(200);
    }
    const stranger = await stack.issuer.sign('not-an-admin');
    expect((await call('POST', `/organizations/${org.body.id}/invitations`, { token: stranger, body: { userId: 'x' } })).status).toBe(404);
    const team = await call('POST', `/organizations/${org.body.id}/teams`, { token: admin, body: { name: 'Support', memberIds: ['host-a', 'host-b'] } });
    expect(team.status).toBe(201);
    teamId = team.body.id;
  });

  it('books every host of a collective event type, and one busy host blocks the time', async () => {
    const collective = await call('POST', '/event-types', { token: admin, body: { title: 'Panel', slug: 'panel', lengthMinutes: 60, teamId, schedulingType: 'collective' } });
    expect(collective.status).toBe(201);
    const solo = await call('POST', '/event-types', { token: await stack.issuer.sign('host-a'), body: { title: 'Solo', slug: 'solo', lengthMinutes: 30 } });
    const start = '2027-05-04T13:00:00Z';
    expect((await call('POST', '/bookings', { body: { eventTypeId: solo.body.id, start: '2027-05-04T13:30:00Z', attendee } })).status).toBe(202);
    const blocked = await call('POST', '/bookings', { body: { eventTypeId: collective.body.id, start, attendee } });
    expect(blocked.status).toBe(409);
    const booked = await call('POST', '/bookings', { body: { eventTypeId: collective.body.id, start: '2027-05-04T14:00:00Z', attendee } });
    expect(booked.status).toBe(202);
    expect(booked.body.hostIds).toEqual(['host-a', 'host-b']);
  });

  it('assigns round-robin bookings to free hosts in turn and explains the pick', async () => {
    const roundRobin = await call('POST', '/event-types', { token: admin, body: { title: 'Demo', slug: 'demo', lengthMinutes: 30, teamId, schedulingType: 'round_robin' } });
    const start = '2027-05-05T10:00:00Z';
    const first = await call('POST', '/bookings', { body: { eventTypeId: roundRobin.body.id, start, attendee } });
    const second = await call('POST', '/bookings', { body: { eventTypeId: roundRobin.body.id, start, attendee } });
    const third = await call('POST', '/bookings', { body: { eventTypeId: roundRobin.body.id, start, attendee } });
    expect([first.status, second.status, third.status]).toEqual([202, 202, 409]);
    expect(new Set([first.body.hostIds[0], second.body.hostIds[0]])).toEqual(new Set(['host-a', 'host-b']));
    expect(first.body.assignment).toMatchObject({ strategy: 'round_robin', reason: expect.stringContaining('fewest bookings') });
    const later = await call('POST', '/bookings', { body: { eventTypeId: roundRobin.body.id, start: '2027-05-05T11:00:00Z', attendee } });
    expect(later.status).toBe(202);
    // The assigned host finds the booking among their own; the other host does not.
    const assigned = first.body.hostIds[0];
    const other = assigned === 'host-a' ? 'host-b' : 'host-a';
    const listed = async (userId: string) => (await call('GET', '/bookings', { token: await stack.issuer.sign(userId) })).body.bookings.map((b: { id: string }) => b.id);
    expect(await listed(assigned)).toContain(first.body.id);
    expect(await listed(other)).not.toContain(first.body.id);
    expect(await listed('team-admin')).toContain(first.body.id);
  });

  it('stops counting a cancelled round-robin booking towards its host', async () => {
    const eventType = (await call('POST', '/event-types', { token: admin, body: { title: 'Fair', slug: 'fair', lengthMinutes: 30, teamId, schedulingType: 'round_robin' } })).body;
    const book = async (time: string) => (await call('POST', '/bookings', { body: { eventTypeId: eventType.id, start: `2027-05-12T${time}:00Z`, attendee } })).body;
    const made = [await book('09:00'), await book('10:00'), await book('11:00'), await book('12:00')];
    const hostOf = (booking: { hostIds: string[] }) => booking.hostIds[0];
    const first = hostOf(made[0]);
    expect(made.map(hostOf).filter((h) => h === first)).toHaveLength(2);
    for (const booking of made.filter((b) => hostOf(b) === first)) {
      for (let i = 0; i < 100 && (await call('GET', `/bookings/${booking.id}?token=${booking.manageToken}`)).body.status !== 'confirmed'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await call('POST', `/bookings/${booking.id}/cancel?token=${booking.manageToken}`, { body: {} })).status).toBe(200);
    }
    // Counted 0 against 2, the first host now takes the next two; had cancellations kept counting, they would alternate.
    expect([hostOf(await book('14:00')), hostOf(await book('15:00'))]).toEqual([first, first]);
  });

  it('offers nothing, and books nothing, once a team has nobody left on it', async () => {
    const org = await call('POST', '/organizations', { token: admin, body: { name: 'Shrinking' } });
    await call('POST', `/organizations/${org.body.id}/invitations`, { token: admin, body: { userId: 'leaver' } });
    await call('POST', `/organizations/${org.body.id}/invitations/accept`, { token: await stack.issuer.sign('leaver') });
    const team = await call('POST', `/organizations/${org.body.id}/teams`, { token: admin, body: { name: 'Small', memberIds: ['leaver'] } });
    const eventType = await call('POST', '/event-types', { token: admin, body: { title: 'Chat', slug: 'chat', lengthMinutes: 30, teamId: team.body.id, schedulingType: 'round_robin' } });
    expect((await call('DELETE', `/teams/${team.body.id}/members/leaver`, { token: admin })).body.memberIds).toEqual([]);
    const slots = await call('GET', `/slots?eventTypeId=${eventType.body.id}&start=2027-05-10&end=2027-05-11&timeZone=UTC`);
    expect(slots).toMatchObject({ status: 200, body: { slots: {} } });
    expect((await call('POST', '/bookings', { body: { eventTypeId: eventType.body.id, start: '2027-05-10T10:00:00Z', attendee } })).status).toBe(422);
  });

  it('leaves a booking that needs confirmation waiting until the organizer confirms, and rejecting frees the time', async () => {
    const token = await stack.issuer.sign('careful-organizer');
    const eventType = await call('POST', '/event-types', { token, body: { title: 'Vetted', slug: 'vetted', lengthMinutes: 30, requiresConfirmation: true } });
    const start = '2027-05-06T10:00:00Z';
    const booking = await call('POST', '/bookings', { body: { eventTypeId: eventType.body.id, start, attendee } });
    expect(booking.status).toBe(202);
    let state = booking.body;
    for (let i = 0; i < 100 && state.awaiting !== 'confirmation'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = (await call('GET', `/bookings/${booking.body.id}`, { token })).body;
    }
    expect(state).toMatchObject({ status: 'draft', awaiting: 'confirmation' });
    const rejected = await call('POST', `/bookings/${booking.body.id}/reject`, { token, body: { reason: 'not a fit' } });
    expect(rejected.body).toMatchObject({ status: 'cancelled', cancellation: { kind: 'rejected' } });
    expect((await call('POST', '/bookings', { body: { eventTypeId: eventType.body.id, start, attendee } })).status).toBe(202);
  });
});

describe('retries of creating commands', () => {
  it('gives a retried POST /schedules, /organizations or /teams with the same Idempotency-Key the first answer and creates nothing more', async () => {
    const token = await stack.issuer.sign('retrying-user');
    const schedule = { name: 'Retry', timeZone: 'UTC', weekly: [{ day: 'mon', start: '09:00', end: '10:00' }] };
    const first = await call('POST', '/schedules', { token, body: schedule, key: 'schedule-1' });
    const again = await call('POST', '/schedules', { token, body: schedule, key: 'schedule-1' });
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body.id).toBe(first.body.id);
    expect((await call('GET', '/schedules', { token })).body.schedules).toHaveLength(1);

    const org = await call('POST', '/organizations', { token, body: { name: 'Once' }, key: 'org-1' });
    expect((await call('POST', '/organizations', { token, body: { name: 'Once' }, key: 'org-1' })).body.id).toBe(org.body.id);
    const team = await call('POST', `/organizations/${org.body.id}/teams`, { token, body: { name: 'T', memberIds: ['retrying-user'] }, key: 'team-1' });
    expect((await call('POST', `/organizations/${org.body.id}/teams`, { token, body: { name: 'T', memberIds: ['retrying-user'] }, key: 'team-1' })).body.id).toBe(team.body.id);
    const reused = await call('POST', '/schedules', { token, body: { ...schedule, name: 'Other' }, key: 'schedule-1' });
    expect(reused.status).toBe(422);
  });
});
