import { describe, expect, inject, it } from 'vitest';
import { unsupportedResources } from '../../infra/local/runtime.ts';
import { TemplateResolver } from '../../infra/local/template-resolver.ts';
import { LambdaRuntime } from '../../infra/local/lambda-runtime.ts';
import { rulesOf } from '../../infra/local/event-bus.ts';
import { LocalScheduler, schedulesOf } from '../../infra/local/scheduler.ts';

const names = {
  httpApiUrl: 'http://127.0.0.1:3000',
  webSocketUrl: 'ws://127.0.0.1:3001',
  webSocketManagementUrl: 'http://127.0.0.1:3001',
  issuer: 'http://127.0.0.1:3000/local-issuer',
  audience: 'local-client',
  queueUrl: (name: string) => `http://127.0.0.1:3002/000000000000/${name}`,
};

describe('the local runtime reads the synthesized template', () => {
  it('runs every resource type of the stack, and reports one it does not know', () => {
    const template = inject('template');
    expect(unsupportedResources(template)).toEqual([]);
    const withGap = { Resources: { ...template.Resources, Pipe: { Type: 'AWS::Pipes::Pipe' }, Other: { Type: 'AWS::Pipes::Pipe' } } };
    expect(unsupportedResources(withGap)).toEqual(['AWS::Pipes::Pipe (2)']);
  });

  it('points the functions at the local issuer and the local @connections endpoint instead of AWS', () => {
    const resolver = new TemplateResolver(inject('template'), names);
    const lambda = new LambdaRuntime(resolver);
    const environment = lambda.sharedEnvironment();
    expect(environment.JWT_ISSUER).toBe(names.issuer);
    expect(environment.JWT_AUDIENCE).toBe('local-client');
    expect(environment.WS_MANAGEMENT_ENDPOINT).toBe(names.webSocketManagementUrl);
    expect(environment.EVENTS_TABLE).toMatch(/^EventsTable/);
  });

  it('finds a source module for every function and the async retry settings of the subscribers', () => {
    const resolver = new TemplateResolver(inject('template'), names);
    expect(LambdaRuntime.functionsWithoutEntry(resolver)).toEqual([]);
    const lambda = new LambdaRuntime(resolver);
    const audit = [...lambda.functions.values()].find((fn) => fn.entry === 'functions/subscribers/audit-log.ts')!;
    expect(audit.asyncRetries).toBe(2);
    expect(audit.deadLetterQueueArn).toMatch(/:AuditLogDLQ/);
  });

  it('takes rules, patterns and targets from the template', () => {
    const rules = rulesOf(new TemplateResolver(inject('template'), names));
    const workflowRule = rules.find((rule) => rule.targets.some((t) => t.kind === 'state-machine'))!;
    const event = (type: string) => ({ source: 'booking-engine', 'detail-type': type, detail: {} });
    expect(workflowRule.matches(event('booking.requested'))).toBe(true);
    expect(workflowRule.matches(event('booking.cancelled'))).toBe(false);
    expect(workflowRule.targets[0]!.deadLetterQueueArn).toMatch(/StartBookingWorkflowDLQ/);
    // audit-log, realtime-push, the refund of a paid booking, webhooks, notifications, analytics, the calendar
    // writes and the calendar conflicts
    expect(rules.filter((rule) => rule.matches(event('booking.cancelled'))).length).toBe(8);
    expect(rules.filter((rule) => rule.matches(event('user.created'))).length).toBe(2);
  });

  it('gives each function only its own environment, though they share one process', async () => {
    const template = structuredClone(inject('template'));
    const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    const [writerId, writer] = functions.find(([, r]) => r.Properties?.Environment?.Variables?.EVENTS_TABLE)!;
    const [readerId] = functions.find(([, r]) => r.Properties?.Environment?.Variables?.STATE_TABLE && !r.Properties?.Environment?.Variables?.EVENTS_TABLE)!;
    writer.Properties!.Environment.Variables.EVENTS_TABLE = 'somewhere-else';
    const lambda = new LambdaRuntime(new TemplateResolver(template, names));
    // A name the functions disagree on has no value outside them; each sees its own inside.
    expect(lambda.sharedEnvironment().EVENTS_TABLE).toBeUndefined();
    expect(lambda.withEnvironment(writerId, () => process.env.EVENTS_TABLE)).toBe('somewhere-else');
    expect(await lambda.withEnvironment(readerId, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return [process.env.EVENTS_TABLE, 'EVENTS_TABLE' in process.env, process.env.STATE_TABLE];
    })).toEqual([undefined, false, expect.stringMatching(/^StateTable/)]);
    expect(lambda.withEnvironment(readerId, () => process.env.PATH)).toBe(process.env.PATH);
    // Assigning a variable the process has, once the stack runs, works as on a plain process.env (it threw).
    const previous = process.env.PATH;
    process.env.BOOKING_ENGINE_TEST_ASSIGN = 'one';
    process.env.BOOKING_ENGINE_TEST_ASSIGN = 'two';
    expect(process.env.BOOKING_ENGINE_TEST_ASSIGN).toBe('two');
    delete process.env.BOOKING_ENGINE_TEST_ASSIGN;
    expect(process.env.PATH).toBe(previous);
  });

  it('runs the template\'s rate schedules and reports the ones it cannot', () => {
    const { schedules, notRun } = schedulesOf(new TemplateResolver(inject('template'), names));
    expect(notRun).toEqual([]);
    expect(schedules).toHaveLength(2);
    expect(schedules).toEqual(expect.arrayContaining([
      expect.objectContaining({ everyMs: 5 * 60_000, functionId: expect.stringMatching(/^CalendarSyncDispatchFunction/), retries: 2, deadLetterQueueArn: expect.stringMatching(/CalendarSyncDispatchDLQ/) }),
      expect.objectContaining({ everyMs: 15 * 60_000, functionId: expect.stringMatching(/^SettleBookingsFunction/), retries: 3, deadLetterQueueArn: expect.stringMatching(/SettleBookingsDLQ/) }),
    ]));
    const template = structuredClone(inject('template'));
    const schedule = Object.entries(template.Resources).find(([id, r]) => r.Type === 'AWS::Scheduler::Schedule' && id.startsWith('SettleBookings'))![1];
    schedule.Properties!.ScheduleExpression = 'cron(0 9 * * ? *)';
    expect(schedulesOf(new TemplateResolver(template, names)).notRun).toEqual([expect.stringContaining('cron(0 9 * * ? *)')]);
  });

  it('retries a failing scheduled run as its RetryPolicy says, then parks its input in the dead-letter queue', async () => {
    const calls: unknown[] = [];
    const parked: Array<[string, string]> = [];
    const scheduler = new LocalScheduler({
      schedules: [{ logicalId: 'Sweep', everyMs: 60_000, functionId: 'SweepFunction', input: { run: 'nightly' }, retries: 2, deadLetterQueueArn: 'arn:aws:sqs:us-east-1:000000000000:SweepDLQ' }],
      invoke: async (_, input) => {
        calls.push(input);
        throw new Error('table missing');
      },
      deadLetter: async (queue, body) => void parked.push([queue, body]),
      log: () => {},
    });
    await scheduler.runNow('Sweep');
    expect(calls).toHaveLength(3);
    expect(parked).toEqual([['arn:aws:sqs:us-east-1:000000000000:SweepDLQ', JSON.stringify({ run: 'nightly' })]]);
    await expect(scheduler.runNow('Nope')).rejects.toThrow(/no local schedule/);
  });
});
