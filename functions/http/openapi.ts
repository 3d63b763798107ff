import { httpHandler, json } from '../../shared/http/handler.ts';
import { asyncApiDocument, openApiDocument } from '../../shared/http/openapi.ts';

// Built once per container: the contract does not change while it runs.
let documents: { openapi: unknown; asyncapi: unknown } | undefined;

/** GET /openapi.json: the HTTP API; `?asyncapi` gives the WebSocket messages (AsyncAPI 3). */
export const handler = httpHandler(async (event) => {
  documents ??= { openapi: openApiDocument(), asyncapi: asyncApiDocument() };
  return json(200, event.queryStringParameters?.asyncapi !== undefined ? documents.asyncapi : documents.openapi);
});
