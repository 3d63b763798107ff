import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { parseDomainEvent } from '../../events/catalog.ts';
import { dynamo, requiredEnv } from '../../shared/aws/clients.ts';

/**
 * Keeps every domain event once, per aggregate, in delivery order of versions. The bus delivers at least
 * once; the conditional put turns a redelivery into a no-op.
 */
export async function handler(busEvent: EventBridgeEvent<string, unknown>): Promise<void> {
  const event = parseDomainEvent(busEvent.detail);
  try {
    await dynamo().send(
      new PutCommand({
        TableName: requiredEnv('AUDIT_TABLE'),
        Item: {
          aggregateId: event.aggregateId,
          entry: `${String(event.version).padStart(10, '0')}#${event.id}`,
          eventId: event.id,
          type: event.type,
          version: event.version,
          occurredAt: event.metadata.timestamp,
          recordedAt: new Date().toISOString(),
          actor: event.metadata.userId,
          correlationId: event.metadata.correlationId,
          event: busEvent.detail,
        },
        ConditionExpression: 'attribute_not_exists(entry)',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
