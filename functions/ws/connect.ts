import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { verifyToken } from '../../shared/auth/identity.ts';
import { dynamo, requiredEnv } from '../../shared/aws/clients.ts';

/** API Gateway closes a WebSocket after two hours; the record outlives it a little, then TTL removes it. */
const CONNECTION_LIFETIME_SECONDS = 2 * 60 * 60 + 10 * 60;

type ConnectEvent = APIGatewayProxyWebsocketEventV2 & { queryStringParameters?: Record<string, string | undefined> };

export async function handler(event: ConnectEvent): Promise<{ statusCode: number; body?: string }> {
  const token = event.queryStringParameters?.token;
  if (!token) return { statusCode: 401, body: 'pass the organizer token as ?token=' };
  let userId: string;
  try {
    ({ userId } = await verifyToken(token));
  } catch {
    return { statusCode: 401, body: 'the token is not valid' };
  }
  await dynamo().send(
    new PutCommand({
      TableName: requiredEnv('CONNECTIONS_TABLE'),
      Item: {
        connectionId: event.requestContext.connectionId,
        userId,
        connectedAt: new Date().toISOString(),
        expiresAt: Math.floor(Date.now() / 1000) + CONNECTION_LIFETIME_SECONDS,
      },
    }),
  );
  return { statusCode: 200 };
}
