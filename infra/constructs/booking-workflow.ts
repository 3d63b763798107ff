import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Choice, Condition, DefinitionBody, Errors, Fail, IntegrationPattern, JsonPath, LogLevel, StateMachine, StateMachineType, Succeed, TaskInput, Timeout, type IChainable } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { ServiceFunction } from './service-function.ts';
import { bindTable } from './bind-table.ts';

/** Error names the step functions throw on purpose; the state machine routes on them. */
export const workflowErrors = { refused: 'BookingRefused', concurrency: 'ConcurrencyError', paymentFailed: 'PaymentFailed' } as const;

/** What the payment steps need beyond the tables: the Stripe secret's name and the grant to read it. */
export type WorkflowPayments = { environment: Record<string, string>; grantStripe: (fn: ServiceFunction) => void };

/** What CheckAvailability needs to ask the hosts' calendars live: the calendars' key and OAuth secret. */
export type WorkflowCalendars = { environment: Record<string, string>; grant: (fn: ServiceFunction) => void };

type Props = { tables: { events: Table; state: Table }; payments: WorkflowPayments; calendars?: WorkflowCalendars };

/**
 * The saga of one requested booking (Standard workflow: exactly-once steps, room for long waits such as a
 * payment later). Steps: validate, check availability, accept (which confirms, or leaves the booking waiting
 * for the organizer or a payment). A refusal or an exhausted step ends the booking in booking.creation.failed,
 * which gives its time back. Calendar and notification steps slot in after the payment.
 * Nothing here has to be perfect for the time to come back: a draft this workflow never starts for, or leaves
 * behind when FailCreation itself fails, is released by the settle sweep once it is stranded
 * (`strandedAfterMinutes` after the request), and a run that comes after that finds no draft and ends.
 *
 * A priced booking then pays, in this one execution: `Payment` starts an attempt and pauses
 * (.waitForTaskToken) until the Stripe webhook resumes it, at most the payment window (its task timeout). A
 * failure waits in `AwaitRetry` for the attendee's retry (a new attempt, back to `Payment`) for the rest of the
 * window; a window that passes expires the payment and releases the booking's time. One execution per
 * booking rather than one per attempt: the saga's history reads as the booking's, and the loop has no
 * second starter to keep exactly-once.
 */
export class BookingWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: Props) {
    super(scope, id);
    // The payment steps' module resumes its own task when a webhook settled the attempt first: they may send
    // this state machine's task tokens (granted once it exists), and nothing else may.
    const paymentSteps: ServiceFunction[] = [];
    const step = (name: string, handler: string, entry = 'workflow/booking-steps') => {
      const paying = entry === 'workflow/payment-steps';
      const fn = new ServiceFunction(this, `${name}Function`, { entry, handler, environment: paying ? props.payments.environment : undefined, timeout: paying ? Duration.seconds(30) : undefined });
      if (paying) {
        props.payments.grantStripe(fn);
        paymentSteps.push(fn);
      }
      bindTable(fn, { table: props.tables.events, variable: 'EVENTS_TABLE', accessMode: 'append' });
      bindTable(fn, { table: props.tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
      return fn;
    };
    const invoke = (name: string, fn: ServiceFunction) => {
      const task = new LambdaInvoke(this, name, {
        lambdaFunction: fn,
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
      });
      task.addRetry({ errors: [workflowErrors.concurrency], interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 5 });
      return task;
    };

    const start = new LambdaInvoke(this, 'Validate', {
      lambdaFunction: step('Validate', 'validate'),
      payloadResponseOnly: true,
      // The rule hands over the EventBridge event; the workflow carries only what its steps need.
      payload: TaskInput.fromObject({
        'bookingId.$': '$.detail.aggregateId',
        'correlationId.$': '$.detail.metadata.correlationId',
        'causationId.$': '$.detail.id',
      }),
      retryOnServiceExceptions: true,
    });
    start.addRetry({ errors: [workflowErrors.concurrency], interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 5 });
    const checkAvailabilityFunction = step('CheckAvailability', 'checkAvailability', 'workflow/check-availability');
    if (props.calendars) {
      for (const [name, value] of Object.entries(props.calendars.environment)) checkAvailabilityFunction.addEnvironment(name, value);
      props.calendars.grant(checkAvailabilityFunction);
    }
    const checkAvailability = invoke('CheckAvailability', checkAvailabilityFunction);
    const accept = invoke('Accept', step('Accept', 'accept'));
    const failCreation = invoke('FailCreation', step('FailCreation', 'failCreation'));
    // The compensation is worth a few seconds more than the other steps: a throttled table often recovers.
    failCreation.addRetry({ errors: [Errors.ALL], interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 2 });
    failCreation.next(new Fail(this, 'BookingFailed', { error: 'BookingFailed', causePath: '$.reason' }));

    const payments = 'workflow/payment-steps';
    // Paused until resumed with the task token: the Lambda stores the token with the attempt and returns.
    const callback = (name: string, handler: string, resultPath: string, timeoutPath: string, heartbeatPath?: string) => {
      const task = new LambdaInvoke(this, name, {
        lambdaFunction: step(name, handler, payments),
        integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload: TaskInput.fromObject({
          bookingId: JsonPath.stringAt('$.bookingId'),
          correlationId: JsonPath.stringAt('$.correlationId'),
          causationId: JsonPath.stringAt('$.causationId'),
          taskToken: JsonPath.taskToken,
        }),
        taskTimeout: Timeout.at(timeoutPath),
        heartbeatTimeout: heartbeatPath ? Timeout.at(heartbeatPath) : undefined,
        resultPath,
        retryOnServiceExceptions: true,
      });
      task.addRetry({ errors: [workflowErrors.concurrency], interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 5 });
      return task;
    };
    const payment = callback('Payment', 'startPayment', '$.paid', '$.paymentWindowSeconds', '$.paymentHeartbeatSeconds');
    const completePayment = invoke('CompletePayment', step('CompletePayment', 'completePayment', payments));
    const recordFailure = invoke('RecordPaymentFailure', step('RecordPaymentFailure', 'recordPaymentFailure', payments));
    const awaitRetry = callback('AwaitRetry', 'awaitRetry', JsonPath.DISCARD, '$.retryWaitSeconds');
    const expire = invoke('ExpirePayment', step('ExpirePayment', 'expirePayment', payments));
    payment.addCatch(expire, { errors: [Errors.TIMEOUT, Errors.HEARTBEAT_TIMEOUT], resultPath: '$.error' });
    payment.addCatch(recordFailure, { errors: [workflowErrors.paymentFailed], resultPath: '$.error' });
    awaitRetry.addCatch(expire, { errors: [Errors.TIMEOUT], resultPath: '$.error' });

    const steps: LambdaInvoke[] = [start, checkAvailability, accept, payment, completePayment, recordFailure, awaitRetry, expire];
    for (const task of steps) {
      // The caught error lands beside the input, so FailCreation knows which booking and why.
      task.addCatch(failCreation, { errors: [Errors.ALL], resultPath: '$.error' });
    }
    payment.next(completePayment).next(new Succeed(this, 'BookingPaid'));
    recordFailure.next(awaitRetry).next(payment);
    expire.next(new Succeed(this, 'PaymentExpired'));
    const definition: IChainable = start.next(
      new Choice(this, 'AlreadyHandled')
        .when(Condition.booleanEquals('$.handled', true), new Succeed(this, 'NothingToDo'))
        .otherwise(
          checkAvailability.next(accept).next(
            new Choice(this, 'NeedsPayment').when(Condition.stringEquals('$.awaiting', 'payment'), payment).otherwise(new Succeed(this, 'BookingAccepted')),
          ),
        ),
    );

    const machineName = `${Stack.of(this).stackName}-BookingWorkflow`;
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: machineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition),
      timeout: Duration.days(30),
      tracingEnabled: true,
      logs: { destination: new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH }), level: LogLevel.ERROR },
    });
    // By the machine's name, not a reference: the machine already depends on these functions, and a reference
    // back from their policies would be a dependency cycle.
    const machineArn = Stack.of(this).formatArn({ service: 'states', resource: 'stateMachine', resourceName: machineName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    for (const fn of paymentSteps) {
      fn.addToRolePolicy(new PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'], resources: [machineArn] }));
    }
  }
}
