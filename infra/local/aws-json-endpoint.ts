// The AWS JSON-protocol APIs the local stack plays on one port: Step Functions' task-token calls (awsJson1_0)
// and Secrets Manager's GetSecretValue (awsJson1_1). The real SDK clients reach it through
// AWS_ENDPOINT_URL_SFN and AWS_ENDPOINT_URL_SECRETS_MANAGER, the variables the local runtime sets.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

type Operation = (input: Record<string, any>) => unknown;

export type AwsJsonEndpoint = { endpoint: string; close: () => Promise<void> };

/** `operations` by X-Amz-Target, e.g. `AWSStepFunctions.SendTaskSuccess`; an error's name is its `__type`. */
export async function startAwsJsonEndpoint(operations: Record<string, Operation>, port = 0): Promise<AwsJsonEndpoint> {
  const server = createServer(async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const contentType = String(req.headers['content-type'] ?? 'application/x-amz-json-1.0');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': crypto.randomUUID() });
      res.end(JSON.stringify(body));
    };
    const operation = operations[target];
    if (req.method !== 'POST' || !operation) return reply(400, { __type: 'UnknownOperationException', message: `${target || 'no X-Amz-Target'} is not played locally` });
    try {
      const text = await read(req);
      reply(200, (await operation(text ? JSON.parse(text) : {})) ?? {});
    } catch (error) {
      const { name, message } = error as Error;
      reply(name === 'Error' ? 500 : 400, { __type: name === 'Error' ? 'InternalFailure' : name, message });
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
