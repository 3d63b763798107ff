import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { startWebSocketApi, type WebSocketApi, type WebSocketRouteEvent } from '../../infra/local/websocket-api.ts';

/** Every event any route saw, with a way to wait for one that has not arrived yet. */
function eventLog() {
  const events: WebSocketRouteEvent[] = [];
  const waiters: { match: (event: WebSocketRouteEvent) => boolean; resolve: (event: WebSocketRouteEvent) => void }[] = [];
  return {
    events,
    record(event: WebSocketRouteEvent) {
      events.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.match(event)) waiters.splice(waiters.indexOf(waiter), 1), waiter.resolve(event);
      }
    },
    when(match: (event: WebSocketRouteEvent) => boolean): Promise<WebSocketRouteEvent> {
      const seen = events.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

type Client = { socket: WebSocket; next(): Promise<string>; closed: Promise<{ code: number; reason: string }> };

/** Opens a client and queues what it receives, so tests await messages instead of sleeping. */
function connect(url: string): Promise<Client> {
  const socket = new WebSocket(url, { headers: { 'User-Agent': 'vitest-ws', 'X-Custom': 'yes' } });
  const inbox: string[] = [];
  const readers: ((message: string) => void)[] = [];
  socket.on('message', (data) => {
    const reader = readers.shift();
    if (reader) reader(data.toString());
    else inbox.push(data.toString());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const client: Client = {
    socket,
    closed,
    next: () => (inbox.length ? Promise.resolve(inbox.shift()!) : new Promise((resolve) => readers.push(resolve))),
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('error', reject);
  });
}

const connectionIdOf = (api: WebSocketApi, before: string[]) => api.connections().find((id) => !before.includes(id))!;

describe('local WebSocket API', () => {
  let api: WebSocketApi;
  let management: ApiGatewayManagementApiClient;
  const log = eventLog();

  beforeAll(async () => {
    api = await startWebSocketApi({
      port: 0,
      onError: () => {},
      routes: {
        $connect: async (event) => {
          log.record(event);
          const token = event.queryStringParameters?.token;
          if (token === 'crash') throw new Error('authorizer blew up');
          if (token !== 'valid') return { statusCode: 401 };
          return { statusCode: 200 };
        },
        $disconnect: async (event) => log.record(event),
        $default: async (event) => {
          log.record(event);
          return { statusCode: 200, body: JSON.stringify({ echo: event.body }) };
        },
        book: async (event) => {
          log.record(event);
          const { slot } = JSON.parse(event.body!);
          return { statusCode: 200, body: JSON.stringify({ booked: slot }) };
        },
        silent: async (event) => void log.record(event),
        explode: async () => {
          throw new Error('handler exploded');
        },
      },
    });
    management = new ApiGatewayManagementApiClient({
      endpoint: api.managementEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
  afterAll(async () => {
    management?.destroy();
    await api?.close();
  });

  async function open(): Promise<{ client: Client; connectionId: string }> {
    const before = api.connections();
    const client = await connect(`${api.url}/local?token=valid`);
    return { client, connectionId: connectionIdOf(api, before) };
  }

  it('runs $connect with the query string and headers before accepting the connection', async () => {
    const { client, connectionId } = await open();
    expect(connectionId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    const event = await log.when((e) => e.requestContext.connectionId === connectionId && e.requestContext.eventType === 'CONNECT');
    expect(event.queryStringParameters).toEqual({ token: 'valid' });
    expect(event.headers?.['User-Agent']).toBe('vitest-ws');
    expect(event.headers?.['X-Custom']).toBe('yes');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      stage: 'local',
      apiId: 'local',
      domainName: `127.0.0.1:${api.port}`,
      messageDirection: 'IN',
      identity: { sourceIp: '127.0.0.1', userAgent: 'vitest-ws' },
    });
    expect(event.requestContext.messageId).toBeUndefined();
    expect(typeof event.requestContext.connectedAt).toBe('number');
    client.socket.close();
    await client.closed;
  });

  it('rejects the upgrade with the status $connect returned, or 500 when it throws', async () => {
    const before = log.events.length;
    await expect(connect(`${api.url}?token=wrong`)).rejects.toThrow(/Unexpected server response: 401/);
    await expect(connect(`${api.url}?token=crash`)).rejects.toThrow(/Unexpected server response: 500/);
    expect(log.events.slice(before).map((e) => e.requestContext.eventType)).toEqual(['CONNECT', 'CONNECT']);
  });

  it('delivers PostToConnection data to the client, with or without a stage in the path', async () => {
    const { client, connectionId } = await open();
    await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify({ type: 'booking.confirmed' }) }));
    expect(JSON.parse(await client.next())).toEqual({ type: 'booking.confirmed' });
    const staged = await fetch(`${api.managementEndpoint}/local/@connections/${encodeURIComponent(connectionId)}`, {
      method: 'POST',
      body: 'plain text',
    });
    expect(staged.status).toBe(200);
    expect(await client.next()).toBe('plain text');
    client.socket.close();
    await client.closed;
  });

  it('answers GetConnection with connection details', async () => {
    const { client, connectionId } = await open();
    const details = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(details.ConnectedAt).toBeInstanceOf(Date);
    expect(details.LastActiveAt).toBeInstanceOf(Date);
    expect(details.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'vitest-ws' });
    client.socket.close();
    await client.closed;
  });

  it('throws GoneException for a connection that has closed or never existed', async () => {
    const { client, connectionId } = await open();
    client.socket.close();
    await log.when((e) => e.requestContext.connectionId === connectionId && e.requestContext.eventType === 'DISCONNECT');
    const post = management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'late' }));
    await expect(post).rejects.toMatchObject({ name: 'GoneException', $metadata: { httpStatusCode: 410 } });
    const get = management.send(new GetConnectionCommand({ ConnectionId: 'NeverExisted0A=' }));
    await expect(get).rejects.toMatchObject({ name: 'GoneException' });
  });

  it('closes the client and runs $disconnect on DeleteConnection', async () => {
    const { client, connectionId } = await open();
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    await client.closed;
    const event = await log.when((e) => e.requestContext.connectionId === connectionId && e.requestContext.eventType === 'DISCONNECT');
    expect(event.requestContext.routeKey).toBe('$disconnect');
    expect(api.connections()).not.toContain(connectionId);
  });

  it('routes messages by action, falling back to $default, and sends the route response back', async () => {
    const { client, connectionId } = await open();
    client.socket.send(JSON.stringify({ action: 'book', slot: '10:00' }));
    expect(JSON.parse(await client.next())).toEqual({ booked: '10:00' });
    const booked = await log.when((e) => e.requestContext.connectionId === connectionId && e.requestContext.routeKey === 'book');
    expect(booked.requestContext).toMatchObject({ eventType: 'MESSAGE', messageDirection: 'IN' });
    expect(booked.requestContext.messageId).toMatch(/=$/);
    expect(booked.body).toBe('{"action":"book","slot":"10:00"}');

    client.socket.send(JSON.stringify({ action: 'unknown' }));
    expect(JSON.parse(await client.next())).toEqual({ echo: '{"action":"unknown"}' });
    client.socket.send('not json');
    expect(JSON.parse(await client.next())).toEqual({ echo: 'not json' });

    client.socket.send(JSON.stringify({ action: 'explode' }));
    expect(JSON.parse(await client.next())).toMatchObject({ message: 'Internal server error', connectionId });

    client.socket.send(JSON.stringify({ action: 'silent' })); // no body returned: nothing is sent back
    client.socket.send(JSON.stringify({ action: 'book', slot: '11:00' }));
    expect(JSON.parse(await client.next())).toEqual({ booked: '11:00' });
    client.socket.close();
    await client.closed;
  });

  it('answers Forbidden when no route matches and there is no $default', async () => {
    const bare = await startWebSocketApi({ routes: { ping: async () => ({ body: 'pong' }) } });
    try {
      const before = bare.connections();
      const client = await connect(bare.url);
      const connectionId = connectionIdOf(bare, before);
      client.socket.send(JSON.stringify({ action: 'nope' }));
      const reply = JSON.parse(await client.next());
      expect(reply).toMatchObject({ message: 'Forbidden', connectionId });
      expect(typeof reply.requestId).toBe('string');
      client.socket.send(JSON.stringify({ action: 'ping' }));
      expect(await client.next()).toBe('pong');
    } finally {
      await bare.close();
    }
  });

  it('runs $disconnect once with the close code and reason when the client closes', async () => {
    const { client, connectionId } = await open();
    client.socket.close(4000, 'bye');
    await client.closed;
    const event = await log.when((e) => e.requestContext.connectionId === connectionId && e.requestContext.eventType === 'DISCONNECT');
    expect(event.requestContext).toMatchObject({ routeKey: '$disconnect', disconnectStatusCode: 4000, disconnectReason: 'bye' });
    expect(log.events.filter((e) => e.requestContext.connectionId === connectionId && e.requestContext.eventType === 'DISCONNECT')).toHaveLength(1);
  });

  it('drops idle connections with 1001 Going away', async () => {
    const disconnects = eventLog();
    const idle = await startWebSocketApi({ idleTimeoutMs: 50, routes: { $disconnect: async (event) => disconnects.record(event) } });
    try {
      const client = await connect(idle.url);
      expect((await client.closed).code).toBe(1001);
      const event = await disconnects.when(() => true);
      expect(event.requestContext).toMatchObject({ disconnectStatusCode: 1001, disconnectReason: 'Going away' });
    } finally {
      await idle.close();
    }
  });

  it('close() terminates open connections and runs their $disconnect', async () => {
    const disconnects = eventLog();
    const shortLived = await startWebSocketApi({ routes: { $disconnect: async (event) => disconnects.record(event) } });
    const client = await connect(shortLived.url);
    await shortLived.close();
    await client.closed;
    expect(disconnects.events).toHaveLength(1);
    expect(shortLived.connections()).toEqual([]);
  });
});
