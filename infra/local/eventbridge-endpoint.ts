// A local EventBridge PutEvents endpoint: speaks the AWS JSON 1.1 protocol the SDK uses (POST /,
// X-Amz-Target: AWSEvents.PutEvents), validates entries as EventBridge does, and hands each accepted entry to
// `onEvents` already shaped as the event EventBridge delivers to rule targets. Routing (rules, targets) is the
// local runtime's job; this endpoint only accepts and reports, including partial failures, so publishers
// exercise their resend-the-failed-entries path locally.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/** An event as EventBridge delivers it to targets. */
export type DeliveredEvent = {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
};

/** The bus name travels beside the event: EventBridge does not put it in what targets receive. */
export type BusEvent = { eventBusName: string; event: DeliveredEvent };

export type EventBridgeEndpoint = {
  endpoint: string;
  port: number;
  close(): Promise<void>;
  /** Test hook: the next `count` otherwise-valid entries fail with InternalFailure instead of being delivered. */
  failNext(count: number): void;
};

export const localAccount = '000000000000';
export const localRegion = 'us-east-1';
const maxEntriesPerCall = 10;
// EventBridge's documented PutEvents limit: the summed entry sizes of one request (its calculation below).
const maxRequestEntryBytes = 256 * 1024;
const maxBodyBytes = 8 * 1024 * 1024;

type ResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };
type RequestEntry = {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  Resources?: unknown;
  EventBusName?: unknown;
  Time?: unknown;
};

class AwsJsonError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

export async function startEventBridgeEndpoint(opts: {
  port?: number;
  onEvents: (events: BusEvent[]) => Promise<void> | void;
}): Promise<EventBridgeEndpoint> {
  let failuresToInject = 0;
  let closing = false;

  async function putEvents(request: unknown): Promise<{ FailedEntryCount: number; Entries: ResultEntry[] }> {
    const entries = isRecord(request) ? request['Entries'] : undefined;
    if (!Array.isArray(entries)) throw validation("Value null at 'entries' failed to satisfy constraint: Member must not be null");
    if (entries.length < 1) throw validation("Value at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1");
    if (entries.length > maxEntriesPerCall) {
      throw validation(`Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${maxEntriesPerCall}`);
    }
    if (entries.reduce((total: number, entry: unknown) => total + entrySize(entry), 0) > maxRequestEntryBytes) {
      throw new AwsJsonError('ValidationException', 'Total size of the entries in the request is over the limit.');
    }

    const results: ResultEntry[] = [];
    const delivering: Array<{ index: number; busEvent: BusEvent }> = [];
    entries.forEach((entry: unknown, index) => {
      const parsed = toBusEvent(entry);
      if ('ErrorCode' in parsed) results[index] = parsed;
      else if (failuresToInject > 0) {
        failuresToInject--;
        results[index] = { ErrorCode: 'InternalFailure', ErrorMessage: 'Injected failure (failNext test hook).' };
      } else delivering.push({ index, busEvent: parsed });
    });

    if (delivering.length > 0) {
      try {
        await opts.onEvents(delivering.map(({ busEvent }) => busEvent));
        for (const { index, busEvent } of delivering) results[index] = { EventId: busEvent.event.id };
      } catch (error) {
        const message = `Internal service failure: ${error instanceof Error ? error.message : String(error)}`;
        for (const { index } of delivering) results[index] = { ErrorCode: 'InternalFailure', ErrorMessage: message };
      }
    }
    return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const target = req.headers['x-amz-target'];
      if (req.method !== 'POST' || target !== 'AWSEvents.PutEvents') {
        throw new AwsJsonError(
          'UnknownOperationException',
          `The local EventBridge endpoint only implements POST / with X-Amz-Target: AWSEvents.PutEvents, got ${req.method} ${req.url} ${target ?? '(no X-Amz-Target)'}.`,
        );
      }
      const body = await readBody(req);
      let request: unknown;
      try {
        request = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        throw new AwsJsonError('SerializationException', 'The request body is not valid JSON.');
      }
      reply(res, 200, await putEvents(request));
    } catch (error) {
      const known = error instanceof AwsJsonError ? error : new AwsJsonError('InternalFailure', String(error), 500);
      reply(res, known.status, { __type: known.type, message: known.message });
    }
  }

  /** Answers given while closing release their connection, so close() waits only for requests in progress. */
  function reply(res: ServerResponse, status: number, body: unknown): void {
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(payload),
      'x-amzn-requestid': randomUUID(),
      ...(closing && { connection: 'close' }),
    });
    res.end(payload);
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    failNext(count: number) {
      failuresToInject = count;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** Validates one entry the way EventBridge reports it: a per-entry ErrorCode, or the event to deliver. */
function toBusEvent(entry: unknown): BusEvent | { ErrorCode: string; ErrorMessage: string } {
  const { Source, DetailType, Detail, Resources, EventBusName, Time } = (isRecord(entry) ? entry : {}) as RequestEntry;
  const required = (name: string) => ({
    ErrorCode: 'InvalidArgument',
    ErrorMessage: `Parameter ${name} is not valid. Reason: ${name} is a required argument.`,
  });
  if (typeof Source !== 'string' || Source === '') return required('Source');
  if (typeof DetailType !== 'string' || DetailType === '') return required('DetailType');
  if (typeof Detail !== 'string' || Detail === '') return required('Detail');
  let detail: unknown;
  try {
    detail = JSON.parse(Detail);
  } catch {
    detail = undefined;
  }
  if (!isRecord(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  if (Resources !== undefined && !(Array.isArray(Resources) && Resources.every((resource) => typeof resource === 'string'))) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Resources is not valid. Reason: Resources must be a list of strings.' };
  }
  // The SDK sends Time as epoch seconds; targets see an ISO timestamp without milliseconds.
  const time = typeof Time === 'number' ? new Date(Time * 1000) : new Date();
  if (Number.isNaN(time.getTime())) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Time is not valid. Reason: Time is not a valid timestamp.' };
  }
  return {
    eventBusName: busName(EventBusName),
    event: {
      version: '0',
      id: randomUUID(),
      'detail-type': DetailType,
      source: Source,
      account: localAccount,
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: localRegion,
      resources: (Resources as string[] | undefined) ?? [],
      detail,
    },
  };
}

/** Entry size as EventBridge documents it: Time counts 14 bytes, strings their UTF-8 length. */
function entrySize(entry: unknown): number {
  if (!isRecord(entry)) return 0;
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  const resources = Array.isArray(entry['Resources']) ? entry['Resources'] : [];
  return (
    (entry['Time'] !== undefined ? 14 : 0) +
    bytes(entry['Source']) +
    bytes(entry['DetailType']) +
    bytes(entry['Detail']) +
    resources.reduce((total: number, resource: unknown) => total + bytes(resource), 0)
  );
}

/** EventBusName may be a name or an ARN (arn:aws:events:region:account:event-bus/name); absent means default. */
function busName(value: unknown): string {
  if (typeof value !== 'string' || value === '') return 'default';
  return value.startsWith('arn:') ? value.slice(value.lastIndexOf('/') + 1) : value;
}

function validation(constraint: string): AwsJsonError {
  return new AwsJsonError('ValidationException', `1 validation error detected: ${constraint}`);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new AwsJsonError('ValidationException', `Request body is larger than ${maxBodyBytes} bytes.`, 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
