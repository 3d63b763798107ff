// Plays EventBridge Scheduler: the template's schedules and those functions create at run time through the
// Scheduler API (scheduler-api.ts serves it). rate() schedules tick, one-time at() schedules fire once (in
// their ScheduleExpressionTimezone) and are deleted after they ran when ActionAfterCompletion is DELETE; the
// target (a Lambda function or an SQS queue) is retried per the RetryPolicy (attempts and event age) and the
// input is parked in the schedule's dead-letter queue after the last attempt, with Scheduler's attributes.
// What is not run here, and said so (notRun): cron() expressions and targets other than Lambda and SQS.
// Local choices: a flexible time window fires at its start, an at() already past fires at once, retries back
// off from 200 ms (the cloud waits longer), and precision is the millisecond, not Scheduler's minute.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { offsetAt } from '../../shared/scheduling/time-zones.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, type TemplateResolver } from './template-resolver.ts';

/**
 * Metadata on an AWS::Scheduler::Schedule naming an environment variable that, locally, replaces the
 * schedule's rate with a period in seconds (SYNC_PERIOD_SECONDS for the calendar sync). The cloud's rate() has
 * a one-minute floor; a developer watching a sync wants seconds, so only the local runtime shortens it, and
 * the template keeps the one period both runtimes start from.
 */
export const LOCAL_PERIOD_VARIABLE_METADATA = 'BookingEngine:LocalPeriodVariable';
/**
 * Metadata on a function: `{ENV_NAME: 'LOCAL_VARIABLE'}`: locally, the function's ENV_NAME (a period in seconds it
 * computes next runs from, e.g. the sync worker's CALENDAR_SYNC_PERIOD_SECONDS) takes the local variable's value
 * too, so the schedule and the state it keeps agree on the shortened period.
 */
export const LOCAL_PERIOD_ENVIRONMENT_METADATA = 'BookingEngine:LocalPeriodEnvironment';
/** The shortest local period such a variable may set. */
export const MIN_LOCAL_PERIOD_SECONDS = 5;

/** A schedule as the Scheduler API (and the template's properties) describe it. Dates are epoch seconds. */
export type ScheduleDefinition = {
  Name: string;
  GroupName: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  StartDate?: number;
  EndDate?: number;
  Description?: string;
  State: 'ENABLED' | 'DISABLED';
  FlexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  ActionAfterCompletion: 'NONE' | 'DELETE';
  KmsKeyArn?: string;
  Target: {
    Arn: string;
    RoleArn: string;
    Input?: string;
    RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
    DeadLetterConfig?: { Arn?: string };
    SqsParameters?: { MessageGroupId?: string };
  };
};

/** A template schedule the runtime runs (the redrive tool reads these too). */
export type LocalSchedule = {
  logicalId: string;
  everyMs: number;
  /** The target: a function, or (queueArn) a queue. */
  functionId: string;
  queueArn?: string;
  input: unknown;
  retries: number;
  deadLetterQueueArn?: string;
  /** The whole definition, for GetSchedule and ListSchedules; made from the fields above when absent. */
  definition?: ScheduleDefinition;
};

export class SchedulerError extends Error {
  constructor(name: 'ValidationException' | 'ConflictException' | 'ResourceNotFoundException', message: string) {
    super(message);
    this.name = name;
  }
}

const UNIT_MS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };
const DEFAULT_RETRIES = 185;
const DEFAULT_EVENT_AGE_SECONDS = 86_400;
/** setTimeout's longest delay; a later at() is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type Plan = { kind: 'rate'; everyMs: number } | { kind: 'at'; atMs: number } | { kind: 'not-run'; reason: string };
type Target = { kind: 'lambda'; functionId: string } | { kind: 'sqs'; queueArn: string } | { kind: 'not-run'; reason: string };

/** When a schedule runs, from its expression; a malformed expression is a ValidationException. */
export function planOf(expression: string, timeZone = 'UTC'): Plan {
  const rate = /^rate\((\d{1,9}) (minutes?|hours?|days?)\)$/.exec(expression);
  if (rate) {
    if (Number(rate[1]) < 1) throw new SchedulerError('ValidationException', `${expression}: the rate must be at least 1`);
    return { kind: 'rate', everyMs: Number(rate[1]) * UNIT_MS[rate[2]!]! };
  }
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(expression);
  if (at) {
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number) as [number, number, number, number, number, number];
    const wall = Date.UTC(year, month - 1, day, hour, minute, second);
    if (new Date(wall).getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) throw new SchedulerError('ValidationException', `${expression} is not a date and time`);
    return { kind: 'at', atMs: wallToInstant(wall, timeZone) };
  }
  if (/^cron\(.+\)$/.test(expression)) return { kind: 'not-run', reason: `${expression}: cron expressions are not run locally` };
  throw new SchedulerError('ValidationException', `Invalid Schedule Expression ${expression}: use rate(value unit), at(yyyy-mm-ddThh:mm:ss) or cron(fields)`);
}

/** The instant a wall-clock time in `zone` names: the earlier one in a repeated hour; in a gap, as if the clock had not moved yet. */
function wallToInstant(wall: number, zone: string): number {
  const before = offsetAt(zone, wall - 86_400_000);
  const after = offsetAt(zone, wall + 86_400_000);
  const candidates = [wall - before, wall - after].filter((instant) => instant + offsetAt(zone, instant) === wall).sort((a, b) => a - b);
  return candidates[0] ?? wall - before;
}

function targetOf(arn: string): Target {
  const lambda = /^arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/.exec(arn);
  if (lambda) return { kind: 'lambda', functionId: lambda[1]! };
  if (/^arn:aws:sqs:[^:]*:[^:]*:[^:]+$/.test(arn)) return { kind: 'sqs', queueArn: arn };
  return { kind: 'not-run', reason: `target ${arn} is not invoked locally (only Lambda functions and SQS queues are)` };
}

/** Which template schedule has a local period variable set, and to what. */
function localPeriodMs(resource: { Metadata?: Record<string, any> }, env: Record<string, string | undefined>): number | undefined {
  const variable = resource.Metadata?.[LOCAL_PERIOD_VARIABLE_METADATA];
  if (typeof variable !== 'string' || env[variable] === undefined || env[variable] === '') return undefined;
  const seconds = Number(env[variable]);
  if (!Number.isInteger(seconds) || seconds < MIN_LOCAL_PERIOD_SECONDS || seconds > 86_400) {
    throw new Error(`${variable} must be a whole number of seconds from ${MIN_LOCAL_PERIOD_SECONDS} to 86400, not "${env[variable]}"`);
  }
  return seconds * 1000;
}

/** Per function, the environment values a local period variable replaces (LOCAL_PERIOD_ENVIRONMENT_METADATA). */
export function localPeriodEnvironment(resolver: TemplateResolver, env: Record<string, string | undefined> = process.env): Map<string, Record<string, string>> {
  const overrides = new Map<string, Record<string, string>>();
  for (const [logicalId, resource] of resolver.ofType('AWS::Lambda::Function')) {
    const mapping = resource.Metadata?.[LOCAL_PERIOD_ENVIRONMENT_METADATA] as Record<string, string> | undefined;
    if (!mapping) continue;
    const values: Record<string, string> = {};
    for (const [name, variable] of Object.entries(mapping)) {
      const ms = localPeriodMs({ Metadata: { [LOCAL_PERIOD_VARIABLE_METADATA]: variable } }, env);
      if (ms !== undefined) values[name] = String(ms / 1000);
    }
    if (Object.keys(values).length) overrides.set(logicalId, values);
  }
  return overrides;
}

/** The template's schedules the local runtime can run, and a description of each it cannot. */
export function schedulesOf(resolver: TemplateResolver, env: Record<string, string | undefined> = process.env): { schedules: LocalSchedule[]; notRun: string[] } {
  const schedules: LocalSchedule[] = [];
  const notRun: string[] = [];
  for (const [logicalId, resource] of resolver.ofType('AWS::Scheduler::Schedule')) {
    const p = resolver.resolve(resource.Properties ?? {});
    const plan = planOf(String(p.ScheduleExpression), p.ScheduleExpressionTimezone);
    const target = targetOf(String(p.Target?.Arn ?? ''));
    const expression = String(p.ScheduleExpression);
    const why = plan.kind === 'not-run' ? plan.reason
      : target.kind === 'not-run' ? `${expression}: ${target.reason}`
      : p.State === 'DISABLED' ? `${expression}: disabled`
      : plan.kind === 'at' ? `${expression}: one-time schedules of the template are not run locally`
      : undefined;
    if (why || plan.kind !== 'rate' || target.kind === 'not-run') {
      notRun.push(`AWS::Scheduler::Schedule ${logicalId}: ${why}`);
      continue;
    }
    const override = localPeriodMs(resource, env);
    const definition: ScheduleDefinition = {
      Name: p.Name ?? logicalId,
      GroupName: p.GroupName ?? 'default',
      ScheduleExpression: p.ScheduleExpression,
      ScheduleExpressionTimezone: p.ScheduleExpressionTimezone,
      Description: p.Description,
      State: 'ENABLED',
      FlexibleTimeWindow: p.FlexibleTimeWindow ?? { Mode: 'OFF' },
      ActionAfterCompletion: 'NONE',
      Target: p.Target,
    };
    schedules.push({
      logicalId,
      everyMs: override ?? plan.everyMs,
      functionId: target.kind === 'lambda' ? target.functionId : '',
      ...(target.kind === 'sqs' ? { queueArn: target.queueArn } : {}),
      input: p.Target.Input ? JSON.parse(p.Target.Input) : {},
      retries: p.Target.RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_RETRIES,
      deadLetterQueueArn: p.Target.DeadLetterConfig?.Arn,
      definition,
    });
  }
  return { schedules, notRun };
}

type Entry = {
  definition: ScheduleDefinition;
  arn: string;
  createdAt: number;
  modifiedAt: number;
  plan: Plan;
  target: Target;
  /** The template schedule's logical id (runNow finds it by that). */
  logicalId?: string;
  /** A period the local runtime sets in place of the expression's (LOCAL_PERIOD_VARIABLE_METADATA). */
  everyMs?: number;
  clientToken?: string;
  timer?: NodeJS.Timeout;
  completed?: boolean;
};

type Group = { arn: string; createdAt: number; modifiedAt: number };
type SavedState = {
  version: 1;
  groups: string[];
  createTokens: Array<[string, { token: string; arn: string }]>;
  schedules: Array<{ definition: ScheduleDefinition; createdAt: number; modifiedAt: number; clientToken?: string; completed?: boolean }>;
};

const keyOf = (group: string, name: string) => `${group}/${name}`;

export class LocalScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly groups = new Map<string, Group>();
  /** ClientTokens of creations, kept after the schedule is gone so a retried create never makes a second one. */
  private readonly createTokens = new Map<string, { token: string; arn: string }>();
  private readonly running = new Set<Promise<void>>();
  private started = false;
  private readonly invoke: (functionId: string, input: unknown) => Promise<unknown>;
  private readonly sendToQueue: (queueArn: string, body: string, attributes: Record<string, string>) => Promise<void>;
  private readonly deadLetter: (queueArn: string, body: string, attributes: Record<string, string>) => Promise<void>;
  private readonly log: (message: string) => void;
  private readonly retryBaseMs: number;
  private readonly stateFile?: string;
  /** Groups of the template (and `default`): not saved, since the template makes them again. */
  private readonly fixedGroups: Set<string>;

  constructor(options: {
    schedules: LocalSchedule[];
    invoke: LocalScheduler['invoke'];
    deadLetter: LocalScheduler['deadLetter'];
    /** SendMessage for SQS targets; the dead-letter sender when absent. */
    sendToQueue?: LocalScheduler['sendToQueue'];
    /** Schedule groups of the template (AWS::Scheduler::ScheduleGroup), besides `default`. */
    groups?: string[];
    retryBaseMs?: number;
    /** Where the schedules and groups made through the API are kept across restarts (as SQS keeps its queues). */
    stateFile?: string;
    log: (message: string) => void;
  }) {
    this.invoke = options.invoke;
    this.deadLetter = options.deadLetter;
    this.sendToQueue = options.sendToQueue ?? options.deadLetter;
    this.log = options.log;
    this.retryBaseMs = options.retryBaseMs ?? 200;
    this.stateFile = options.stateFile;
    this.fixedGroups = new Set(['default', ...(options.groups ?? [])]);
    for (const group of this.fixedGroups) this.putGroup(group);
    for (const schedule of options.schedules) {
      const definition = schedule.definition ?? {
        Name: schedule.logicalId,
        GroupName: 'default',
        ScheduleExpression: `rate(${Math.max(1, Math.round(schedule.everyMs / 60_000))} minutes)`,
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'NONE',
        Target: {
          Arn: schedule.queueArn ?? `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${schedule.functionId}`,
          RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local-scheduler`,
          Input: JSON.stringify(schedule.input),
          RetryPolicy: { MaximumRetryAttempts: schedule.retries },
          ...(schedule.deadLetterQueueArn ? { DeadLetterConfig: { Arn: schedule.deadLetterQueueArn } } : {}),
        },
      };
      if (!this.groups.has(definition.GroupName)) this.putGroup(definition.GroupName);
      const entry = this.entryOf(definition, Date.now());
      entry.logicalId = schedule.logicalId;
      entry.everyMs = schedule.everyMs;
      this.entries.set(keyOf(definition.GroupName, definition.Name), entry);
    }
    this.load();
  }

  private load(): void {
    if (!this.stateFile || !existsSync(this.stateFile)) return;
    const saved = JSON.parse(readFileSync(this.stateFile, 'utf8')) as SavedState;
    for (const name of saved.groups) if (!this.groups.has(name)) this.putGroup(name);
    for (const [key, token] of saved.createTokens) this.createTokens.set(key, token);
    for (const item of saved.schedules) {
      const key = keyOf(item.definition.GroupName, item.definition.Name);
      if (this.entries.has(key)) continue;
      const entry = this.entryOf(item.definition, item.createdAt);
      Object.assign(entry, { modifiedAt: item.modifiedAt, clientToken: item.clientToken, completed: item.completed });
      this.entries.set(key, entry);
    }
  }

  /** Writes what the API made (not the template's schedules) to the state file, whole, atomically. */
  private save(): void {
    if (!this.stateFile) return;
    const state: SavedState = {
      version: 1,
      groups: [...this.groups.keys()].filter((name) => !this.fixedGroups.has(name)),
      createTokens: [...this.createTokens],
      schedules: [...this.entries.values()].filter((e) => !e.logicalId).map((e) => ({ definition: e.definition, createdAt: e.createdAt, modifiedAt: e.modifiedAt, clientToken: e.clientToken, completed: e.completed })),
    };
    writeFileSync(`${this.stateFile}.tmp`, JSON.stringify(state));
    renameSync(`${this.stateFile}.tmp`, this.stateFile);
  }

  /** The template's rate schedules, as the runtime runs them. */
  get schedules(): LocalSchedule[] {
    return [...this.entries.values()]
      .filter((e) => e.logicalId)
      .map((e) => ({
        logicalId: e.logicalId!,
        everyMs: e.everyMs!,
        functionId: e.target.kind === 'lambda' ? e.target.functionId : '',
        input: e.definition.Target.Input ? JSON.parse(e.definition.Target.Input) : {},
        retries: e.definition.Target.RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_RETRIES,
        deadLetterQueueArn: e.definition.Target.DeadLetterConfig?.Arn,
      }));
  }

  start(): void {
    this.started = true;
    for (const entry of this.entries.values()) this.arm(entry);
  }

  /** The schedules held but not run here (cron, other targets), each with why. */
  notRun(): string[] {
    return [...this.entries.values()].flatMap((e) => {
      const reason = e.plan.kind === 'not-run' ? e.plan.reason : e.target.kind === 'not-run' ? e.target.reason : undefined;
      return reason ? [`schedule ${e.definition.GroupName}/${e.definition.Name}: ${reason}`] : [];
    });
  }

  // --- the Scheduler API ---------------------------------------------------------------------------------

  create(definition: ScheduleDefinition, clientToken?: string): { ScheduleArn: string } {
    const key = keyOf(definition.GroupName, definition.Name);
    const seen = this.createTokens.get(key);
    if (clientToken && seen?.token === clientToken) return { ScheduleArn: seen.arn };
    if (!this.groups.has(definition.GroupName)) throw new SchedulerError('ResourceNotFoundException', `Schedule group ${definition.GroupName} does not exist.`);
    if (this.entries.has(key)) throw new SchedulerError('ConflictException', `Schedule ${definition.Name} already exists.`);
    const entry = this.entryOf(definition, Date.now());
    entry.clientToken = clientToken;
    this.entries.set(key, entry);
    if (clientToken) {
      this.createTokens.set(key, { token: clientToken, arn: entry.arn });
      // Bounded: the oldest tokens go first.
      if (this.createTokens.size > 10_000) this.createTokens.delete(this.createTokens.keys().next().value!);
    }
    const notRun = this.notRun().find((line) => line.startsWith(`schedule ${definition.GroupName}/${definition.Name}:`));
    if (notRun) this.log(`scheduler: ${notRun}`);
    if (this.started) this.arm(entry);
    this.save();
    return { ScheduleArn: entry.arn };
  }

  update(definition: ScheduleDefinition): { ScheduleArn: string } {
    const key = keyOf(definition.GroupName, definition.Name);
    const existing = this.entries.get(key);
    if (!existing) throw new SchedulerError('ResourceNotFoundException', `Schedule ${definition.Name} does not exist.`);
    this.disarm(existing);
    const entry = this.entryOf(definition, existing.createdAt);
    entry.clientToken = existing.clientToken;
    this.entries.set(key, entry);
    if (this.started) this.arm(entry);
    this.save();
    return { ScheduleArn: entry.arn };
  }

  get(group: string, name: string): Record<string, unknown> {
    const entry = this.entries.get(keyOf(group, name));
    if (!entry) throw new SchedulerError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
    const d = entry.definition;
    return {
      Arn: entry.arn,
      Name: d.Name,
      GroupName: d.GroupName,
      ScheduleExpression: d.ScheduleExpression,
      ScheduleExpressionTimezone: d.ScheduleExpressionTimezone,
      StartDate: d.StartDate,
      EndDate: d.EndDate,
      Description: d.Description,
      State: d.State,
      KmsKeyArn: d.KmsKeyArn,
      FlexibleTimeWindow: d.FlexibleTimeWindow,
      ActionAfterCompletion: d.ActionAfterCompletion,
      Target: d.Target,
      CreationDate: entry.createdAt / 1000,
      LastModificationDate: entry.modifiedAt / 1000,
    };
  }

  delete(group: string, name: string): void {
    const key = keyOf(group, name);
    const entry = this.entries.get(key);
    if (!entry) throw new SchedulerError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
    this.disarm(entry);
    this.entries.delete(key);
    this.save();
  }

  list(filter: { group?: string; namePrefix?: string; state?: string }): Array<Record<string, unknown>> {
    return [...this.entries.values()]
      .filter((e) => (!filter.group || e.definition.GroupName === filter.group) && (!filter.namePrefix || e.definition.Name.startsWith(filter.namePrefix)) && (!filter.state || e.definition.State === filter.state))
      .sort((a, b) => keyOf(a.definition.GroupName, a.definition.Name).localeCompare(keyOf(b.definition.GroupName, b.definition.Name)))
      .map((e) => ({
        Arn: e.arn,
        Name: e.definition.Name,
        GroupName: e.definition.GroupName,
        State: e.definition.State,
        CreationDate: e.createdAt / 1000,
        LastModificationDate: e.modifiedAt / 1000,
        Target: { Arn: e.definition.Target.Arn },
      }));
  }

  createGroup(name: string): { ScheduleGroupArn: string } {
    if (this.groups.has(name)) throw new SchedulerError('ConflictException', `Schedule group ${name} already exists.`);
    const group = this.putGroup(name);
    this.save();
    return { ScheduleGroupArn: group.arn };
  }

  getGroup(name: string): Record<string, unknown> {
    const group = this.groups.get(name);
    if (!group) throw new SchedulerError('ResourceNotFoundException', `Schedule group ${name} does not exist.`);
    return { Arn: group.arn, Name: name, State: 'ACTIVE', CreationDate: group.createdAt / 1000, LastModificationDate: group.modifiedAt / 1000 };
  }

  listGroups(namePrefix?: string): Array<Record<string, unknown>> {
    return [...this.groups.keys()].filter((name) => !namePrefix || name.startsWith(namePrefix)).sort().map((name) => this.getGroup(name));
  }

  /** Deletes the group and every schedule in it, as Scheduler does. */
  deleteGroup(name: string): void {
    if (name === 'default') throw new SchedulerError('ValidationException', 'The default schedule group cannot be deleted.');
    if (!this.groups.has(name)) throw new SchedulerError('ResourceNotFoundException', `Schedule group ${name} does not exist.`);
    for (const [key, entry] of this.entries) {
      if (entry.definition.GroupName !== name) continue;
      this.disarm(entry);
      this.entries.delete(key);
    }
    this.groups.delete(name);
    this.save();
  }

  // --- running ---------------------------------------------------------------------------------------------

  /** One invocation now, with the schedule's retries and dead-letter queue: what a tick does. */
  runNow(logicalIdOrName: string, group = 'default'): Promise<void> {
    const entry = [...this.entries.values()].find((e) => e.logicalId === logicalIdOrName) ?? this.entries.get(keyOf(group, logicalIdOrName));
    if (!entry) return Promise.reject(new Error(`no local schedule ${logicalIdOrName}`));
    return this.track(this.fire(entry, Date.now()));
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const entry of this.entries.values()) this.disarm(entry);
    await Promise.allSettled([...this.running]);
  }

  private putGroup(name: string): Group {
    const now = Date.now();
    const group = { arn: `arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT}:schedule-group/${name}`, createdAt: now, modifiedAt: now };
    this.groups.set(name, group);
    return group;
  }

  private entryOf(definition: ScheduleDefinition, createdAt: number): Entry {
    return {
      definition,
      arn: `arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT}:schedule/${definition.GroupName}/${definition.Name}`,
      createdAt,
      modifiedAt: Date.now(),
      plan: planOf(definition.ScheduleExpression, definition.ScheduleExpressionTimezone),
      target: targetOf(definition.Target.Arn),
    };
  }

  private track(run: Promise<void>): Promise<void> {
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  private arm(entry: Entry): void {
    this.disarm(entry);
    if (entry.definition.State === 'DISABLED' || entry.completed || entry.plan.kind === 'not-run' || entry.target.kind === 'not-run') return;
    if (entry.plan.kind === 'rate') {
      const everyMs = entry.everyMs ?? entry.plan.everyMs;
      const tick = (due: number) =>
        this.wake(entry, due, () => {
          const { StartDate, EndDate } = entry.definition;
          if (!((StartDate !== undefined && due < StartDate * 1000) || (EndDate !== undefined && due >= EndDate * 1000))) void this.track(this.fire(entry, due));
          // Missed ticks (a stalled process) are not caught up: Scheduler does not either.
          const next = due + everyMs;
          tick(next > Date.now() ? next : Date.now() + everyMs);
        });
      tick(Date.now() + everyMs);
      return;
    }
    const atMs = entry.plan.atMs;
    this.wake(entry, atMs, () => {
      entry.timer = undefined;
      entry.completed = true;
      this.save();
      void this.track(
        this.fire(entry, atMs).finally(() => {
          const key = keyOf(entry.definition.GroupName, entry.definition.Name);
          // Deleted after it ran (DELETE), unless it was replaced or deleted meanwhile.
          if (entry.definition.ActionAfterCompletion === 'DELETE' && this.entries.get(key) === entry) {
            this.entries.delete(key);
            this.save();
          }
        }),
      );
    });
  }

  /** Runs `then` at `at` (at once if past), in steps where it is beyond setTimeout's reach. */
  private wake(entry: Entry, at: number, then: () => void): void {
    const wait = at - Date.now();
    entry.timer = wait > MAX_TIMER_MS ? setTimeout(() => this.wake(entry, at, then), MAX_TIMER_MS) : setTimeout(then, Math.max(0, wait));
  }

  private disarm(entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  /** One scheduled invocation: attempts per RetryPolicy, then the dead-letter queue. */
  private async fire(entry: Entry, scheduledAt: number): Promise<void> {
    const { definition, target } = entry;
    const executionId = randomUUID();
    const retries = definition.Target.RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_RETRIES;
    const maxAgeMs = (definition.Target.RetryPolicy?.MaximumEventAgeInSeconds ?? DEFAULT_EVENT_AGE_SECONDS) * 1000;
    const started = Date.now();
    let lastError: unknown;
    let attempt = 0;
    let exhausted: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' = 'MaximumRetryAttempts';
    for (; attempt <= retries; attempt++) {
      // Scheduler's context attributes, as it substitutes them into the input.
      const input = (definition.Target.Input ?? '{}')
        .replaceAll('<aws.scheduler.schedule-arn>', entry.arn)
        .replaceAll('<aws.scheduler.scheduled-time>', new Date(Math.floor(scheduledAt / 1000) * 1000).toISOString().replace('.000Z', 'Z'))
        .replaceAll('<aws.scheduler.execution-id>', executionId)
        .replaceAll('<aws.scheduler.attempt-number>', String(attempt + 1));
      try {
        if (target.kind === 'lambda') await this.invoke(target.functionId, JSON.parse(input));
        else if (target.kind === 'sqs') await this.sendToQueue(target.queueArn, input, {});
        return;
      } catch (error) {
        lastError = error;
        this.log(`schedule ${definition.Name}: ${definition.Target.Arn} failed (attempt ${attempt + 1} of ${retries + 1}): ${(error as Error)?.message ?? error}`);
        if (attempt === retries) break;
        const delay = Math.min(this.retryBaseMs * 2 ** attempt, 30_000);
        if (Date.now() + delay - started > maxAgeMs) {
          exhausted = 'MaximumEventAgeInSeconds';
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    const deadLetterArn = definition.Target.DeadLetterConfig?.Arn;
    if (!deadLetterArn) return;
    await this.deadLetter(deadLetterArn, definition.Target.Input ?? '{}', {
      ERROR_CODE: String((lastError as Error)?.name ?? 'Error'),
      ERROR_MESSAGE: String((lastError as Error)?.message ?? lastError).slice(0, 1000),
      EXECUTION_ID: executionId,
      EXHAUSTED_RETRY_CONDITION: exhausted,
      RETRY_ATTEMPTS: String(Math.min(attempt, retries)),
      SCHEDULE_ARN: entry.arn,
      TARGET_ARN: definition.Target.Arn,
    });
  }
}
