import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { dynamo, requiredEnv } from '../../shared/aws/clients.ts';
import { managementApi } from '../../shared/aws/management-api.ts';
import { bookingTables } from '../../shared/config.ts';
import { postOrForget } from '../../shared/realtime/delivery.ts';
import { eventMessage, feedPosition, ListenerFeed } from '../../shared/realtime/feed.ts';

const reply = (statusCode: number, body: unknown) => ({ statusCode, body: JSON.stringify(body) });

/**
 * `{"action": "ping"}` keeps a connection inside API Gateway's 10-minute idle limit. `{"action": "resume"}`
 * sends, in order, every message of the caller's feed after the position given at connect (`?after=`) or in the
 * message (`"after": N`), then answers `{"type": "resumed", "position": <last sent>}`; a position too old (or
 * unknown) is answered `{"type": "reset"}`: reload, then follow live from the position it names.
 */
export async function handler(event: APIGatewayProxyWebsocketEventV2): Promise<{ statusCode: number; body: string }> {
  let message: { action?: unknown; after?: unknown } = {};
  try {
    message = JSON.parse(event.body ?? '{}') ?? {};
  } catch {}
  if (message.action === 'ping') return reply(200, { type: 'pong' });
  if (message.action === 'resume') return resume(event.requestContext.connectionId, message.after);
  return reply(400, { type: 'error', message: 'send {"action":"ping"} to keep the connection alive, {"action":"resume"} for what you missed; events arrive on their own' });
}

async function resume(connectionId: string, given: unknown) {
  const { Item: connection } = await dynamo().send(new GetCommand({ TableName: requiredEnv('CONNECTIONS_TABLE'), Key: { connectionId }, ConsistentRead: true }));
  if (!connection) return reply(410, { type: 'error', message: 'this connection is not registered; reconnect' });
  const after = given === undefined ? ((connection.resumeAfter as number | undefined) ?? null) : feedPosition(given);
  if (after === null) return reply(400, { type: 'error', message: 'say after which position: ?after=<position> at connect or "after": <position>' });
  const tables = bookingTables();
  const replay = await new ListenerFeed(tables.client, tables.stateTable).after(connection.userId as string, after);
  if (replay.kind === 'reset') return reply(200, { type: 'reset', position: replay.head });
  const api = managementApi(requiredEnv('WS_MANAGEMENT_ENDPOINT'));
  // One at a time, so they arrive in order; live messages may interleave, and clients order by position.
  for (const entry of replay.entries) await postOrForget(api, connectionId, eventMessage(entry));
  return reply(200, { type: 'resumed', position: replay.entries.at(-1)?.position ?? after, head: replay.head });
}
