import { Duration } from 'aws-cdk-lib';
import { Rule, type EventPattern, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ServiceFunction } from './service-function.ts';

export type EventSubscriberProps = {
  bus: IEventBus;
  /** Module under functions/, e.g. "subscribers/notifications". */
  entry: string;
  pattern: EventPattern;
  environment: Record<string, string>;
  description?: string;
  timeout?: Duration;
  copyIntoBundle?: Array<[string, string]>;
  /** Makes the subscriber's dead-letter queue (the stack's factory, which adds the operator's alarm). */
  deadLetterQueue: (id: string) => IQueue;
};

/**
 * A bus subscriber, the one way every subscriber is made: its own rule and pattern, EventBridge retries for
 * delivery, Lambda's async retries for errors, then its own dead-letter queue. The handler stays idempotent
 * on event id (shared/subscribers/once.ts), since every one of those retries may repeat a delivery.
 */
export class EventSubscriber extends Construct {
  readonly fn: ServiceFunction;
  readonly deadLetters: IQueue;

  constructor(scope: Construct, id: string, props: EventSubscriberProps) {
    super(scope, id);
    this.deadLetters = props.deadLetterQueue(`${id}DLQ`);
    this.fn = new ServiceFunction(this, 'Function', {
      entry: props.entry,
      description: props.description,
      environment: props.environment,
      timeout: props.timeout,
      copyIntoBundle: props.copyIntoBundle,
      deadLetterQueue: this.deadLetters,
      retryAttempts: 2,
    });
    new Rule(this, 'Rule', {
      eventBus: props.bus,
      eventPattern: props.pattern,
      targets: [new LambdaFunction(this.fn, { retryAttempts: 8, maxEventAge: Duration.hours(24), deadLetterQueue: this.deadLetters })],
    });
  }
}
