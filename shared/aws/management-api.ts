// API Gateway's @connections clients, one per endpoint and container, for the function that pushes to sockets.
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';

const clients = new Map<string, ApiGatewayManagementApiClient>();

export function managementApi(endpoint: string): ApiGatewayManagementApiClient {
  let client = clients.get(endpoint);
  if (!client) clients.set(endpoint, (client = new ApiGatewayManagementApiClient({ endpoint })));
  return client;
}
