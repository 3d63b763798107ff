import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { webhookPorts } from '../../shared/webhooks/ports.ts';
import { processMessage } from '../../shared/webhooks/worker.ts';
import type { DeliveryMessage } from '../../shared/webhooks/delivery.ts';

/**
 * The delivery queue's consumer: one attempt per message, the next one queued by the attempt itself. A
 * message fails (and comes back, then goes to the DLQ) only when our side broke, never for the receiver.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const ports = webhookPorts();
  const results = await Promise.allSettled(event.Records.map((record) => processMessage(ports, JSON.parse(record.body) as DeliveryMessage)));
  return {
    batchItemFailures: results.flatMap((result, index) => (result.status === 'rejected' ? [{ itemIdentifier: event.Records[index]!.messageId }] : [])),
  };
}
