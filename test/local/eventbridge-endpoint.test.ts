import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeClient, ListRulesCommand, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { startEventBridgeEndpoint, type BusEvent, type EventBridgeEndpoint } from '../../infra/local/eventbridge-endpoint.ts';

let endpoint: EventBridgeEndpoint;
let client: EventBridgeClient;
let delivered: BusEvent[];
let deliveryError: Error | undefined;

beforeAll(async () => {
  endpoint = await startEventBridgeEndpoint({
    onEvents: (events) => {
      if (deliveryError) throw deliveryError;
      delivered.push(...events);
    },
  });
  client = new EventBridgeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoint: endpoint.endpoint,
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await endpoint.close();
});

beforeEach(() => {
  delivered = [];
  deliveryError = undefined;
  endpoint.failNext(0);
});

const entry = (overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  Source: 'booking.engine',
  DetailType: 'BookingConfirmed',
  Detail: JSON.stringify({ bookingId: 'b-1' }),
  EventBusName: 'bookings',
  ...overrides,
});

describe('PutEvents', () => {
  it('accepts entries and delivers them shaped as EventBridge delivers to targets', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [entry(), entry({ Time: new Date('2026-03-01T10:20:30.456Z'), Resources: ['arn:x'], EventBusName: undefined })],
      }),
    );
    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries).toHaveLength(2);
    expect(delivered.map((busEvent) => busEvent.event.id)).toEqual(result.Entries!.map((resultEntry) => resultEntry.EventId));

    const [first, second] = delivered as [BusEvent, BusEvent];
    expect(first.eventBusName).toBe('bookings');
    expect(first.event).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'BookingConfirmed',
      source: 'booking.engine',
      account: '000000000000',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: 'us-east-1',
      resources: [],
      detail: { bookingId: 'b-1' },
    });
    expect(first.event).not.toHaveProperty('event-bus-name');
    expect(second.eventBusName).toBe('default');
    expect(second.event.time).toBe('2026-03-01T10:20:30Z');
    expect(second.event.resources).toEqual(['arn:x']);
  });

  it('takes the bus name from an event bus ARN', async () => {
    await client.send(new PutEventsCommand({ Entries: [entry({ EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/bookings' })] }));
    expect(delivered[0]!.eventBusName).toBe('bookings');
  });

  it('reports invalid entries in place, counted in FailedEntryCount, and delivers the rest', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          entry({ Detail: JSON.stringify({ n: 1 }) }),
          entry({ Detail: '{not json' }),
          entry({ Source: undefined }),
          entry({ Detail: JSON.stringify({ n: 4 }) }),
          entry({ Detail: '[1, 2]' }),
          entry({ DetailType: undefined }),
          entry({ Detail: undefined }),
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(5);
    const entries = result.Entries!;
    expect(entries[0]!.EventId).toBeDefined();
    expect(entries[1]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
    expect(entries[2]).toEqual({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.',
    });
    expect(entries[3]!.EventId).toBeDefined();
    expect(entries[4]!.ErrorCode).toBe('MalformedDetail');
    expect(entries[5]!.ErrorMessage).toMatch(/DetailType is a required argument/);
    expect(entries[6]!.ErrorMessage).toMatch(/Detail is a required argument/);
    expect(delivered.map((busEvent) => busEvent.event.detail)).toEqual([{ n: 1 }, { n: 4 }]);
  });

  it('rejects more than 10 entries with a ValidationException', async () => {
    const error = await client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry()) })).catch((e) => e);
    expect(error.name).toBe('ValidationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toMatch(/less than or equal to 10/);
    expect(delivered).toEqual([]);
  });

  it('rejects a request whose entries total more than 256 KB, as EventBridge does', async () => {
    const detail = JSON.stringify({ padding: 'x'.repeat(100 * 1024) });
    const error = await client.send(new PutEventsCommand({ Entries: [entry({ Detail: detail }), entry({ Detail: detail }), entry({ Detail: detail })] })).catch((e) => e);
    expect(error.name).toBe('ValidationException');
    expect(error.message).toMatch(/Total size of the entries/);
    const ok = await client.send(new PutEventsCommand({ Entries: [entry({ Detail: detail }), entry({ Detail: detail })] }));
    expect(ok.FailedEntryCount).toBe(0);
  });

  it('reports InternalFailure for every entry of a call whose delivery throws', async () => {
    deliveryError = new Error('router down');
    const result = await client.send(new PutEventsCommand({ Entries: [entry(), entry({ Source: undefined }), entry()] }));
    expect(result.FailedEntryCount).toBe(3);
    expect(result.Entries!.map((resultEntry) => resultEntry.ErrorCode)).toEqual(['InternalFailure', 'InvalidArgument', 'InternalFailure']);
    expect(result.Entries![0]!.ErrorMessage).toMatch(/router down/);
  });

  it('failNext(n) fails exactly the next n valid entries, so a publisher can resend only those', async () => {
    endpoint.failNext(2);
    const entries = [1, 2, 3].map((n) => entry({ Detail: JSON.stringify({ n }) }));
    const first = await client.send(new PutEventsCommand({ Entries: entries }));
    expect(first.FailedEntryCount).toBe(2);
    expect(first.Entries!.map((resultEntry) => resultEntry.ErrorCode ?? 'ok')).toEqual(['InternalFailure', 'InternalFailure', 'ok']);

    const failed = entries.filter((_, index) => first.Entries![index]!.ErrorCode);
    const retry = await client.send(new PutEventsCommand({ Entries: failed }));
    expect(retry.FailedEntryCount).toBe(0);
    expect(delivered.map((busEvent) => busEvent.event.detail['n'])).toEqual([3, 1, 2]);
  });
});

describe('protocol errors', () => {
  it('answers other operations with UnknownOperationException', async () => {
    const error = await client.send(new ListRulesCommand({})).catch((e) => e);
    expect(error.name).toBe('UnknownOperationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toMatch(/AWSEvents\.ListRules/);
  });

  it('answers a body that is not JSON with SerializationException', async () => {
    const response = await fetch(endpoint.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AWSEvents.PutEvents', 'content-type': 'application/x-amz-json-1.1' },
      body: '{oops',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ __type: 'SerializationException', message: expect.any(String) });
  });
});
