// Plays EventBridge Scheduler for the template's rate schedules that invoke Lambda functions: on each tick the
// target runs with the schedule's input, is retried per its RetryPolicy, and is parked in its dead-letter queue
// after the last attempt. Cron and one-time schedules are reported as not run.
import { logicalIdOfArn, type TemplateResolver } from './template-resolver.ts';

export type LocalSchedule = {
  logicalId: string;
  everyMs: number;
  functionId: string;
  input: unknown;
  retries: number;
  deadLetterQueueArn?: string;
};

const UNIT_MS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

/** The schedules the local runtime can run, and a description of each it cannot. */
export function schedulesOf(resolver: TemplateResolver): { schedules: LocalSchedule[]; notRun: string[] } {
  const schedules: LocalSchedule[] = [];
  const notRun: string[] = [];
  for (const [logicalId, resource] of resolver.ofType('AWS::Scheduler::Schedule')) {
    const p = resolver.resolve(resource.Properties ?? {});
    const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(String(p.ScheduleExpression));
    const arn = String(p.Target?.Arn ?? '');
    if (!rate || !arn.includes(':lambda:') || p.State === 'DISABLED') {
      notRun.push(`AWS::Scheduler::Schedule ${logicalId} (${p.ScheduleExpression}${p.State === 'DISABLED' ? ', disabled' : ''})`);
      continue;
    }
    schedules.push({
      logicalId,
      everyMs: Number(rate[1]) * UNIT_MS[rate[2]!]!,
      functionId: logicalIdOfArn(arn),
      input: p.Target.Input ? JSON.parse(p.Target.Input) : {},
      retries: p.Target.RetryPolicy?.MaximumRetryAttempts ?? 185,
      deadLetterQueueArn: p.Target.DeadLetterConfig?.Arn,
    });
  }
  return { schedules, notRun };
}

export class LocalScheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<void>>();
  readonly schedules: LocalSchedule[];
  private readonly invoke: (functionId: string, input: unknown) => Promise<unknown>;
  private readonly deadLetter: (queueArn: string, body: string, attributes: Record<string, string>) => Promise<void>;
  private readonly log: (message: string) => void;

  constructor(options: {
    schedules: LocalSchedule[];
    invoke: LocalScheduler['invoke'];
    deadLetter: LocalScheduler['deadLetter'];
    log: (message: string) => void;
  }) {
    this.schedules = options.schedules;
    this.invoke = options.invoke;
    this.deadLetter = options.deadLetter;
    this.log = options.log;
  }

  start(): void {
    for (const schedule of this.schedules) this.timers.push(setInterval(() => void this.runNow(schedule.logicalId), schedule.everyMs));
  }

  /** One invocation now, with the schedule's retries and dead-letter queue: what a tick does. */
  runNow(logicalId: string): Promise<void> {
    const schedule = this.schedules.find((s) => s.logicalId === logicalId);
    if (!schedule) return Promise.reject(new Error(`no local schedule ${logicalId}`));
    const run = this.attempt(schedule);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  private async attempt(schedule: LocalSchedule): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= schedule.retries; attempt++) {
      try {
        await this.invoke(schedule.functionId, schedule.input);
        return;
      } catch (error) {
        lastError = error;
        this.log(`schedule ${schedule.logicalId}: ${schedule.functionId} failed (attempt ${attempt + 1} of ${schedule.retries + 1})`);
        if (attempt < schedule.retries) await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    }
    if (schedule.deadLetterQueueArn) {
      await this.deadLetter(schedule.deadLetterQueueArn, JSON.stringify(schedule.input), { ERROR_MESSAGE: String((lastError as Error)?.message ?? lastError) });
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([...this.running]);
  }
}
