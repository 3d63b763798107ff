import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';

/** Clients ping to stay inside API Gateway's 10-minute idle limit; anything else gets a hint. */
export async function handler(event: APIGatewayProxyWebsocketEventV2): Promise<{ statusCode: number; body: string }> {
  let action: unknown;
  try {
    action = (JSON.parse(event.body ?? '{}') as { action?: unknown }).action;
  } catch {
    action = undefined;
  }
  if (action === 'ping') return { statusCode: 200, body: JSON.stringify({ type: 'pong' }) };
  return { statusCode: 400, body: JSON.stringify({ type: 'error', message: 'send {"action":"ping"} to keep the connection alive; events arrive on their own' }) };
}
