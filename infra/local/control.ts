// The local stack's operator endpoint: what `npm run dlq -- redrive` and `npm run projections -- rebuild` ask
// the running stack to do, since only the process that runs the functions can deliver to them. It binds
// 127.0.0.1 and its URL is in .local/stack.json; it is no part of the template (the cloud has no such thing:
// there the same operations use the AWS APIs, see the README).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An operation: takes the request body, may write progress lines, returns the JSON answer. */
export type ControlOperation = (input: Record<string, unknown>, progress: (line: string) => void) => Promise<unknown>;

export type ControlServer = { url: string; close(): Promise<void> };

/**
 * POST /<operation> with a JSON body. The answer streams as newline-delimited JSON: `{"progress": "..."}` lines
 * while it runs, then `{"result": ...}` or `{"error": "..."}`, so a long rebuild shows where it is.
 */
export async function startControlServer(operations: Record<string, ControlOperation>, port = 0): Promise<ControlServer> {
  const server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse) {
    const operation = operations[(req.url ?? '').replace(/^\//, '')];
    if (req.method !== 'POST' || !operation) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `operations: ${Object.keys(operations).join(', ')}` }));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const line = (value: unknown) => res.write(`${JSON.stringify(value)}\n`);
    try {
      const input = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      line({ result: await operation(input, (progress) => line({ progress })) });
    } catch (error) {
      line({ error: (error as Error).message });
    }
    res.end();
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Calls an operation of a running stack, handing each progress line to `progress`; the result, or throws. */
export async function callControl(url: string, operation: string, input: unknown, progress: (line: string) => void = () => {}): Promise<any> {
  const response = await fetch(`${url}/${operation}`, { method: 'POST', body: JSON.stringify(input) });
  if (!response.ok || !response.body) throw new Error(`${operation}: ${response.status} ${await response.text()}`);
  let buffered = '';
  let outcome: { result?: unknown; error?: string } | undefined;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += Buffer.from(chunk).toString('utf8');
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const message = JSON.parse(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      if ('progress' in message) progress(message.progress);
      else outcome = message;
    }
  }
  if (!outcome) throw new Error(`${operation}: the stack answered nothing`);
  if (outcome.error) throw new Error(outcome.error);
  return outcome.result;
}
