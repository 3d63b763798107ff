// A pass-through HTTP proxy in front of a local AWS endpoint (DynamoDB Local, the local EventBridge) that can
// answer chosen requests with an AWS error instead, so a test makes real calls fail the way they fail on AWS
// (a throttled table, a bus that refuses) without touching the code under test: the stack is pointed at the
// proxy through the same endpoint settings it always uses.
import { createServer, request as forward, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Which requests to refuse: by operation (the X-Amz-Target's last part, e.g. "TransactWriteItems") and body. */
export type FaultRule = (operation: string, body: string) => boolean;

/** The AWS JSON error a refused request gets. */
export type Refusal = { status: number; type: string; message: string; contentType: string };

export const tableThrottled: Refusal = {
  status: 400,
  type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message: 'The level of configured provisioned throughput for the table was exceeded.',
  contentType: 'application/x-amz-json-1.0',
};

/** PutEvents refused as a bus whose policy went wrong refuses it (not retried by the SDK, so tests stay quick). */
export const busDenied: Refusal = {
  status: 400,
  type: 'AccessDeniedException',
  message: 'User is not authorized to perform: events:PutEvents',
  contentType: 'application/x-amz-json-1.1',
};

export type FaultProxy = {
  endpoint: string;
  /** Refuse the requests the rule picks, until `refuse(undefined)`. */
  refuse(rule: FaultRule | undefined): void;
  /** Requests refused, and requests passed through, so far. */
  readonly refused: number;
  readonly forwarded: number;
  close(): Promise<void>;
};

const readBody = (incoming: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks)));
    incoming.on('error', reject);
  });

export async function startFaultProxy(upstream: string, refusal: Refusal): Promise<FaultProxy> {
  const target = new URL(upstream);
  let rule: FaultRule | undefined;
  let refused = 0;
  let forwarded = 0;
  const server = createServer(async (incoming, outgoing) => {
    const body = await readBody(incoming);
    const operation = String(incoming.headers['x-amz-target'] ?? '').split('.').at(-1)!;
    if (rule?.(operation, body.toString('utf8'))) {
      refused++;
      outgoing.writeHead(refusal.status, { 'content-type': refusal.contentType, 'x-amzn-errortype': refusal.type.split('#').at(-1)! });
      outgoing.end(JSON.stringify({ __type: refusal.type, message: refusal.message }));
      return;
    }
    forwarded++;
    const upstreamRequest = forward(
      { hostname: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers: incoming.headers },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    upstreamRequest.on('error', (error) => {
      outgoing.writeHead(502);
      outgoing.end(String(error));
    });
    upstreamRequest.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    refuse: (next) => {
      rule = next;
    },
    get refused() {
      return refused;
    },
    get forwarded() {
      return forwarded;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
