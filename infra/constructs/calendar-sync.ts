import { Duration } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { CfnFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression, type CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../events/envelope.ts';
import type { Tables } from '../booking-stack.ts';
import { LOCAL_PERIOD_ENVIRONMENT_METADATA, LOCAL_PERIOD_VARIABLE_METADATA } from '../local/scheduler.ts';
import { bindTable } from './bind-table.ts';
import { EventSubscriber } from './event-subscriber.ts';
import { ServiceFunction } from './service-function.ts';

export type CalendarSyncProps = {
  tables: Tables;
  /** The calendars slice's sync queue: the dispatcher puts one message per due connection on it. */
  syncQueue: IQueue;
  /** The slice's worker; locally it is told the shortened period too (see LOCAL_PERIOD_ENVIRONMENT_METADATA). */
  syncWorker?: IFunction;
  /** The CDK context value `syncPeriodSeconds` (default 300). */
  syncPeriodSeconds: number;
  deadLetterQueue: (id: string) => IQueue;
};

/** The local variable that shortens the sync period on `npm start` (down to 5 s; the cloud's floor is a minute). */
export const LOCAL_SYNC_PERIOD_VARIABLE = 'SYNC_PERIOD_SECONDS';

/**
 * The period as Scheduler's rate() can say it: whole minutes, at least one. A period of 90 s syncs every two
 * minutes in the cloud: rounding up never syncs more often than asked (the providers' quotas are per minute).
 */
export function syncScheduleMinutes(periodSeconds: number): number {
  if (!Number.isFinite(periodSeconds) || periodSeconds <= 0) throw new Error(`syncPeriodSeconds must be a positive number of seconds, not ${periodSeconds}`);
  return Math.max(1, Math.ceil(periodSeconds / 60));
}

/**
 * The calendar sync engine's schedule: EventBridge Scheduler invokes the dispatcher every period; it enqueues
 * one sync message per due connection onto the calendars slice's sync queue, whose worker (its maximum
 * concurrency bounded there, for the providers' quotas) reads them.
 */
export class CalendarSync extends Construct {
  readonly dispatcher: ServiceFunction;
  readonly schedule: Schedule;
  readonly dispatchDeadLetters: IQueue;
  private readonly props: CalendarSyncProps;

  constructor(scope: Construct, id: string, props: CalendarSyncProps) {
    super(scope, id);
    this.props = props;
    const minutes = syncScheduleMinutes(props.syncPeriodSeconds);
    this.dispatcher = new ServiceFunction(this, 'DispatchFunction', {
      entry: 'scheduled/dispatch-calendar-sync',
      description: 'Enqueues one calendar sync per connection whose next sync is due',
      environment: { CALENDAR_SYNC_QUEUE_URL: props.syncQueue.queueUrl },
      timeout: Duration.seconds(60),
    });
    bindTable(this.dispatcher, { table: props.tables.state, variable: 'STATE_TABLE', accessMode: 'queryAndUpdate' });
    props.syncQueue.grantSendMessages(this.dispatcher);
    this.dispatchDeadLetters = props.deadLetterQueue('CalendarSyncDispatchDLQ');
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'Dispatches the calendar syncs that are due',
      schedule: ScheduleExpression.rate(Duration.minutes(minutes)),
      // A run older than one period is superseded by the next one: no point retrying it longer.
      target: new LambdaInvoke(this.dispatcher, { retryAttempts: 2, maxEventAge: Duration.minutes(minutes), deadLetterQueue: this.dispatchDeadLetters }),
    });
    (this.schedule.node.defaultChild as CfnSchedule).addMetadata(LOCAL_PERIOD_VARIABLE_METADATA, LOCAL_SYNC_PERIOD_VARIABLE);
    const worker = props.syncWorker?.node.defaultChild as CfnFunction | undefined;
    worker?.addMetadata(LOCAL_PERIOD_ENVIRONMENT_METADATA, { CALENDAR_SYNC_PERIOD_SECONDS: LOCAL_SYNC_PERIOD_VARIABLE });
  }

  /**
   * The subscriber that reconciles a host's conflicts when one of their bookings starts holding time, moves or
   * ends (the sync worker does it when their busy time changes).
   */
  connect(options: { bus: IEventBus }): { conflicts: ServiceFunction } {
    const subscriber = new EventSubscriber(this, 'CalendarConflicts', {
      bus: options.bus,
      entry: 'subscribers/calendar-conflicts',
      description: 'Detects and resolves calendar conflicts when a booking starts holding time, moves or ends',
      pattern: { source: [EVENT_SOURCE], detailType: [...CONFLICT_BOOKING_EVENTS] },
      environment: {},
      timeout: Duration.seconds(60),
      deadLetterQueue: this.props.deadLetterQueue,
    });
    bindTable(subscriber.fn, { table: this.props.tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
    bindTable(subscriber.fn, { table: this.props.tables.events, variable: 'EVENTS_TABLE', accessMode: 'append' });
    return { conflicts: subscriber.fn };
  }
}

/** The booking events after which a host's conflicts may have changed. */
export const CONFLICT_BOOKING_EVENTS = ['booking.confirmed', 'booking.rescheduled', 'booking.cancelled', 'booking.rejected', 'booking.creation.failed'] as const;
