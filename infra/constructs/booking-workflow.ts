import { Duration } from 'aws-cdk-lib';
import { Choice, Condition, DefinitionBody, Errors, Fail, LogLevel, StateMachine, StateMachineType, Succeed, TaskInput, type IChainable } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { ServiceFunction } from './service-function.ts';
import { bindTable } from './bind-table.ts';

/** Error names the step functions throw on purpose; the state machine routes on them. */
export const workflowErrors = { refused: 'BookingRefused', concurrency: 'ConcurrencyError' } as const;

type Props = { tables: { events: Table; state: Table } };

/**
 * The saga of one requested booking (Standard workflow: exactly-once steps, room for long waits such as a
 * payment later). Steps: validate, check availability, accept (which confirms, or leaves the booking waiting
 * for the organizer or a payment). A refusal or an exhausted step ends the booking in booking.creation.failed,
 * which gives its time back. Payment, calendar and notification steps slot in before Accept.
 * Nothing here has to be perfect for the time to come back: a draft this workflow never starts for, or leaves
 * behind when FailCreation itself fails, is released by the settle sweep once it is stranded
 * (`strandedAfterMinutes` after the request), and a run that comes after that finds no draft and ends.
 */
export class BookingWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: Props) {
    super(scope, id);
    const step = (name: string, handler: string) => {
      const fn = new ServiceFunction(this, `${name}Function`, { entry: 'workflow/booking-steps', handler });
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
    const checkAvailability = invoke('CheckAvailability', step('CheckAvailability', 'checkAvailability'));
    const accept = invoke('Accept', step('Accept', 'accept'));
    const failCreation = invoke('FailCreation', step('FailCreation', 'failCreation'));
    // The compensation is worth a few seconds more than the other steps: a throttled table often recovers.
    failCreation.addRetry({ errors: [Errors.ALL], interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 2 });
    failCreation.next(new Fail(this, 'BookingFailed', { error: 'BookingFailed', causePath: '$.reason' }));

    const steps: LambdaInvoke[] = [start, checkAvailability, accept];
    for (const task of steps) {
      // The caught error lands beside the input, so FailCreation knows which booking and why.
      task.addCatch(failCreation, { errors: [Errors.ALL], resultPath: '$.error' });
    }
    const definition: IChainable = start.next(
      new Choice(this, 'AlreadyHandled')
        .when(Condition.booleanEquals('$.handled', true), new Succeed(this, 'NothingToDo'))
        .otherwise(checkAvailability.next(accept).next(new Succeed(this, 'BookingAccepted'))),
    );

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition),
      timeout: Duration.days(30),
      tracingEnabled: true,
      logs: { destination: new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH }), level: LogLevel.ERROR },
    });
  }
}
