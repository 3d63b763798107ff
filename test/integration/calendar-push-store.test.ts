// Push channels' storage against DynamoDB Local, and the pure rules around them: a channel's secret is kept as
// its hash and compared in constant time; the debounce window lets one of many concurrent notifications enqueue;
// the renewal lease lets one of concurrent renewals through; renewal schedules are named and timed per channel
// and expiry; what the organizer sees as `sync.push`.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestTables, type TestTables } from '../support/tables.ts';
import { renewalScheduleName, renewalTime } from '../../shared/calendar-sync/push.ts';
import {
  claimRenewal, hashSecret, openDebounceWindow, presentPush, readChannel, readPushSummary, recordPushEntry, removePushEntry, secretMatches, writeChannel, type PushChannel,
} from '../../shared/calendars/push-store.ts';
import type { CalendarTables } from '../../shared/calendars/store.ts';

let tables: TestTables;
let calendarTables: CalendarTables;
const now = new Date('2030-03-05T12:00:00.000Z');
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
const channel = (id: string, overrides: Partial<PushChannel> = {}): PushChannel => ({
  provider: 'google', channelId: id, connectionId: 'cal-1', calendarId: 'primary', secretHash: hashSecret('s3cret'), expiresAt: later(86_400).toISOString(), address: 'https://api.example.com/calendars/notifications/google', ...overrides,
});

beforeAll(async () => {
  tables = await createTestTables();
  calendarTables = { client: tables.client, stateTable: tables.state };
});

describe('a channel secret', () => {
  it('matches only itself, whatever is presented', () => {
    const stored = hashSecret('the-token');
    expect(secretMatches('the-token', stored)).toBe(true);
    for (const wrong of ['the-token ', 'THE-TOKEN', '', 'x'.repeat(10_000), stored]) expect(secretMatches(wrong, stored), wrong.slice(0, 20)).toBe(false);
    expect(secretMatches(undefined, stored)).toBe(false);
    expect(hashSecret('the-token')).not.toContain('the-token');
  });
});

describe('the debounce window of push-triggered reads', () => {
  it('lets exactly one of many concurrent notifications open it, and the next after it closes', async () => {
    const opened = await Promise.all(Array.from({ length: 12 }, () => openDebounceWindow(calendarTables, 'cal-debounce', now, later(2))));
    expect(opened.filter(Boolean)).toHaveLength(1);
    expect(await openDebounceWindow(calendarTables, 'cal-debounce', later(1), later(3))).toBe(false);
    expect(await openDebounceWindow(calendarTables, 'cal-debounce', later(2), later(4))).toBe(true);
    // Another connection has a window of its own.
    expect(await openDebounceWindow(calendarTables, 'cal-other', later(1), later(3))).toBe(true);
  });
});

describe('the renewal lease', () => {
  it('lets one of concurrent renewals through, and another once it lapses', async () => {
    await writeChannel(calendarTables, channel('lease-1'));
    const stored = (await readChannel(calendarTables, 'google', 'lease-1'))!;
    const claims = await Promise.all(Array.from({ length: 8 }, () => claimRenewal(calendarTables, stored, now, later(120))));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await claimRenewal(calendarTables, stored, later(60), later(180))).toBe(false);
    expect(await claimRenewal(calendarTables, stored, later(121), later(241))).toBe(true);
    // A channel that is gone cannot be claimed.
    expect(await claimRenewal(calendarTables, channel('never-stored'), now, later(120))).toBe(false);
  });
});

describe('the push summary', () => {
  it('keeps one entry per calendar, changed and removed without touching the others', async () => {
    const at = now.toISOString();
    await Promise.all([
      recordPushEntry(calendarTables, 'cal-summary', { calendarId: 'a@example.com', provider: 'google', channelId: 'ch-a', expiresAt: later(100).toISOString(), at }),
      recordPushEntry(calendarTables, 'cal-summary', { calendarId: 'b@example.com', provider: 'google', channelId: 'ch-b', expiresAt: later(50).toISOString(), at }),
    ]);
    await recordPushEntry(calendarTables, 'cal-summary', { calendarId: 'c@example.com', provider: 'google', error: 'watch refused', at });
    const summary = await readPushSummary(calendarTables, 'cal-summary');
    expect(Object.values(summary.calendars).map((e) => e.calendarId).sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
    expect(presentPush('google', summary, ['a@example.com', 'b@example.com'], now)).toEqual({ state: 'active', expiresAt: later(50).toISOString(), error: null });
    expect(presentPush('google', summary, ['a@example.com', 'c@example.com'], now)).toEqual({ state: 'unavailable', expiresAt: later(100).toISOString(), error: 'watch refused' });
    // A lapsed channel is not push.
    expect(presentPush('google', summary, ['b@example.com'], later(51)).state).toBe('unavailable');
    expect(presentPush('caldav', summary, ['a@example.com'], now)).toEqual({ state: 'none', expiresAt: null, error: null });
    await removePushEntry(calendarTables, 'cal-summary', 'c@example.com');
    await removePushEntry(calendarTables, 'cal-nothing', 'c@example.com');
    expect(Object.keys((await readPushSummary(calendarTables, 'cal-summary')).calendars)).toHaveLength(2);
  });
});

describe('renewal schedules', () => {
  it('are named per channel and expiry, within Scheduler\'s name rules', () => {
    const a = channel('cal-0123456789abcdef0123456789abcdef-0011223344556677');
    const name = renewalScheduleName(a);
    expect(name).toMatch(/^[0-9a-zA-Z\-_.]{1,64}$/);
    expect(renewalScheduleName(a)).toBe(name);
    expect(renewalScheduleName({ ...a, expiresAt: later(86_400 + 60).toISOString() })).not.toBe(name);
    expect(renewalScheduleName({ ...a, provider: 'microsoft' })).not.toBe(name);
    expect(renewalScheduleName({ ...a, channelId: `${a.channelId}x` })).not.toBe(name);
  });

  it('run an hour before expiry, at most half the remaining life before it, never in the past', () => {
    expect(renewalTime(later(7 * 86_400).toISOString(), now)).toEqual(later(7 * 86_400 - 3_600));
    expect(renewalTime(later(3_600).toISOString(), now)).toEqual(later(1_800));
    expect(renewalTime(later(30).toISOString(), now)).toEqual(later(60));
    expect(renewalTime(later(-600).toISOString(), now)).toEqual(later(60));
  });
});
