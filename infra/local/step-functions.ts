// Runs the template's state machines with aws-local-stepfunctions. Their ASL comes from the template, resolved;
// every Task that invokes a Lambda function is bound to the same handler module the cloud runs.
import { randomUUID } from 'node:crypto';
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

export class LocalStepFunctions {
  private readonly machines = new Map<string, Machine>();
  private readonly running = new Set<Promise<unknown>>();
  readonly executions: ExecutionRecord[] = [];
  private readonly log: (message: string) => void;

  constructor(resolver: TemplateResolver, invoke: Invoke, log: (message: string) => void) {
    this.log = log;
    for (const [logicalId, resource] of resolver.ofType('AWS::StepFunctions::StateMachine')) {
      const properties = resource.Properties ?? {};
      const text = resolver.resolve(properties.DefinitionString ?? JSON.stringify(properties.Definition));
      const definition = JSON.parse(text) as Record<string, any>;
      // Node timers hold at most 2^31 ms (24.8 days); a longer execution timeout would fire at once.
      if (definition.TimeoutSeconds > MAX_TIMER_SECONDS) definition.TimeoutSeconds = MAX_TIMER_SECONDS;
      // Built once: the constructor validates the ASL against its JSON Schema, which costs far more than a run.
      const machine = new StateMachine(definition as never, { validationOptions: { checkPaths: true, checkArn: false } });
      this.machines.set(logicalId, { machine, taskHandlers: bindTasks(definition, invoke) });
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
    const execution = machine.machine.run(input as JsonValue, {
      overrides: { taskResourceLocalHandlers: machine.taskHandlers },
      context: { Execution: { Id: record.executionArn, Name: name, StartTime: record.startedAt, Input: input } } as never,
    });
    const done = execution.result.then(
      (output) => Object.assign(record, { status: 'SUCCEEDED', output, stoppedAt: new Date().toISOString() }),
      (error: Error) => {
        Object.assign(record, { status: 'FAILED', error: error.message, stoppedAt: new Date().toISOString() });
        this.log(`execution ${name} of ${stateMachineId} failed: ${error.message}`);
      },
    );
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
    return record;
  }

  async drained(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}

/** Binds every Lambda task, at any depth (Parallel branches, Map processors), to a local invocation. */
function bindTasks(definition: Record<string, any>, invoke: Invoke): Machine['taskHandlers'] {
  const handlers: Machine['taskHandlers'] = {};
  const visit = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        const resource = String(state.Resource);
        if (resource.startsWith('arn:aws:lambda:')) {
          // payloadResponseOnly: the task's input is the event and the function's result is the output.
          handlers[name] = (input) => asLambda(() => invoke(logicalIdOfArn(resource), input));
        } else if (resource.startsWith('arn:aws:states:::lambda:invoke')) {
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
