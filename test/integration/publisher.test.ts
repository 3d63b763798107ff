import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { eventTypeNames } from '../../events/catalog.ts';
import type { DomainEvent } from '../../events/envelope.ts';
import { startEventBridgeEndpoint, type BusEvent, type EventBridgeEndpoint } from '../../infra/local/eventbridge-endpoint.ts';

type Handler = (typeof import('../../functions/stream/publish-events.ts'))['handler'];

const BUS = 'booking-engine-test-bus';
let endpoint: EventBridgeEndpoint;
let handler: Handler;
/** One entry per PutEvents call that delivered anything: the events it delivered, in order. */
let calls: BusEvent[][];
let onDelivered: ((events: BusEvent[]) => void) | undefined;

beforeAll(async () => {
  endpoint = await startEventBridgeEndpoint({
    onEvents: (events) => {
      calls.push(events);
      onDelivered?.(events);
    },
  });
  // The client is created on the handler's first call (one per container), so the environment comes first.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    EVENT_BUS_NAME: BUS,
    LOG_LEVEL: 'SILENT',
  });
  ({ handler } = await import('../../functions/stream/publish-events.ts'));
});

afterAll(async () => {
  await endpoint.close();
});

beforeEach(() => {
  calls = [];
  onDelivered = undefined;
  endpoint.failNext(0);
});

// Every sample (test/unit/event-catalog.test.ts checks there is one per catalog type), in catalog order.
const samplesDir = new URL('../../events/samples/', import.meta.url);
const sampleTypes = eventTypeNames.filter((type) => readdirSync(samplesDir).includes(`${type}.json`));
const samples = sampleTypes.map((type) => JSON.parse(readFileSync(new URL(`${type}.json`, samplesDir), 'utf8')) as DomainEvent);

const faithful = samples;

/** `count` distinct events built from the samples (each with a fresh id), in the order they were appended. */
const events = (count: number): DomainEvent[] => Array.from({ length: count }, (_, i) => ({ ...faithful[i % faithful.length]!, id: randomUUID() }));

let sequence = 100_000_000;
function record(event: Record<string, unknown>, eventName: 'INSERT' | 'MODIFY' | 'REMOVE' = 'INSERT'): DynamoDBRecord {
  const keys = { aggregateId: event.aggregateId, version: event.version };
  return {
    eventID: randomUUID().replaceAll('-', ''),
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/EventsTable/stream/2030-01-01T00:00:00.000',
    dynamodb: {
      ApproximateCreationDateTime: 1_900_000_000,
      Keys: marshall(keys) as NonNullable<DynamoDBRecord['dynamodb']>['Keys'],
      ...(eventName === 'REMOVE' ? {} : { NewImage: marshall(event, { removeUndefinedValues: true }) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'] }),
      SequenceNumber: String(sequence++).padStart(21, '0'),
      SizeBytes: 512,
      StreamViewType: 'NEW_IMAGE',
    },
  };
}

const streamOf = (records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
const sequenceOf = (r: DynamoDBRecord) => r.dynamodb!.SequenceNumber!;
const deliveredIds = () => calls.flat().map((e) => e.event.detail.id as string);

describe('stream publisher against the local EventBridge endpoint', () => {
  it('25 records go out in 3 PutEvents calls of at most 10, in order, as booking-engine events named by type', async () => {
    const appended = events(25);
    const result = await handler(streamOf(appended.map((e) => record(e))));

    expect(result.batchItemFailures).toEqual([]);
    expect(calls.map((call) => call.length)).toEqual([10, 10, 5]);
    const delivered = calls.flat();
    expect(delivered.map((e) => e.event.detail)).toEqual(appended.map((e) => JSON.parse(JSON.stringify(e))));
    for (const [i, { eventBusName, event }] of delivered.entries()) {
      expect(eventBusName).toBe(BUS);
      expect(event.source).toBe('booking-engine');
      expect(event['detail-type']).toBe(appended[i]!.type);
    }
  });

  it('every catalog type is published under its own detail-type', async () => {
    expect(samples.length).toBeGreaterThan(20);
    const result = await handler(streamOf(samples.map((e) => record(e))));
    expect(result.batchItemFailures).toEqual([]);
    expect(calls.flat().map((e) => e.event['detail-type'])).toEqual(sampleTypes);
  });

  it('entries EventBridge fails are resent until they succeed, and every event is delivered exactly once', async () => {
    const appended = events(25);
    endpoint.failNext(3);
    const result = await handler(streamOf(appended.map((e) => record(e))));

    expect(result.batchItemFailures).toEqual([]);
    const ids = deliveredIds();
    expect([...ids].sort()).toEqual(appended.map((e) => e.id).sort());
    expect(new Set(ids).size).toBe(25);
    // The first call delivered 7 of its 10; the 3 that failed followed in a resend of their own.
    expect(calls.map((call) => call.length)).toEqual([7, 10, 5, 3]);
    expect(calls[3]!.map((e) => e.event.detail.id)).toEqual(appended.slice(0, 3).map((e) => e.id));
  });

  it('an entry that keeps failing is reported by its sequence number; the others are delivered once', async () => {
    const records = events(10).map((e) => record(e));
    endpoint.failNext(1);
    // Once the first call has delivered the other nine, everything fails: only the first entry is left to resend.
    onDelivered = () => endpoint.failNext(1_000);
    const result = await handler(streamOf(records));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: sequenceOf(records[0]!) }]);
    expect(calls).toHaveLength(1);
    expect(deliveredIds()).toEqual(records.slice(1).map((r) => r.dynamodb!.NewImage!.id!.S));
  });

  it('when nothing gets through every record is reported', async () => {
    const records = events(12).map((e) => record(e));
    endpoint.failNext(1_000);
    const result = await handler(streamOf(records));
    expect(calls).toEqual([]);
    expect(result.batchItemFailures).toEqual(records.map((r) => ({ itemIdentifier: sequenceOf(r) })));
  });

  it('a record that is not a valid domain event is reported while the others go through', async () => {
    const [first, second] = events(2);
    const bad = { ...samples[0]!, id: randomUUID(), payload: { ...(samples[0]!.payload as object), start: 'not a date' } };
    const unknown = { ...samples[1]!, id: randomUUID(), type: 'booking.teleported' };
    const records = [record(first!), record(bad), record(unknown), record(second!)];
    const result = await handler(streamOf(records));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: sequenceOf(records[1]!) }, { itemIdentifier: sequenceOf(records[2]!) }]);
    expect(deliveredIds()).toEqual([first!.id, second!.id]);
  });

  it('MODIFY and REMOVE records are ignored: events are only ever inserted', async () => {
    const [modified, removed, inserted] = events(3);
    const result = await handler(streamOf([record(modified!, 'MODIFY'), record(removed!, 'REMOVE'), record(inserted!)]));
    expect(result.batchItemFailures).toEqual([]);
    expect(deliveredIds()).toEqual([inserted!.id]);
  });

  it.each(['event-type.updated', 'schedule.updated'])('%s goes on the bus exactly as it was stored', async (type) => {
    const stored = { ...samples.find((e) => e.type === type)!, id: randomUUID() };
    await handler(streamOf([record(stored)]));
    expect(calls.flat().map((e) => e.event.detail)).toEqual([stored]);
  });

  it('a batch with nothing to publish makes no call', async () => {
    const result = await handler(streamOf([record(events(1)[0]!, 'REMOVE')]));
    expect(result.batchItemFailures).toEqual([]);
    expect(calls).toEqual([]);
  });
});
