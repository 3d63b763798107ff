// The sync scheduling policy: next run, backoff with bounded jitter, the daily full read, debounced triggers,
// and when a failure streak becomes a notice for the organizer.
import { describe, expect, it } from 'vitest';
import {
  backoffSeconds,
  defaultSyncPolicy,
  failed,
  initialSchedule,
  isDue,
  needsFullRead,
  reauthorized,
  runStarted,
  succeeded,
  triggered,
  type SyncSchedule,
} from '../../shared/calendar-sync/sync-policy.ts';

const policy = defaultSyncPolicy(300);
const t0 = new Date('2030-03-05T12:00:00Z');
const after = (seconds: number, from = t0) => new Date(from.getTime() + seconds * 1000);
const unavailable = (retryAfterSeconds?: number) => ({ kind: 'unavailable' as const, message: 'CalDAV server answered 503', retryAfterSeconds });

describe('sync scheduling policy', () => {
  it('reads a new connection at once and fully, then once per period', () => {
    const first = initialSchedule(t0);
    expect(isDue(first, t0)).toBe(true);
    expect(needsFullRead(first, t0, policy)).toBe(true);
    const done = succeeded(runStarted(first), { now: t0, full: true, policy });
    expect(done).toMatchObject({ nextRunAt: '2030-03-05T12:05:00.000Z', consecutiveFailures: 0, lastSuccessAt: t0.toISOString(), lastFullReadAt: t0.toISOString() });
    expect(isDue(done, after(299))).toBe(false);
    expect(isDue(done, after(300))).toBe(true);
    expect(needsFullRead(done, after(300), policy)).toBe(false);
  });

  it('a scheduled read counts its next run from the tick that enqueued it, so every tick reads it, however late the worker gets to it', () => {
    for (const period of [5, 20, 60, 300]) {
      const local = defaultSyncPolicy(period);
      let schedule = succeeded(initialSchedule(t0), { now: t0, full: true, policy: local });
      let reads = 0;
      for (let n = 1; n <= 50; n++) {
        // The n-th tick fires a little late, and the worker starts up to 90% of a period after it.
        const tick = after(n * period + ((n * 7) % 10) / 10);
        if (!isDue(schedule, tick)) continue;
        reads++;
        const workerStart = after(((n * 13) % 9) * period / 10, tick);
        schedule = succeeded(runStarted(schedule), { now: workerStart, full: false, policy: local, random: (n % 10) / 10, tick });
      }
      expect(reads, `period ${period}`).toBe(50);
      // Counted from the worker's start instead, half the ticks would find it not yet due.
      let fromStart = succeeded(initialSchedule(t0), { now: t0, full: true, policy: local });
      let startReads = 0;
      for (let n = 1; n <= 50; n++) {
        const tick = after(n * period);
        if (!isDue(fromStart, tick)) continue;
        startReads++;
        fromStart = succeeded(runStarted(fromStart), { now: after(period / 2, tick), full: false, policy: local, random: 0 });
      }
      expect(startReads, `period ${period}, counted from the worker`).toBeLessThan(30);
    }
  });

  it('a tick in the future or more than a period ago counts from now', () => {
    const late = succeeded(initialSchedule(t0), { now: after(1000), full: false, policy, tick: t0 });
    expect(late.nextRunAt).toBe(after(1300).toISOString());
    const skewed = succeeded(initialSchedule(t0), { now: t0, full: false, policy, tick: after(60) });
    expect(skewed.nextRunAt).toBe(after(300).toISOString());
  });

  it('reads fully again at least daily, however often incremental reads succeed', () => {
    let schedule = succeeded(initialSchedule(t0), { now: t0, full: true, policy });
    for (let cycle = 1; cycle < 288; cycle++) {
      const now = after(cycle * 300);
      expect(needsFullRead(schedule, now, policy), `cycle ${cycle}`).toBe(false);
      schedule = succeeded(schedule, { now, full: false, policy });
    }
    expect(needsFullRead(schedule, after(86_400), policy)).toBe(true);
    expect(schedule.lastFullReadAt).toBe(t0.toISOString());
  });

  it('backs off exponentially after failures, with jitter bounded to the upper half of each capped step', () => {
    for (const [failures, step] of [[1, 60], [2, 120], [3, 240], [4, 480], [6, 1920], [7, 3600], [40, 3600]] as const) {
      expect(backoffSeconds(failures, policy, 0)).toBe(step / 2);
      expect(backoffSeconds(failures, policy, 0.999999)).toBe(step);
      for (const random of [0.1, 0.5, 0.9]) {
        const delay = backoffSeconds(failures, policy, random);
        expect(delay).toBeGreaterThanOrEqual(step / 2);
        expect(delay).toBeLessThanOrEqual(step);
      }
    }
    // Out-of-range randoms do not escape the bounds.
    expect(backoffSeconds(3, policy, 7)).toBe(240);
    expect(backoffSeconds(3, policy, -1)).toBe(120);
  });

  it('honours Retry-After when it is longer than the backoff, up to the cap', () => {
    const start = initialSchedule(t0);
    expect(failed(start, { now: t0, failure: unavailable(600), policy, random: 0 }).schedule.nextRunAt).toBe(after(600).toISOString());
    expect(failed(start, { now: t0, failure: unavailable(5), policy, random: 0 }).schedule.nextRunAt).toBe(after(30).toISOString());
    expect(failed(start, { now: t0, failure: unavailable(10 ** 9), policy, random: 0 }).schedule.nextRunAt).toBe(after(3600).toISOString());
  });

  it('reports a streak once it is persistent (3 failures over 15 minutes), once per streak, and a success ends it', () => {
    let schedule: SyncSchedule = initialSchedule(t0);
    const notices: unknown[] = [];
    for (const offset of [0, 60, 200]) {
      const result = failed(schedule, { now: after(offset), failure: unavailable(), policy, random: 0.5 });
      schedule = result.schedule;
      if (result.notice) notices.push(result.notice);
    }
    // Three quick failures are a blip, not yet persistent.
    expect(notices).toEqual([]);
    expect(schedule).toMatchObject({ consecutiveFailures: 3, failingSince: t0.toISOString(), lastError: 'CalDAV server answered 503' });
    const fourth = failed(schedule, { now: after(900), failure: unavailable(), policy, random: 0.5 });
    expect(fourth.notice).toEqual({ type: 'persistent_failure', failures: 4, failingSince: t0.toISOString(), lastError: 'CalDAV server answered 503' });
    const fifth = failed(fourth.schedule, { now: after(2000), failure: unavailable(), policy, random: 0.5 });
    expect(fifth.notice).toBeUndefined();
    const healed = succeeded(fifth.schedule, { now: after(3000), full: false, policy });
    expect(healed).toMatchObject({ consecutiveFailures: 0 });
    expect(healed.failingSince).toBeUndefined();
    expect(healed.persistentReported).toBeUndefined();
    // A new streak is reported again once it is persistent.
    let again = healed;
    let notice;
    for (const offset of [3100, 3200, 4100]) ({ schedule: again, notice } = failed(again, { now: after(offset), failure: unavailable(), policy, random: 0 }));
    expect(notice).toMatchObject({ type: 'persistent_failure', failures: 3, failingSince: after(3100).toISOString() });
  });

  it('stops the schedule of a connection whose grant is gone, reports it once, and starts again after reconnecting', () => {
    const auth = { kind: 'auth' as const, message: 'invalid_grant' };
    const first = failed(initialSchedule(t0), { now: t0, failure: auth, policy, random: 0 });
    expect(first.notice).toEqual({ type: 'needs_reauth', lastError: 'invalid_grant' });
    expect(first.schedule).toMatchObject({ needsReauth: true, nextRunAt: null });
    expect(isDue(first.schedule, after(10 * 86_400))).toBe(false);
    expect(failed(first.schedule, { now: after(60), failure: auth, policy, random: 0 }).notice).toBeUndefined();
    expect(triggered(first.schedule, { now: after(60), policy }).enqueue).toBeNull();
    const back = reauthorized(after(120));
    expect(isDue(back, after(120))).toBe(true);
    expect(needsFullRead(back, after(120), policy)).toBe(true);
  });

  it('debounces triggers without dropping one: a burst costs one read, a trigger during a read gets another', () => {
    let schedule = succeeded(initialSchedule(t0), { now: t0, full: true, policy });
    const first = triggered(schedule, { now: after(1), policy });
    expect(first.enqueue).toEqual({ delaySeconds: 0 });
    schedule = first.schedule;
    // More notifications before the read starts join it.
    for (const offset of [1, 2, 3]) {
      const next = triggered(schedule, { now: after(offset), policy });
      expect(next.enqueue).toBeNull();
      schedule = next.schedule;
    }
    // The read starts; a trigger now is another read, held to the end of the last trigger's window.
    schedule = runStarted(schedule);
    const during = triggered(schedule, { now: after(4), policy });
    expect(during.enqueue).toEqual({ delaySeconds: 7 });
    // The read that was running succeeds; the pending one is still pending.
    schedule = succeeded(during.schedule, { now: after(5), full: false, policy });
    expect(triggered(schedule, { now: after(6), policy }).enqueue).toBeNull();
    // Long after the window, a trigger is enqueued at once.
    schedule = runStarted(schedule);
    expect(triggered(schedule, { now: after(600), policy }).enqueue).toEqual({ delaySeconds: 0 });
  });
});
