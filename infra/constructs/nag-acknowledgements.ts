// The cdk-nag AwsSolutions findings this stack keeps on purpose, each acknowledged where it arises with the
// reason it stands. test/infra/nag.test.ts runs the pack on the synthesized stack and fails on any finding
// not acknowledged here, so a new construct's findings are either fixed or argued for in this file.
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Stack, Validations } from 'aws-cdk-lib';
import { CfnRoute, WebSocketApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { UserPool } from 'aws-cdk-lib/aws-cognito';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { CfnFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';

// The id as the pack reports it: `AwsSolutions::AwsSolutions-<rule>[<finding>]`.
const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${id}`, reason });
const logicalId = (stack: Stack, construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as never);

/** Public routes, by what lets a caller in instead of an authorizer. */
const publicRoutes: Record<string, string> = {
  'GET /health': 'a health check for load balancers and uptime probes; it reads nothing',
  'GET /event-types/{id}': 'the public booking page of an event type; its owner, by an optional bearer token verified in the handler, sees more',
  'POST /bookings': 'booking needs no account: the attendee books from the public page, bounded by the stage throttle and idempotency keys',
  'GET /slots': 'the public booking page shows free slots to anyone',
  'GET /openapi.json': 'the API description, generated from the schemas in the code: what any client may already learn by calling; it reads nothing',
  'GET /console': 'a static page (HTML and script, no data): it calls the API with the operator\'s own token, which rides in the URL fragment and never reaches this route',
  'POST /webhooks/stripe': 'Stripe calls it: the handler verifies the Stripe-Signature HMAC over the raw body (400 and nothing changed otherwise), and dedupes by event id',
  'POST /calendars/notifications/google': 'Google Calendar posts push notifications here and cannot carry our token: the handler checks X-Goog-Channel-ID names a channel of ours and X-Goog-Channel-Token matches its secret (SHA-256 kept, compared in constant time); anything else is a 403 that reads one item and changes nothing',
  'POST /calendars/notifications/microsoft': 'Microsoft Graph posts change notifications here (and the validationToken handshake, echoed as text/plain) and cannot carry our token: each notification\'s clientState must match its subscription\'s secret (SHA-256 kept, constant-time compare); unknown or mismatched ones are dropped and enqueue nothing',
  'POST /calendars/notifications/microsoft/lifecycle': 'Microsoft Graph posts lifecycle notifications here (reauthorizationRequired, missed, subscriptionRemoved), verified by clientState as the change notifications are; unverified ones change nothing',
  'GET /calendars/callback/{provider}': 'the OAuth provider sends the organizer\'s browser here, which cannot carry our bearer token: the signed (HS256), 10-minute, single-use state bound to the organizer who started the connect is the proof, and a code without a valid state changes nothing',
  '$connect': 'the WebSocket handshake: browsers cannot send an Authorization header, so $connect verifies the token (or the booking token) itself and refuses others with 401',
  '$disconnect': 'API Gateway calls it after a connection that $connect accepted ends; clients cannot call it',
  '$default': 'only reached over a connection $connect accepted (keep-alive pings, and resume, which replays that connection\'s own feed)',
};
const callerCheckedInHandler = 'the organizer (bearer token) or the attendee (booking token) may call it; API Gateway cannot express "or", so the handler checks both and answers anyone else 404';

export function acknowledgeNagFindings(stack: Stack): void {
  for (const construct of stack.node.findAll()) {
    if (construct instanceof LambdaFunction && construct.node.defaultChild instanceof CfnFunction) {
      ack(construct, 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'AWS\'s basic execution policy grants only CreateLogGroup/CreateLogStream/PutLogEvents; the function writes to its own log group');
      ack(construct, 'IAM5[Resource::*]',
        'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords) and dynamodb:ListStreams take no resource; every other action of the function names its resources (asserted in test/infra/stack.test.ts)');
      // Step Functions and Scheduler invoke the function by its ARN and its qualified ARNs (versions, aliases).
      ack(stack, `IAM5[Resource::<${logicalId(stack, construct)}.Arn>:*]`, 'the versions and aliases of one function, which its invoker (the workflow, a schedule) may call');
      // SES authorizes sending by the sender identity, and the From address is a deploy-time choice (mailFrom).
      if (construct.node.path.includes('/Notifications/')) {
        ack(construct, 'IAM5[Resource::arn:aws:ses:<AWS::Region>:<AWS::AccountId>:identity/*]', 'ses:SendRawEmail is authorized per sender identity; the From address is the operator\'s mailFrom context value, verified in SES at deploy time');
      }
    } else if (construct instanceof StateMachine) {
      ack(construct, 'IAM5[Resource::*]', 'X-Ray tracing and CloudWatch Logs delivery of a state machine take no resource');
      ack(construct, 'SF1', 'logs ERROR only: ALL would copy every execution\'s input and output (attendee names and emails) into logs; X-Ray traces and the execution history show the rest');
    } else if (construct instanceof Table) {
      // Query on the table's own secondary indexes (byOwner on the state table, byUser on the connections table).
      const indexes = stack.resolve((construct.node.defaultChild as { globalSecondaryIndexes?: unknown }).globalSecondaryIndexes) as unknown[] | undefined;
      if (indexes?.length) ack(stack, `IAM5[Resource::<${logicalId(stack, construct)}.Arn>/index/*]`, 'the indexes of this one table, which the functions that query it may use');
      if (!(construct.node.defaultChild as { pointInTimeRecoverySpecification?: unknown }).pointInTimeRecoverySpecification) {
        ack(construct, 'DDB3', 'live WebSocket connections only, expiring within 2 h (TTL): nothing to restore; the event, state and audit tables keep point-in-time recovery');
      }
    } else if (construct instanceof CfnQueue) {
      ack(construct, 'SQS3', 'this queue is itself a dead-letter queue (of a stream mapping, rule target or schedule); its messages are redriven by the operator, not by a further queue');
    } else if (construct instanceof Secret && construct.node.path.includes('/Calendars/')) {
      ack(construct, 'SMG4', 'the Google and Microsoft OAuth client secrets are issued by their consoles and rotated there; Secrets Manager cannot rotate them, the operator puts the new values');
    } else if (construct instanceof Secret) {
      ack(construct, 'SMG4', 'the Stripe API key and webhook secret are issued by Stripe and rotated in its dashboard; Secrets Manager cannot rotate them, the operator puts the new values');
    } else if (construct instanceof UserPool) {
      ack(construct, 'COG2', 'MFA is offered (TOTP) and left to each organizer, as issue 11 decided; requiring it would lock out organizers without an authenticator app');
      ack(construct, 'COG8', 'the Plus feature plan (threat protection) is a per-user cost the operator opts into; sign-in is SRP or the code flow, with optional MFA');
    } else if (construct instanceof CfnScheduleGroup) {
      ack(stack, `IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/<${stack.getLogicalId(construct)}>/*]`,
        'the one-time schedules of this one group, made at run time (one per push channel and expiry): their names are not known when the stack is deployed');
    } else if (construct instanceof WebSocketApi) {
      ack(stack, `IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalId(stack, construct)}>/live/*/@connections/*]`,
        'posting to a live connection: connection ids are not known when the stack is deployed');
    } else if (construct instanceof CfnRoute && construct.authorizationType !== 'JWT') {
      const key = Stack.of(construct).resolve(construct.routeKey) as string;
      ack(construct, 'APIG4', publicRoutes[key] ?? (key.includes(' /bookings/{id}') ? callerCheckedInHandler : `UNREASONED: ${key} has no authorizer`));
    }
  }
}
