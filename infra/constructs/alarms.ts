import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { HttpApi, WebSocketApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Construct } from 'constructs';

/**
 * Everything an operator is woken for, on one SNS topic (an e-mail address as the `alarmEmail` context value
 * subscribes to it). Each alarm says what to look at; none is a vanity metric: a parked message, a failed or
 * timed-out booking workflow, a stream falling behind, an API function failing or throttled, a 5xx.
 */
export class OperatorAlarms extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: { email?: string }) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', { displayName: 'Booking engine alarms', enforceSSL: true });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
  }

  private alarm(id: string, metric: IMetric, description: string, threshold = 1, evaluationPeriods = 1) {
    const alarm = new Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    return alarm;
  }

  /** Any visible message in a dead-letter queue: something was retried to the end and parked. */
  deadLetters(name: string, queue: IQueue) {
    this.alarm(`${name}Parked`, queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      `${name} holds parked messages: see README "Dead-letter queues", fix the cause, then redrive`);
  }

  workflow(name: string, stateMachine: StateMachine) {
    this.alarm(`${name}Failed`, stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }), `${name} executions failed`);
    this.alarm(`${name}TimedOut`, stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' }), `${name} executions timed out`);
  }

  /** The stream publisher falling behind: events appended but not yet on the bus. */
  streamBehind(name: string, fn: IFunction) {
    this.alarm(`${name}IteratorAge`, fn.metric('IteratorAge', { period: Duration.minutes(1), statistic: 'Maximum' }),
      `${name} is more than a minute behind the events table's stream`, 60_000, 5);
  }

  /**
   * Errors and throttles of the HTTP API's functions, ten functions to an alarm (the most one alarm's metric
   * math may read): one alarm per function would be 60-odd resources of CloudFormation's 500 per stack. The
   * alarm's description names its functions; the Lambda console shows which one it was.
   */
  apiFunctions(functions: Array<{ name: string; fn: IFunction }>, group = 'HttpFunctions') {
    for (let index = 0; index * 10 < functions.length; index++) {
      const members = functions.slice(index * 10, index * 10 + 10);
      const names = members.map((member) => member.name).join(', ');
      for (const [what, metricOf] of [
        ['Errors', (fn: IFunction) => fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' })],
        ['Throttles', (fn: IFunction) => fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' })],
      ] as const) {
        const usingMetrics = Object.fromEntries(members.map((member, index) => [`f${index}`, metricOf(member.fn)]));
        const expression = new MathExpression({ expression: Object.keys(usingMetrics).join(' + '), usingMetrics, period: Duration.minutes(5), label: `HTTP API functions ${what.toLowerCase()}` });
        this.alarm(`${group}${what}${index + 1}`, expression, `${what.toLowerCase()} in one of: ${names}`);
      }
    }
  }

  httpApi(api: HttpApi) {
    this.alarm('HttpApi5xx', api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }), 'the HTTP API answered 5xx');
  }

  webSocketApi(api: WebSocketApi, stage: string) {
    const metric = api.metric('IntegrationError', { period: Duration.minutes(5), statistic: 'Sum', dimensionsMap: { ApiId: api.apiId, Stage: stage } });
    this.alarm('WebSocketApiErrors', metric, 'the WebSocket API failed to reach its functions');
  }
}
