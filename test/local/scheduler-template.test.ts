// The template's own schedules as the local runtime reads them: the period a schedule's local variable
// (SYNC_PERIOD_SECONDS) sets in place of the template's rate, SQS targets, and the report of what is not run.
import { describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../infra/synth.ts';
import { TemplateResolver } from '../../infra/local/template-resolver.ts';
import { LOCAL_PERIOD_VARIABLE_METADATA, LocalScheduler, schedulesOf } from '../../infra/local/scheduler.ts';

const names = {
  httpApiUrl: 'http://127.0.0.1:3000',
  webSocketUrl: 'ws://127.0.0.1:3001',
  webSocketManagementUrl: 'http://127.0.0.1:3001',
  issuer: 'http://127.0.0.1:3000/local-issuer',
  audience: 'local-client',
  queueUrl: (name: string) => `http://127.0.0.1:3002/000000000000/${name}`,
};

const schedule = (expression: string, target: unknown, metadata?: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::Scheduler::Schedule',
  ...(metadata ? { Metadata: metadata } : {}),
  Properties: {
    ScheduleExpression: expression,
    FlexibleTimeWindow: { Mode: 'OFF' },
    State: 'ENABLED',
    Target: { Arn: target, RoleArn: { 'Fn::GetAtt': ['Role', 'Arn'] }, Input: '{"from":"schedule"}', RetryPolicy: { MaximumRetryAttempts: 2 } },
    ...extra,
  },
});

const template: CfnTemplate = {
  Resources: {
    Role: { Type: 'AWS::IAM::Role' },
    Dispatcher: { Type: 'AWS::Lambda::Function' },
    Due: { Type: 'AWS::SQS::Queue' },
    SyncSchedule: schedule('rate(5 minutes)', { 'Fn::GetAtt': ['Dispatcher', 'Arn'] }, { [LOCAL_PERIOD_VARIABLE_METADATA]: 'SYNC_PERIOD_SECONDS' }),
    QueueSchedule: schedule('rate(1 hour)', { 'Fn::GetAtt': ['Due', 'Arn'] }),
    Nightly: schedule('cron(0 3 * * ? *)', { 'Fn::GetAtt': ['Dispatcher', 'Arn'] }),
    Paused: schedule('rate(1 day)', { 'Fn::GetAtt': ['Dispatcher', 'Arn'] }, undefined, { State: 'DISABLED' }),
    ToBus: schedule('rate(1 day)', 'arn:aws:events:us-east-1:000000000000:event-bus/Bus'),
  },
};
const resolver = new TemplateResolver(template, names);

describe('the template\'s schedules, locally', () => {
  it('keeps the template\'s period unless the schedule\'s local variable sets one', () => {
    const period = (env: Record<string, string | undefined>) => schedulesOf(resolver, env).schedules.find((s) => s.logicalId === 'SyncSchedule')!.everyMs;
    expect(period({})).toBe(5 * 60_000);
    expect(period({ SYNC_PERIOD_SECONDS: '' })).toBe(5 * 60_000);
    expect(period({ SYNC_PERIOD_SECONDS: '20' })).toBe(20_000);
    expect(period({ SYNC_PERIOD_SECONDS: '5' })).toBe(5_000);
    // Only the schedule that names the variable is shortened.
    expect(schedulesOf(resolver, { SYNC_PERIOD_SECONDS: '20' }).schedules.find((s) => s.logicalId === 'QueueSchedule')!.everyMs).toBe(3_600_000);
    for (const bad of ['4', '0', '-20', '7.5', 'soon', '86401']) {
      expect(() => schedulesOf(resolver, { SYNC_PERIOD_SECONDS: bad }), bad).toThrow(/SYNC_PERIOD_SECONDS must be a whole number of seconds from 5 to 86400/);
    }
  });

  it('runs rate schedules with Lambda and SQS targets and reports cron, disabled and other targets', () => {
    const { schedules, notRun } = schedulesOf(resolver, {});
    expect(schedules.map((s) => [s.logicalId, s.functionId, s.queueArn])).toEqual([
      ['SyncSchedule', 'Dispatcher', undefined],
      ['QueueSchedule', '', 'arn:aws:sqs:us-east-1:000000000000:Due'],
    ]);
    expect(notRun).toEqual([
      'AWS::Scheduler::Schedule Nightly: cron(0 3 * * ? *): cron expressions are not run locally',
      'AWS::Scheduler::Schedule Paused: rate(1 day): disabled',
      'AWS::Scheduler::Schedule ToBus: rate(1 day): target arn:aws:events:us-east-1:000000000000:event-bus/Bus is not invoked locally (only Lambda functions and SQS queues are)',
    ]);
  });

  it('ticks at the local period, sends an SQS target its input, and lists the template\'s schedules', async () => {
    const invoked: unknown[] = [];
    const sent: Array<[string, string]> = [];
    const scheduler = new LocalScheduler({
      schedules: schedulesOf(resolver, { SYNC_PERIOD_SECONDS: '5' }).schedules,
      invoke: async (_, input) => void invoked.push(input),
      sendToQueue: async (queue, body) => void sent.push([queue, body]),
      deadLetter: async () => {},
      log: () => {},
    });
    expect(scheduler.list({}).map((s) => s.Name)).toEqual(['QueueSchedule', 'SyncSchedule']);
    await scheduler.runNow('QueueSchedule');
    expect(sent).toEqual([['arn:aws:sqs:us-east-1:000000000000:Due', '{"from":"schedule"}']]);
    scheduler.start();
    // One tick of the 5-second period: the dispatcher runs with the schedule's input.
    while (invoked.length === 0) await new Promise((resolve) => setTimeout(resolve, 250));
    await scheduler.stop();
    expect(invoked[0]).toEqual({ from: 'schedule' });
  });
});
