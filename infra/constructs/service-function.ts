import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack, type BundlingOptions, type ILocalBundling } from 'aws-cdk-lib';
import { Architecture, Code, Function as LambdaFunction, Runtime, Tracing, LoggingFormat, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const buildScript = fileURLToPath(new URL('../bundling/build.ts', import.meta.url));

/**
 * A function's asset, built on this machine by infra/bundling/build.ts (esbuild with the project's plugins) in
 * a child process. Its fields are what CDK hashes into the asset's cache key, so they name the entry (relative
 * to the project: no machine path reaches the template); the asset's own hash is that of the output, so two
 * synths of the same sources give the same template.
 */
class FunctionBundling implements ILocalBundling {
  readonly entry: string;
  readonly copyIntoBundle: Array<[string, string]>;
  constructor(entry: string, copyIntoBundle: Array<[string, string]>) {
    this.entry = entry;
    this.copyIntoBundle = copyIntoBundle;
  }

  tryBundle(outputDir: string): boolean {
    execFileSync(process.execPath, [buildScript, join(projectRoot, this.entry), outputDir], { stdio: 'inherit' });
    for (const [from, to] of this.copyIntoBundle) cpSync(join(projectRoot, from), join(outputDir, to), { recursive: true });
    return true;
  }
}

function functionCode(entry: string, copyIntoBundle: Array<[string, string]>): Code {
  const bundling: BundlingOptions = {
    local: new FunctionBundling(entry, copyIntoBundle),
    // Never used: local bundling always runs (or fails loudly); CDK requires an image to fall back to.
    image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs24.x'),
  };
  return Code.fromAsset(projectRoot, { assetHashType: AssetHashType.OUTPUT, bundling });
}

export type ServiceFunctionProps = {
  /** Module under functions/, without extension: "http/create-booking". */
  entry: string;
  /** Exported handler name; "handler" unless one module serves several functions. */
  handler?: string;
  environment?: Record<string, string>;
  timeout?: Duration;
  memorySize?: number;
  description?: string;
  /** For asynchronous invocations (bus subscribers): where an event goes after Lambda's own retries. */
  deadLetterQueue?: IQueue;
  retryAttempts?: number;
  /**
   * Files the handler reads at run time (mail templates), as [directory under the project root, directory in
   * the bundle]: copied beside the bundled module, where `new URL(..., import.meta.url)` finds them.
   */
  copyIntoBundle?: Array<[string, string]>;
};

/** Metadata keys through which the local runtime finds a function's source module in the synthesized template. */
export const LOCAL_ENTRY_METADATA = 'BookingEngine:Entry';
export const LOCAL_HANDLER_METADATA = 'BookingEngine:Handler';

/**
 * One log group for every function of the stack: Lambda names each log stream after its function, JSON lines
 * carry the function name, and CloudWatch Logs Insights filters by either. A group per function would cost 40-odd
 * of CloudFormation's 500 resources per stack, for nothing a query cannot do.
 */
function functionLogs(scope: Construct): LogGroup {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild('FunctionLogs');
  if (existing) return existing as LogGroup;
  return new LogGroup(stack, 'FunctionLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
}

/**
 * Every Lambda of the service, with the defaults set once: Node 24 on arm64, ESM bundle (infra/bundling/build.ts),
 * JSON logs kept a month, X-Ray tracing. The source module is recorded in the template so that the local
 * runtime runs the very handler the cloud runs.
 */
export class ServiceFunction extends LambdaFunction {
  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const entry = `functions/${props.entry}.ts`;
    const handler = props.handler ?? 'handler';
    if (!existsSync(join(projectRoot, entry))) throw new Error(`ServiceFunction ${id}: no module ${entry}`);
    super(scope, id, {
      code: functionCode(entry, props.copyIntoBundle ?? []),
      handler: `index.${handler}`,
      description: props.description,
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: props.retryAttempts,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup: functionLogs(scope),
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
    });
    const resource = this.node.defaultChild as CfnFunction;
    resource.addMetadata(LOCAL_ENTRY_METADATA, entry);
    resource.addMetadata(LOCAL_HANDLER_METADATA, handler);
  }
}
