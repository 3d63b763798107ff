import { Duration, Stack } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RouteDefinition, Tables } from '../booking-stack.ts';
import { bindTable } from './bind-table.ts';
import { ServiceFunction } from './service-function.ts';

export type CalendarPushProps = {
  tables: Tables;
  syncQueue: IQueue;
  deadLetterQueue: (id: string) => IQueue;
  /** What calling a provider takes (the calendars slice's key and OAuth secret): opening credentials only. */
  grantProviders: (fn: IFunction) => void;
  /** The provider variables (key, OAuth secret, sync queue) the notification and renewal functions need. */
  providerEnvironment: Record<string, string>;
};

/**
 * Calendar push: the providers' notification routes (public; each notification proves itself by its channel's
 * secret), the function that renews channels before they expire, run by one-time Scheduler schedules that the
 * connect, the renewal itself and Graph's lifecycle notifications create in a schedule group of their own,
 * the role Scheduler assumes to invoke it, and the dead-letter queue of renewals that kept failing.
 */
export class CalendarPush extends Construct {
  readonly routes: RouteDefinition[];
  readonly renewal: ServiceFunction;
  readonly deadLetters: IQueue;
  readonly group: CfnScheduleGroup;
  /** What a function that schedules renewals is told (the renewal function learns its own ARN when invoked). */
  readonly schedulingEnvironment: Record<string, string>;
  private readonly roleArn: string;
  private readonly scheduleArns: string;

  constructor(scope: Construct, id: string, props: CalendarPushProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.group = new CfnScheduleGroup(this, 'RenewalGroup', {});
    this.scheduleArns = stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.group.ref}/*` });
    // Named, so the functions that pass it are told its ARN without a reference to it: the role's policy names
    // the renewal function, and the renewal function passes the role (a reference would be a cycle).
    const roleName = `${stack.stackName}-calendar-push-renewals`.slice(0, 64);
    this.roleArn = stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: roleName });
    this.deadLetters = props.deadLetterQueue('CalendarPushRenewalDLQ');
    this.schedulingEnvironment = {
      CALENDAR_PUSH_ROLE_ARN: this.roleArn,
      CALENDAR_PUSH_SCHEDULE_GROUP: this.group.ref,
      CALENDAR_PUSH_DLQ_ARN: this.deadLetters.queueArn,
    };

    this.renewal = new ServiceFunction(this, 'RenewFunction', {
      entry: 'scheduled/renew-calendar-push',
      description: 'Renews one calendar push channel (a Google watch channel, a Graph subscription) before it expires, and schedules the next renewal',
      environment: { ...props.providerEnvironment, ...this.schedulingEnvironment },
      timeout: Duration.seconds(60),
      // Scheduler invokes asynchronously: Lambda's retries, then the same dead-letter queue as the schedules'.
      deadLetterQueue: this.deadLetters,
      retryAttempts: 2,
    });
    bindTable(this.renewal, { table: props.tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
    props.grantProviders(this.renewal);
    this.grantScheduling(this.renewal);

    const role = new Role(this, 'SchedulerRole', {
      roleName,
      description: 'Assumed by EventBridge Scheduler to run the calendar push renewals',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    this.renewal.grantInvoke(role);
    this.deadLetters.grantSendMessages(role);

    const grant = (fn: ServiceFunction) => {
      bindTable(fn, { table: props.tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
      props.syncQueue.grantSendMessages(fn);
      props.grantProviders(fn);
      this.grantScheduling(fn);
    };
    const environment = { ...props.providerEnvironment, ...this.schedulingEnvironment, CALENDAR_PUSH_RENEWAL_ARN: this.renewal.functionArn };
    const route = (path: string): RouteDefinition => ({
      method: HttpMethod.POST, path, entry: 'http/calendar-notifications', access: 'public', grant, environment, sharedFunction: 'calendar-notifications',
    });
    this.routes = [
      route('/calendars/notifications/google'),
      route('/calendars/notifications/microsoft'),
      route('/calendars/notifications/microsoft/lifecycle'),
    ];
  }

  /** The variables of a function that schedules renewals and is not the renewal function itself. */
  get schedulerEnvironment(): Record<string, string> {
    return { ...this.schedulingEnvironment, CALENDAR_PUSH_RENEWAL_ARN: this.renewal.functionArn };
  }

  /** Creating and deleting the renewal schedules of this group, and passing the role they run as. */
  grantScheduling(fn: IFunction): void {
    fn.addToRolePolicy(new PolicyStatement({ actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'], resources: [this.scheduleArns] }));
    fn.addToRolePolicy(new PolicyStatement({ actions: ['iam:PassRole'], resources: [this.roleArn], conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } } }));
  }
}
