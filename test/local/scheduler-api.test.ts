// The local EventBridge Scheduler through the real @aws-sdk/client-scheduler: the API's shapes and errors,
// one-time and rate schedules running against a Lambda target and a real (local) SQS queue, retries and the
// dead-letter queue, and what it reports it cannot run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConflictException,
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { startLocalSqs, type LocalSqs } from '../../infra/local/sqs.ts';
import { LocalScheduler, planOf } from '../../infra/local/scheduler.ts';
import { startSchedulerApi, type SchedulerApi } from '../../infra/local/scheduler-api.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const lambdaArn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
const queueArn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;
const roleArn = 'arn:aws:iam::000000000000:role/scheduler';

let sqs: LocalSqs;
let sqsClient: SQSClient;
let scheduler: LocalScheduler;
let api: SchedulerApi;
let client: SchedulerClient;
/** What the Lambda target received, per function; a function named `Failing*` throws. */
const invocations = new Map<string, unknown[]>();
const logs: string[] = [];

beforeAll(async () => {
  sqs = await startLocalSqs({});
  for (const name of ['Targets', 'Parked']) sqs.createQueue(name);
  sqsClient = new SQSClient({ region: 'us-east-1', credentials, endpoint: sqs.endpoint, maxAttempts: 1 });
  const send = async (arn: string, body: string, attributes: Record<string, string>) => {
    const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
    const MessageAttributes = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]));
    await sqsClient.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl(arn.split(':').at(-1)!), MessageBody: body, MessageAttributes }));
  };
  scheduler = new LocalScheduler({
    schedules: [],
    groups: ['renewals'],
    invoke: async (functionId, input) => {
      invocations.set(functionId, [...(invocations.get(functionId) ?? []), input]);
      if (functionId.startsWith('Failing')) throw new Error(`${functionId} is broken`);
      return {};
    },
    sendToQueue: send,
    deadLetter: send,
    retryBaseMs: 5,
    log: (line) => void logs.push(line),
  });
  scheduler.start();
  api = await startSchedulerApi(scheduler);
  client = new SchedulerClient({ region: 'us-east-1', credentials, endpoint: api.endpoint, maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  await scheduler.stop();
  await api.close();
  sqsClient.destroy();
  await sqs.close();
});

/** at(...) a little after now, in UTC wall-clock form as Scheduler takes it. */
const atSoon = (ms: number) => `at(${new Date(Date.now() + ms).toISOString().slice(0, 19)})`;

const oneTime = (name: string, target: string, extra: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput => ({
  Name: name,
  ScheduleExpression: atSoon(300),
  FlexibleTimeWindow: { Mode: 'OFF' },
  ActionAfterCompletion: 'DELETE',
  Target: { Arn: target, RoleArn: roleArn, Input: JSON.stringify({ name }) },
  ...extra,
});

async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const gone = (name: string, groupName?: string) =>
  until(async () => {
    try {
      await client.send(new GetScheduleCommand({ Name: name, GroupName: groupName }));
      return undefined;
    } catch (error) {
      return error instanceof ResourceNotFoundException ? true : undefined;
    }
  });

async function receiveAll(queue: string, count: number) {
  const got: Message[] = [];
  while (got.length < count) {
    const { Messages } = await sqsClient.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }));
    got.push(...(Messages ?? []));
  }
  return got;
}

describe('local EventBridge Scheduler API', () => {
  it('creates, reads, updates, lists and deletes schedules, with the SDK\'s error classes', async () => {
    const created = await client.send(new CreateScheduleCommand({
      Name: 'renew-channel-1',
      GroupName: 'renewals',
      ScheduleExpression: 'at(2099-06-01T09:00:00)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: lambdaArn('Renew'), RoleArn: roleArn, Input: '{"channel":1}', RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 } },
    }));
    expect(created.ScheduleArn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/renewals/renew-channel-1');
    const read = await client.send(new GetScheduleCommand({ Name: 'renew-channel-1', GroupName: 'renewals' }));
    expect(read).toMatchObject({ Name: 'renew-channel-1', GroupName: 'renewals', State: 'ENABLED', ScheduleExpressionTimezone: 'Europe/Berlin', ActionAfterCompletion: 'DELETE', Target: { Input: '{"channel":1}', RetryPolicy: { MaximumRetryAttempts: 3 } } });
    expect(read.CreationDate).toBeInstanceOf(Date);

    // The same name twice is a conflict; in another group it is another schedule; an unknown group is not found.
    const again = await client.send(new CreateScheduleCommand(oneTime('renew-channel-1', lambdaArn('Renew'), { GroupName: 'renewals', ScheduleExpression: 'at(2099-06-01T09:00:00)' }))).catch((e) => e);
    expect(again).toBeInstanceOf(ConflictException);
    expect(again.$metadata.httpStatusCode).toBe(409);
    await client.send(new CreateScheduleCommand(oneTime('renew-channel-1', lambdaArn('Renew'), { ScheduleExpression: 'at(2099-06-01T09:00:00)' })));
    await expect(client.send(new CreateScheduleCommand(oneTime('x', lambdaArn('Renew'), { GroupName: 'nope' })))).rejects.toBeInstanceOf(ResourceNotFoundException);

    await client.send(new UpdateScheduleCommand({ Name: 'renew-channel-1', GroupName: 'renewals', ScheduleExpression: 'rate(1 day)', FlexibleTimeWindow: { Mode: 'OFF' }, State: 'DISABLED', Target: { Arn: lambdaArn('Renew'), RoleArn: roleArn } }));
    expect(await client.send(new GetScheduleCommand({ Name: 'renew-channel-1', GroupName: 'renewals' }))).toMatchObject({ ScheduleExpression: 'rate(1 day)', State: 'DISABLED' });
    await expect(client.send(new UpdateScheduleCommand({ Name: 'never-made', ScheduleExpression: 'rate(1 day)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: lambdaArn('Renew'), RoleArn: roleArn } }))).rejects.toBeInstanceOf(ResourceNotFoundException);

    const listed = await client.send(new ListSchedulesCommand({ GroupName: 'renewals' }));
    expect(listed.Schedules?.map((s) => [s.GroupName, s.Name, s.State, s.Target?.Arn])).toEqual([['renewals', 'renew-channel-1', 'DISABLED', lambdaArn('Renew')]]);
    const paged = await client.send(new ListSchedulesCommand({ NamePrefix: 'renew-', MaxResults: 1 }));
    expect(paged.Schedules).toHaveLength(1);
    const next = await client.send(new ListSchedulesCommand({ NamePrefix: 'renew-', MaxResults: 1, NextToken: paged.NextToken }));
    expect(next.Schedules).toHaveLength(1);
    expect(next.NextToken).toBeUndefined();
    expect(next.Schedules![0]!.GroupName).not.toBe(paged.Schedules![0]!.GroupName);

    await client.send(new DeleteScheduleCommand({ Name: 'renew-channel-1', GroupName: 'renewals' }));
    await client.send(new DeleteScheduleCommand({ Name: 'renew-channel-1' }));
    await expect(client.send(new DeleteScheduleCommand({ Name: 'renew-channel-1', GroupName: 'renewals' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new GetScheduleCommand({ Name: 'renew-channel-1' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers bad input with a ValidationException naming the field, and keeps nothing', async () => {
    const bad: Array<[Partial<CreateScheduleCommandInput>, RegExp]> = [
      [{ ScheduleExpression: 'every 5 minutes' }, /Invalid Schedule Expression/],
      [{ ScheduleExpression: 'at(2030-02-30T09:00:00)' }, /not a date/],
      [{ ScheduleExpressionTimezone: 'Mars/Olympus' }, /ScheduleExpressionTimezone/],
      [{ FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }, /MaximumWindowInMinutes/],
      [{ Target: { Arn: lambdaArn('Renew'), RoleArn: roleArn, RetryPolicy: { MaximumRetryAttempts: 186 } } }, /MaximumRetryAttempts/],
      [{ Target: { Arn: lambdaArn('Renew'), RoleArn: undefined as unknown as string } }, /RoleArn/],
      [{ Name: 'has space' }, /Name/],
      [{ State: 'PAUSED' as 'ENABLED' }, /State/],
    ];
    for (const [change, message] of bad) {
      const error = await client.send(new CreateScheduleCommand({ ...oneTime('validated', lambdaArn('Renew')), ...change })).catch((e) => e);
      expect(error, JSON.stringify(change)).toBeInstanceOf(ValidationException);
      expect(error.message).toMatch(message);
    }
    expect((await client.send(new ListSchedulesCommand({ NamePrefix: 'validated' }))).Schedules).toEqual([]);
    await expect(client.send(new DeleteScheduleGroupCommand({ Name: 'default' }))).rejects.toBeInstanceOf(ValidationException);
  });

  it('makes one schedule of a create retried with the same ClientToken, even after it ran and was deleted', async () => {
    const input = oneTime('once-by-token', lambdaArn('Tokened'), { ClientToken: 'booking-42-reminder-v1' });
    const [first, second] = await Promise.all([client.send(new CreateScheduleCommand(input)), client.send(new CreateScheduleCommand(input))]);
    expect(second.ScheduleArn).toBe(first.ScheduleArn);
    await gone('once-by-token');
    const retried = await client.send(new CreateScheduleCommand(input));
    expect(retried.ScheduleArn).toBe(first.ScheduleArn);
    await expect(client.send(new GetScheduleCommand({ Name: 'once-by-token' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(invocations.get('Tokened')).toEqual([{ name: 'once-by-token' }]);
    // Another token for the same name is another request: a conflict while it exists, a new schedule after.
    await client.send(new CreateScheduleCommand({ ...input, ClientToken: 'booking-42-reminder-v2', ScheduleExpression: 'at(2099-01-01T00:00:00)' }));
    await expect(client.send(new CreateScheduleCommand({ ...input, ClientToken: 'booking-42-reminder-v3' }))).rejects.toBeInstanceOf(ConflictException);
    await client.send(new DeleteScheduleCommand({ Name: 'once-by-token' }));
  });

  it('fires a one-time schedule once, in its time zone, with the context attributes, and deletes it after (DELETE)', async () => {
    // Wall-clock now in Tokyo (no DST): the schedule is due in Tokyo's terms, not UTC's.
    const tokyo = new Date(Date.now() + 9 * 3_600_000 + 300).toISOString().slice(0, 19);
    await client.send(new CreateScheduleCommand({
      ...oneTime('one-time-lambda', lambdaArn('Reminder')),
      ScheduleExpression: `at(${tokyo})`,
      ScheduleExpressionTimezone: 'Asia/Tokyo',
      Target: { Arn: lambdaArn('Reminder'), RoleArn: roleArn, Input: '{"schedule":"<aws.scheduler.schedule-arn>","attempt":"<aws.scheduler.attempt-number>"}' },
    }));
    await client.send(new CreateScheduleCommand({ ...oneTime('one-time-kept', lambdaArn('Kept')), ActionAfterCompletion: 'NONE' }));
    await gone('one-time-lambda');
    expect(invocations.get('Reminder')).toEqual([{ schedule: 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/one-time-lambda', attempt: '1' }]);
    // NONE keeps the schedule after its one run.
    await until(async () => (invocations.get('Kept')?.length ? true : undefined));
    expect((await client.send(new GetScheduleCommand({ Name: 'one-time-kept' }))).ActionAfterCompletion).toBe('NONE');
    expect(invocations.get('Kept')).toHaveLength(1);
    await client.send(new DeleteScheduleCommand({ Name: 'one-time-kept' }));
  });

  it('sends to an SQS target, and parks a failing target\'s input in its DLQ after the retries', async () => {
    await client.send(new CreateScheduleCommand({ ...oneTime('to-queue', queueArn('Targets')), Target: { Arn: queueArn('Targets'), RoleArn: roleArn, Input: '{"sync":"due"}' } }));
    const [delivered] = await receiveAll('Targets', 1);
    expect(delivered!.Body).toBe('{"sync":"due"}');

    await client.send(new CreateScheduleCommand({
      ...oneTime('failing-target', lambdaArn('FailingRenewal')),
      Target: { Arn: lambdaArn('FailingRenewal'), RoleArn: roleArn, Input: '{"channel":"c-9"}', RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 }, DeadLetterConfig: { Arn: queueArn('Parked') } },
    }));
    const [parked] = await receiveAll('Parked', 1);
    expect(invocations.get('FailingRenewal')).toHaveLength(3);
    expect(parked!.Body).toBe('{"channel":"c-9"}');
    const attributes = Object.fromEntries(Object.entries(parked!.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]));
    expect(attributes).toMatchObject({
      ERROR_CODE: 'Error',
      ERROR_MESSAGE: 'FailingRenewal is broken',
      RETRY_ATTEMPTS: '2',
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
      SCHEDULE_ARN: 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/failing-target',
      TARGET_ARN: lambdaArn('FailingRenewal'),
    });
    await gone('failing-target');
  });

  it('holds but reports what it cannot run: cron expressions and other targets', async () => {
    await client.send(new CreateScheduleCommand({ ...oneTime('nightly-cron', lambdaArn('Nightly')), ScheduleExpression: 'cron(0 3 * * ? *)', ActionAfterCompletion: 'NONE' }));
    await client.send(new CreateScheduleCommand(oneTime('to-a-state-machine', 'arn:aws:states:us-east-1:000000000000:stateMachine:Flow', { ScheduleExpression: 'rate(5 minutes)' })));
    expect(scheduler.notRun()).toEqual([
      'schedule default/nightly-cron: cron(0 3 * * ? *): cron expressions are not run locally',
      'schedule default/to-a-state-machine: target arn:aws:states:us-east-1:000000000000:stateMachine:Flow is not invoked locally (only Lambda functions and SQS queues are)',
    ]);
    expect(logs.filter((line) => line.includes('nightly-cron') || line.includes('to-a-state-machine'))).toHaveLength(2);
    await client.send(new DeleteScheduleCommand({ Name: 'nightly-cron' }));
    await client.send(new DeleteScheduleCommand({ Name: 'to-a-state-machine' }));
    expect(scheduler.notRun()).toEqual([]);
  });

  it('keeps schedule groups: create, conflict, and delete with their schedules', async () => {
    await client.send(new CreateScheduleGroupCommand({ Name: 'holds' }));
    await expect(client.send(new CreateScheduleGroupCommand({ Name: 'holds' }))).rejects.toBeInstanceOf(ConflictException);
    await client.send(new CreateScheduleCommand(oneTime('hold-1', lambdaArn('Hold'), { GroupName: 'holds', ScheduleExpression: 'at(2099-01-01T00:00:00)' })));
    await client.send(new DeleteScheduleGroupCommand({ Name: 'holds' }));
    await expect(client.send(new GetScheduleCommand({ Name: 'hold-1', GroupName: 'holds' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('keeps what the API made across a restart, and a one-time schedule due meanwhile fires when it starts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scheduler-state-'));
    const stateFile = join(dir, 'scheduler.json');
    const fired: unknown[] = [];
    const make = () => new LocalScheduler({ schedules: [], invoke: async (_, input) => void fired.push(input), deadLetter: async () => {}, stateFile, log: () => {} });
    const first = make();
    first.createGroup('renewals');
    first.create({ Name: 'renew-later', GroupName: 'renewals', ScheduleExpression: 'at(2099-01-01T00:00:00)', State: 'ENABLED', FlexibleTimeWindow: { Mode: 'OFF' }, ActionAfterCompletion: 'DELETE', Target: { Arn: lambdaArn('Renew'), RoleArn: roleArn } }, 'token-1');
    // Made while stopped, due while stopped: the restarted scheduler runs it.
    first.create({ Name: 'overdue', GroupName: 'default', ScheduleExpression: atSoon(-60_000), State: 'ENABLED', FlexibleTimeWindow: { Mode: 'OFF' }, ActionAfterCompletion: 'DELETE', Target: { Arn: lambdaArn('Renew'), RoleArn: roleArn, Input: '{"overdue":true}' } });
    await first.stop();
    const second = make();
    expect(second.get('renewals', 'renew-later')).toMatchObject({ ScheduleExpression: 'at(2099-01-01T00:00:00)' });
    expect(second.create({ Name: 'renew-later', GroupName: 'renewals', ScheduleExpression: 'rate(1 day)', State: 'ENABLED', FlexibleTimeWindow: { Mode: 'OFF' }, ActionAfterCompletion: 'NONE', Target: { Arn: lambdaArn('Renew'), RoleArn: roleArn } }, 'token-1').ScheduleArn).toContain('renewals/renew-later');
    second.start();
    await until(async () => (fired.length ? true : undefined));
    await second.stop();
    expect(fired).toEqual([{ overdue: true }]);
    const third = make();
    expect(third.list({}).map((s) => s.Name)).toEqual(['renew-later']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads at() in its zone, the earlier instant of a repeated hour', () => {
    expect(planOf('at(2026-12-01T08:00:00)', 'Europe/Berlin')).toEqual({ kind: 'at', atMs: Date.parse('2026-12-01T07:00:00Z') });
    expect(planOf('at(2026-07-01T08:00:00)', 'Europe/Berlin')).toEqual({ kind: 'at', atMs: Date.parse('2026-07-01T06:00:00Z') });
    expect(planOf('at(2026-10-25T02:30:00)', 'Europe/Berlin')).toEqual({ kind: 'at', atMs: Date.parse('2026-10-25T00:30:00Z') });
    expect(planOf('at(2026-12-01T08:00:00)')).toEqual({ kind: 'at', atMs: Date.parse('2026-12-01T08:00:00Z') });
    expect(planOf('rate(1 minute)')).toEqual({ kind: 'rate', everyMs: 60_000 });
  });
});
