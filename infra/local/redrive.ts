// Redrive for the local stack: every dead-letter queue of the template is mapped, from the template alone, to the
// targets that park messages in it (a rule target, a function's asynchronous invocations, a stream mapping's
// on-failure destination, a schedule). A redriven message goes back to the target it was parked for, through
// that target's own retries, and leaves the queue only once it was delivered: each parked message is applied once,
// and one that fails again stays where it was, with the error reported.
import { randomUUID } from 'node:crypto';
import {
  DeleteMessageCommand,
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { GetItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record, type DynamoDBStreamsClientConfig } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { rulesOf, type TargetKind } from './event-bus.ts';
import { schedulesOf } from './scheduler.ts';
import { logicalIdOfArn, LOCAL_REGION, type TemplateResolver } from './template-resolver.ts';

/** Who parks messages in a dead-letter queue, and so where a redriven message goes. */
export type DeadLetterSource =
  | { kind: 'rule-target'; ruleId: string; targetKind: TargetKind; resourceId: string }
  | { kind: 'lambda-async'; functionId: string }
  | { kind: 'stream'; functionId: string; tableName: string; streamArn: string }
  | { kind: 'schedule'; scheduleId: string; functionId: string; input: unknown }
  /** A work queue's redrive policy: what its consumer failed too often goes back onto it (as SQS's own redrive does). */
  | { kind: 'queue'; queueId: string };

/** Queue logical id -> the sources that send to it, read from the template. */
export function deadLetterSources(resolver: TemplateResolver): Map<string, DeadLetterSource[]> {
  const sources = new Map<string, DeadLetterSource[]>();
  const add = (queueArn: unknown, source: DeadLetterSource) => {
    if (typeof queueArn !== 'string') return;
    const id = logicalIdOfArn(queueArn);
    sources.set(id, [...(sources.get(id) ?? []), source]);
  };
  for (const rule of rulesOf(resolver)) {
    for (const target of rule.targets) add(target.deadLetterQueueArn, { kind: 'rule-target', ruleId: rule.logicalId, targetKind: target.kind, resourceId: target.resourceId });
  }
  for (const [functionId, resource] of resolver.ofType('AWS::Lambda::Function')) {
    add(resolver.resolve(resource.Properties?.DeadLetterConfig?.TargetArn), { kind: 'lambda-async', functionId });
  }
  for (const [, resource] of resolver.ofType('AWS::Lambda::EventSourceMapping')) {
    const p = resolver.resolve(resource.Properties ?? {});
    const streamArn = String(p.EventSourceArn);
    add(p.DestinationConfig?.OnFailure?.Destination, { kind: 'stream', functionId: logicalIdOfArn(p.FunctionName), tableName: streamArn.split('/')[1]!, streamArn });
  }
  for (const [queueId, resource] of resolver.ofType('AWS::SQS::Queue')) {
    add(resolver.resolve(resource.Properties?.RedrivePolicy?.deadLetterTargetArn), { kind: 'queue', queueId });
  }
  for (const schedule of schedulesOf(resolver).schedules) {
    add(schedule.deadLetterQueueArn, { kind: 'schedule', scheduleId: schedule.logicalId, functionId: schedule.functionId, input: schedule.input });
  }
  return sources;
}

/**
 * Which of a queue's sources parked this message. The messages say it as AWS's do: a stream batch is a record
 * with DDBStreamBatchInfo, a rule target's dead letter names its rule (RULE_ARN), a function's asynchronous dead
 * letter carries Lambda's RequestID; a queue with a single source needs no more.
 */
export function sourceOf(message: Pick<Message, 'Body' | 'MessageAttributes'>, sources: DeadLetterSource[]): DeadLetterSource {
  const attributes = message.MessageAttributes ?? {};
  let body: any;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    body = undefined;
  }
  const candidates = body?.DDBStreamBatchInfo
    ? sources.filter((s) => s.kind === 'stream')
    : attributes.RULE_ARN
      ? sources.filter((s) => s.kind === 'rule-target' && s.ruleId === logicalIdOfArn(attributes.RULE_ARN!.StringValue ?? ''))
      : attributes.RequestID
        ? sources.filter((s) => s.kind === 'lambda-async')
        : sources.filter((s) => s.kind === 'schedule');
  const chosen = candidates.length === 1 ? candidates[0] : sources.length === 1 ? sources[0] : undefined;
  if (!chosen) throw new Error(`cannot tell which of ${sources.length} targets parked this message`);
  return chosen;
}

export type RedriveOutcome = { messageId: string; target: string; delivered: boolean; detail: string };

export type RedriveDeps = {
  resolver: TemplateResolver;
  sqs: SQSClient;
  queueUrl: (queueId: string) => string;
  dynamo: DynamoDBClient;
  streamsConfig: DynamoDBStreamsClientConfig;
  invoke: (functionId: string, event: unknown) => Promise<unknown>;
  /** Lambda's asynchronous retries of a function (its EventInvokeConfig). */
  asyncRetries: (functionId: string) => number;
  startExecution: (stateMachineId: string, input: unknown) => void;
  log: (message: string) => void;
};

/** How far around a parked batch's arrival times the event table is read once its stream records have expired. */
const ARRIVAL_SLACK_MS = 5 * 60_000;

export class Redriver {
  private readonly deps: RedriveDeps;
  readonly sources: Map<string, DeadLetterSource[]>;

  constructor(deps: RedriveDeps) {
    this.deps = deps;
    this.sources = deadLetterSources(deps.resolver);
  }

  /** Every message now in the queue, once each, back to its target; delivered ones are deleted. */
  async redrive(queueId: string): Promise<RedriveOutcome[]> {
    const sources = this.sources.get(queueId);
    if (!sources) throw new Error(`${queueId} is no dead-letter queue of the template`);
    const { sqs } = this.deps;
    const QueueUrl = this.deps.queueUrl(queueId);
    const outcomes: RedriveOutcome[] = [];
    const kept: Message[] = [];
    for (;;) {
      // Hidden while they are worked on, so that one message is never taken twice in a run.
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 900, MessageAttributeNames: ['All'] }));
      if (!Messages.length) break;
      for (const message of Messages) {
        let source: DeadLetterSource | undefined;
        try {
          source = sourceOf(message, sources);
          const detail = await this.deliver(source, message);
          await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
          outcomes.push({ messageId: message.MessageId!, target: describe(source), delivered: true, detail });
        } catch (error) {
          kept.push(message);
          outcomes.push({ messageId: message.MessageId!, target: source ? describe(source) : 'unknown', delivered: false, detail: (error as Error).message });
        }
      }
    }
    // What failed again is there for the next attempt, at once.
    for (const message of kept) await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    return outcomes;
  }

  private async deliver(source: DeadLetterSource, message: Message): Promise<string> {
    const body = JSON.parse(message.Body ?? 'null');
    switch (source.kind) {
      case 'rule-target':
        if (source.targetKind === 'state-machine') {
          this.deps.startExecution(source.resourceId, body);
          return `execution of ${source.resourceId} started for ${body?.['detail-type'] ?? 'the event'}`;
        }
        await this.invokeAsync(source.resourceId, body);
        return `${body?.['detail-type'] ?? 'event'} ${body?.id ?? ''} delivered`;
      case 'lambda-async':
        await this.invokeAsync(source.functionId, body);
        return `${body?.['detail-type'] ?? 'event'} ${body?.id ?? ''} delivered`;
      case 'schedule':
        await this.invokeAsync(source.functionId, body ?? source.input);
        return `${source.functionId} ran`;
      case 'stream':
        return this.redriveStreamBatch(source, body.DDBStreamBatchInfo);
      case 'queue':
        await this.deps.sqs.send(new SendMessageCommand({ QueueUrl: this.deps.queueUrl(source.queueId), MessageBody: message.Body ?? '' }));
        return `moved back to ${source.queueId}`;
    }
  }

  /** Lambda's asynchronous invocation as the bus makes it: the function's own retries, then an error. */
  private async invokeAsync(functionId: string, event: unknown): Promise<void> {
    const retries = this.deps.asyncRetries(functionId);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deps.invoke(functionId, event);
        return;
      } catch (error) {
        if (attempt >= retries) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  /**
   * A parked stream batch names where it was in the stream (shard and sequence range), which the stream forgets
   * after 24 hours. The events themselves are in the event table for good, so they are read from there by the
   * aggregate and version each record names, and handed to the publisher as the stream would have.
   */
  private async redriveStreamBatch(source: Extract<DeadLetterSource, { kind: 'stream' }>, info: StreamBatchInfo): Promise<string> {
    let keys = await this.keysFromStream(info).catch((error: Error) => {
      this.deps.log(`stream position ${info.shardId}/${info.startSequenceNumber} is gone (${error.name}); reading the event table by arrival time`);
      return undefined;
    });
    const images: Array<{ keys: Record<string, AttributeValue>; image: Record<string, AttributeValue>; sequenceNumber: string }> = [];
    if (keys) {
      for (const { keys: key, sequenceNumber } of keys) {
        const { Item } = await this.deps.dynamo.send(new GetItemCommand({ TableName: source.tableName, Key: key, ConsistentRead: true }));
        if (Item) images.push({ keys: key, image: Item, sequenceNumber });
      }
    } else {
      for (const image of await this.itemsByArrival(source.tableName, info)) {
        images.push({ keys: { aggregateId: image.aggregateId!, version: image.version! }, image, sequenceNumber: `redrive-${randomUUID()}` });
      }
      keys = [];
    }
    if (!images.length) return 'no events to publish';
    const records: DynamoDBRecord[] = images.map(({ keys: Keys, image, sequenceNumber }) => ({
      eventID: randomUUID(),
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: LOCAL_REGION,
      eventSourceARN: info.streamArn ?? source.streamArn,
      dynamodb: { Keys: Keys as never, NewImage: image as never, SequenceNumber: sequenceNumber, StreamViewType: 'NEW_IMAGE' },
    }));
    const response = (await this.deps.invoke(source.functionId, { Records: records })) as DynamoDBBatchResponse | undefined;
    const failures = response?.batchItemFailures?.length ?? 0;
    if (failures) throw new Error(`${failures} of ${records.length} records failed again`);
    const named = images.map(({ keys: k }) => `${k.aggregateId?.S}@${k.version?.N}`);
    return `${records.length} event(s) published: ${named.join(', ')}`;
  }

  /** The keys (aggregate and version) of the records in the parked range, while the stream still has them. */
  private async keysFromStream(info: StreamBatchInfo): Promise<Array<{ keys: Record<string, AttributeValue>; sequenceNumber: string }>> {
    const streams = new DynamoDBStreamsClient(this.deps.streamsConfig);
    try {
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({ StreamArn: info.streamArn, ShardId: info.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: info.startSequenceNumber }),
      );
      const records: _Record[] = [];
      const end = BigInt(info.endSequenceNumber);
      let iterator = ShardIterator;
      while (iterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        const inRange = (page.Records ?? []).filter((r) => BigInt(r.dynamodb!.SequenceNumber!) <= end);
        records.push(...inRange);
        if (!page.Records?.length || inRange.length < page.Records.length || records.length >= info.batchSize) break;
        iterator = page.NextShardIterator;
      }
      return records.map((r) => ({ keys: r.dynamodb!.Keys as Record<string, AttributeValue>, sequenceNumber: r.dynamodb!.SequenceNumber! }));
    } finally {
      streams.destroy();
    }
  }

  /**
   * Past the stream's 24 hours: the events appended around the batch's arrival times. This reads more than the
   * batch (its neighbours in time), which is harmless: every consumer is idempotent on event id. A scan, which
   * only the operator's tool does; no function of the stack may scan the event table.
   */
  private async itemsByArrival(tableName: string, info: StreamBatchInfo): Promise<Array<Record<string, AttributeValue>>> {
    const from = new Date(Date.parse(info.approximateArrivalOfFirstRecord) - ARRIVAL_SLACK_MS).toISOString();
    const to = new Date(Date.parse(info.approximateArrivalOfLastRecord) + ARRIVAL_SLACK_MS).toISOString();
    const items: Array<Record<string, AttributeValue>> = [];
    let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.deps.dynamo.send(
        new ScanCommand({
          TableName: tableName,
          FilterExpression: '#m.#t BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#m': 'metadata', '#t': 'timestamp' },
          ExpressionAttributeValues: { ':from': { S: from }, ':to': { S: to } },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    // In the order they were appended to each aggregate, as the stream would have had them.
    return items.sort((a, b) => (a.metadata?.M?.timestamp?.S ?? '').localeCompare(b.metadata?.M?.timestamp?.S ?? '') || Number(a.version?.N) - Number(b.version?.N));
  }
}

type StreamBatchInfo = {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  approximateArrivalOfFirstRecord: string;
  approximateArrivalOfLastRecord: string;
  batchSize: number;
  streamArn: string;
};

function describe(source: DeadLetterSource): string {
  switch (source.kind) {
    case 'rule-target':
      return `${source.ruleId} -> ${source.resourceId}`;
    case 'lambda-async':
      return source.functionId;
    case 'stream':
      return `${source.functionId} (stream of ${source.tableName})`;
    case 'schedule':
      return `${source.scheduleId} -> ${source.functionId}`;
    case 'queue':
      return source.queueId;
  }
}
