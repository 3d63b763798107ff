// Runs the template's Lambda functions in this process: each function's handler module is the one its
// BookingEngine:Entry metadata names, imported from source, with the environment the template gives it.
import { randomUUID } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { LOCAL_ENTRY_METADATA, LOCAL_HANDLER_METADATA } from '../constructs/service-function.ts';
import type { TemplateResolver } from './template-resolver.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './template-resolver.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

export type LocalFunction = {
  logicalId: string;
  entry: string;
  handlerName: string;
  timeoutMs: number;
  environment: Record<string, string>;
  /** Asynchronous invocations (bus targets): retries and where the event goes after them. */
  asyncRetries: number;
  deadLetterQueueArn?: string;
};

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** Variables the local runtime owns; a function's template value for them would be an AWS-only detail. */
const RUNTIME_VARIABLES = new Set(['NODE_OPTIONS']);

export class LambdaRuntime {
  readonly functions = new Map<string, LocalFunction>();
  private readonly loaded = new Map<string, Promise<Handler>>();
  private readonly log: (message: string) => void;

  constructor(resolver: TemplateResolver, log: (message: string) => void = () => {}) {
    this.log = log;
    const invokeConfigs = new Map(
      resolver.ofType('AWS::Lambda::EventInvokeConfig').map(([, r]) => [resolver.resolve(r.Properties!.FunctionName) as string, r.Properties!]),
    );
    for (const [logicalId, resource] of resolver.ofType('AWS::Lambda::Function')) {
      const entry = resource.Metadata?.[LOCAL_ENTRY_METADATA];
      if (!entry) continue;
      const properties = resolver.resolve(resource.Properties ?? {});
      const invokeConfig = invokeConfigs.get(logicalId);
      this.functions.set(logicalId, {
        logicalId,
        entry,
        handlerName: resource.Metadata?.[LOCAL_HANDLER_METADATA] ?? 'handler',
        timeoutMs: (properties.Timeout ?? 3) * 1000,
        environment: properties.Environment?.Variables ?? {},
        asyncRetries: invokeConfig?.MaximumRetryAttempts ?? 2,
        deadLetterQueueArn: properties.DeadLetterConfig?.TargetArn,
      });
    }
  }

  /** The functions whose template resources have no source entry: they cannot run here. */
  static functionsWithoutEntry(resolver: TemplateResolver): string[] {
    return resolver.ofType('AWS::Lambda::Function').filter(([, r]) => !r.Metadata?.[LOCAL_ENTRY_METADATA]).map(([id]) => id);
  }

  /**
   * The stack's variables as seen outside any invocation (by tests and tools in this process): each name with
   * the value the functions that have it agree on; a name they disagree on is left out. Inside an invocation a
   * function sees its own environment only (see `withEnvironment`).
   */
  sharedEnvironment(): Record<string, string> {
    const merged: Record<string, string> = {};
    const clashing = new Set<string>();
    for (const fn of this.functions.values()) {
      for (const [name, value] of Object.entries(fn.environment)) {
        if (RUNTIME_VARIABLES.has(name)) continue;
        if (name in merged && merged[name] !== value) clashing.add(name);
        merged[name] = value;
      }
    }
    for (const name of clashing) delete merged[name];
    return merged;
  }

  /**
   * Runs `body` as the function would run: every variable that some function of the stack is given reads, in
   * `body` and everything it starts, as this function's own value, or as unset when this function is not given
   * it, as in its own Lambda environment. Variables no function is given (AWS_*, endpoints) read as usual.
   */
  withEnvironment<T>(logicalId: string, body: () => T): T {
    installScopedEnvironment();
    for (const fn of this.functions.values()) for (const name of Object.keys(fn.environment)) if (!RUNTIME_VARIABLES.has(name)) stackVariables.add(name);
    return invocationEnvironment.run(this.get(logicalId).environment, body);
  }

  get(logicalId: string): LocalFunction {
    const fn = this.functions.get(logicalId);
    if (!fn) throw new Error(`no local function ${logicalId}`);
    return fn;
  }

  /** A synchronous (RequestResponse) invocation: the handler's result, or its error thrown. */
  async invoke(logicalId: string, event: unknown): Promise<unknown> {
    return this.withEnvironment(logicalId, () => this.invokeScoped(logicalId, event));
  }

  private async invokeScoped(logicalId: string, event: unknown): Promise<unknown> {
    const fn = this.get(logicalId);
    const handler = await this.handler(fn);
    const started = Date.now();
    const context = {
      functionName: logicalId,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`,
      memoryLimitInMB: '512',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${logicalId}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => Math.max(0, fn.timeoutMs - (Date.now() - started)),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    } as unknown as Context;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`Task timed out after ${fn.timeoutMs / 1000} seconds`), { name: 'Sandbox.Timedout' })), fn.timeoutMs);
    });
    try {
      return await Promise.race([handler(event, context), timeout]);
    } catch (error) {
      // What CloudWatch Logs would show for a failed invocation.
      this.log(`${logicalId} failed: ${(error as Error).name}: ${(error as Error).message}`);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private handler(fn: LocalFunction): Promise<Handler> {
    let loaded = this.loaded.get(fn.logicalId);
    if (!loaded) {
      loaded = import(pathToFileURL(projectRoot + fn.entry).href).then((module) => {
        const handler = module[fn.handlerName];
        if (typeof handler !== 'function') throw new Error(`${fn.entry} exports no function ${fn.handlerName}`);
        return handler as Handler;
      });
      this.loaded.set(fn.logicalId, loaded);
    }
    return loaded;
  }
}

/** The environment of the invocation running now, if any. */
const invocationEnvironment = new AsyncLocalStorage<Record<string, string>>();
/** Names some function of a loaded stack is given: inside an invocation, these read from its own environment. */
const stackVariables = new Set<string>();
let scoped = false;

/** One process plays every function, so process.env answers per invocation (an AsyncLocalStorage lookup). */
function installScopedEnvironment(): void {
  if (scoped) return;
  scoped = true;
  const own = (name: string | symbol) => {
    const environment = invocationEnvironment.getStore();
    return environment && typeof name === 'string' && stackVariables.has(name) ? environment : undefined;
  };
  process.env = new Proxy(process.env, {
    get: (target, name) => {
      const environment = own(name);
      return environment ? environment[name as string] : Reflect.get(target, name);
    },
    has: (target, name) => {
      const environment = own(name);
      return environment ? name in environment : Reflect.has(target, name);
    },
    // Without a set trap an assignment reaches process.env as a bare defineProperty, which it refuses
    // (ERR_INVALID_OBJECT_DEFINE_PROPERTY) for a name it has: a test or the bench setting a variable after the
    // stack started threw. Inside an invocation, the function's own variables are its environment's.
    set: (target, name, value) => {
      const environment = own(name);
      if (environment) environment[name as string] = String(value);
      else Reflect.set(target, name, value);
      return true;
    },
  });
}
