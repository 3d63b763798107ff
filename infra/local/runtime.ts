// The local stack: the synthesized template, run on this machine. Every piece of wiring (tables, routes,
// authorizers, stream mappings, rules and their patterns, targets, retries, dead-letter queues, the state
// machine) is read from the template; this file only knows how to play each resource type.
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { CfnTemplate } from '../synth.ts';
import { freePort, localAwsConfig } from './dynamodb-local.ts';
import { startEventBridgeEndpoint } from './eventbridge-endpoint.ts';
import { LocalEventBus, rulesOf } from './event-bus.ts';
import { startHttpApi, type HttpRoute } from './http-api.ts';
import { LambdaRuntime } from './lambda-runtime.ts';
import { localIssuer, LOCAL_AUDIENCE, type LocalIssuer } from './local-issuer.ts';
import { startLocalSqs } from './sqs.ts';
import { startControlServer } from './control.ts';
import { Redriver } from './redrive.ts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { rebuildProjections } from '../../shared/projections/rebuild.ts';
import { LocalStepFunctions } from './step-functions.ts';
import { LocalScheduler, localPeriodEnvironment, schedulesOf } from './scheduler.ts';
import { startSchedulerApi } from './scheduler-api.ts';
import { StreamPoller } from './stream-poller.ts';
import { SqsPoller } from './sqs-poller.ts';
import { startLocalSes } from './ses.ts';
import { ensureTables } from './tables.ts';
import { logicalIdOfArn, TemplateResolver } from './template-resolver.ts';
import { startWebSocketApi } from './websocket-api.ts';
import { startAwsJsonEndpoint } from './aws-json-endpoint.ts';
import { startLocalStripe, type LocalStripe } from './stripe.ts';
import { radicaleInstalled, RADICALE_MISSING, startCaldavServer, type CaldavServer } from './caldav-server.ts';
import { startLocalGoogle, type LocalGoogle } from './google-calendar.ts';
import { startLocalGraph, trustLocalGraphCertificate, type LocalGraph } from './microsoft-graph.ts';
import { LOCAL_SECRET_METADATA } from '../constructs/payments.ts';
import { LOCAL_KEY_METADATA } from '../constructs/calendars.ts';
import { DEFAULT_GOOGLE_CLIENT } from './google-calendar.ts';
import { DEFAULT_GRAPH_CLIENT } from './microsoft-graph.ts';

/** How each resource type of the template is honoured here. Anything not listed is reported as not run. */
export const localSupport: Record<string, string> = {
  'AWS::DynamoDB::Table': 'DynamoDB Local',
  'AWS::Lambda::Function': 'handler module run in-process',
  'AWS::Lambda::EventSourceMapping': 'stream poller (DynamoDB) and queue poller (SQS)',
  'AWS::Lambda::EventInvokeConfig': 'async retries before the dead-letter queue',
  'AWS::Events::EventBus': 'local PutEvents endpoint',
  'AWS::Events::Rule': 'local pattern matching and delivery',
  'AWS::SQS::Queue': 'local SQS',
  'AWS::StepFunctions::StateMachine': 'aws-local-stepfunctions, with .waitForTaskToken and a local SendTask* endpoint',
  'AWS::SecretsManager::Secret': 'GetSecretValue from .local/secrets/<logical id>.json (the Stripe one holds the local Stripe keys)',
  'AWS::ApiGatewayV2::Api': 'local HTTP and WebSocket servers',
  'AWS::ApiGatewayV2::Route': 'local routing',
  'AWS::ApiGatewayV2::Integration': 'local routing',
  'AWS::ApiGatewayV2::Authorizer': 'JWT checked against the local issuer',
  'AWS::ApiGatewayV2::Stage': 'one local stage',
  'AWS::ApiGatewayV2::RouteResponse': 'route responses sent back',
  'AWS::Scheduler::Schedule': 'rate schedules invoking Lambda or SQS, with retries and DLQ (cron and other targets are reported); the Scheduler API runs rate and at() schedules created at run time',
  'AWS::Scheduler::ScheduleGroup': 'a group of the local Scheduler API',
  'AWS::Cognito::UserPool': 'replaced by the local token issuer (npm run token)',
  'AWS::Cognito::UserPoolClient': 'replaced by the local token issuer',
  'AWS::SES::ConfigurationSet': 'aws-ses-v2-local keeps every mail sent (GET /store); no suppression list',
  'AWS::KMS::Key': 'replaced by a key file in the data dir (calendar-credentials.key, CALENDAR_KEY_FILE): the same envelope encryption, the file as master key',
};
/**
 * Types with no behaviour to play on one machine: permissions, log groups, the CDK's own metadata, and the
 * operator's alarms with their topic (they watch CloudWatch metrics, which nothing produces here; locally
 * `npm run dlq` shows every queue's count).
 */
const notNeededLocally = new Set([
  'AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::Lambda::Permission', 'AWS::SQS::QueuePolicy', 'AWS::Logs::LogGroup', 'AWS::CDK::Metadata',
  'AWS::CloudWatch::Alarm', 'AWS::SNS::Topic', 'AWS::SNS::TopicPolicy', 'AWS::SNS::Subscription',
]);

export type LocalStackOptions = {
  template: CfnTemplate;
  dynamoEndpoint: string;
  dataDir: string;
  httpPort?: number;
  wsPort?: number;
  sqsPort?: number;
  /** The local Stripe's port (STRIPE_PORT for npm start); a free one when absent. */
  stripePort?: number;
  controlPort?: number;
  sesPort?: number;
  /** Radicale's port (CALDAV_PORT for npm start); a free one when absent. */
  caldavPort?: number;
  /** Run the CalDAV server (Radicale) when it is installed; default true. */
  caldav?: boolean;
  /** The local Google Calendar's port (GOOGLE_PORT for npm start); a free one when absent. */
  googlePort?: number;
  /** The local Microsoft Graph's port (GRAPH_PORT for npm start); a free one when absent. */
  graphPort?: number;
  tablePrefix?: string;
  log?: (message: string) => void;
};

export type LocalStack = {
  httpUrl: string;
  wsUrl: string;
  sqsEndpoint: string;
  /** The operator endpoint (redrive, rebuild) the CLIs call: see control.ts. */
  controlUrl: string;
  redriver: Redriver;
  /** Where the mails sent through SES can be read (GET /store), when the template sends mail. */
  sesUrl?: string;
  issuer: LocalIssuer;
  notRun: string[];
  queues: Record<string, string>;
  stepFunctions: LocalStepFunctions;
  lambda: LambdaRuntime;
  scheduler: LocalScheduler;
  /** The local EventBridge Scheduler API (AWS_ENDPOINT_URL_SCHEDULER). */
  schedulerEndpoint: string;
  /** Every bus delivery and workflow so far ended (or paused on a task token), until nothing new arrives. */
  settled: () => Promise<void>;
  stripe: LocalStripe;
  /** The local CalDAV server (Radicale), when installed: connections point at it like at any CalDAV server. */
  caldav?: CaldavServer;
  /** The local Google Calendar and Microsoft Graph the calendar adapters talk to (GOOGLE_* / MICROSOFT_* env). */
  google: LocalGoogle;
  graph: LocalGraph;
  close(): Promise<void>;
};

const hasResourceOf = (template: CfnTemplate, type: string) => Object.values(template.Resources).some((r) => r.Type === type);

export function unsupportedResources(template: CfnTemplate): string[] {
  const counts = new Map<string, number>();
  for (const { Type } of Object.values(template.Resources)) {
    if (!(Type in localSupport) && !notNeededLocally.has(Type)) counts.set(Type, (counts.get(Type) ?? 0) + 1);
  }
  return [...counts].map(([type, count]) => `${type} (${count})`);
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((message: string) => console.log(message));
  mkdirSync(options.dataDir, { recursive: true });
  const httpPort = options.httpPort || (await freePort());
  const wsPort = options.wsPort || (await freePort());
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const wsUrl = `ws://127.0.0.1:${wsPort}`;
  const issuer = await localIssuer(options.dataDir, `${httpUrl}/local-issuer`);
  const closers: Array<() => Promise<void>> = [];
  // The emulators that functions call (SQS, SES) close last, after the stream poller has stopped and the bus
  // has drained: a subscriber still delivering must not find its queue or mail server gone.
  const emulators: Array<() => Promise<void>> = [];
  try {
    const sqs = await startLocalSqs({ port: options.sqsPort, stateFile: join(options.dataDir, 'sqs.json') });
    emulators.push(() => sqs.close());
    const ses = hasResourceOf(options.template, 'AWS::SES::ConfigurationSet') ? await startLocalSes(options.sesPort) : undefined;
    if (ses) emulators.push(() => ses.close());
    // Not in the template: CalDAV servers are the organizers' own, named by each connection. Locally this is one.
    let caldav: CaldavServer | undefined;
    if (options.caldav !== false) {
      if (radicaleInstalled()) {
        caldav = await startCaldavServer({ port: options.caldavPort, dataDir: join(options.dataDir, 'caldav') });
        emulators.push(() => caldav!.close());
      } else log(RADICALE_MISSING);
    }
    // The calendar providers' stand-ins. Graph is HTTPS with a certificate of its own, which this process (it
    // plays every Lambda function) trusts.
    const google = await startLocalGoogle({ port: options.googlePort, stateFile: join(options.dataDir, 'google-calendar.json'), log });
    emulators.push(() => google.close());
    const graph = await startLocalGraph({ port: options.graphPort, certDir: options.dataDir, stateFile: join(options.dataDir, 'microsoft-graph.json'), log });
    emulators.push(() => graph.close());
    trustLocalGraphCertificate(graph.certificate);
    const resolver = new TemplateResolver(options.template, {
      httpApiUrl: httpUrl,
      webSocketUrl: wsUrl,
      webSocketManagementUrl: `http://127.0.0.1:${wsPort}`,
      issuer: issuer.issuer,
      audience: LOCAL_AUDIENCE,
      queueUrl: (name) => sqs.queueUrl(name),
      tablePrefix: options.tablePrefix,
    });
    const notRun = unsupportedResources(options.template);
    const withoutEntry = LambdaRuntime.functionsWithoutEntry(resolver);
    if (withoutEntry.length) notRun.push(`AWS::Lambda::Function without source entry: ${withoutEntry.join(', ')}`);

    const queues: Record<string, string> = {};
    for (const [logicalId] of resolver.ofType('AWS::SQS::Queue')) queues[logicalId] = sqs.createQueue(logicalId);
    const sqsClient = new SQSClient({ ...localAwsConfig, endpoint: sqs.endpoint });
    // The queues' own settings from the template (visibility, delay, retention, redrive to a DLQ), set once
    // every queue exists, since a redrive policy names another queue.
    for (const [logicalId, resource] of resolver.ofType('AWS::SQS::Queue')) {
      const p = resolver.resolve(resource.Properties ?? {});
      const Attributes: Record<string, string> = {};
      for (const name of ['VisibilityTimeout', 'DelaySeconds', 'MessageRetentionPeriod', 'ReceiveMessageWaitTimeSeconds', 'MaximumMessageSize']) {
        if (p[name] !== undefined) Attributes[name] = String(p[name]);
      }
      if (p.RedrivePolicy) Attributes.RedrivePolicy = JSON.stringify(p.RedrivePolicy);
      if (Object.keys(Attributes).length) await sqsClient.send(new SetQueueAttributesCommand({ QueueUrl: queues[logicalId], Attributes }));
    }
    const sendToQueue = async (queueArn: string, body: string, attributes: Record<string, string> = {}) => {
      const MessageAttributes = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]));
      await sqsClient.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl(logicalIdOfArn(queueArn)), MessageBody: body, MessageAttributes }));
    };

    const dynamo = new DynamoDBClient({ ...localAwsConfig, endpoint: options.dynamoEndpoint });
    await ensureTables(dynamo, options.template, (logicalId) => resolver.ref(logicalId));

    const lambda = new LambdaRuntime(resolver, log);
    // A period shortened locally (SYNC_PERIOD_SECONDS) reaches the functions that compute next runs from it.
    for (const [functionId, values] of localPeriodEnvironment(resolver)) Object.assign(lambda.get(functionId).environment, values);
    const stepFunctions = new LocalStepFunctions(resolver, (id, event) => lambda.invoke(id, event), log);

    // Secrets come from files under the data directory, never from the template. The Stripe secret is made on
    // first start with keys of the local Stripe's own, which checks them as Stripe would.
    const secrets = localSecrets(resolver, join(options.dataDir, 'secrets'));
    const stripeKeys = JSON.parse(secrets.get(resolver.ofType('AWS::SecretsManager::Secret').find(([, r]) => r.Metadata?.[LOCAL_SECRET_METADATA] === 'stripe')?.[0] ?? '') ?? '{}');
    const stripe = await startLocalStripe({
      port: options.stripePort,
      apiKey: stripeKeys.apiKey ?? 'sk_test_local',
      webhookSecret: stripeKeys.webhookSecret ?? 'whsec_local',
      webhookUrl: `${httpUrl}/webhooks/stripe`,
      log,
    });
    closers.push(() => stripe.close());
    const sfnEndpoint = await startAwsJsonEndpoint({
      'AWSStepFunctions.SendTaskSuccess': (input) => stepFunctions.sendTaskSuccess(input.taskToken, input.output),
      'AWSStepFunctions.SendTaskFailure': (input) => stepFunctions.sendTaskFailure(input.taskToken, input.error, input.cause),
      'AWSStepFunctions.SendTaskHeartbeat': (input) => stepFunctions.sendTaskHeartbeat(input.taskToken),
      'secretsmanager.GetSecretValue': (input) => {
        const logicalId = logicalIdOfArn(String(input.SecretId));
        const value = secrets.get(logicalId);
        if (value === undefined) throw Object.assign(new Error(`Secrets Manager can't find the specified secret: ${input.SecretId}`), { name: 'ResourceNotFoundException' });
        return { ARN: resolver.ref(logicalId), Name: logicalId, SecretString: value, VersionId: 'local', VersionStages: ['AWSCURRENT'], CreatedDate: 0 };
      },
    });
    closers.push(() => sfnEndpoint.close());

    const rules = rulesOf(resolver);
    const bus = new LocalEventBus(
      rules,
      {
        lambda: async (id, event) => void (await lambda.invoke(id, event)),
        'state-machine': async (id, event) => {
          if (!stepFunctions.has(id)) throw new Error(`no local state machine ${id}`);
          stepFunctions.start(id, event);
        },
        deadLetter: sendToQueue,
        log,
      },
      (id) => ({ retries: lambda.get(id).asyncRetries, deadLetterQueueArn: lambda.get(id).deadLetterQueueArn }),
    );
    const eventBridge = await startEventBridgeEndpoint({ onEvents: (events) => bus.put(events) });
    closers.push(() => eventBridge.close());

    // EventBridge Scheduler: the template's schedules, and those functions create through the Scheduler API.
    const { schedules, notRun: unscheduled } = schedulesOf(resolver);
    notRun.push(...unscheduled);
    const scheduler = new LocalScheduler({
      schedules,
      groups: resolver.ofType('AWS::Scheduler::ScheduleGroup').map(([logicalId, r]) => String(resolver.resolve(r.Properties?.Name) ?? logicalId)),
      invoke: (id, input) => lambda.invoke(id, input),
      sendToQueue,
      deadLetter: sendToQueue,
      stateFile: join(options.dataDir, 'scheduler.json'),
      log,
    });
    const schedulerApi = await startSchedulerApi(scheduler);
    closers.push(() => schedulerApi.close());

    Object.assign(process.env, {
      AWS_REGION: localAwsConfig.region,
      AWS_ACCESS_KEY_ID: localAwsConfig.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localAwsConfig.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: options.dynamoEndpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_SFN: sfnEndpoint.endpoint,
      AWS_ENDPOINT_URL_SCHEDULER: schedulerApi.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sfnEndpoint.endpoint,
      // Only here: the Stripe adapter talks to api.stripe.com unless told otherwise.
      STRIPE_API_URL: stripe.url,
      // The calendars' KMS key, played by a key file (the vault seals data keys with it instead of KMS).
      ...localKeyFiles(resolver, options.dataDir),
      // Likewise the calendar adapters (shared/calendars/providers/index.ts oauthClientConfig): the local servers' endpoints and clients.
      GOOGLE_CLIENT_ID: google.clients[0]!.clientId,
      GOOGLE_CLIENT_SECRET: google.clients[0]!.clientSecret,
      GOOGLE_AUTH_URL: `${google.url}/o/oauth2/v2/auth`,
      GOOGLE_TOKEN_URL: `${google.url}/token`,
      GOOGLE_API_URL: google.url,
      GOOGLE_REVOKE_URL: `${google.url}/revoke`,
      MICROSOFT_CLIENT_ID: graph.clients[0]!.clientId,
      MICROSOFT_CLIENT_SECRET: graph.clients[0]!.clientSecret,
      MICROSOFT_AUTH_URL: `${graph.url}/common/oauth2/v2.0/authorize`,
      MICROSOFT_TOKEN_URL: `${graph.url}/common/oauth2/v2.0/token`,
      MICROSOFT_API_URL: graph.url,
      ...(ses ? { AWS_ENDPOINT_URL_SES: ses.url } : {}),
      // Developers point webhooks at receivers on this machine; in the cloud loopback stays refused.
      WEBHOOKS_ALLOW_LOOPBACK: 'true',
      // Likewise CalDAV connections (the local Radicale is on 127.0.0.1); nothing else about CalDAV is configured,
      // its URLs come from each connection.
      CALDAV_ALLOW_LOOPBACK: 'true',
      ...lambda.sharedEnvironment(),
    });

    const poller = new StreamPoller({
      clientConfig: { ...localAwsConfig, endpoint: options.dynamoEndpoint },
      dynamo,
      invoke: (id, event) => lambda.invoke(id, event),
      log,
      checkpointFile: join(options.dataDir, 'stream-checkpoints.json'),
    });
    const queuePoller = new SqsPoller({ client: sqsClient, invoke: (id, event) => lambda.invoke(id, event), log });
    closers.unshift(() => queuePoller.stop());
    for (const [logicalId, resource] of resolver.ofType('AWS::Lambda::EventSourceMapping')) {
      const p = resolver.resolve(resource.Properties ?? {});
      if (p.FilterCriteria) throw new Error(`${logicalId}: event filtering is not run locally`);
      if (String(p.EventSourceArn).startsWith('arn:aws:sqs:')) {
        queuePoller.start({
          functionId: logicalIdOfArn(p.FunctionName),
          queueUrl: sqs.queueUrl(logicalIdOfArn(p.EventSourceArn)),
          queueArn: p.EventSourceArn,
          batchSize: p.BatchSize ?? 10,
          reportBatchItemFailures: (p.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
          maxConcurrency: p.ScalingConfig?.MaximumConcurrency,
        });
        continue;
      }
      const tableName = String(p.EventSourceArn).split('/')[1]!;
      const onFailure = p.DestinationConfig?.OnFailure?.Destination as string | undefined;
      poller.start({
        functionId: logicalIdOfArn(p.FunctionName),
        tableName,
        batchSize: p.BatchSize ?? 100,
        retryAttempts: p.MaximumRetryAttempts ?? 10_000,
        bisectBatchOnError: Boolean(p.BisectBatchOnFunctionError),
        reportBatchItemFailures: (p.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
        onFailure: onFailure ? (message) => sendToQueue(onFailure, JSON.stringify(message)) : undefined,
      });
    }
    closers.push(async () => {
      await poller.stop();
      await bus.drained();
      await stepFunctions.drained();
      // Executions paused on a payment would hold the shutdown for their whole window: stop them (in the cloud
      // they would carry on; locally their state is gone with the process, and the settle sweep's payment list
      // releases their time after a restart).
      await stepFunctions.stopAll();
    });

    const redriver = new Redriver({
      resolver,
      sqs: sqsClient,
      queueUrl: (id) => sqs.queueUrl(id),
      dynamo,
      streamsConfig: { ...localAwsConfig, endpoint: options.dynamoEndpoint },
      invoke: (id, event) => lambda.invoke(id, event),
      asyncRetries: (id) => lambda.get(id).asyncRetries,
      startExecution: (id, input) => void stepFunctions.start(id, input),
      log,
    });
    const control = await startControlServer(
      {
        'dlq/redrive': async (input, progress) => {
          const outcomes = await redriver.redrive(String(input.queue));
          for (const o of outcomes) progress(`${o.delivered ? 'redriven' : 'kept    '} ${o.messageId} -> ${o.target}: ${o.detail}`);
          return outcomes;
        },
        'projections/rebuild': async (_input, progress) => {
          // The tables as the functions know them: the names the stack gives them in their environment.
          const named = (variable: string) => [...lambda.functions.values()].map((fn) => fn.environment[variable]).find(Boolean);
          const client = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
          return rebuildProjections({ client, eventsTable: named('EVENTS_TABLE')!, stateTable: named('STATE_TABLE')!, auditTable: named('AUDIT_TABLE') }, progress);
        },
      },
      options.controlPort,
    );
    closers.unshift(() => control.close());

    scheduler.start();
    closers.unshift(() => scheduler.stop());

    const apis = resolver.ofType('AWS::ApiGatewayV2::Api');
    const routesOf = (apiId: string) =>
      resolver.ofType('AWS::ApiGatewayV2::Route').map(([, r]) => resolver.resolve(r.Properties)).filter((p) => p.ApiId === apiId);
    const functionOfTarget = (target: string) => {
      const integration = resolver.resolve(resolver.resource(target.replace(/^integrations\//, '')).Properties);
      const match = /function:([^/:]+)/.exec(String(integration.IntegrationUri));
      if (!match) throw new Error(`integration ${target} does not invoke a Lambda function`);
      return match[1]!;
    };

    const httpApiId = apis.find(([, r]) => r.Properties?.ProtocolType === 'HTTP')?.[0];
    const httpRoutes: HttpRoute[] = (httpApiId ? routesOf(httpApiId) : []).map((route) => {
      const functionId = functionOfTarget(route.Target);
      let authorize: HttpRoute['authorize'];
      if (route.AuthorizationType === 'JWT') {
        const config = resolver.resolve(resolver.resource(route.AuthorizerId).Properties).JwtConfiguration;
        authorize = async (token) => {
          const claims = await issuer.verify(token);
          if (claims.iss !== config.Issuer || ![claims.aud].flat().some((aud) => config.Audience.includes(aud))) throw new Error('wrong issuer or audience');
          return claims as Record<string, unknown>;
        };
      }
      return { routeKey: route.RouteKey, authorize, invoke: (event) => lambda.invoke(functionId, event) };
    });
    httpRoutes.push({ routeKey: 'GET /local-issuer/.well-known/jwks.json', invoke: async () => issuer.jwks });
    const http = await startHttpApi({
      port: httpPort,
      routes: httpRoutes,
      cors: httpApiId ? resolver.resolve(resolver.resource(httpApiId).Properties?.CorsConfiguration) : undefined,
      onRequest: (entry) => {
        if (entry.error) log(`${entry.method} ${entry.path} -> ${entry.status}: ${entry.error}`);
      },
    });
    closers.unshift(() => http.close());

    const wsApi = apis.find(([, r]) => r.Properties?.ProtocolType === 'WEBSOCKET');
    if (wsApi) {
      const routes = Object.fromEntries(
        routesOf(wsApi[0]).map((route) => {
          const functionId = functionOfTarget(route.Target);
          return [route.RouteKey, async (event: unknown) => (await lambda.invoke(functionId, event)) as { statusCode?: number; body?: string }];
        }),
      );
      const sockets = await startWebSocketApi({ port: wsPort, routes, routeSelection: wsApi[1].Properties?.RouteSelectionExpression });
      closers.unshift(() => sockets.close());
    }

    return {
      httpUrl,
      wsUrl,
      sqsEndpoint: sqs.endpoint,
      controlUrl: control.url,
      redriver,
      sesUrl: ses?.url,
      issuer,
      notRun,
      queues,
      stepFunctions,
      lambda,
      scheduler,
      schedulerEndpoint: schedulerApi.endpoint,
      /**
       * Resolves once every event on the bus so far has reached every target (or its DLQ) and every workflow has
       * ended or waits on a task token, again until nothing new arrives: a workflow's own events reach the bus.
       */
      settled: async () => {
        for (let round = 0; round < 10; round++) {
          await bus.drained();
          await stepFunctions.drained();
          if (bus.pending() === 0) return;
        }
      },
      stripe,
      caldav,
      google,
      graph,
      close: async () => {
        for (const close of [...closers, ...emulators]) await close();
        sqsClient.destroy();
        dynamo.destroy();
      },
    };
  } catch (error) {
    for (const close of [...closers, ...emulators]) await close().catch(() => {});
    throw error;
  }
}

/** Every secret of the template, by logical id, read from `<dir>/<logical id>.json`; the Stripe one is made if missing. */
function localSecrets(resolver: TemplateResolver, dir: string): Map<string, string> {
  mkdirSync(dir, { recursive: true });
  const values = new Map<string, string>();
  for (const [logicalId, resource] of resolver.ofType('AWS::SecretsManager::Secret')) {
    const file = join(dir, `${logicalId}.json`);
    if (!existsSync(file) && resource.Metadata?.[LOCAL_SECRET_METADATA] === 'stripe') {
      const keys = { apiKey: `sk_test_local_${randomBytes(18).toString('hex')}`, webhookSecret: `whsec_${randomBytes(24).toString('base64url')}` };
      writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
    }
    if (!existsSync(file) && resource.Metadata?.[LOCAL_SECRET_METADATA] === 'calendar-oauth') {
      // The local Google and Microsoft servers' dev clients; the state key signs the OAuth state.
      const clients = {
        google: DEFAULT_GOOGLE_CLIENT,
        microsoft: DEFAULT_GRAPH_CLIENT,
        stateKey: randomBytes(32).toString('base64url'),
      };
      writeFileSync(file, JSON.stringify(clients, null, 2), { mode: 0o600 });
    }
    if (existsSync(file)) values.set(logicalId, readFileSync(file, 'utf8'));
  }
  return values;
}

/** The key files that stand in for the template's KMS keys (made on first start), as the variable the vault reads. */
function localKeyFiles(resolver: TemplateResolver, dataDir: string): Record<string, string> {
  const key = resolver.ofType('AWS::KMS::Key').find(([, r]) => r.Metadata?.[LOCAL_KEY_METADATA] === 'calendar-credentials');
  if (!key) return {};
  const file = join(dataDir, 'calendar-credentials.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32), { mode: 0o600 });
  return { CALENDAR_KEY_FILE: file };
}
