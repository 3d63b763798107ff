import { Duration } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Secret, type CfnSecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../events/envelope.ts';
import { ServiceFunction } from './service-function.ts';
import { bindTable } from './bind-table.ts';
import type { WorkflowPayments } from './booking-workflow.ts';

/** Metadata through which the local runtime knows which secret to fill with its local Stripe's keys. */
export const LOCAL_SECRET_METADATA = 'BookingEngine:LocalSecret';

type Props = {
  tables: { events: Table; state: Table };
  /** The token issuer, for the retry route: attendee or organizer, checked in the handler. */
  tokenEnvironment: Record<string, string>;
};

/**
 * Payments: the Stripe secret, the webhook and retry routes, the refund subscriber, and their grants. The
 * workflow's payment steps get the secret through `workflowPayments`; once the state machine exists,
 * `connect` adds what resumes it (SendTaskSuccess/Failure/Heartbeat, on that state machine only).
 */
export class Payments extends Construct {
  /** `{"apiKey": "sk_...", "webhookSecret": "whsec_..."}`, put there by the operator after deploy; never in the template. */
  readonly secret: Secret;
  readonly workflowPayments: WorkflowPayments;
  private readonly props: Props;

  constructor(scope: Construct, id: string, props: Props) {
    super(scope, id);
    this.props = props;
    this.secret = new Secret(this, 'StripeSecret', {
      description: 'Stripe API key and webhook signing secret, as JSON {"apiKey", "webhookSecret"}; set it with aws secretsmanager put-secret-value',
    });
    (this.secret.node.defaultChild as CfnSecret).addMetadata(LOCAL_SECRET_METADATA, 'stripe');
    this.workflowPayments = { environment: this.environment(), grantStripe: (fn) => this.secret.grantRead(fn) };
  }

  private environment(): Record<string, string> {
    return { STRIPE_SECRET_ARN: this.secret.secretArn };
  }

  /** Wires the routes, the callback grants and the refund subscriber; returns what the operator alarms watch. */
  connect(options: { api: HttpApi; stateMachine: StateMachine; bus: IEventBus }) {
    const { tables } = this.props;
    const webhook = new ServiceFunction(this, 'StripeWebhookFunction', {
      entry: 'http/stripe-webhook',
      description: 'Verifies and deduplicates Stripe webhooks and resumes the paused booking workflow',
      environment: this.environment(),
      timeout: Duration.seconds(20),
    });
    this.secret.grantRead(webhook);
    bindTable(webhook, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
    bindTable(webhook, { table: tables.events, variable: 'EVENTS_TABLE', accessMode: 'append' });
    options.stateMachine.grantTaskResponse(webhook);
    options.api.addRoutes({ path: '/webhooks/stripe', methods: [HttpMethod.POST], integration: new HttpLambdaIntegration('StripeWebhookIntegration', webhook, { scopePermissionToRoute: false }) });

    const retry = new ServiceFunction(this, 'RetryPaymentFunction', {
      entry: 'http/retry-payment',
      description: 'Resumes a booking whose payment failed with a new payment attempt',
      environment: this.props.tokenEnvironment,
    });
    bindTable(retry, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
    options.stateMachine.grantTaskResponse(retry);
    options.api.addRoutes({ path: '/bookings/{id}/payment/retry', methods: [HttpMethod.POST], integration: new HttpLambdaIntegration('RetryPaymentIntegration', retry, { scopePermissionToRoute: false }) });

    const deadLetters = new Queue(this, 'RefundPaymentsDLQ', { retentionPeriod: Duration.days(14), encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true });
    const refunds = new ServiceFunction(this, 'RefundPaymentsFunction', {
      entry: 'subscribers/refund-payments',
      description: 'Refunds paid bookings that let their time go, by their refund policy',
      environment: this.environment(),
      timeout: Duration.seconds(30),
      deadLetterQueue: deadLetters,
      retryAttempts: 2,
    });
    this.secret.grantRead(refunds);
    bindTable(refunds, { table: tables.state, variable: 'STATE_TABLE', accessMode: 'readWrite' });
    bindTable(refunds, { table: tables.events, variable: 'EVENTS_TABLE', accessMode: 'append' });
    new Rule(this, 'RefundPaymentsRule', {
      eventBus: options.bus,
      description: 'A booking that lets its time go may have money to give back',
      eventPattern: { source: [EVENT_SOURCE], detailType: ['booking.cancelled', 'booking.rejected', 'booking.creation.failed'] },
      targets: [new LambdaFunction(refunds, { retryAttempts: 8, maxEventAge: Duration.hours(24), deadLetterQueue: deadLetters })],
    });
    return {
      apiFunctions: [{ name: 'StripeWebhook', fn: webhook }, { name: 'RetryPayment', fn: retry }],
      deadLetterQueues: [{ name: 'RefundPaymentsDLQ', queue: deadLetters }],
    };
  }
}
