import { Duration } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../events/envelope.ts';
import { eventCatalog, eventTypeNames } from '../../events/catalog.ts';
import type { RouteDefinition, Tables } from '../booking-stack.ts';
import { EventSubscriber } from './event-subscriber.ts';
import { ServiceFunction } from './service-function.ts';
import { bindTable } from './bind-table.ts';

export type WebhooksProps = {
  bus: IEventBus;
  tables: Tables;
  deadLetterQueue: (id: string) => IQueue;
};

/** The booking's events, which are what a webhook may receive. */
export const bookingEventNames = eventTypeNames.filter((name) => eventCatalog[name].aggregateType === 'booking');

/**
 * Outbound webhooks: the subscriber that turns each booking event into deliveries, the delivery queue whose
 * messages are the attempts (a retry is a message sent back with a delay, hop by hop for waits over SQS's 15
 * minutes), the worker that makes them, the dead-letter queue where spent deliveries are parked, and the
 * organizer's routes.
 */
export class Webhooks extends Construct {
  readonly routes: RouteDefinition[];

  constructor(scope: Construct, id: string, props: WebhooksProps) {
    super(scope, id);
    const { tables } = props;
    const parked = props.deadLetterQueue('WebhookDeliveriesDLQ');
    const worker = 60;
    const queue = new Queue(this, 'DeliveryQueue', {
      // Six times the worker's timeout, as AWS advises for a Lambda event source.
      visibilityTimeout: Duration.seconds(6 * worker),
      retentionPeriod: Duration.days(4),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Only our own failures (the worker threw) come back; after five, the message is parked too.
      deadLetterQueue: { queue: parked, maxReceiveCount: 5 },
    });
    // The tables come with their grants (bindTable); these are the queues the code sends to.
    const environment = {
      WEBHOOK_QUEUE_URL: queue.queueUrl,
      WEBHOOK_DLQ_URL: parked.queueUrl,
    };

    const deliver = new ServiceFunction(this, 'DeliverFunction', {
      entry: 'webhooks/deliver',
      description: 'Makes one webhook delivery attempt per message and queues the next on failure',
      environment,
      // Five deliveries at once, each at most 10 s, plus the reads and writes around them.
      timeout: Duration.seconds(worker),
    });
    deliver.addEventSource(new SqsEventSource(queue, { batchSize: 5, reportBatchItemFailures: true }));
    const grantWorker = (fn: ServiceFunction) => {
      bindTable(fn, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
      bindTable(fn, { table: tables.events, variable: 'EVENTS_TABLE', accessMode: 'append' });
      queue.grantSendMessages(fn);
      parked.grantSendMessages(fn);
    };
    grantWorker(deliver);

    const fanOut = new EventSubscriber(this, 'Webhooks', {
      bus: props.bus,
      entry: 'subscribers/webhooks',
      description: 'Turns each booking event into deliveries to the organizer\'s webhooks',
      pattern: { source: [EVENT_SOURCE], detailType: bookingEventNames },
      environment,
      deadLetterQueue: props.deadLetterQueue,
    });
    bindTable(fanOut.fn, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
    bindTable(fanOut.fn, { table: tables.events, variable: 'EVENTS_TABLE', accessMode: 'queryOnly' });
    queue.grantSendMessages(fanOut.fn);

    // Two functions serve the webhook routes (the stack's sharedFunction): one grant covers all writing routes
    // (subscriptions and deliveries in the state table, the event store for replays, the queue for redeliveries).
    const grant = (fn: ServiceFunction) => grantWorker(fn);
    const grantRead = (fn: ServiceFunction) => bindTable(fn, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'read' });
    // Reads and writes are two functions, so that no GET route holds a write permission.
    const route = (method: HttpMethod, path: string, handler: string): RouteDefinition =>
      method === HttpMethod.GET
        ? { method, path, entry: 'http/reports', handler, access: 'organizer', grant: grantRead, environment, sharedFunction: 'reports' }
        : { method, path, entry: 'http/webhooks', handler, access: 'organizer', grant, environment, sharedFunction: 'webhooks-write' };
    this.routes = [
      route(HttpMethod.POST, '/webhooks', 'create'),
      route(HttpMethod.GET, '/webhooks', 'list'),
      route(HttpMethod.GET, '/webhooks/{id}', 'get'),
      route(HttpMethod.PATCH, '/webhooks/{id}', 'update'),
      route(HttpMethod.DELETE, '/webhooks/{id}', 'remove'),
      route(HttpMethod.POST, '/webhooks/{id}/secret/rotate', 'rotateSecret'),
      route(HttpMethod.GET, '/webhooks/{id}/deliveries', 'deliveries'),
      route(HttpMethod.POST, '/webhooks/{id}/deliveries/{eventId}/redeliver', 'redeliverOne'),
      route(HttpMethod.POST, '/webhooks/{id}/replay', 'replayRange'),
    ];
  }
}
