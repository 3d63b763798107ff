// The DynamoDB client, created once per Lambda container on first use. Each other AWS client lives in a module
// of its own (event-bridge.ts, management-api.ts), imported only by the functions that call it: a function's
// bundle, and its cold start, carry only the clients it uses. Endpoints come from the standard
// AWS_ENDPOINT_URL_<SERVICE> variables, which is how the local stack points the same code at its emulators.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export { requiredEnv } from './env.ts';

let documentClient: DynamoDBDocumentClient | undefined;

export function dynamo(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return documentClient;
}
