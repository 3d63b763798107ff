// The calendar sync construct as synthesized: the schedule's period from the CDK context (whole minutes, at
// least one), its retry policy and dead-letter queue, the dispatcher's exact grants, and the metadata by which
// the local runtime shortens the period (SYNC_PERIOD_SECONDS) for the schedule and the worker alike.
import { describe, expect, it } from 'vitest';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Tables } from '../../infra/booking-stack.ts';
import { CalendarSync, syncScheduleMinutes } from '../../infra/constructs/calendar-sync.ts';
import { ServiceFunction } from '../../infra/constructs/service-function.ts';
import { localPeriodEnvironment, schedulesOf } from '../../infra/local/scheduler.ts';
import { TemplateResolver } from '../../infra/local/template-resolver.ts';
import type { CfnTemplate } from '../../infra/synth.ts';

function synth(context: Record<string, unknown> = {}): CfnTemplate {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new Stack(app, 'SyncOnly');
  const table = (id: string) => {
    const t = new Table(stack, id, { partitionKey: { name: 'pk', type: AttributeType.STRING }, sortKey: { name: 'sk', type: AttributeType.STRING }, billingMode: BillingMode.PAY_PER_REQUEST });
    t.addGlobalSecondaryIndex({ indexName: 'byOwner', partitionKey: { name: 'ownerKey', type: AttributeType.STRING }, sortKey: { name: 'ownerSort', type: AttributeType.STRING } });
    return t;
  };
  const tables = { state: table('StateTable'), events: table('EventsTable') } as unknown as Tables;
  const syncQueue = new Queue(stack, 'SyncQueue', { visibilityTimeout: Duration.minutes(12) });
  const syncWorker = new ServiceFunction(stack, 'SyncWorkerFunction', { entry: 'sync/calendar-sync' });
  const periodSeconds = Number(app.node.tryGetContext('syncPeriodSeconds') ?? 300);
  new CalendarSync(stack, 'CalendarSync', { tables, syncQueue, syncWorker, syncPeriodSeconds: periodSeconds, deadLetterQueue: (id) => new Queue(stack, id) });
  return app.synth().getStackByName('SyncOnly').template as CfnTemplate;
}

const names = {
  httpApiUrl: 'http://127.0.0.1:3000',
  webSocketUrl: 'ws://127.0.0.1:3001',
  webSocketManagementUrl: 'http://127.0.0.1:3001',
  issuer: 'http://127.0.0.1:3000/local-issuer',
  audience: 'local-client',
  queueUrl: (name: string) => `http://127.0.0.1:3002/000000000000/${name}`,
};
const ofType = (template: CfnTemplate, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const refId = (value: any): string | undefined => value?.Ref ?? value?.['Fn::GetAtt']?.[0];

describe('the calendar sync schedule', () => {
  it('runs every syncPeriodSeconds, rounded up to whole minutes, at least one', () => {
    expect([1, 59, 60, 61, 90, 300, 301, 3600].map(syncScheduleMinutes)).toEqual([1, 1, 1, 2, 2, 5, 6, 60]);
    expect(() => syncScheduleMinutes(0)).toThrow(/positive/);
    expect(() => syncScheduleMinutes(Number.NaN)).toThrow(/positive/);
    const expression = (context?: Record<string, unknown>) => ofType(synth(context), 'AWS::Scheduler::Schedule')[0]![1].Properties!.ScheduleExpression;
    expect(expression()).toBe('rate(5 minutes)');
    expect(expression({ syncPeriodSeconds: 20 })).toBe('rate(1 minute)');
    expect(expression({ syncPeriodSeconds: 90 })).toBe('rate(2 minutes)');
  });

  it('invokes the dispatcher with retries bounded by one period and a dead-letter queue', () => {
    const template = synth();
    const [, schedule] = ofType(template, 'AWS::Scheduler::Schedule')[0]!;
    const target = schedule.Properties!.Target;
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 });
    expect(refId(target.DeadLetterConfig.Arn)).toMatch(/^CalendarSyncDispatchDLQ/);
    const [dispatcherId, dispatcher] = ofType(template, 'AWS::Lambda::Function').find(([, r]) => r.Metadata?.['BookingEngine:Entry'] === 'functions/scheduled/dispatch-calendar-sync.ts')!;
    expect(refId(target.Arn)).toBe(dispatcherId);
    expect(dispatcher.Properties!.Environment.Variables).toMatchObject({ CALENDAR_SYNC_QUEUE_URL: { Ref: expect.stringMatching(/^SyncQueue/) }, STATE_TABLE: { Ref: expect.stringMatching(/^StateTable/) } });
    expect(dispatcher.Properties!.Environment.Variables.EVENTS_TABLE).toBeUndefined();
  });

  it('grants the dispatcher only what it does: query and move due entries of the state table, send to the sync queue', () => {
    const template = synth();
    const [dispatcherId, dispatcher] = ofType(template, 'AWS::Lambda::Function').find(([, r]) => r.Metadata?.['BookingEngine:Entry'] === 'functions/scheduled/dispatch-calendar-sync.ts')!;
    const roleId = refId(dispatcher.Properties!.Role);
    const statements = ofType(template, 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties!.Roles.some((role: any) => refId(role) === roleId))
      .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: any }>);
    const actions = statements.flatMap((s) => [s.Action].flat()).filter((a) => !a.startsWith('xray:')).sort();
    expect(actions).toEqual(['dynamodb:Query', 'dynamodb:UpdateItem', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'].sort());
    const tableStatement = statements.find((s) => [s.Action].flat().includes('dynamodb:UpdateItem'))!;
    expect(JSON.stringify(tableStatement.Resource)).toMatch(/StateTable/);
    expect(JSON.stringify(tableStatement.Resource)).not.toMatch(/EventsTable/);
    expect(dispatcherId).toBeDefined();
  });

  it('lets the local runtime shorten the period of the schedule and of the worker alike, and only those', () => {
    const resolver = new TemplateResolver(synth(), names);
    const [schedule] = schedulesOf(resolver, { SYNC_PERIOD_SECONDS: '20' }).schedules;
    expect(schedule).toMatchObject({ everyMs: 20_000, functionId: expect.stringMatching(/^CalendarSyncDispatchFunction/), retries: 2, deadLetterQueueArn: expect.stringMatching(/CalendarSyncDispatchDLQ/) });
    expect(schedulesOf(resolver, {}).schedules[0]!.everyMs).toBe(300_000);
    const overrides = localPeriodEnvironment(resolver, { SYNC_PERIOD_SECONDS: '20' });
    expect([...overrides]).toEqual([[expect.stringMatching(/^SyncWorkerFunction/), { CALENDAR_SYNC_PERIOD_SECONDS: '20' }]]);
    expect(localPeriodEnvironment(resolver, {}).size).toBe(0);
    expect(() => localPeriodEnvironment(resolver, { SYNC_PERIOD_SECONDS: '2' })).toThrow(/from 5 to 86400/);
  });
});
