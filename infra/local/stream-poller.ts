// Plays Lambda's DynamoDB event source mapping: polls each shard of a table's stream and hands batches to the
// function, honouring the mapping's batch size, bounded retries, bisect-on-error, partial batch failures and
// on-failure destination. A batch blocks its shard until it is done, as on AWS, so order holds per shard.
import { readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import {
  DynamoDBStreamsClient,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { LOCAL_REGION } from './template-resolver.ts';

export type StreamMapping = {
  functionId: string;
  tableName: string;
  batchSize: number;
  retryAttempts: number;
  bisectBatchOnError: boolean;
  reportBatchItemFailures: boolean;
  onFailure?: (message: unknown) => Promise<void>;
};

type Invoke = (functionId: string, event: unknown) => Promise<unknown>;
type Log = (message: string) => void;

const IDLE_POLL_MS = 40;

export class StreamPoller {
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly checkpoints: Record<string, string>;
  private readonly streams: DynamoDBStreamsClient;
  private readonly dynamo: DynamoDBClient;
  private readonly invoke: Invoke;
  private readonly log: Log;
  private readonly checkpointFile?: string;

  constructor(options: {
    clientConfig: { endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string }; region: string };
    dynamo: DynamoDBClient;
    invoke: Invoke;
    log: Log;
    checkpointFile?: string;
  }) {
    this.streams = new DynamoDBStreamsClient(options.clientConfig);
    this.dynamo = options.dynamo;
    this.invoke = options.invoke;
    this.log = options.log;
    this.checkpointFile = options.checkpointFile;
    this.checkpoints = options.checkpointFile ? readCheckpoints(options.checkpointFile) : {};
  }

  start(mapping: StreamMapping): void {
    this.loops.push(this.keepPolling(mapping));
  }

  /** A poller that dies silently would lose the stack its events; it logs, waits and picks up again. */
  private async keepPolling(mapping: StreamMapping): Promise<void> {
    while (this.running) {
      try {
        await this.pollTable(mapping);
      } catch (error) {
        if (!this.running) return;
        this.log(`stream poller for ${mapping.tableName}: ${(error as Error).message}; retrying`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.allSettled(this.loops);
    this.streams.destroy();
  }

  private async pollTable(mapping: StreamMapping): Promise<void> {
    const { Table } = await this.dynamo.send(new DescribeTableCommand({ TableName: mapping.tableName }));
    const streamArn = Table?.LatestStreamArn;
    if (!streamArn) throw new Error(`table ${mapping.tableName} has no stream`);
    const iterators = new Map<string, string | undefined>();
    const finished = new Set<string>();
    let lastDescribe = 0;
    while (this.running) {
      if (Date.now() - lastDescribe > 1000) {
        lastDescribe = Date.now();
        const { StreamDescription } = await this.streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
        for (const shard of StreamDescription?.Shards ?? []) {
          const shardId = shard.ShardId!;
          if (iterators.has(shardId) || finished.has(shardId)) continue;
          iterators.set(shardId, await this.iteratorFor(streamArn, shardId));
        }
      }
      let busy = false;
      for (const [shardId, iterator] of iterators) {
        if (!this.running) break;
        if (!iterator) {
          iterators.delete(shardId);
          finished.add(shardId);
          continue;
        }
        let page;
        try {
          page = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: mapping.batchSize }));
        } catch (error) {
          // DynamoDB Local also answers TrimmedDataAccess for an iterator taken on a then-empty shard.
          if (['ExpiredIteratorException', 'TrimmedDataAccessException'].includes((error as Error).name)) {
            iterators.set(shardId, await this.iteratorFor(streamArn, shardId));
            continue;
          }
          throw error;
        }
        iterators.set(shardId, page.NextShardIterator);
        const records = page.Records ?? [];
        if (!records.length) continue;
        busy = true;
        await this.deliver(mapping, streamArn, shardId, records.map((record) => toLambdaRecord(record, streamArn)));
        this.checkpoint(shardId, records.at(-1)!.dynamodb!.SequenceNumber!);
      }
      if (!busy) await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
    }
  }

  private async iteratorFor(streamArn: string, shardId: string): Promise<string | undefined> {
    const after = this.checkpoints[shardId];
    try {
      const { ShardIterator } = await this.streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON',
          SequenceNumber: after,
        }),
      );
      return ShardIterator;
    } catch (error) {
      if (!after) throw error;
      this.log(`stream checkpoint ${after} of shard ${shardId} is gone; reading the shard from its start`);
      delete this.checkpoints[shardId];
      return this.iteratorFor(streamArn, shardId);
    }
  }

  /** One batch to the function, retried from the first failed record, bisected on errors, then parked. */
  private async deliver(mapping: StreamMapping, streamArn: string, shardId: string, records: DynamoDBRecord[]): Promise<void> {
    const pending: DynamoDBRecord[][] = [records];
    let attempts = 0;
    while (pending.length) {
      const batch = pending.shift()!;
      let failedFrom = -1;
      let thrown: unknown;
      try {
        const response = (await this.invoke(mapping.functionId, { Records: batch })) as DynamoDBBatchResponse | undefined;
        if (mapping.reportBatchItemFailures && response?.batchItemFailures?.length) {
          const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
          failedFrom = batch.findIndex((record) => failed.has(record.dynamodb!.SequenceNumber!));
          if (failedFrom === -1) failedFrom = 0;
        }
      } catch (error) {
        thrown = error;
        failedFrom = 0;
      }
      if (failedFrom === -1) continue;
      const rest = batch.slice(failedFrom);
      if (attempts >= mapping.retryAttempts) {
        this.log(`${mapping.functionId}: ${rest.length} stream record(s) failed ${attempts + 1} times; sent to the on-failure destination`);
        await mapping.onFailure?.(failureRecord(mapping, streamArn, shardId, rest, attempts + 1, thrown));
        continue;
      }
      attempts++;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempts));
      if (thrown !== undefined && mapping.bisectBatchOnError && rest.length > 1) {
        const half = Math.ceil(rest.length / 2);
        pending.unshift(rest.slice(0, half), rest.slice(half));
      } else {
        pending.unshift(rest);
      }
    }
  }

  private checkpoint(shardId: string, sequenceNumber: string): void {
    this.checkpoints[shardId] = sequenceNumber;
    if (this.checkpointFile) writeFileSync(this.checkpointFile, JSON.stringify(this.checkpoints));
  }
}

function readCheckpoints(file: string): Record<string, string> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

/** GetRecords gives nearly Lambda's record; Lambda adds the source ARN and gives epoch seconds, not a Date. */
function toLambdaRecord(record: _Record, streamArn: string): DynamoDBRecord {
  const created = record.dynamodb?.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: LOCAL_REGION,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(record.dynamodb as DynamoDBRecord['dynamodb']),
      ApproximateCreationDateTime: created instanceof Date ? Math.floor(created.getTime() / 1000) : (created as number | undefined),
    },
  };
}

/** The message Lambda sends to a stream mapping's on-failure destination: where the batch was, not the records. */
function failureRecord(mapping: StreamMapping, streamArn: string, shardId: string, records: DynamoDBRecord[], invokeCount: number, error: unknown) {
  return {
    requestContext: { requestId: randomUUID(), functionArn: mapping.functionId, condition: 'RetryAttemptsExhausted', approximateInvokeCount: invokeCount },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: error ? String((error as Error).name ?? 'Unhandled') : undefined },
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId,
      startSequenceNumber: records[0]!.dynamodb!.SequenceNumber,
      endSequenceNumber: records.at(-1)!.dynamodb!.SequenceNumber,
      // Lambda's record names these too; a redrive past the stream's 24 h finds the events by them.
      approximateArrivalOfFirstRecord: arrival(records[0]!),
      approximateArrivalOfLastRecord: arrival(records.at(-1)!),
      batchSize: records.length,
      streamArn,
    },
  };
}

function arrival(record: DynamoDBRecord): string {
  const seconds = record.dynamodb?.ApproximateCreationDateTime;
  return new Date(seconds ? seconds * 1000 : Date.now()).toISOString();
}
