import { Stack } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { ConfigurationSet, SuppressionReasons } from 'aws-cdk-lib/aws-ses';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../events/envelope.ts';
import type { Tables } from '../booking-stack.ts';
import { bindTable } from './bind-table.ts';
import { EventSubscriber } from './event-subscriber.ts';
import { organizerNoticeEvents } from '../../shared/notifications/plan.ts';
import { bookingEventNames } from './webhooks.ts';

export type NotificationsProps = {
  bus: IEventBus;
  tables: Tables;
  /** The HTTP API's URL, for the attendee's link to their booking. */
  publicApiUrl: string;
  /** The sender, e.g. "Bookings <bookings@example.com>" (context `mailFrom`); its domain must be verified in SES. */
  from: string;
  deadLetterQueue: (id: string) => IQueue;
};

/**
 * Email for the booking's lifecycle (and, to the organizer, a disabled webhook or a calendar connection that
 * needs him: organizerNoticeEvents) through SES. The configuration set puts an
 * address that bounces or complains on the account's suppression list, so SES stops sending to it.
 */
export class Notifications extends Construct {
  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const configurationSet = new ConfigurationSet(this, 'MailConfigurationSet', { suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS });
    const subscriber = new EventSubscriber(this, 'Notifications', {
      bus: props.bus,
      entry: 'subscribers/notifications',
      description: 'Mails attendees and hosts about their bookings, with calendar invites',
      pattern: { source: [EVENT_SOURCE], detailType: [...bookingEventNames, ...organizerNoticeEvents] },
      environment: {
        MAIL_FROM: props.from,
        PUBLIC_API_URL: props.publicApiUrl,
        SES_CONFIGURATION_SET: configurationSet.configurationSetName,
      },
      copyIntoBundle: [['shared/notifications/templates', 'templates']],
      deadLetterQueue: props.deadLetterQueue,
    });
    bindTable(subscriber.fn, { table: props.tables.events, variable: 'EVENTS_TABLE', accessMode: 'queryOnly' });
    bindTable(subscriber.fn, { table: props.tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
    const { region, account } = Stack.of(this);
    subscriber.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendRawEmail'],
        resources: [`arn:aws:ses:${region}:${account}:identity/*`, `arn:aws:ses:${region}:${account}:configuration-set/${configurationSet.configurationSetName}`],
      }),
    );
  }
}
