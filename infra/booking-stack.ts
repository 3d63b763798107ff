import { AspectPriority, Aspects, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule, type EventPattern } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { CorsHttpMethod, HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, WebSocketApi, WebSocketStage, type ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { Mfa, UserPool, UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import { EVENT_SOURCE } from '../events/envelope.ts';
import { ServiceFunction } from './constructs/service-function.ts';
import { BookingWorkflow } from './constructs/booking-workflow.ts';
import { OperatorAlarms } from './constructs/alarms.ts';
import { Payments } from './constructs/payments.ts';
import { bindTable } from './constructs/bind-table.ts';
import { acknowledgeNagFindings } from './constructs/nag-acknowledgements.ts';
import { EventSubscriber } from './constructs/event-subscriber.ts';
import { Webhooks } from './constructs/webhooks.ts';
import { Notifications } from './constructs/notifications.ts';
import { Analytics } from './constructs/analytics.ts';
import { InlineRolePolicies } from './constructs/inline-role-policies.ts';

/** How a route is reached: by anyone, by a signed-in organizer (checked by API Gateway), or by either an
 * organizer or the attendee's booking token (checked in the handler, since API Gateway cannot express "or"). */
type Access = 'public' | 'organizer' | 'organizer-or-attendee';
type Tables = { events: Table; state: Table; connections: Table; audit: Table };

type RouteDefinition = {
  method: HttpMethod;
  path: string;
  entry: string;
  /** The export that handles the route, when its module serves several. */
  handler?: string;
  access: Access;
  /**
   * The handler verifies a bearer token itself, so it is told the issuer: a public route that reads an optional
   * token (the owner sees more), or an organizer route that shares the booking routes' caller check.
   */
  verifiesToken?: true;
  grant: (fn: ServiceFunction, tables: Tables) => void;
  /** Variables the route's function needs beyond the common ones (a context's queues). */
  environment?: Record<string, string>;
  /**
   * Routes naming the same shared function are served by one Lambda, whose module's `handler` dispatches on
   * the route key to the export `handler` names. A context with many small routes (webhooks) costs one
   * function instead of one each: CloudFormation allows 500 resources per stack, and a route's own function
   * brings about nine (role, policy, log group, alarms, permission, integration).
   */
  sharedFunction?: string;
};

// Each grant sets the table's variable and its exact actions together (bindTable): a route gets the tables it
// uses and nothing else. The event table is append-only to every writer.
const readState = (fn: ServiceFunction, t: Tables) => bindTable(fn, { table: t.state, variable: 'STATE_TABLE', accessMode: 'read' });
// A booking's read model and its stream of events: `?version=N` folds the booking as it was after event N.
const readHistory = (fn: ServiceFunction, t: Tables) => {
  readState(fn, t);
  bindTable(fn, { table: t.events, variable: 'EVENTS_TABLE', accessMode: 'queryOnly' });
};
const writeBooking = (fn: ServiceFunction, t: Tables) => {
  bindTable(fn, { table: t.events, variable: 'EVENTS_TABLE', accessMode: 'append' });
  bindTable(fn, { table: t.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
};

/** The HTTP API: every route, its handler module, who may call it, and what the handler may touch. */
const routes: RouteDefinition[] = [
  { method: HttpMethod.GET, path: '/health', entry: 'http/health', access: 'public', grant: () => {} },
  // Generated from shared/http/contract.ts, the schemas the handlers parse with.
  { method: HttpMethod.GET, path: '/openapi.json', entry: 'http/openapi', access: 'public', grant: () => {} },
  // The operator console's page; it calls the API like any client, with the operator's token.
  { method: HttpMethod.GET, path: '/console', entry: 'http/console', access: 'public', grant: () => {} },
  { method: HttpMethod.POST, path: '/event-types', entry: 'http/create-event-type', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.GET, path: '/event-types/{id}', entry: 'http/get-event-type', access: 'public', verifiesToken: true, grant: readState },
  { method: HttpMethod.GET, path: '/event-types', entry: 'http/list-event-types', access: 'organizer', grant: readState },
  { method: HttpMethod.PATCH, path: '/event-types/{id}', entry: 'http/update-event-type', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.POST, path: '/bookings', entry: 'http/create-booking', access: 'public', grant: writeBooking },
  { method: HttpMethod.GET, path: '/bookings', entry: 'http/list-bookings', access: 'organizer', grant: readState },
  // Reads the event stream too: `?version=N` folds the booking as it was.
  { method: HttpMethod.GET, path: '/bookings/{id}', entry: 'http/get-booking', access: 'organizer-or-attendee', grant: readHistory },
  { method: HttpMethod.GET, path: '/bookings/{id}/events', entry: 'http/get-booking-events', access: 'organizer-or-attendee', grant: readHistory },
  {
    method: HttpMethod.GET,
    path: '/bookings/{id}/audit',
    entry: 'http/get-booking-audit',
    access: 'organizer',
    grant: (fn, t) => {
      readState(fn, t);
      bindTable(fn, { table: t.audit, variable: 'AUDIT_TABLE', accessMode: 'queryOnly' });
    },
  },
  { method: HttpMethod.POST, path: '/bookings/{id}/cancel', entry: 'http/cancel-booking', access: 'organizer-or-attendee', grant: writeBooking },
  { method: HttpMethod.POST, path: '/bookings/{id}/reschedule', entry: 'http/reschedule-booking', access: 'organizer-or-attendee', grant: writeBooking },
  { method: HttpMethod.POST, path: '/bookings/{id}/confirm', entry: 'http/confirm-booking', access: 'organizer', verifiesToken: true, grant: writeBooking },
  { method: HttpMethod.POST, path: '/bookings/{id}/reject', entry: 'http/reject-booking', access: 'organizer', verifiesToken: true, grant: writeBooking },
  { method: HttpMethod.GET, path: '/slots', entry: 'http/get-slots', access: 'public', grant: readState },
  // Shares the reports function with the webhooks' GET routes (infra/constructs/webhooks.ts).
  { method: HttpMethod.GET, path: '/analytics', entry: 'http/reports', access: 'organizer', grant: readState, sharedFunction: 'reports' },
  { method: HttpMethod.GET, path: '/users/me', entry: 'http/users', handler: 'getMe', access: 'organizer', grant: readState },
  { method: HttpMethod.POST, path: '/users/me', entry: 'http/users', handler: 'createMe', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.PATCH, path: '/users/me', entry: 'http/users', handler: 'updateMe', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.DELETE, path: '/users/me', entry: 'http/users', handler: 'deleteMe', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.POST, path: '/schedules', entry: 'http/schedules', handler: 'create', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.GET, path: '/schedules', entry: 'http/schedules', handler: 'list', access: 'organizer', grant: readState },
  { method: HttpMethod.GET, path: '/schedules/{id}', entry: 'http/schedules', handler: 'get', access: 'organizer', grant: readState },
  { method: HttpMethod.PATCH, path: '/schedules/{id}', entry: 'http/schedules', handler: 'update', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.POST, path: '/organizations', entry: 'http/organizations', handler: 'create', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.GET, path: '/organizations/{id}', entry: 'http/organizations', handler: 'get', access: 'organizer', grant: readState },
  { method: HttpMethod.POST, path: '/organizations/{id}/invitations', entry: 'http/organizations', handler: 'invite', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.DELETE, path: '/organizations/{id}/invitations/{userId}', entry: 'http/organizations', handler: 'revokeInvitation', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.POST, path: '/organizations/{id}/invitations/accept', entry: 'http/organizations', handler: 'acceptInvitation', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.POST, path: '/organizations/{id}/invitations/decline', entry: 'http/organizations', handler: 'declineInvitation', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.GET, path: '/invitations', entry: 'http/organizations', handler: 'listInvitations', access: 'organizer', grant: readState },
  { method: HttpMethod.DELETE, path: '/organizations/{id}/members/{userId}', entry: 'http/organizations', handler: 'removeMember', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.POST, path: '/organizations/{id}/teams', entry: 'http/organizations', handler: 'createTeam', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.GET, path: '/teams/{id}', entry: 'http/organizations', handler: 'getTeam', access: 'organizer', grant: readState },
  { method: HttpMethod.POST, path: '/teams/{id}/members', entry: 'http/organizations', handler: 'addTeamMember', access: 'organizer', grant: writeBooking },
  { method: HttpMethod.DELETE, path: '/teams/{id}/members/{userId}', entry: 'http/organizations', handler: 'removeTeamMember', access: 'organizer', grant: writeBooking },
];

/** Every domain event this service publishes; subscribers that want all of them use this pattern. */
const allDomainEvents: EventPattern = { source: [EVENT_SOURCE] };

/**
 * Requests per second (steady) and burst per API stage, across all clients: API Gateway answers 429 beyond it,
 * before any function runs. Sized well above what one account's Lambda concurrency (1,000 by default) carries
 * at our ~50 ms per request, so it sheds floods, not customers; raise both together with the Lambda quota.
 */
const stageThrottle: ThrottleSettings = { rateLimit: 2_000, burstLimit: 1_000 };

export class BookingStack extends Stack {
  private readonly alarms: OperatorAlarms;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.alarms = new OperatorAlarms(this, 'Alarms', { email: this.node.tryGetContext('alarmEmail') as string | undefined });

    const tables = this.tables();
    const bus = new EventBus(this, 'DomainEventBus', { description: 'Every domain event of the booking engine' });

    // Who signs the organizers' tokens: a Cognito user pool of the stack's own, unless the operator names an
    // OpenID Connect issuer of theirs (cdk deploy -c jwtIssuer=... -c jwtAudience=...).
    const issuerFromContext = this.node.tryGetContext('jwtIssuer') as string | undefined;
    let jwtIssuer: string;
    let jwtAudience: string;
    if (issuerFromContext) {
      jwtIssuer = issuerFromContext;
      jwtAudience = this.node.getContext('jwtAudience') as string;
    } else {
      const users = new UserPool(this, 'Organizers', {
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        mfa: Mfa.OPTIONAL,
        mfaSecondFactor: { otp: true, sms: false },
        passwordPolicy: { minLength: 12, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // The authorization code flow (with PKCE, as Cognito requires for public clients) and SRP only: the
      // implicit flow would hand tokens out in URLs.
      const client = new UserPoolClient(this, 'OrganizerAppClient', {
        userPool: users,
        authFlows: { userSrp: true },
        oAuth: { flows: { authorizationCodeGrant: true, implicitCodeGrant: false }, callbackUrls: [this.node.tryGetContext('oauthCallbackUrl') ?? 'http://localhost:5173/callback'] },
        preventUserExistenceErrors: true,
      });
      jwtIssuer = `https://cognito-idp.${this.region}.amazonaws.com/${users.userPoolId}`;
      jwtAudience = client.userPoolClientId;
    }

    // What a function that verifies tokens itself needs (API Gateway verifies them on organizer routes); tables
    // come with their grants (bindTable), so each function has only the environment it uses.
    const tokenEnvironment = { JWT_ISSUER: jwtIssuer, JWT_AUDIENCE: jwtAudience };

    const deadLetterQueue = (id: string) => this.deadLetterQueue(id);
    const webhooks = new Webhooks(this, 'Webhooks', { bus, tables, deadLetterQueue });
    const api = this.httpApi(tables, tokenEnvironment, jwtIssuer, jwtAudience, [...routes, ...webhooks.routes]);
    new Notifications(this, 'Notifications', {
      bus,
      tables,
      publicApiUrl: api.apiEndpoint,
      from: (this.node.tryGetContext('mailFrom') as string | undefined) ?? 'Bookings <bookings@example.com>',
      deadLetterQueue,
    });
    new Analytics(this, 'Analytics', { bus, tables, deadLetterQueue });
    this.publisher(tables, bus);
    const payments = new Payments(this, 'Payments', { tables, tokenEnvironment });
    const workflow = new BookingWorkflow(this, 'BookingWorkflow', { tables, payments: payments.workflowPayments });
    const watched = payments.connect({ api, stateMachine: workflow.stateMachine, bus });
    this.alarms.apiFunctions(watched.apiFunctions, 'Payments');
    for (const { name, queue } of watched.deadLetterQueues) this.alarms.deadLetters(name, queue);
    this.alarms.workflow('BookingWorkflow', workflow.stateMachine);
    this.startWorkflowOnRequest(bus, workflow);
    this.subscribers(tables, bus, tokenEnvironment);
    this.settleDueBookings(tables);
    // Last, so that it sees every construct: the cdk-nag findings kept on purpose, each with its reason.
    acknowledgeNagFindings(this);
    // Each role carries its statements inline: one resource per function fewer (infra/constructs/inline-role-policies.ts).
    Aspects.of(this).add(new InlineRolePolicies(), { priority: AspectPriority.MUTATING });
  }

  /** Every quarter hour: ended bookings are completed, unconfirmed ones that have started expire, stranded drafts are released. */
  private settleDueBookings(tables: Tables) {
    const sweep = new ServiceFunction(this, 'SettleBookingsFunction', {
      entry: 'scheduled/settle-bookings',
      description: 'Completes ended bookings, expires unconfirmed ones that have started, releases drafts their workflow never took up',
      timeout: Duration.minutes(5),
    });
    bindTable(sweep, { table: tables.events, variable: 'EVENTS_TABLE', accessMode: 'append' });
    bindTable(sweep, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
    new Schedule(this, 'SettleBookingsSchedule', {
      description: 'Completes ended bookings, expires unconfirmed ones, releases stranded drafts',
      schedule: ScheduleExpression.rate(Duration.minutes(15)),
      target: new LambdaInvoke(sweep, { retryAttempts: 3, maxEventAge: Duration.hours(1), deadLetterQueue: this.deadLetterQueue('SettleBookingsDLQ') }),
    });
  }

  private tables(): Tables {
    const common = { billingMode: BillingMode.PAY_PER_REQUEST, pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true } };
    const events = new Table(this, 'EventsTable', {
      ...common,
      partitionKey: { name: 'aggregateId', type: AttributeType.STRING },
      sortKey: { name: 'version', type: AttributeType.NUMBER },
      stream: StreamViewType.NEW_IMAGE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Read models, time claims, event types and idempotency records: everything derived or guarded.
    const state = new Table(this, 'StateTable', {
      ...common,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    state.addGlobalSecondaryIndex({
      indexName: 'byOwner',
      partitionKey: { name: 'ownerKey', type: AttributeType.STRING },
      sortKey: { name: 'ownerSort', type: AttributeType.STRING },
    });
    const connections = new Table(this, 'ConnectionsTable', {
      billingMode: BillingMode.PAY_PER_REQUEST,
      partitionKey: { name: 'connectionId', type: AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    connections.addGlobalSecondaryIndex({ indexName: 'byUser', partitionKey: { name: 'userId', type: AttributeType.STRING } });
    const audit = new Table(this, 'AuditTable', {
      ...common,
      partitionKey: { name: 'aggregateId', type: AttributeType.STRING },
      sortKey: { name: 'entry', type: AttributeType.STRING },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    return { events, state, connections, audit };
  }

  private httpApi(tables: Tables, tokenEnvironment: Record<string, string>, jwtIssuer: string, jwtAudience: string, allRoutes: RouteDefinition[]): HttpApi {
    const api = new HttpApi(this, 'HttpApi', {
      description: 'Booking engine HTTP API',
      corsPreflight: { allowOrigins: ['*'], allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-booking-token'], allowMethods: [CorsHttpMethod.ANY] },
      createDefaultStage: false,
    });
    new HttpStage(this, 'HttpApiStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: stageThrottle,
      accessLogSettings: { destination: new LogGroupLogDestination(new LogGroup(this, 'HttpApiAccessLogs', { retention: RetentionDays.ONE_MONTH })), format: AccessLogFormat.jsonWithStandardFields() },
    });
    this.alarms.httpApi(api);
    const authorizer = new HttpJwtAuthorizer('OrganizerJwt', jwtIssuer, { jwtAudience: [jwtAudience] });
    const apiFunctions: Array<{ name: string; fn: ServiceFunction }> = [];
    const shared = new Map<string, { fn: ServiceFunction; integration: HttpLambdaIntegration; granted: Set<RouteDefinition['grant']> }>();
    for (const route of allRoutes) {
      const name = route.sharedFunction ?? (route.handler ? `${route.entry.split('/').at(-1)}-${route.handler}` : route.entry.split('/').at(-1)!);
      const id = name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
      let target = route.sharedFunction ? shared.get(route.sharedFunction) : undefined;
      if (!target) {
        // API Gateway verifies organizers' tokens; a route that lets either an organizer or the attendee in, or
        // one that says it verifies tokens itself, needs the issuer.
        const tokens = route.access === 'organizer-or-attendee' || route.verifiesToken ? tokenEnvironment : {};
        const fn = new ServiceFunction(this, `${id}Function`, { entry: route.entry, handler: route.sharedFunction ? 'handler' : route.handler, environment: { ...tokens, ...route.environment } });
        apiFunctions.push({ name: id, fn });
        // One invoke permission per function for the whole API, not one per route (scopePermissionToRoute), which
        // would cost a resource for each of a shared function's routes: only this API's own routes reach it anyway.
        target = { fn, integration: new HttpLambdaIntegration(`${id}Integration`, fn, { scopePermissionToRoute: false }), granted: new Set() };
        if (route.sharedFunction) shared.set(route.sharedFunction, target);
      }
      // A shared function gets each grant once, however many of its routes name it.
      if (!target.granted.has(route.grant)) route.grant(target.fn, tables);
      target.granted.add(route.grant);
      api.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: target.integration,
        authorizer: route.access === 'organizer' ? authorizer : undefined,
      });
    }
    this.alarms.apiFunctions(apiFunctions);
    new CfnOutput(this, 'HttpApiUrl', { value: api.apiEndpoint });
    return api;
  }

  private publisher(tables: Tables, bus: EventBus) {
    const failed = this.deadLetterQueue('PublisherDLQ');
    const publisher = new ServiceFunction(this, 'PublishEventsFunction', {
      entry: 'stream/publish-events',
      description: 'Puts every appended domain event on the bus',
      environment: { EVENT_BUS_NAME: bus.eventBusName },
      timeout: Duration.seconds(30),
    });
    bus.grantPutEventsTo(publisher);
    this.alarms.streamBehind('PublishEvents', publisher);
    publisher.addEventSource(
      new DynamoEventSource(tables.events, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        retryAttempts: 5,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        maxRecordAge: Duration.hours(24),
        onFailure: new SqsDlq(failed),
      }),
    );
  }

  private startWorkflowOnRequest(bus: EventBus, workflow: BookingWorkflow) {
    new Rule(this, 'StartBookingWorkflowRule', {
      eventBus: bus,
      description: 'A requested booking starts its workflow',
      eventPattern: { source: [EVENT_SOURCE], detailType: ['booking.requested'] },
      targets: [
        new SfnStateMachine(workflow.stateMachine, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: this.deadLetterQueue('StartBookingWorkflowDLQ'),
        }),
      ],
    });
  }

  private subscribers(tables: Tables, bus: EventBus, tokenEnvironment: Record<string, string>) {
    const audit = this.subscriber(bus, 'AuditLog', 'subscribers/audit-log', allDomainEvents, {});
    bindTable(audit, { table: tables.audit, variable: 'AUDIT_TABLE', accessMode: 'putOnly' });

    const sockets = new WebSocketApi(this, 'WebSocketApi', { description: 'Live booking updates' });
    const stage = new WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: sockets,
      stageName: 'live',
      autoDeploy: true,
      throttle: stageThrottle,
      accessLogSettings: { destination: new LogGroupLogDestination(new LogGroup(this, 'WebSocketAccessLogs', { retention: RetentionDays.ONE_MONTH })), format: AccessLogFormat.jsonWithStandardFields() },
    });
    this.alarms.webSocketApi(sockets, stage.stageName);
    // $connect verifies the token itself (a browser cannot send an Authorization header on a WebSocket).
    const connect = new ServiceFunction(this, 'WsConnectFunction', { entry: 'ws/connect', environment: tokenEnvironment });
    const disconnect = new ServiceFunction(this, 'WsDisconnectFunction', { entry: 'ws/disconnect' });
    // Pings, and resumes: replays a listener's feed (state table) onto the connection.
    const keepAlive = new ServiceFunction(this, 'WsDefaultFunction', { entry: 'ws/default', environment: { WS_MANAGEMENT_ENDPOINT: stage.callbackUrl } });
    bindTable(connect, { table: tables.connections, variable: 'CONNECTIONS_TABLE', accessMode: 'putOnly' });
    bindTable(connect, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'read' });
    bindTable(disconnect, { table: tables.connections, variable: 'CONNECTIONS_TABLE', accessMode: 'deleteOnly' });
    // Reads the connection's listener and resume point; forgets a connection API Gateway reports gone.
    bindTable(keepAlive, { table: tables.connections, variable: 'CONNECTIONS_TABLE', accessMode: 'getAndDelete' });
    bindTable(keepAlive, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'read' });
    stage.grantManagementApiAccess(keepAlive);
    sockets.addRoute('$connect', { integration: new WebSocketLambdaIntegration('WsConnect', connect) });
    sockets.addRoute('$disconnect', { integration: new WebSocketLambdaIntegration('WsDisconnect', disconnect) });
    sockets.addRoute('$default', { integration: new WebSocketLambdaIntegration('WsDefault', keepAlive), returnResponse: true });

    const push = this.subscriber(bus, 'RealtimePush', 'subscribers/realtime-push', allDomainEvents, { WS_MANAGEMENT_ENDPOINT: stage.callbackUrl });
    // Reads who an event concerns and appends it to each listener's feed (new items only: positions, markers).
    bindTable(push, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'readAndPut' });
    bindTable(push, { table: tables.connections, variable: 'CONNECTIONS_TABLE', accessMode: 'queryAndDelete' });
    stage.grantManagementApiAccess(push);
    new CfnOutput(this, 'WebSocketUrl', { value: stage.url });
  }

  /** A bus subscriber: retried by EventBridge on delivery and by Lambda on error, then parked in its own DLQ. */
  private subscriber(bus: EventBus, name: string, entry: string, pattern: EventPattern, environment: Record<string, string>) {
    return new EventSubscriber(this, name, { bus, entry, pattern, environment, deadLetterQueue: (id) => this.deadLetterQueue(id) }).fn;
  }

  /** A dead-letter queue, with the alarm that tells the operator the moment anything is parked in it. */
  private deadLetterQueue(id: string): IQueue {
    const queue = new Queue(this, id, {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.alarms.deadLetters(id, queue);
    return queue;
  }
}

export type { Tables, ITable, RouteDefinition };
