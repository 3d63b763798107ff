import { SQSClient } from '@aws-sdk/client-sqs';
import { dynamo, requiredEnv } from '../aws/clients.ts';
import { guardFromEnvironment, sqsPorts, type WorkerPorts } from './worker.ts';

let sqs: SQSClient | undefined;

/** The worker's ports as the stack wires them: the delivery queue and its DLQ from the environment. */
export function webhookPorts(): WorkerPorts {
  sqs ??= new SQSClient({});
  return {
    client: dynamo(),
    stateTable: requiredEnv('STATE_TABLE'),
    eventsTable: requiredEnv('EVENTS_TABLE'),
    ...sqsPorts(sqs, requiredEnv('WEBHOOK_QUEUE_URL'), requiredEnv('WEBHOOK_DLQ_URL')),
    guard: guardFromEnvironment(),
  };
}
