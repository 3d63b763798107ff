// When a calendar connection is read next, and what a failed read means. Pure: the caller passes `now` (and,
// for jitter, a random number), stores the state with the connection and acts on the outcome (enqueue a read,
// record an event). The scheduler only asks which connections are due; everything a connection's own history
// decides (backoff, the daily full read, debounced triggers) is decided here.

/** The knobs, with the values the stack runs on (see `defaultSyncPolicy`). */
export type SyncPolicy = {
  /** The schedule's period: an unchanged, healthy connection is read once per period. */
  periodSeconds: number;
  /**
   * A healthy connection's next read comes up to this much before the period ends (never after it: the period
   * stays the bound on staleness), so connections made together drift apart instead of hitting a provider in
   * the same second of every cycle.
   */
  periodJitterSeconds: number;
  /** A full read (no cursor) at least this often, as Cronofy recommends (daily): it heals any missed change. */
  fullResyncEverySeconds: number;
  /** Push and manual triggers within this window of an enqueued read that has not started join that read. */
  debounceSeconds: number;
  /** Backoff after the n-th consecutive failure: base * 2^(n-1), capped, with jitter in its upper half. */
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  /** A failure streak is persistent (the organizer is told) after this many failures spanning this long. */
  persistentAfterFailures: number;
  persistentAfterSeconds: number;
};

export const defaultSyncPolicy = (periodSeconds = 300): SyncPolicy => ({
  periodSeconds,
  // A tenth of the period, at most 30 s: at 300 s a read comes 270-300 s after the last.
  periodJitterSeconds: Math.min(30, Math.floor(periodSeconds / 10)),
  fullResyncEverySeconds: 86_400,
  debounceSeconds: 10,
  backoffBaseSeconds: 60,
  backoffMaxSeconds: 3_600,
  persistentAfterFailures: 3,
  persistentAfterSeconds: 900,
});

/** Why a read failed, as the provider contract's errors say (shared/calendars/provider.ts). */
export type SyncFailure =
  | { kind: 'auth'; message: string }
  | { kind: 'unavailable'; message: string; retryAfterSeconds?: number }
  | { kind: 'request'; message: string };

/** What is kept with each connection. Instants are ISO-8601 UTC. */
export type SyncSchedule = {
  /** null: not scheduled (needs the organizer to reconnect). */
  nextRunAt: string | null;
  consecutiveFailures: number;
  failingSince?: string;
  /** Set once a streak has been reported as persistent, so it is reported once. */
  persistentReported?: boolean;
  needsReauth?: boolean;
  lastSuccessAt?: string;
  lastFullReadAt?: string;
  lastError?: string;
  /** A triggered read enqueued and not started yet: later triggers join it. */
  pendingTriggerAt?: string;
  /** Until when a triggered read absorbs the next trigger's delay (debounce window of the last trigger). */
  lastTriggerWindowEnd?: string;
};

/** What the caller records when a streak turns persistent (as `calendar.sync.failing`) or needs a new grant. */
export type SyncNotice =
  | { type: 'persistent_failure'; failures: number; failingSince: string; lastError: string }
  | { type: 'needs_reauth'; lastError: string };

const at = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
const ms = (iso: string) => Date.parse(iso);

/** A newly connected calendar is read at once (its first read is full). */
export function initialSchedule(now: Date): SyncSchedule {
  return { nextRunAt: now.toISOString(), consecutiveFailures: 0 };
}

/** Whether the dispatcher enqueues this connection now. A connection waiting for a new grant never is. */
export function isDue(schedule: SyncSchedule, now: Date): boolean {
  return !schedule.needsReauth && schedule.nextRunAt !== null && ms(schedule.nextRunAt) <= now.getTime();
}

/** Whether this read drops the cursor and reads everything: the first read, and once per `fullResyncEverySeconds`. */
export function needsFullRead(schedule: SyncSchedule, now: Date, policy: SyncPolicy): boolean {
  return !schedule.lastFullReadAt || now.getTime() - ms(schedule.lastFullReadAt) >= policy.fullResyncEverySeconds * 1000;
}

/** A read has started: the pending trigger (if any) is being served by it. */
export function runStarted(schedule: SyncSchedule): SyncSchedule {
  const { pendingTriggerAt: _served, ...rest } = schedule;
  return rest;
}

/** The seconds until a healthy connection's next read: the period, less a jitter in [0, periodJitterSeconds]. `random` is in [0, 1). */
export function nextPeriodSeconds(policy: SyncPolicy, random: number): number {
  const jitter = Math.floor(Math.min(Math.max(random, 0), 1) * Math.min(policy.periodJitterSeconds, policy.periodSeconds - 1));
  return Math.max(1, policy.periodSeconds - jitter);
}

/**
 * A scheduled read's next run counts from the dispatcher's tick that enqueued it, a second early for the next
 * tick's own delays. Counted from when the worker got to the message, the next run fell just after the next tick,
 * and every connection was read at every second tick (twice the period).
 */
export const TICK_SLACK_SECONDS = 1;

/** `tick`: when the schedule's dispatcher enqueued this read (a scheduled read only). */
export function succeeded(schedule: SyncSchedule, input: { now: Date; full: boolean; policy: SyncPolicy; random?: number; tick?: Date }): SyncSchedule {
  const { now, full, policy } = input;
  // A tick later than now (clock skew) or more than a period ago (a message redriven late) counts from now.
  const tick = input.tick && input.tick.getTime() <= now.getTime() && now.getTime() - input.tick.getTime() <= policy.periodSeconds * 1000 ? input.tick : undefined;
  const from = tick ? new Date(tick.getTime() - TICK_SLACK_SECONDS * 1000) : now;
  return {
    nextRunAt: at(from, nextPeriodSeconds(policy, input.random ?? 0)),
    consecutiveFailures: 0,
    lastSuccessAt: now.toISOString(),
    lastFullReadAt: full ? now.toISOString() : schedule.lastFullReadAt,
    ...(schedule.pendingTriggerAt ? { pendingTriggerAt: schedule.pendingTriggerAt } : {}),
    ...(schedule.lastTriggerWindowEnd ? { lastTriggerWindowEnd: schedule.lastTriggerWindowEnd } : {}),
  };
}

/**
 * The delay before the next attempt after `failures` consecutive failures: exponential, capped, with "equal
 * jitter" (half fixed, half random) so a provider outage does not bring every connection back in the same
 * second, and the delay is never below half the step it is on. `random` is in [0, 1).
 */
export function backoffSeconds(failures: number, policy: SyncPolicy, random: number): number {
  const step = Math.min(policy.backoffMaxSeconds, policy.backoffBaseSeconds * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.ceil(step / 2 + (step / 2) * Math.min(Math.max(random, 0), 1));
}

/**
 * A read failed. An auth failure stops this connection's schedule until the organizer reconnects (no retry
 * would help) and is reported at once; other failures back off, honouring the provider's Retry-After, and are
 * reported once the streak is persistent: `persistentAfterFailures` failures over at least
 * `persistentAfterSeconds`, so a single blip at a provider never pages anyone and a long outage always does.
 */
export function failed(
  schedule: SyncSchedule,
  input: { now: Date; failure: SyncFailure; policy: SyncPolicy; random: number },
): { schedule: SyncSchedule; notice?: SyncNotice } {
  const { now, failure, policy, random } = input;
  const failures = schedule.consecutiveFailures + 1;
  const failingSince = schedule.failingSince ?? now.toISOString();
  const lastError = failure.message.slice(0, 500);
  if (failure.kind === 'auth') {
    const next: SyncSchedule = { ...schedule, nextRunAt: null, consecutiveFailures: failures, failingSince, lastError, needsReauth: true };
    return schedule.needsReauth ? { schedule: next } : { schedule: next, notice: { type: 'needs_reauth', lastError } };
  }
  const retryAfter = failure.kind === 'unavailable' ? Math.min(failure.retryAfterSeconds ?? 0, policy.backoffMaxSeconds) : 0;
  const delay = Math.max(backoffSeconds(failures, policy, random), retryAfter);
  const persistent = failures >= policy.persistentAfterFailures && now.getTime() - ms(failingSince) >= policy.persistentAfterSeconds * 1000;
  const next: SyncSchedule = {
    ...schedule,
    nextRunAt: at(now, delay),
    consecutiveFailures: failures,
    failingSince,
    lastError,
    persistentReported: schedule.persistentReported || persistent,
  };
  if (persistent && !schedule.persistentReported) return { schedule: next, notice: { type: 'persistent_failure', failures, failingSince, lastError } };
  return { schedule: next };
}

/** The organizer reconnected: the schedule starts again with a full read. */
export function reauthorized(now: Date): SyncSchedule {
  return initialSchedule(now);
}

/** How long past its debounce window a pending trigger is believed: beyond it, its message is taken as lost. */
export const PENDING_TRIGGER_LAPSE_SECONDS = 120;

/**
 * Whether an enqueued triggered read has not started yet, so a new trigger joins it. One whose message was lost
 * (the send failed after the state said pending) lapses, so triggers are never swallowed for good.
 */
export function pendingTrigger(schedule: SyncSchedule, now: Date, policy: SyncPolicy): boolean {
  if (!schedule.pendingTriggerAt) return false;
  return ms(schedule.pendingTriggerAt) + (policy.debounceSeconds + PENDING_TRIGGER_LAPSE_SECONDS) * 1000 > now.getTime();
}

/**
 * A push notification or `POST .../sync` asks for a read. Triggers are debounced, never dropped: one that
 * arrives while an enqueued read has not started joins it (that read will see the change); otherwise a read is
 * enqueued, delayed to the end of the debounce window of the previous trigger so a burst of notifications
 * costs one read, and a trigger during a running read is followed by another read.
 */
export function triggered(schedule: SyncSchedule, input: { now: Date; policy: SyncPolicy }): { schedule: SyncSchedule; enqueue: null | { delaySeconds: number } } {
  const { now, policy } = input;
  if (schedule.needsReauth) return { schedule, enqueue: null };
  if (pendingTrigger(schedule, now, policy)) return { schedule, enqueue: null };
  const previous = schedule.lastTriggerWindowEnd;
  const delaySeconds = previous ? Math.max(0, Math.ceil((ms(previous) - now.getTime()) / 1000)) : 0;
  const enqueuedFor = at(now, delaySeconds);
  return {
    schedule: { ...schedule, pendingTriggerAt: enqueuedFor, lastTriggerWindowEnd: at(new Date(ms(enqueuedFor)), policy.debounceSeconds) },
    enqueue: { delaySeconds },
  };
}
