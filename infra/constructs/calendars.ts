import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { Key, type CfnKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Secret, type CfnSecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../events/envelope.ts';
import { bookingEventsWritten } from '../../shared/calendars/booking-events.ts';
import type { RouteDefinition, Tables } from '../booking-stack.ts';
import { bindTable } from './bind-table.ts';
import { CalendarPush } from './calendar-push.ts';
import { EventSubscriber } from './event-subscriber.ts';
import { LOCAL_SECRET_METADATA } from './payments.ts';
import { ServiceFunction } from './service-function.ts';

export type CalendarsProps = {
  tables: Tables;
  deadLetterQueue: (id: string) => IQueue;
  /** Seconds between scheduled syncs (the sync engine's schedule; the CDK context value `syncPeriodSeconds`). */
  syncPeriodSeconds: number;
};

/** Metadata by which the local runtime knows the calendars' KMS key (its stand-in locally is a key file). */
export const LOCAL_KEY_METADATA = 'BookingEngine:LocalKey';

/**
 * Calendars: the organizer's connection routes (one function for all of them), the KMS key the credentials are
 * sealed under, the OAuth client secret, the sync queue and its worker, and the subscriber that writes bookings
 * into the hosts' calendars. The sync engine (issue 9) adds its dispatcher and push routes onto `syncQueue`.
 */
export class Calendars extends Construct {
  readonly routes: RouteDefinition[];
  readonly key: Key;
  readonly oauthSecret: Secret;
  readonly syncQueue: Queue;
  readonly syncDeadLetters: IQueue;
  readonly syncWorker: ServiceFunction;
  /** Push: the notification routes, the channels' renewal function and its schedules (calendar-push.ts). */
  readonly push: CalendarPush;
  /** What every function that calls a provider is told: the key, the OAuth secret, the sync queue. */
  readonly environment: Record<string, string>;
  /** What the workflow's live busy check needs: provider calls, no sealing, no queue. */
  readonly liveBusy: { environment: Record<string, string>; grant: (fn: IFunction) => void };
  private readonly props: CalendarsProps;

  constructor(scope: Construct, id: string, props: CalendarsProps) {
    super(scope, id);
    this.props = props;
    const { tables } = props;
    this.key = new Key(this, 'CredentialsKey', {
      description: 'Seals the calendar connections\' credentials (envelope encryption, one data key per connection)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    (this.key.node.defaultChild as CfnKey).addMetadata(LOCAL_KEY_METADATA, 'calendar-credentials');
    this.oauthSecret = new Secret(this, 'OAuthSecret', {
      description: 'Calendar OAuth clients, as JSON {"google": {"clientId", "clientSecret"}, "microsoft": {...}, "stateKey"?}; set it with aws secretsmanager put-secret-value',
    });
    (this.oauthSecret.node.defaultChild as CfnSecret).addMetadata(LOCAL_SECRET_METADATA, 'calendar-oauth');

    const workerTimeout = 120;
    this.syncDeadLetters = props.deadLetterQueue('CalendarSyncDLQ');
    this.syncQueue = new Queue(this, 'SyncQueue', {
      // Six times the worker's timeout, as AWS advises for a Lambda event source.
      visibilityTimeout: Duration.seconds(6 * workerTimeout),
      retentionPeriod: Duration.days(4),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A read that keeps failing is parked after five tries; the connection's sync state shows the error.
      deadLetterQueue: { queue: this.syncDeadLetters, maxReceiveCount: 5 },
    });
    this.environment = {
      CALENDAR_KEY_ID: this.key.keyArn,
      CALENDAR_OAUTH_SECRET_ARN: this.oauthSecret.secretArn,
      CALENDAR_SYNC_QUEUE_URL: this.syncQueue.queueUrl,
    };

    this.liveBusy = {
      environment: { CALENDAR_KEY_ID: this.key.keyArn, CALENDAR_OAUTH_SECRET_ARN: this.oauthSecret.secretArn },
      grant: (fn) => this.grantProviders(fn, 'decrypt'),
    };

    this.syncWorker = new ServiceFunction(this, 'SyncWorkerFunction', {
      entry: 'sync/calendar-sync',
      description: 'Reads one calendar connection\'s busy time per message and merges it into the busy-time store',
      environment: { ...this.environment, CALENDAR_SYNC_PERIOD_SECONDS: String(props.syncPeriodSeconds) },
      timeout: Duration.seconds(workerTimeout),
    });
    // At most five connections are read at once: the providers' per-app quotas are the limit, not Lambda.
    this.syncWorker.addEventSource(new SqsEventSource(this.syncQueue, { batchSize: 5, reportBatchItemFailures: true, maxConcurrency: 5 }));
    this.grantProviders(this.syncWorker, 'decrypt');
    bindTable(this.syncWorker, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
    bindTable(this.syncWorker, { table: tables.events, variable: 'EVENTS_TABLE', accessMode: 'append' });
    this.syncQueue.grantSendMessages(this.syncWorker);

    this.push = new CalendarPush(this, 'Push', {
      tables,
      syncQueue: this.syncQueue,
      deadLetterQueue: props.deadLetterQueue,
      grantProviders: (fn) => this.grantProviders(fn, 'decrypt'),
      providerEnvironment: this.environment,
    });

    const grant = (fn: ServiceFunction) => {
      bindTable(fn, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
      bindTable(fn, { table: tables.events, variable: 'EVENTS_TABLE', accessMode: 'append' });
      this.grantProviders(fn, 'seal');
      this.syncQueue.grantSendMessages(fn);
      // Connect makes push channels and schedules their renewals; disconnect deletes them.
      this.push.grantScheduling(fn);
    };
    const routeEnvironment = { ...this.environment, ...this.push.schedulerEnvironment };
    const route = (method: HttpMethod, path: string, access: RouteDefinition['access'] = 'organizer'): RouteDefinition => ({
      method, path, entry: 'http/calendars', access, grant, environment: routeEnvironment, sharedFunction: 'calendars',
    });
    this.routes = [
      route(HttpMethod.POST, '/calendars/connections'),
      route(HttpMethod.GET, '/calendars/connections'),
      route(HttpMethod.GET, '/calendars/connections/{id}'),
      route(HttpMethod.PATCH, '/calendars/connections/{id}'),
      route(HttpMethod.DELETE, '/calendars/connections/{id}'),
      route(HttpMethod.POST, '/calendars/connections/{id}/sync'),
      route(HttpMethod.GET, '/calendars/connect/{provider}'),
      // The provider sends the organizer's browser here: no JWT, the signed single-use state is the proof.
      route(HttpMethod.GET, '/calendars/callback/{provider}', 'public'),
      ...this.push.routes,
    ];
  }

  /**
   * What calling a provider takes: the OAuth client secret (a token refresh needs it) and the key: Decrypt to
   * open credentials, GenerateDataKey too where new ones are sealed.
   */
  grantProviders(fn: IFunction, use: 'decrypt' | 'seal'): void {
    this.oauthSecret.grantRead(fn);
    if (use === 'seal') this.key.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
    else this.key.grantDecrypt(fn);
  }

  /** The subscriber that writes each booking into its hosts' destination calendars (needs the API's URL for the manage link). */
  connect(options: { bus: IEventBus; publicApiUrl: string }): { writer: ServiceFunction } {
    const { tables } = this.props;
    const writes = new EventSubscriber(this, 'CalendarWrites', {
      bus: options.bus,
      entry: 'subscribers/calendar-writes',
      description: 'Writes each confirmed booking into its hosts\' destination calendars, and moves or removes it with the booking',
      pattern: { source: [EVENT_SOURCE], detailType: [...bookingEventsWritten] },
      environment: { ...this.environment, PUBLIC_API_URL: options.publicApiUrl },
      timeout: Duration.seconds(60),
      deadLetterQueue: this.props.deadLetterQueue,
    });
    bindTable(writes.fn, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
    bindTable(writes.fn, { table: tables.events, variable: 'EVENTS_TABLE', accessMode: 'append' });
    this.grantProviders(writes.fn, 'decrypt');
    // The sync's reconcile writes bookings back through the same path, with the same manage link.
    this.syncWorker.addEnvironment('PUBLIC_API_URL', options.publicApiUrl);
    return { writer: writes.fn };
  }
}
