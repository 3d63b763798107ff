// A local stand-in for an API Gateway WebSocket API and its @connections management API, on one port.
// Lambda route handlers get AWS-shaped events ($connect / $disconnect / $default / custom routes), and the
// real ApiGatewayManagementApiClient works against `managementEndpoint` unchanged, including GoneException
// for connections that are gone, so push code can be exercised end to end without AWS.
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { APIGatewayEventWebsocketRequestContextV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { clfTime } from './http-api.ts';

export type WebSocketRouteEvent = APIGatewayProxyWebsocketEventV2 & {
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  requestContext: APIGatewayEventWebsocketRequestContextV2 & {
    identity: { sourceIp: string; userAgent: string };
    disconnectStatusCode?: number;
    disconnectReason?: string;
  };
};
export type WebSocketRouteHandler = (event: WebSocketRouteEvent) => Promise<{ statusCode?: number; body?: string } | void>;

export type WebSocketApi = {
  /** ws://127.0.0.1:PORT; any path is accepted. */
  url: string;
  /** http://127.0.0.1:PORT, for ApiGatewayManagementApiClient({ endpoint }). */
  managementEndpoint: string;
  port: number;
  connections(): string[];
  close(): Promise<void>;
};

/** AWS limits: 128 KB per message, 10 min idle, 2 h per connection. */
const MAX_MESSAGE_BYTES = 128 * 1024;
const GOING_AWAY = 1001;

type Connection = {
  id: string;
  socket: WebSocket;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string;
  timers: NodeJS.Timeout[];
  /** Set when this side closes, because the peer's echoed close frame (or its absence) is not what AWS reports. */
  closedBy?: { code: number; reason: string };
  /** Settles once $disconnect has run. */
  finished: Promise<void>;
  closeFromServer(code: number, reason: string): void;
};

/** Connection and request ids look like AWS's ("Wq2bXc3sIAMCJkA="): 11 random bytes, base64, padded. */
const awsId = () => randomBytes(11).toString('base64url') + '=';

/** "$request.body.action" or "${request.body.action}" -> ["action"]. */
function selectionPath(expression: string): string[] {
  const match = /^\$\{?request\.body\.([A-Za-z0-9_.-]+)\}?$/.exec(expression);
  if (!match) throw new Error(`unsupported route selection expression "${expression}"`);
  return match[1].split('.');
}

function headerMaps(req: IncomingMessage) {
  // $connect headers keep the client's spelling in AWS (not lower-cased, unlike HTTP APIs).
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) (multiValueHeaders[req.rawHeaders[i]] ??= []).push(req.rawHeaders[i + 1]);
  const headers = Object.fromEntries(Object.entries(multiValueHeaders).map(([name, values]) => [name, values.join(',')]));
  return { headers, multiValueHeaders };
}

function queryMaps(url: string) {
  const multi: Record<string, string[]> = {};
  for (const [key, value] of new URL(url, 'http://local').searchParams) (multi[key] ??= []).push(value);
  if (!Object.keys(multi).length) return {};
  const single = Object.fromEntries(Object.entries(multi).map(([key, values]) => [key, values[values.length - 1]]));
  return { queryStringParameters: single, multiValueQueryStringParameters: multi };
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export async function startWebSocketApi(opts: {
  port?: number;
  /** Default "$request.body.action". */
  routeSelection?: string;
  routes: Record<string, WebSocketRouteHandler>;
  /** Default 10 minutes, like AWS. Inbound messages and ping/pong frames count as activity. */
  idleTimeoutMs?: number;
  /** Default 2 hours, like AWS. */
  maxConnectionMs?: number;
  /** Route handler failures; default console.error. */
  onError?: (error: unknown, context: { routeKey: string; connectionId: string }) => void;
}): Promise<WebSocketApi> {
  const selection = selectionPath(opts.routeSelection ?? '$request.body.action');
  const idleTimeoutMs = opts.idleTimeoutMs ?? 10 * 60_000;
  const maxConnectionMs = opts.maxConnectionMs ?? 2 * 60 * 60_000;
  const reportError =
    opts.onError ?? ((error, context) => console.error(`[websocket-api] ${context.routeKey} (${context.connectionId}) failed:`, error));
  const connections = new Map<string, Connection>();
  const upgrading = new Set<Duplex>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  let port = 0;
  let closing = false;

  function requestContext(
    routeKey: string,
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
    connection: Pick<Connection, 'id' | 'connectedAt' | 'sourceIp' | 'userAgent'>,
  ) {
    const now = new Date();
    const requestId = awsId();
    return {
      routeKey,
      eventType,
      extendedRequestId: requestId,
      requestTime: clfTime(now),
      messageDirection: 'IN' as const,
      stage: 'local',
      connectedAt: connection.connectedAt,
      requestTimeEpoch: now.getTime(),
      identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
      requestId,
      domainName: `127.0.0.1:${port}`,
      connectionId: connection.id,
      apiId: 'local',
    };
  }

  /** Rejects the upgrade with a plain HTTP response, which is what a WebSocket client sees from AWS. */
  function rejectUpgrade(socket: Duplex, status: number, body?: string): void {
    const payload = body ?? JSON.stringify({ message: STATUS_CODES[status] ?? 'Error' });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
    );
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    upgrading.add(socket);
    socket.once('close', () => upgrading.delete(socket));
    socket.on('error', () => socket.destroy()); // a client vanishing mid-handshake is not our error
    if (closing) return void socket.destroy();
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') return rejectUpgrade(socket, 400);
    const pending = {
      id: awsId(),
      connectedAt: Date.now(),
      sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      userAgent: req.headers['user-agent'] ?? '',
    };
    let status = 200;
    let body: string | undefined;
    const handler = opts.routes.$connect;
    if (handler) {
      const event = {
        ...headerMaps(req),
        ...queryMaps(req.url ?? '/'),
        requestContext: requestContext('$connect', 'CONNECT', pending),
        isBase64Encoded: false,
      } as WebSocketRouteEvent;
      try {
        const result = await handler(event);
        if (result?.statusCode && result.statusCode >= 400) ({ statusCode: status, body } = result);
      } catch (error) {
        reportError(error, { routeKey: '$connect', connectionId: pending.id });
        status = 500;
        body = JSON.stringify({ message: 'Internal server error' });
      }
    }
    if (closing || socket.destroyed) return void socket.destroy();
    if (status >= 400) return rejectUpgrade(socket, status, body);
    upgrading.delete(socket); // from here on the socket belongs to its connection
    wss.handleUpgrade(req, socket, head, (ws) => register(ws, pending));
  }

  function register(socket: WebSocket, details: Pick<Connection, 'id' | 'connectedAt' | 'sourceIp' | 'userAgent'>): void {
    let finish!: () => void;
    const connection: Connection = {
      ...details,
      socket,
      lastActiveAt: Date.now(),
      timers: [],
      finished: new Promise<void>((resolve) => (finish = resolve)),
      closeFromServer(code, reason) {
        connection.closedBy ??= { code, reason };
        socket.close(code, reason);
      },
    };
    const goAway = () => connection.closeFromServer(GOING_AWAY, 'Going away');
    connection.timers = [setTimeout(goAway, idleTimeoutMs).unref(), setTimeout(goAway, maxConnectionMs).unref()];
    const touch = () => {
      connection.lastActiveAt = Date.now();
      connection.timers[0].refresh();
    };
    connections.set(connection.id, connection);
    socket.on('message', (data: RawData) => {
      touch();
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      void onMessage(connection, bytes.toString('utf8'));
    });
    socket.on('ping', touch);
    socket.on('pong', touch);
    socket.on('error', () => {}); // e.g. a message over 128 KB: ws closes with 1009, and 'close' follows
    socket.once('close', (code: number, reason: Buffer) => {
      connections.delete(connection.id);
      connection.timers.forEach(clearTimeout);
      const closed = connection.closedBy ?? { code, reason: reason.toString('utf8') };
      const handler = opts.routes.$disconnect;
      if (!handler) return finish();
      const event = {
        requestContext: {
          ...requestContext('$disconnect', 'DISCONNECT', connection),
          disconnectStatusCode: closed.code,
          disconnectReason: closed.reason,
        },
        isBase64Encoded: false,
      } as WebSocketRouteEvent;
      handler(event)
        .catch((error) => reportError(error, { routeKey: '$disconnect', connectionId: connection.id }))
        .finally(finish);
    });
  }

  function routeFor(body: string): string | null {
    let value: unknown;
    try {
      value = JSON.parse(body);
      for (const key of selection) value = (value as Record<string, unknown>)?.[key];
    } catch {
      value = undefined; // not JSON: falls through to $default, as in AWS
    }
    const selected = typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
    if (selected && !selected.startsWith('$') && opts.routes[selected]) return selected;
    return opts.routes.$default ? '$default' : null;
  }

  function sendIfOpen(connection: Connection, data: string): void {
    if (connection.socket.readyState === WebSocket.OPEN) connection.socket.send(data);
  }

  async function onMessage(connection: Connection, body: string): Promise<void> {
    const routeKey = routeFor(body);
    const context = { ...requestContext(routeKey ?? '$default', 'MESSAGE', connection), messageId: awsId() };
    if (!routeKey) {
      return sendIfOpen(connection, JSON.stringify({ message: 'Forbidden', connectionId: connection.id, requestId: context.requestId }));
    }
    try {
      const result = await opts.routes[routeKey]({ requestContext: context, body, isBase64Encoded: false } as WebSocketRouteEvent);
      if (typeof result?.body === 'string') sendIfOpen(connection, result.body);
    } catch (error) {
      reportError(error, { routeKey, connectionId: connection.id });
      const failure = { message: 'Internal server error', connectionId: connection.id, requestId: context.requestId };
      sendIfOpen(connection, JSON.stringify(failure));
    }
  }

  /** POST / GET / DELETE [/{stage}]/@connections/{connectionId}. */
  async function manage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^(?:\/[^/@]+)?\/@connections\/([^/?]+)\/?(?:\?.*)?$/.exec(req.url ?? '/');
    if (!match) return sendJson(res, 404, { message: 'Not Found' });
    let id = match[1];
    try {
      id = decodeURIComponent(id); // the SDK sends "abc%3D" for "abc="
    } catch {}
    const body = await readBody(req);
    const connection = connections.get(id);
    if (!connection || connection.socket.readyState !== WebSocket.OPEN) {
      return sendJson(res, 410, { message: `Connection ${id} is gone` }, { 'x-amzn-errortype': 'GoneException' });
    }
    switch (req.method) {
      case 'POST':
        if (body.length > MAX_MESSAGE_BYTES) {
          return sendJson(res, 413, { message: 'Message too long' }, { 'x-amzn-errortype': 'PayloadTooLargeException' });
        }
        await new Promise<void>((resolve, reject) =>
          connection.socket.send(body.toString('utf8'), (error) => (error ? reject(error) : resolve())),
        );
        res.writeHead(200).end();
        return;
      case 'GET':
        // On the wire the field names are camelCase; the SDK maps them to ConnectedAt / Identity / LastActiveAt.
        return sendJson(res, 200, {
          connectedAt: new Date(connection.connectedAt).toISOString(),
          identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
          lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        });
      case 'DELETE':
        connection.closeFromServer(GOING_AWAY, '');
        res.writeHead(204).end();
        return;
      default:
        return sendJson(res, 405, { message: 'Method Not Allowed' });
    }
  }

  const server = createServer((req, res) => {
    manage(req, res).catch((error) => {
      console.error('[websocket-api] management request failed:', error);
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal server error' });
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrade(req, socket, head).catch((error) => {
      console.error('[websocket-api] upgrade failed:', error);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `ws://127.0.0.1:${port}`,
    managementEndpoint: `http://127.0.0.1:${port}`,
    port,
    connections: () => [...connections.keys()],
    async close() {
      closing = true;
      for (const socket of upgrading) socket.destroy();
      const finished = [...connections.values()].map((connection) => {
        connection.closedBy ??= { code: GOING_AWAY, reason: 'Going away' };
        connection.socket.terminate();
        return connection.finished;
      });
      await Promise.all(finished); // $disconnect runs for every open connection, as AWS would eventually
      wss.close();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
