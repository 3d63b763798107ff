import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing, LoggingFormat, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { calendarAliases } from '../bundling/calendar-aliases.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * How every function is bundled, in one place: the stack's bundling and `npm run bench` (which measures the
 * bundles) both read it. Minified ESM for Node 24. Source maps are kept (Lambda's --enable-source-maps maps
 * stack traces) but without the sources inlined, which made each map 2 MB; `BUNDLE_SOURCES_CONTENT=true npm run
 * synth` puts them back for a debugging deploy. zod is zod without its locales (infra/bundling/zod.mjs); the
 * calendar libraries go without what no code path calls (infra/bundling/calendar-aliases.ts).
 */
export const bundleSettings = {
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: true,
  sourcesContent: process.env.BUNDLE_SOURCES_CONTENT === 'true',
  mainFields: ['module', 'main'],
  // The runtime provides the AWS SDK v3 (the CDK's default for Node 18 and later, stated here so the bench
  // bundles the same way).
  external: ['@aws-sdk/*'],
  alias: { zod: fileURLToPath(new URL('../bundling/zod.mjs', import.meta.url)), ...calendarAliases } as Record<string, string>,
  // Some dependencies are CommonJS and call require(); an ESM bundle has to provide it.
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
} as const;

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
 * Every Lambda of the service, with the defaults set once: Node 24 on arm64, ESM bundle (bundleSettings),
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
      logGroup: functionLogs(scope),
      environment: { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: 'booking-engine', ...props.environment },
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      bundling: {
        format: OutputFormat.ESM,
        target: bundleSettings.target,
        minify: bundleSettings.minify,
        sourceMap: bundleSettings.sourcemap,
        sourcesContent: bundleSettings.sourcesContent,
        mainFields: [...bundleSettings.mainFields],
        externalModules: [...bundleSettings.external],
        esbuildArgs: Object.fromEntries(Object.entries(bundleSettings.alias).map(([from, to]) => [`--alias:${from}`, to])),
        banner: bundleSettings.banner,
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
