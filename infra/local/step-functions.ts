// Runs the template's state machines with aws-local-stepfunctions. Their ASL comes from the template, resolved;
// every Task that invokes a Lambda function is bound to the same handler module the cloud runs.
//
// The library has no .waitForTaskToken, so it is played around it: `$$.Task.Token` in the context mints a
// token per task run; the Task's handler invokes the Lambda with it and then waits for SendTaskSuccess,
// SendTaskFailure or SendTaskHeartbeat (the local SFN endpoint calls `sendTask*` here), or for the task's
// timeout (the library's own States.Timeout) or heartbeat timeout (States.HeartbeatTimeout).
import { randomBytes, randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import { logicalIdOfArn, LOCAL_ACCOUNT, LOCAL_REGION, type TemplateResolver } from './template-resolver.ts';

type Invoke = (functionId: string, event: unknown) => Promise<unknown>;
type JsonValue = any;
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export type ExecutionRecord = {
  executionArn: string;
  stateMachine: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  input: unknown;
  output?: unknown;
  error?: string;
  startedAt: string;
  stoppedAt?: string;
};

type Machine = { machine: StateMachine; taskHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> };

/** A task paused on its token: what SendTask* settles. */
type PausedTask = {
  executionArn: string;
  state: 'minted' | 'waiting' | 'done';
  /** After this instant the task has timed out and its token answers TaskTimedOut. */
  deadline?: number;
  heartbeatSeconds?: number;
  heartbeatTimer?: NodeJS.Timeout;
  resolve?: (output: JsonValue) => void;
  reject?: (error: Error) => void;
};

/** An error as the SFN API reports it (its name is the awsJson `__type`). */
export class TaskTokenError extends Error {
  constructor(name: 'TaskDoesNotExist' | 'InvalidToken' | 'TaskTimedOut' | 'InvalidOutput', message: string) {
    super(message);
    this.name = name;
  }
}

// Fields the local runtime adds to a callback task's Parameters, and strips before invoking the Lambda.
const LOCAL_TIMEOUT = '__localTimeoutSeconds';
const LOCAL_HEARTBEAT = '__localHeartbeatSeconds';

export class LocalStepFunctions {
  private readonly machines = new Map<string, Machine>();
  private readonly running = new Set<Promise<unknown>>();
  /** Aborts each running execution, by execution ARN (to stop the stack without waiting for payments). */
  private readonly aborts = new Map<string, () => void>();
  /** Executions paused on a task token: nothing happens to them until someone sends it (or time passes). */
  private readonly pausedExecutions = new Map<string, number>();
  readonly executions: ExecutionRecord[] = [];
  private readonly log: (message: string) => void;
  private readonly tokens = new Map<string, PausedTask>();

  constructor(resolver: TemplateResolver, invoke: Invoke, log: (message: string) => void) {
    this.log = log;
    for (const [logicalId, resource] of resolver.ofType('AWS::StepFunctions::StateMachine')) {
      const properties = resource.Properties ?? {};
      const text = resolver.resolve(properties.DefinitionString ?? JSON.stringify(properties.Definition));
      const definition = JSON.parse(text) as Record<string, any>;
      // Node timers hold at most 2^31 ms (24.8 days); a longer execution timeout would fire at once.
      if (definition.TimeoutSeconds > MAX_TIMER_SECONDS) definition.TimeoutSeconds = MAX_TIMER_SECONDS;
      // Built once: the constructor validates the ASL against its JSON Schema, which costs far more than a run.
      prepareCallbackTasks(definition.States);
      const machine = new StateMachine(definition as never, { validationOptions: { checkPaths: true, checkArn: false } });
      this.machines.set(logicalId, { machine, taskHandlers: bindTasks(definition, invoke, (input, run) => this.pause(input, run)) });
    }
  }

  has(stateMachineId: string): boolean {
    return this.machines.has(stateMachineId);
  }

  /** StartExecution: returns at once; the execution runs on in this process. */
  start(stateMachineId: string, input: unknown): ExecutionRecord {
    const machine = this.machines.get(stateMachineId);
    if (!machine) throw new Error(`no local state machine ${stateMachineId}`);
    const name = randomUUID();
    const record: ExecutionRecord = {
      executionArn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${stateMachineId}:${name}`,
      stateMachine: stateMachineId,
      status: 'RUNNING',
      input,
      startedAt: new Date().toISOString(),
    };
    this.executions.push(record);
    if (this.executions.length > 1000) this.executions.shift();
    const tokens = this.tokens;
    // Read when a state's Parameters name `$$.Task.Token`: one token per task run, claimed by its handler.
    const task = {
      get Token() {
        const minted = [...tokens].find(([, t]) => t.executionArn === record.executionArn && t.state === 'minted');
        if (minted) return minted[0];
        const token = randomBytes(48).toString('base64url');
        tokens.set(token, { executionArn: record.executionArn, state: 'minted' });
        return token;
      },
    };
    const execution = machine.machine.run(input as JsonValue, {
      overrides: { taskResourceLocalHandlers: machine.taskHandlers },
      context: { Execution: { Id: record.executionArn, Name: name, StartTime: record.startedAt, Input: input }, Task: task } as never,
    });
    const done = execution.result.then(
      (output) => Object.assign(record, { status: 'SUCCEEDED', output, stoppedAt: new Date().toISOString() }),
      (error: Error) => {
        Object.assign(record, { status: 'FAILED', error: error.message, stoppedAt: new Date().toISOString() });
        this.log(`execution ${name} of ${stateMachineId} failed: ${error.message}`);
      },
    );
    this.running.add(done);
    this.aborts.set(record.executionArn, () => execution.abort());
    void done.finally(() => {
      this.running.delete(done);
      this.aborts.delete(record.executionArn);
      for (const [token, paused] of this.tokens) if (paused.executionArn === record.executionArn) this.forget(token);
    });
    return record;
  }

  /**
   * A callback task's run: the token its Parameters carry is claimed, the Lambda invoked with it, and the run
   * waits for the token to be settled. Heartbeat and timeout deadlines count from the task's start.
   */
  private async pause(input: Record<string, JsonValue>, invokeLambda: (payload: JsonValue) => Promise<JsonValue>): Promise<JsonValue> {
    const { [LOCAL_TIMEOUT]: timeoutSeconds, [LOCAL_HEARTBEAT]: heartbeatSeconds, ...parameters } = input;
    const token = findToken(parameters, (candidate) => this.tokens.get(candidate)?.state === 'minted');
    if (!token) throw Object.assign(new Error('a .waitForTaskToken task must pass $$.Task.Token to its resource'), { name: 'States.Runtime' });
    const paused = this.tokens.get(token)!;
    const settled = new Promise<JsonValue>((resolve, reject) => Object.assign(paused, { state: 'waiting', resolve, reject }));
    // Settled maybe while the Lambda still runs (a heartbeat timeout, a quick webhook): awaited below, not lost.
    settled.catch(() => {});
    if (typeof timeoutSeconds === 'number') paused.deadline = Date.now() + timeoutSeconds * 1000;
    if (typeof heartbeatSeconds === 'number') {
      paused.heartbeatSeconds = heartbeatSeconds;
      this.beat(token);
    }
    // The library's own timer raises States.Timeout at the deadline; this one only retires the token.
    const retire = paused.deadline ? setTimeout(() => this.forget(token), paused.deadline - Date.now() + 100) : undefined;
    const arn = paused.executionArn;
    try {
      await invokeLambda(parameters);
      this.pausedExecutions.set(arn, (this.pausedExecutions.get(arn) ?? 0) + 1);
      try {
        return await settled;
      } finally {
        const left = (this.pausedExecutions.get(arn) ?? 1) - 1;
        if (left > 0) this.pausedExecutions.set(arn, left);
        else this.pausedExecutions.delete(arn);
      }
    } finally {
      clearTimeout(retire);
      this.forget(token);
    }
  }

  private beat(token: string) {
    const paused = this.tokens.get(token)!;
    clearTimeout(paused.heartbeatTimer);
    paused.heartbeatTimer = setTimeout(() => {
      paused.reject?.(Object.assign(new Error('the task sent no heartbeat in time'), { name: 'States.HeartbeatTimeout' }));
      this.forget(token);
    }, paused.heartbeatSeconds! * 1000);
  }

  private forget(token: string) {
    const paused = this.tokens.get(token);
    if (!paused) return;
    clearTimeout(paused.heartbeatTimer);
    paused.state = 'done';
    this.tokens.delete(token);
  }

  private waiting(token: string): PausedTask {
    const paused = this.tokens.get(token);
    if (!paused) throw new TaskTokenError(token.length < 32 ? 'InvalidToken' : 'TaskTimedOut', 'Task Timed Out');
    if (paused.deadline !== undefined && Date.now() >= paused.deadline) throw new TaskTokenError('TaskTimedOut', 'Task Timed Out');
    if (paused.state !== 'waiting') throw new TaskTokenError('TaskDoesNotExist', 'the task is not waiting for its token');
    return paused;
  }

  /** SendTaskSuccess: the paused task ends with `output` (a JSON document, as the API takes it). */
  sendTaskSuccess(token: string, output: string): void {
    const paused = this.waiting(token);
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(output);
    } catch {
      throw new TaskTokenError('InvalidOutput', 'output is not a JSON document');
    }
    paused.resolve!(parsed);
    this.forget(token);
  }

  /** SendTaskFailure: the paused task fails with `error`, which Retry and Catch match; `cause` is its Cause. */
  sendTaskFailure(token: string, error = 'States.TaskFailed', cause = ''): void {
    const paused = this.waiting(token);
    paused.reject!(Object.assign(new Error(cause), { name: error }));
    this.forget(token);
  }

  sendTaskHeartbeat(token: string): void {
    const paused = this.waiting(token);
    if (paused.heartbeatSeconds !== undefined) this.beat(token);
  }

  /**
   * Resolves once every execution has either ended or paused on a task token: what is left then waits for
   * someone outside (a webhook, a retry) or for its timeout, and would keep a test or a shutdown waiting.
   */
  async drained(): Promise<void> {
    while (this.running.size > this.pausedExecutions.size) {
      await Promise.race([Promise.allSettled([...this.running]), new Promise((resolve) => setTimeout(resolve, 25))]);
    }
  }

  /** Stops every execution still running (paused ones included), as StopExecution would, and waits for them. */
  async stopAll(): Promise<void> {
    for (const abort of this.aborts.values()) abort();
    await Promise.allSettled([...this.running]);
  }
}

type Pause = (input: Record<string, JsonValue>, invokeLambda: (payload: JsonValue) => Promise<JsonValue>) => Promise<JsonValue>;

const WAIT_FOR_TOKEN = '.waitForTaskToken';

/**
 * The library evaluates TimeoutSecondsPath against the task's Parameters, not its input as Step Functions does,
 * and ignores heartbeats. Each callback task's Parameters therefore also carry the two durations, resolved
 * against the input as AWS would, and its TimeoutSecondsPath reads the copy.
 */
function prepareCallbackTasks(states: Record<string, any>) {
  for (const state of Object.values(states)) {
    if (state.Type === 'Task' && String(state.Resource).endsWith(WAIT_FOR_TOKEN)) {
      state.Parameters ??= {};
      if (state.TimeoutSecondsPath) {
        state.Parameters[`${LOCAL_TIMEOUT}.$`] = state.TimeoutSecondsPath;
        state.TimeoutSecondsPath = `$.${LOCAL_TIMEOUT}`;
      } else {
        // Step Functions waits a year for a token by default; the library would give up after 60 s.
        state.Parameters[LOCAL_TIMEOUT] = state.TimeoutSeconds ?? MAX_TIMER_SECONDS;
        state.TimeoutSeconds = state.TimeoutSeconds ?? MAX_TIMER_SECONDS;
      }
      if (state.HeartbeatSecondsPath) state.Parameters[`${LOCAL_HEARTBEAT}.$`] = state.HeartbeatSecondsPath;
      else if (state.HeartbeatSeconds) state.Parameters[LOCAL_HEARTBEAT] = state.HeartbeatSeconds;
      delete state.HeartbeatSecondsPath;
      delete state.HeartbeatSeconds;
    }
    for (const branch of state.Branches ?? []) prepareCallbackTasks(branch.States);
    if (state.Iterator) prepareCallbackTasks(state.Iterator.States);
    if (state.ItemProcessor) prepareCallbackTasks(state.ItemProcessor.States);
  }
}

function findToken(value: JsonValue, isToken: (candidate: string) => boolean): string | undefined {
  if (typeof value === 'string') return isToken(value) ? value : undefined;
  if (value && typeof value === 'object') {
    for (const item of Object.values(value)) {
      const found = findToken(item as JsonValue, isToken);
      if (found) return found;
    }
  }
  return undefined;
}

/** Binds every Lambda task, at any depth (Parallel branches, Map processors), to a local invocation. */
function bindTasks(definition: Record<string, any>, invoke: Invoke, pause: Pause): Machine['taskHandlers'] {
  const handlers: Machine['taskHandlers'] = {};
  const visit = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        const resource = String(state.Resource);
        if (resource.startsWith('arn:aws:lambda:')) {
          // payloadResponseOnly: the task's input is the event and the function's result is the output.
          handlers[name] = (input) => asLambda(() => invoke(logicalIdOfArn(resource), input));
        } else if (resource === `arn:aws:states:::lambda:invoke${WAIT_FOR_TOKEN}`) {
          // The Lambda's result is not the task's: the token's SendTaskSuccess output is.
          handlers[name] = (input: Record<string, JsonValue>) =>
            pause(input, (parameters: any) => asLambda(() => invoke(logicalIdOfArn(parameters.FunctionName.split(':$')[0]!), parameters.Payload)));
        } else if (resource === 'arn:aws:states:::lambda:invoke') {
          handlers[name] = async (input: { FunctionName: string; Payload: unknown }) => ({
            StatusCode: 200,
            Payload: await asLambda(() => invoke(logicalIdOfArn(input.FunctionName.split(':$')[0]!), input.Payload)),
          });
        } else {
          throw new Error(`state ${name}: task resource ${resource} is not run locally`);
        }
      }
      for (const branch of state.Branches ?? []) visit(branch.States);
      if (state.Iterator) visit(state.Iterator.States);
      if (state.ItemProcessor) visit(state.ItemProcessor.States);
    }
  };
  visit(definition.States);
  return handlers;
}

/** A function error reaches Step Functions as Lambda reports it: the error's name, and a JSON Cause. */
async function asLambda(run: () => Promise<unknown>): Promise<JsonValue> {
  try {
    return (await run()) ?? null;
  } catch (error) {
    const { name = 'Error', message = String(error) } = error as Error;
    throw Object.assign(new Error(JSON.stringify({ errorType: name, errorMessage: message })), { name });
  }
}
