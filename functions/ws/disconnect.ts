import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { dynamo, requiredEnv } from '../../shared/aws/clients.ts';

export async function handler(event: APIGatewayProxyWebsocketEventV2): Promise<{ statusCode: number }> {
  await dynamo().send(new DeleteCommand({ TableName: requiredEnv('CONNECTIONS_TABLE'), Key: { connectionId: event.requestContext.connectionId } }));
  return { statusCode: 200 };
}
