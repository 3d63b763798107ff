import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../events/envelope.ts';
import type { Tables } from '../booking-stack.ts';
import { bindTable } from './bind-table.ts';
import { EventSubscriber } from './event-subscriber.ts';
import { bookingEventNames } from './webhooks.ts';

export type AnalyticsProps = { bus: IEventBus; tables: Tables; deadLetterQueue: (id: string) => IQueue };

/** Daily figures per organizer, kept by a subscriber of the booking's events (read by GET /analytics). */
export class Analytics extends Construct {
  constructor(scope: Construct, id: string, props: AnalyticsProps) {
    super(scope, id);
    const subscriber = new EventSubscriber(this, 'Analytics', {
      bus: props.bus,
      entry: 'subscribers/analytics',
      description: 'Counts booking events into daily figures per organizer',
      pattern: { source: [EVENT_SOURCE], detailType: bookingEventNames },
      environment: {},
      deadLetterQueue: props.deadLetterQueue,
    });
    bindTable(subscriber.fn, { table: props.tables.events, variable: 'EVENTS_TABLE', accessMode: 'queryOnly' });
    bindTable(subscriber.fn, { table: props.tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
  }
}
