// A local SQS for the laptop stack: standard queues in memory, optionally persisted to a JSON file so that
// dead-letter queues keep their contents across restarts, served over the AWS JSON 1.0 protocol the SDK
// speaks (POST /, X-Amz-Target: AmazonSQS.<Action>). Errors carry both the JSON `__type` and the
// `x-amzn-query-error` header: the SDK is "query compatible" and resolves error classes from that header's
// code first, which is what makes `instanceof QueueDoesNotExist` work.
// Behaviour follows the SQS docs: visibility timeouts, long polling, delays, retention, redrive to a DLQ
// after maxReceiveCount receives, and deletes with a stale receipt handle succeed without deleting.
// Not emulated: FIFO queues (rejected), permissions, tags, message move tasks, the 60 s purge cooldown.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';

export type MessageAttributeValue = { DataType: string; StringValue?: string; BinaryValue?: string };

/** A message as the test and runtime helpers see it (`messages(name)`). */
export type LocalSqsMessage = {
  messageId: string;
  body: string;
  messageAttributes: Record<string, MessageAttributeValue>;
  sentTimestamp: number;
  receiveCount: number;
  state: 'visible' | 'inFlight' | 'delayed';
};

export type LocalSqs = {
  endpoint: string;
  port: number;
  close(): Promise<void>;
  queueUrl(name: string): string;
  /** CreateQueue without a client; idempotent. Returns the queue URL. */
  createQueue(name: string, attributes?: Record<string, string>): string;
  /** Every message of a queue, in delivery order, without receiving them. */
  messages(name: string): LocalSqsMessage[];
};

const account = '000000000000';
const region = 'us-east-1';
const saveDelayMs = 50;
const maxBodyBytes = 16 * 1024 * 1024;

type StoredMessage = {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes: Record<string, MessageAttributeValue>;
  md5OfMessageAttributes?: string;
  systemAttributes: Record<string, MessageAttributeValue>;
  sentTimestamp: number;
  /** Epoch ms from which the message can be received: later while delayed or in flight. */
  visibleAt: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** Only the latest receipt handle deletes or changes visibility, as in SQS. */
  receiptHandle?: string;
  deadLetterQueueSourceArn?: string;
};

type Queue = {
  name: string;
  attributes: Record<string, string>;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  messages: Map<string, StoredMessage>;
};

type PersistedState = {
  version: 1;
  queues: Array<Omit<Queue, 'messages'> & { messages: StoredMessage[] }>;
};

type Input = Record<string, unknown>;

class SqsError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

// Error codes as the query-compatible header names them (the SDK's awsQueryError traits) and HTTP status;
// codes not listed use their own name and 400.
const queryErrors: Record<string, [queryCode: string, status: number]> = {
  QueueDoesNotExist: ['AWS.SimpleQueueService.NonExistentQueue', 400],
  QueueNameExists: ['QueueAlreadyExists', 400],
  ReceiptHandleIsInvalid: ['ReceiptHandleIsInvalid', 404],
  InvalidAddress: ['InvalidAddress', 404],
  MessageNotInflight: ['AWS.SimpleQueueService.MessageNotInflight', 400],
  EmptyBatchRequest: ['AWS.SimpleQueueService.EmptyBatchRequest', 400],
  TooManyEntriesInBatchRequest: ['AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 400],
  BatchEntryIdsNotDistinct: ['AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 400],
  InvalidBatchEntryId: ['AWS.SimpleQueueService.InvalidBatchEntryId', 400],
  BatchRequestTooLong: ['AWS.SimpleQueueService.BatchRequestTooLong', 400],
  UnsupportedOperation: ['AWS.SimpleQueueService.UnsupportedOperation', 400],
  InvalidAction: ['InvalidAction', 400],
};

const integerIn = (min: number, max: number) => (value: string) =>
  /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max ? undefined : `must be an integer from ${min} to ${max}`;
const anyString = () => undefined;

/** Queue attributes CreateQueue/SetQueueAttributes accept, with a validator returning a problem or undefined. */
const settableAttributes: Record<string, (value: string) => string | undefined> = {
  DelaySeconds: integerIn(0, 900),
  MaximumMessageSize: integerIn(1024, 1048576),
  MessageRetentionPeriod: integerIn(60, 1209600),
  ReceiveMessageWaitTimeSeconds: integerIn(0, 20),
  VisibilityTimeout: integerIn(0, 43200),
  RedrivePolicy: anyString, // checked against the queues that exist, in setAttributes
  RedriveAllowPolicy: anyString,
  Policy: anyString,
  KmsMasterKeyId: anyString,
  KmsDataKeyReusePeriodSeconds: integerIn(60, 86400),
  SqsManagedSseEnabled: (value) => (value === 'true' || value === 'false' ? undefined : 'must be true or false'),
  FifoQueue: (value) => (value === 'false' ? undefined : 'FIFO queues are not supported by the local SQS'),
};
const defaultAttributes: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '262144',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
};
const computedAttributes = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
];

export async function startLocalSqs(opts: { port?: number; stateFile?: string } = {}): Promise<LocalSqs> {
  const queues = loadState(opts.stateFile);
  const waiters = new Map<string, Set<() => void>>();
  let closing = false;
  let saveTimer: NodeJS.Timeout | undefined;
  let origin = '';

  const queueUrl = (name: string) => `${origin}/${account}/${name}`;
  const queueArn = (name: string) => `arn:aws:sqs:${region}:${account}:${name}`;

  function scheduleSave(): void {
    if (!opts.stateFile || saveTimer) return;
    saveTimer = setTimeout(saveNow, saveDelayMs);
    saveTimer.unref();
  }

  function saveNow(): void {
    clearTimeout(saveTimer);
    saveTimer = undefined;
    if (!opts.stateFile) return;
    const state: PersistedState = {
      version: 1,
      queues: [...queues.values()].map((queue) => ({ ...queue, messages: [...queue.messages.values()] })),
    };
    // Write-then-rename so a crash mid-write never leaves a truncated state file behind.
    mkdirSync(dirname(opts.stateFile), { recursive: true });
    writeFileSync(`${opts.stateFile}.tmp`, JSON.stringify(state));
    renameSync(`${opts.stateFile}.tmp`, opts.stateFile);
  }

  /** Wakes long polls waiting on a queue so they look again. */
  function notify(name: string): void {
    for (const wake of waiters.get(name) ?? []) wake();
  }

  function nextChange(name: string, until: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const queueWaiters = waiters.get(name) ?? waiters.set(name, new Set()).get(name)!;
      const wake = () => {
        clearTimeout(timer);
        queueWaiters.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, until - Date.now()));
      queueWaiters.add(wake);
      signal.addEventListener('abort', wake);
    });
  }

  function queueNamed(name: unknown): Queue {
    const queue = typeof name === 'string' ? queues.get(name) : undefined;
    if (!queue) throw new SqsError('QueueDoesNotExist', `The specified queue does not exist: ${String(name)}.`);
    return queue;
  }

  /** Queue URLs are matched on /<account>/<name>, whatever host the caller used to reach us. */
  function queueAt(input: Input): Queue {
    const url = required(input, 'QueueUrl');
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      throw new SqsError('InvalidAddress', `The address ${url} is not valid for this endpoint.`);
    }
    const [, owner, name, ...rest] = path.split('/');
    if (owner !== account || !name || rest.length > 0) {
      throw new SqsError('QueueDoesNotExist', `The specified queue does not exist: ${url}.`);
    }
    return queueNamed(name);
  }

  function validatedAttributes(attributes: unknown, forQueue: string): Record<string, string> {
    if (attributes === undefined) return {};
    if (!isRecord(attributes)) throw new SqsError('InvalidParameterValue', 'Attributes must be a map of attribute names to strings.');
    const result: Record<string, string> = {};
    for (const [name, value] of Object.entries(attributes)) {
      const validate = settableAttributes[name];
      if (!validate) throw new SqsError('InvalidAttributeName', `Unknown or read-only queue attribute ${name}.`);
      const text = String(value);
      const problem = validate(text) ?? (name === 'RedrivePolicy' ? redriveProblem(text, forQueue) : undefined);
      if (problem) throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}: ${problem}.`);
      result[name] = text;
    }
    return result;
  }

  function redriveProblem(text: string, forQueue: string): string | undefined {
    const policy = parseRedrivePolicy(text);
    if (!policy) return 'expected {"deadLetterTargetArn": "arn:aws:sqs:...", "maxReceiveCount": 1..1000}';
    if (!queues.has(policy.deadLetterQueueName)) return `dead letter target ${policy.deadLetterQueueName} does not exist`;
    if (policy.deadLetterQueueName === forQueue) return 'a queue cannot be its own dead letter queue';
    return undefined;
  }

  function createQueue(input: Input): { QueueUrl: string } {
    const name = required(input, 'QueueName');
    if (name.endsWith('.fifo')) throw new SqsError('UnsupportedOperation', 'FIFO queues are not supported by the local SQS.');
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
      throw new SqsError('InvalidParameterValue', 'Queue names can only include alphanumeric characters, hyphens, or underscores, 1 to 80 in length.');
    }
    const attributes = validatedAttributes(input['Attributes'], name);
    const existing = queues.get(name);
    if (existing) {
      // Idempotent only when the attributes asked for agree with the queue's, as in SQS.
      const differing = Object.keys(attributes).find((key) => (existing.attributes[key] ?? defaultAttributes[key]) !== attributes[key]);
      if (differing) throw new SqsError('QueueNameExists', `A queue already exists with the same name and a different value for attribute ${differing}.`);
      return { QueueUrl: queueUrl(name) };
    }
    const now = Date.now();
    queues.set(name, {
      name,
      attributes: { ...defaultAttributes, ...attributes },
      createdTimestamp: now,
      lastModifiedTimestamp: now,
      messages: new Map(),
    });
    return { QueueUrl: queueUrl(name) };
  }

  function newMessage(queue: Queue, input: Input): StoredMessage {
    const body = input['MessageBody'];
    if (typeof body !== 'string' || body === '') throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    if (/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(body)) {
      throw new SqsError(
        'InvalidMessageContents',
        'Invalid characters found. Valid characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.',
      );
    }
    const messageAttributes = validatedMessageAttributes(input['MessageAttributes'], 'MessageAttributes');
    const systemAttributes = validatedMessageAttributes(input['MessageSystemAttributes'], 'MessageSystemAttributes');
    const maxSize = Number(queue.attributes['MaximumMessageSize']);
    if (messageSize(body, messageAttributes) > maxSize) {
      throw new SqsError('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${maxSize} bytes.`);
    }
    const delay = integerParam(input, 'DelaySeconds', 0, 900, Number(queue.attributes['DelaySeconds']));
    const now = Date.now();
    return {
      messageId: randomUUID(),
      body,
      md5OfBody: md5(body),
      messageAttributes,
      md5OfMessageAttributes: md5OfMessageAttributes(messageAttributes),
      systemAttributes,
      sentTimestamp: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
    };
  }

  function sendMessage(input: Input) {
    const queue = queueAt(input);
    const message = newMessage(queue, input);
    queue.messages.set(message.messageId, message);
    notify(queue.name);
    return sendResult(message);
  }

  function sendMessageBatch(input: Input) {
    const queue = queueAt(input);
    const entries = batchEntries(input);
    // Every entry is validated before any is enqueued: an oversized batch must enqueue nothing.
    const prepared = entries.map((entry): StoredMessage | SqsError => {
      try {
        return newMessage(queue, entry);
      } catch (error) {
        if (error instanceof SqsError) return error;
        throw error;
      }
    });
    const total = prepared.reduce(
      (sum, message) => sum + (message instanceof SqsError ? 0 : messageSize(message.body, message.messageAttributes)),
      0,
    );
    const maxSize = Number(queue.attributes['MaximumMessageSize']);
    if (total > maxSize) throw new SqsError('BatchRequestTooLong', `Batch requests cannot be longer than ${maxSize} bytes in total.`);
    return batchResult(entries, (_entry, index) => {
      const message = prepared[index]!;
      if (message instanceof SqsError) throw message;
      queue.messages.set(message.messageId, message);
      notify(queue.name);
      return sendResult(message);
    });
  }

  /** Drops messages older than the queue's retention period; true if any were dropped. */
  function dropExpired(queue: Queue, now: number): boolean {
    const retentionMs = Number(queue.attributes['MessageRetentionPeriod']) * 1000;
    const before = queue.messages.size;
    for (const message of queue.messages.values()) {
      if (message.sentTimestamp + retentionMs <= now) queue.messages.delete(message.messageId);
    }
    return queue.messages.size !== before;
  }

  /** Takes up to `max` receivable messages in send order, redriving over-received ones to the DLQ on the way. */
  function takeMessages(queue: Queue, max: number, visibilitySeconds: number, now: number): { taken: StoredMessage[]; changed: boolean } {
    const redrive = parseRedrivePolicy(queue.attributes['RedrivePolicy']);
    const deadLetterQueue = redrive ? queues.get(redrive.deadLetterQueueName) : undefined;
    const taken: StoredMessage[] = [];
    let changed = dropExpired(queue, now);
    for (const message of queue.messages.values()) {
      if (taken.length === max) break;
      if (message.visibleAt > now) {
        continue;
      } else if (redrive && deadLetterQueue && message.receiveCount >= redrive.maxReceiveCount) {
        // SQS moves a message when a receive would exceed maxReceiveCount; it keeps its id, body and sent time.
        queue.messages.delete(message.messageId);
        deadLetterQueue.messages.set(message.messageId, {
          ...message,
          visibleAt: now,
          receiptHandle: undefined,
          deadLetterQueueSourceArn: queueArn(queue.name),
        });
        notify(deadLetterQueue.name);
        changed = true;
      } else {
        message.receiveCount++;
        message.firstReceiveTimestamp ??= now;
        message.visibleAt = now + visibilitySeconds * 1000;
        message.receiptHandle = Buffer.from(`${message.messageId} ${randomUUID()}`).toString('base64url');
        taken.push(message);
        changed = true;
      }
    }
    return { taken, changed };
  }

  async function receiveMessage(input: Input, signal: AbortSignal) {
    const queue = queueAt(input);
    const max = integerParam(input, 'MaxNumberOfMessages', 1, 10, 1);
    const visibility = integerParam(input, 'VisibilityTimeout', 0, 43200, Number(queue.attributes['VisibilityTimeout']));
    const wait = integerParam(input, 'WaitTimeSeconds', 0, 20, Number(queue.attributes['ReceiveMessageWaitTimeSeconds']));
    const wanted = new Set([...stringList(input, 'AttributeNames'), ...stringList(input, 'MessageSystemAttributeNames')]);
    const wantedMessageAttributes = stringList(input, 'MessageAttributeNames');
    const deadline = Date.now() + wait * 1000;
    for (;;) {
      if (queues.get(queue.name) !== queue) throw new SqsError('QueueDoesNotExist', `The specified queue was deleted: ${queue.name}.`);
      const now = Date.now();
      const { taken, changed } = takeMessages(queue, max, visibility, now);
      if (changed) scheduleSave();
      if (taken.length > 0) {
        return { Messages: taken.map((message) => receivedMessage(message, wanted, wantedMessageAttributes)) };
      }
      if (now >= deadline || closing || signal.aborted) return {};
      // Sleep until something is sent, a message's delay or visibility timeout runs out, or the poll ends.
      let nextVisible = Infinity;
      for (const message of queue.messages.values()) if (message.visibleAt > now) nextVisible = Math.min(nextVisible, message.visibleAt);
      await nextChange(queue.name, Math.min(deadline, nextVisible), signal);
    }
  }

  function receivedMessage(message: StoredMessage, wanted: Set<string>, wantedMessageAttributes: string[]) {
    const all = wanted.has('All');
    const system: Record<string, string | undefined> = {
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
      SentTimestamp: String(message.sentTimestamp),
      SenderId: account,
      AWSTraceHeader: message.systemAttributes['AWSTraceHeader']?.StringValue,
      DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn,
    };
    const attributes = Object.fromEntries(
      Object.entries(system).filter(([name, value]) => value !== undefined && (all || wanted.has(name))),
    );
    const messageAttributes = Object.fromEntries(
      Object.entries(message.messageAttributes).filter(([name]) =>
        wantedMessageAttributes.some((pattern) =>
          pattern === 'All' || pattern === '.*' || pattern === name || (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))),
        ),
      ),
    );
    return {
      MessageId: message.messageId,
      ReceiptHandle: message.receiptHandle,
      MD5OfBody: message.md5OfBody,
      Body: message.body,
      ...(Object.keys(attributes).length > 0 && { Attributes: attributes }),
      ...(Object.keys(messageAttributes).length > 0 && {
        MessageAttributes: messageAttributes,
        MD5OfMessageAttributes: md5OfMessageAttributes(messageAttributes),
      }),
    };
  }

  /** The message a receipt handle points at, if that handle is still its latest one. */
  function messageFor(queue: Queue, receiptHandle: unknown): StoredMessage | undefined {
    const handle = typeof receiptHandle === 'string' ? receiptHandle : '';
    const [messageId, nonce] = Buffer.from(handle, 'base64url').toString('utf8').split(' ');
    if (!messageId || !nonce) throw new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`);
    const message = queue.messages.get(messageId);
    return message?.receiptHandle === handle ? message : undefined;
  }

  function deleteMessage(queue: Queue, entry: Input): object {
    // A stale handle (the message was received again since) succeeds without deleting, as SQS documents.
    const message = messageFor(queue, required(entry, 'ReceiptHandle'));
    if (message) queue.messages.delete(message.messageId);
    return {};
  }

  function changeVisibility(queue: Queue, entry: Input): object {
    const handle = required(entry, 'ReceiptHandle');
    const timeout = integerParam(entry, 'VisibilityTimeout', 0, 43200, 'required');
    const message = messageFor(queue, handle);
    if (!message) {
      throw new SqsError(
        'InvalidParameterValue',
        `Value ${handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
      );
    }
    if (message.visibleAt <= Date.now()) throw new SqsError('MessageNotInflight', 'The message referred to is not in flight.');
    message.visibleAt = Date.now() + timeout * 1000;
    if (timeout === 0) notify(queue.name);
    return {};
  }

  function getQueueAttributes(input: Input) {
    const queue = queueAt(input);
    const names = stringList(input, 'AttributeNames');
    const now = Date.now();
    if (dropExpired(queue, now)) scheduleSave();
    const messages = [...queue.messages.values()];
    const visible = messages.filter((message) => message.visibleAt <= now).length;
    const inFlight = messages.filter((message) => message.visibleAt > now && message.receiveCount > 0).length;
    const all: Record<string, string> = {
      ...queue.attributes,
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(messages.length - visible - inFlight),
      CreatedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.lastModifiedTimestamp / 1000)),
      QueueArn: queueArn(queue.name),
    };
    for (const name of names) {
      if (name !== 'All' && !(name in settableAttributes) && !computedAttributes.includes(name)) {
        throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      }
    }
    const attributes = names.includes('All')
      ? all
      : Object.fromEntries(names.filter((name) => name in all).map((name) => [name, all[name]!]));
    return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
  }

  function batchResult(entries: Input[], perEntry: (entry: Input, index: number) => object) {
    const Successful: object[] = [];
    const Failed: object[] = [];
    entries.forEach((entry, index) => {
      try {
        Successful.push({ Id: entry['Id'], ...perEntry(entry, index) });
      } catch (error) {
        if (!(error instanceof SqsError)) throw error;
        Failed.push({ Id: entry['Id'], SenderFault: true, Code: error.code, Message: error.message });
      }
    });
    return { Successful, Failed };
  }

  // Actions after which there is nothing to persist (ReceiveMessage saves itself, only when it changed something).
  const noSaveAfter = new Set(['GetQueueUrl', 'ListQueues', 'GetQueueAttributes', 'ReceiveMessage']);

  async function dispatch(action: string, input: Input, signal: AbortSignal): Promise<object> {
    switch (action) {
      case 'CreateQueue':
        return createQueue(input);
      case 'GetQueueUrl':
        return { QueueUrl: queueUrl(queueNamed(required(input, 'QueueName')).name) };
      case 'ListQueues': {
        const prefix = typeof input['QueueNamePrefix'] === 'string' ? input['QueueNamePrefix'] : '';
        const names = [...queues.keys()].filter((name) => name.startsWith(prefix)).sort();
        const after = typeof input['NextToken'] === 'string' ? Buffer.from(input['NextToken'], 'base64url').toString('utf8') : '';
        const remaining = names.filter((name) => name > after);
        const max = integerParam(input, 'MaxResults', 1, 1000, undefined);
        const page = remaining.slice(0, max ?? 1000);
        const more = max !== undefined && remaining.length > page.length;
        return {
          ...(page.length > 0 && { QueueUrls: page.map(queueUrl) }),
          ...(more && { NextToken: Buffer.from(page.at(-1)!).toString('base64url') }),
        };
      }
      case 'DeleteQueue': {
        const queue = queueAt(input);
        queues.delete(queue.name);
        notify(queue.name);
        return {};
      }
      case 'GetQueueAttributes':
        return getQueueAttributes(input);
      case 'SetQueueAttributes': {
        const queue = queueAt(input);
        Object.assign(queue.attributes, validatedAttributes(input['Attributes'], queue.name));
        queue.lastModifiedTimestamp = Date.now();
        return {};
      }
      case 'PurgeQueue':
        queueAt(input).messages.clear();
        return {};
      case 'SendMessage':
        return sendMessage(input);
      case 'SendMessageBatch':
        return sendMessageBatch(input);
      case 'ReceiveMessage':
        return receiveMessage(input, signal);
      case 'DeleteMessage':
        return deleteMessage(queueAt(input), input);
      case 'DeleteMessageBatch': {
        const queue = queueAt(input);
        return batchResult(batchEntries(input), (entry) => deleteMessage(queue, entry));
      }
      case 'ChangeMessageVisibility':
        return changeVisibility(queueAt(input), input);
      case 'ChangeMessageVisibilityBatch': {
        const queue = queueAt(input);
        return batchResult(batchEntries(input), (entry) => changeVisibility(queue, entry));
      }
      default:
        throw new SqsError('InvalidAction', `The action ${action} is not valid for this endpoint (the local SQS does not implement it).`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const aborted = new AbortController();
    res.on('close', () => aborted.abort()); // the caller hung up: end its long poll
    // Answers given while closing (woken long polls) release their connection so close() can finish.
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      send(res, status, body, closing ? { ...headers, connection: 'close' } : headers);
    try {
      const target = req.headers['x-amz-target'];
      const action = typeof target === 'string' && target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : undefined;
      if (req.method !== 'POST' || !action) {
        throw new SqsError(
          'InvalidAction',
          'The local SQS speaks the AWS JSON 1.0 protocol only: POST / with X-Amz-Target: AmazonSQS.<Action> (use @aws-sdk/client-sqs v3).',
        );
      }
      const text = (await readBody(req)).toString('utf8');
      let input: unknown;
      try {
        input = JSON.parse(text || '{}');
      } catch {
        throw new SqsError('SerializationException', 'The request body is not valid JSON.');
      }
      if (!isRecord(input)) throw new SqsError('SerializationException', 'The request body must be a JSON object.');
      const output = await dispatch(action, input, aborted.signal);
      if (!noSaveAfter.has(action)) scheduleSave();
      reply(200, output);
    } catch (error) {
      const sqsError = error instanceof SqsError ? error : new SqsError('InternalError', String(error));
      const [queryCode, status] = queryErrors[sqsError.code] ?? [sqsError.code, sqsError.code === 'InternalError' ? 500 : 400];
      reply(status, { __type: `com.amazonaws.sqs#${sqsError.code}`, message: sqsError.message }, {
        'x-amzn-query-error': `${queryCode};${status >= 500 ? 'Receiver' : 'Sender'}`,
      });
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  return {
    endpoint: origin,
    port,
    queueUrl,
    createQueue(name, attributes) {
      const { QueueUrl } = createQueue({ QueueName: name, Attributes: attributes });
      scheduleSave();
      return QueueUrl;
    },
    messages(name) {
      const queue = queueNamed(name);
      const now = Date.now();
      return [...queue.messages.values()].map((message) => ({
        messageId: message.messageId,
        body: message.body,
        messageAttributes: message.messageAttributes,
        sentTimestamp: message.sentTimestamp,
        receiveCount: message.receiveCount,
        state: message.visibleAt <= now ? 'visible' : message.receiveCount > 0 ? 'inFlight' : 'delayed',
      }));
    },
    async close() {
      closing = true;
      for (const name of waiters.keys()) notify(name);
      saveNow();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
    },
  };
}

function loadState(stateFile: string | undefined): Map<string, Queue> {
  const queues = new Map<string, Queue>();
  if (!stateFile || !existsSync(stateFile)) return queues;
  let state: PersistedState;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch (error) {
    throw new Error(`local SQS: cannot read state file ${stateFile}: ${String(error)}`);
  }
  if (state.version !== 1) throw new Error(`local SQS: state file ${stateFile} has unknown version ${String(state.version)}`);
  for (const queue of state.queues) {
    queues.set(queue.name, { ...queue, messages: new Map(queue.messages.map((message) => [message.messageId, message])) });
  }
  return queues;
}

function parseRedrivePolicy(text: string | undefined): { deadLetterQueueName: string; maxReceiveCount: number } | undefined {
  if (!text) return undefined;
  try {
    const policy: unknown = JSON.parse(text);
    if (!isRecord(policy)) return undefined;
    const arn = policy['deadLetterTargetArn'];
    const maxReceiveCount = Number(policy['maxReceiveCount']);
    const match = typeof arn === 'string' ? /^arn:aws:sqs:[^:]+:\d{12}:([A-Za-z0-9_-]{1,80})$/.exec(arn) : null;
    if (!match || !Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) return undefined;
    return { deadLetterQueueName: match[1]!, maxReceiveCount };
  } catch {
    return undefined;
  }
}

function sendResult(message: StoredMessage) {
  return {
    MessageId: message.messageId,
    MD5OfMessageBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes && { MD5OfMessageAttributes: message.md5OfMessageAttributes }),
    ...(Object.keys(message.systemAttributes).length > 0 && {
      MD5OfMessageSystemAttributes: md5OfMessageAttributes(message.systemAttributes),
    }),
  };
}

function batchEntries(input: Input): Input[] {
  const entries = input['Entries'];
  if (!Array.isArray(entries) || entries.length === 0) throw new SqsError('EmptyBatchRequest', 'There should be at least one entry in the request.');
  if (entries.length > 10) throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
  const ids = new Set<unknown>();
  for (const entry of entries) {
    const id = isRecord(entry) ? entry['Id'] : undefined;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
      throw new SqsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores, 1 to 80 in length.');
    }
    if (ids.has(id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    ids.add(id);
  }
  return entries as Input[];
}

function validatedMessageAttributes(value: unknown, parameter: string): Record<string, MessageAttributeValue> {
  if (value === undefined) return {};
  const invalid = (why: string) => new SqsError('InvalidParameterValue', `${parameter}: ${why}`);
  if (!isRecord(value)) throw invalid('must be a map of attribute names to values.');
  if (Object.keys(value).length > 10) throw invalid('a message can have at most 10 attributes.');
  const result: Record<string, MessageAttributeValue> = {};
  for (const [name, attribute] of Object.entries(value)) {
    // SQS's naming rules: these characters, no leading, trailing or doubled dots, no AWS./Amazon. prefix.
    const validName = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name) && name.length <= 256 && !/^(aws|amazon)\./i.test(name);
    if (!validName) throw invalid(`the attribute name ${name} is not valid.`);
    if (!isRecord(attribute) || typeof attribute['DataType'] !== 'string') throw invalid(`the attribute ${name} needs a DataType.`);
    const dataType = attribute['DataType'];
    const baseType = dataType.split('.')[0];
    if (baseType === 'Binary') {
      if (typeof attribute['BinaryValue'] !== 'string') throw invalid(`the Binary attribute ${name} needs a BinaryValue.`);
      result[name] = { DataType: dataType, BinaryValue: attribute['BinaryValue'] };
    } else if (baseType === 'String' || baseType === 'Number') {
      const text = attribute['StringValue'];
      if (typeof text !== 'string' || text === '') throw invalid(`the attribute ${name} needs a StringValue.`);
      if (baseType === 'Number' && !Number.isFinite(Number(text))) throw invalid(`the Number attribute ${name} has a non-numeric value.`);
      result[name] = { DataType: dataType, StringValue: text };
    } else {
      throw invalid(`the attribute ${name} has an unknown DataType ${dataType}.`);
    }
  }
  return result;
}

/** Size as SQS counts it against MaximumMessageSize: the body plus each attribute's name, type and value. */
function messageSize(body: string, attributes: Record<string, MessageAttributeValue>): number {
  let size = Buffer.byteLength(body);
  for (const [name, { DataType, StringValue, BinaryValue }] of Object.entries(attributes)) {
    const value = StringValue !== undefined ? Buffer.byteLength(StringValue) : Buffer.from(BinaryValue ?? '', 'base64').length;
    size += Buffer.byteLength(name) + Buffer.byteLength(DataType) + value;
  }
  return size;
}

function md5(text: string | Buffer): string {
  return createHash('md5').update(text).digest('hex');
}

/** SQS's documented digest: per attribute, sorted by name, length-prefixed name, type, transport byte, value. */
function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const lengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of names) {
    const { DataType, StringValue, BinaryValue } = attributes[name]!;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(DataType, 'utf8'));
    const binary = DataType.startsWith('Binary');
    parts.push(Buffer.from([binary ? 2 : 1]));
    lengthPrefixed(binary ? Buffer.from(BinaryValue ?? '', 'base64') : Buffer.from(StringValue ?? '', 'utf8'));
  }
  return md5(Buffer.concat(parts));
}

function required(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '') throw new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
  return value;
}

function integerParam(input: Input, name: string, min: number, max: number, fallback: number | 'required'): number;
function integerParam(input: Input, name: string, min: number, max: number, fallback: undefined): number | undefined;
function integerParam(input: Input, name: string, min: number, max: number, fallback: number | 'required' | undefined): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) {
    if (fallback === 'required') throw new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
    return fallback;
  }
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new SqsError('InvalidParameterValue', `Value ${JSON.stringify(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`);
  }
  return value as number;
}

function stringList(input: Input, name: string): string[] {
  const value = input[name];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new SqsError('InvalidParameterValue', `${name} must be a list of strings.`);
  }
  return value;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new SqsError('InvalidParameterValue', `Request body is larger than ${maxBodyBytes} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  res.end(payload);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
