import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { EVENT_SOURCE } from '../../events/envelope.ts';
import { parseDomainEvent } from '../../events/catalog.ts';
import { eventBridgeClient } from '../../shared/aws/event-bridge.ts';
import { requiredEnv } from '../../shared/aws/env.ts';
import { logger } from '../../shared/observability/logger.ts';

const PUT_EVENTS_LIMIT = 10;
const RESEND_ATTEMPTS = 3;

type Pending = { sequenceNumber: string; entry: PutEventsRequestEntry };

/**
 * Publishes every event appended to the events table on the bus. PutEvents takes ten entries at a time and
 * may fail some of them; only those are sent again. A record that still fails is reported, and Lambda retries
 * the batch from the first failed record on (bisecting, bounded, then parked in the on-failure queue), so
 * nothing is lost and consumers, being idempotent on event id, shrug off the repeats.
 */
export async function handler(stream: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const busName = requiredEnv('EVENT_BUS_NAME');
  const failed = new Set<string>();
  let pending: Pending[] = [];
  for (const record of stream.Records) {
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
    if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) continue;
    try {
      const stored = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
      // Checked against the catalog, then sent as stored: parsing must not reshape what subscribers receive.
      const { type } = parseDomainEvent(stored);
      pending.push({
        sequenceNumber,
        entry: { EventBusName: busName, Source: EVENT_SOURCE, DetailType: type, Detail: JSON.stringify(stored), Resources: [] },
      });
    } catch (error) {
      logger.error('stream record is not a valid domain event', { error, sequenceNumber });
      failed.add(sequenceNumber);
    }
  }
  for (let attempt = 1; pending.length > 0 && attempt <= RESEND_ATTEMPTS; attempt++) {
    pending = await putAll(pending);
    if (pending.length) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
  }
  for (const { sequenceNumber } of pending) failed.add(sequenceNumber);
  if (failed.size) logger.warn('events not published, reporting for retry', { count: failed.size });
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}

/** Puts entries ten at a time, in order, and returns the ones EventBridge did not take. */
async function putAll(entries: Pending[]): Promise<Pending[]> {
  const rejected: Pending[] = [];
  for (let i = 0; i < entries.length; i += PUT_EVENTS_LIMIT) {
    const chunk = entries.slice(i, i + PUT_EVENTS_LIMIT);
    try {
      const result = await eventBridgeClient().send(new PutEventsCommand({ Entries: chunk.map((p) => p.entry) }));
      if (!result.FailedEntryCount) continue;
      result.Entries?.forEach((entry, index) => {
        if (entry.ErrorCode) rejected.push(chunk[index]!);
      });
    } catch (error) {
      logger.warn('PutEvents call failed', { error });
      rejected.push(...chunk);
    }
  }
  return rejected;
}
