// .waitForTaskToken on the local Step Functions: the execution really waits until SendTaskSuccess/Failure
// arrives through the real SFN client, or the task times out (TimeoutSecondsPath) or misses its heartbeat.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SFNClient, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { startAwsJsonEndpoint, type AwsJsonEndpoint } from '../../infra/local/aws-json-endpoint.ts';
import { LocalStepFunctions } from '../../infra/local/step-functions.ts';
import { TemplateResolver } from '../../infra/local/template-resolver.ts';

const callback = {
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
  Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:Pay', Payload: { 'order.$': '$.order', 'taskToken.$': '$$.Task.Token' } },
  TimeoutSecondsPath: '$.window',
  ResultPath: '$.paid',
  Catch: [
    { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' },
    { ErrorEquals: ['States.HeartbeatTimeout'], ResultPath: '$.error', Next: 'NoHeartbeat' },
    { ErrorEquals: ['PaymentFailed'], ResultPath: '$.error', Next: 'Declined' },
  ],
  Next: 'Paid',
};
const definition = (extra: Record<string, unknown> = {}) => ({
  StartAt: 'Pay',
  States: {
    Pay: { ...callback, ...extra },
    Paid: { Type: 'Succeed' },
    Declined: { Type: 'Succeed' },
    TimedOut: { Type: 'Succeed' },
    NoHeartbeat: { Type: 'Succeed' },
  },
});
const template = {
  Resources: {
    Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { Definition: definition() } },
    Beating: { Type: 'AWS::StepFunctions::StateMachine', Properties: { Definition: definition({ HeartbeatSeconds: 1 }) } },
  },
} as never;

const tokens: Array<{ order: string; taskToken: string }> = [];
let sfn: LocalStepFunctions;
let endpoint: AwsJsonEndpoint;
let client: SFNClient;
const tokenOf = async (order: string) => {
  await expect.poll(() => tokens.find((t) => t.order === order)).toBeDefined();
  return tokens.find((t) => t.order === order)!.taskToken;
};

beforeAll(async () => {
  const names = { httpApiUrl: '', webSocketUrl: '', webSocketManagementUrl: '', issuer: '', audience: '', queueUrl: () => '' };
  // The "Lambda" the task invokes: it stores the token, as the payment step stores it with the attempt.
  sfn = new LocalStepFunctions(new TemplateResolver(template, names), async (_, event) => void tokens.push(event as never), () => {});
  endpoint = await startAwsJsonEndpoint({
    'AWSStepFunctions.SendTaskSuccess': (input) => sfn.sendTaskSuccess(input.taskToken, input.output),
    'AWSStepFunctions.SendTaskFailure': (input) => sfn.sendTaskFailure(input.taskToken, input.error, input.cause),
    'AWSStepFunctions.SendTaskHeartbeat': (input) => sfn.sendTaskHeartbeat(input.taskToken),
  });
  client = new SFNClient({ endpoint: endpoint.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await endpoint?.close();
});

describe('.waitForTaskToken on the local Step Functions', () => {
  it('waits for SendTaskSuccess and continues with its output', async () => {
    const execution = sfn.start('Machine', { order: 'o-1', window: 60 });
    const token = await tokenOf('o-1');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(execution.status).toBe('RUNNING');
    await client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ paymentId: 'pi_1' }) }));
    await expect.poll(() => execution.status).toBe('SUCCEEDED');
    expect(execution.output).toEqual({ order: 'o-1', window: 60, paid: { paymentId: 'pi_1' } });
    // A token settles once.
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('routes SendTaskFailure by its error name, with its cause', async () => {
    const execution = sfn.start('Machine', { order: 'o-2', window: 60 });
    await client.send(new SendTaskFailureCommand({ taskToken: await tokenOf('o-2'), error: 'PaymentFailed', cause: '{"code":"card_declined"}' }));
    await expect.poll(() => execution.status).toBe('SUCCEEDED');
    expect(execution.output).toMatchObject({ error: { Error: 'PaymentFailed', Cause: '{"code":"card_declined"}' } });
  });

  it('times out after TimeoutSecondsPath (read from the state input) with States.Timeout; the token then answers TaskTimedOut', async () => {
    const started = Date.now();
    const execution = sfn.start('Machine', { order: 'o-3', window: 1 });
    const token = await tokenOf('o-3');
    await expect.poll(() => execution.status, { timeout: 5000 }).toBe('SUCCEEDED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(execution.output).toMatchObject({ error: { Error: 'States.Timeout' } });
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('keeps a task alive while heartbeats arrive, and fails it with States.HeartbeatTimeout when they stop', async () => {
    const execution = sfn.start('Beating', { order: 'o-4', window: 60 });
    const token = await tokenOf('o-4');
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 600));
      await client.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    }
    expect(execution.status).toBe('RUNNING');
    await expect.poll(() => execution.status, { timeout: 5000 }).toBe('SUCCEEDED');
    expect(execution.output).toMatchObject({ error: { Error: 'States.HeartbeatTimeout' } });
  });

  it('answers a token it never issued with InvalidToken', async () => {
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: 'nope', output: '{}' }))).rejects.toMatchObject({ name: 'InvalidToken' });
  });
});
