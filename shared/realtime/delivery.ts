import { GoneException, PostToConnectionCommand, type ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, requiredEnv } from '../aws/clients.ts';

/** Sends one message to a connection; one API Gateway reports gone is forgotten, any other failure throws. */
export async function postOrForget(api: ApiGatewayManagementApiClient, connectionId: string, message: string): Promise<void> {
  try {
    await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: message }));
  } catch (error) {
    if (!(error instanceof GoneException)) throw error;
    await dynamo().send(new DeleteCommand({ TableName: requiredEnv('CONNECTIONS_TABLE'), Key: { connectionId } }));
  }
}
