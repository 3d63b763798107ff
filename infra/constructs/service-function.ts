import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing, LoggingFormat, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

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
 * Every Lambda of the service, with the defaults set once: Node 24 on arm64, ESM bundle with source maps,
 * JSON logs kept a month, X-Ray tracing. The source module is recorded in the template so that the local
 * runtime runs the very handler the cloud runs.
 */
export class ServiceFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const entry = fileURLToPath(new URL(`../../functions/${props.entry}.ts`, import.meta.url));
    const handler = props.handler ?? 'handler';
    super(scope, id, {
      entry,
      handler,
      description: props.description,
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: props.retryAttempts,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup: new LogGroup(scope, `${id}Logs`, { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
      environment: { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: 'booking-engine', ...props.environment },
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // Some dependencies are CommonJS and call require(); an ESM bundle has to provide it.
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        commandHooks: props.copyIntoBundle?.length
          ? {
              beforeBundling: () => [],
              beforeInstall: () => [],
              afterBundling: (inputDir: string, outputDir: string) => props.copyIntoBundle!.map(([from, to]) => `cp -R "${inputDir}/${from}" "${outputDir}/${to}"`),
            }
          : undefined,
      },
    });
    const resource = this.node.defaultChild as CfnFunction;
    resource.addMetadata(LOCAL_ENTRY_METADATA, relative(projectRoot, entry));
    resource.addMetadata(LOCAL_HANDLER_METADATA, handler);
  }
}
