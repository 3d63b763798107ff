import * as z from '../../events/zod.ts';
import { eventCatalog, eventTypeNames } from '../../events/catalog.ts';
import { envelopeSchema, eventMetadataSchema } from '../../events/envelope.ts';
import { contract, gatewayUnauthorizedSchema, problemSchema, type Security } from './contract.ts';

type JsonSchema = Record<string, unknown>;

/** A request schema as a caller may send it, a response as it is sent; no `$schema` inside an OpenAPI document. */
function schemaOf(schema: z.ZodMiniType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const securityOf: Record<Security, Array<Record<string, string[]>>> = {
  public: [],
  organizer: [{ organizer: [] }],
  'organizer-or-attendee': [{ organizer: [] }, { bookingToken: [] }, { bookingTokenQuery: [] }],
  stripe: [{ stripeSignature: [] }],
};

/** Problem statuses a route may answer, by who may call it and what it takes. */
function problemStatuses(r: { security: Security; body?: unknown; query?: unknown; headers?: unknown; command?: boolean; optionalToken?: boolean; forbidden?: boolean }): number[] {
  return [
    ...(r.body || r.query || r.headers || r.command ? [400] : []),
    // Stripe's signature is checked in the handler: a forged or stale one is a 400, not a 401.
    ...((r.security === 'public' && !r.optionalToken) || r.security === 'stripe' ? [] : [401]),
    ...(r.forbidden ? [403] : []),
    404,
    ...(r.command ? [409, 422] : []),
    500,
  ];
}

const problemTitles: Record<number, string> = {
  400: 'The request is malformed (errors lists each field by path)',
  401: 'No valid token',
  403: 'You may not do this here (it takes a role you do not have)',
  404: 'It does not exist (for you)',
  409: 'It conflicts with the current state',
  422: 'It breaks a rule',
  500: 'Our failure',
};

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the contract the handlers parse with. JSON Schema
 * 2020-12 is OpenAPI 3.1's own dialect, so zod's JSON Schema goes in unchanged.
 */
export function openApiDocument(serverUrl?: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [operationId, route] of Object.entries(contract)) {
    const r = route as (typeof contract)[keyof typeof contract] & { body?: z.ZodMiniType; query?: z.ZodMiniType; headers?: z.ZodMiniType; response?: z.ZodMiniType; command?: boolean; optionalToken?: boolean; forbidden?: boolean };
    const pathParams = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._:@|-]{1,128}$' } }));
    const query = r.query ? schemaOf(r.query, 'input') : undefined;
    const queryParams = query
      ? Object.entries((query.properties ?? {}) as Record<string, JsonSchema>).map(([name, schema]) => ({
          name,
          in: 'query',
          required: ((query.required as string[] | undefined) ?? []).includes(name),
          schema,
        }))
      : [];
    const parsedHeaders = r.headers ? schemaOf(r.headers, 'input') : undefined;
    const headers = [
      ...(r.command ? [{ name: 'Idempotency-Key', in: 'header', required: false, description: 'A retry with the same key within 24 h gets the first answer and writes nothing', schema: { type: 'string', minLength: 1, maxLength: 128 } }] : []),
      ...Object.entries((parsedHeaders?.properties ?? {}) as Record<string, JsonSchema>).map(([name, schema]) => ({ name, in: 'header', required: ((parsedHeaders!.required as string[] | undefined) ?? []).includes(name), schema })),
    ];
    const problems = Object.fromEntries(
      problemStatuses(r).map((status) => [
        String(status),
        // API Gateway's JWT authorizer refuses organizer routes itself, before any handler, in its own shape.
        status === 401 && r.security === 'organizer'
          ? { description: `${problemTitles[status]} (API Gateway's JWT authorizer)`, content: { 'application/json': { schema: { $ref: '#/components/schemas/GatewayUnauthorized' } } } }
          : { description: problemTitles[status], content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
      ]),
    );
    const contentType = operationId === 'console' ? 'text/html' : 'application/json';
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      operationId,
      summary: r.summary,
      // An optional token: anonymous ({}), or an organizer's bearer token.
      security: r.optionalToken ? [{}, { organizer: [] }] : securityOf[r.security],
      parameters: [...pathParams, ...queryParams, ...headers],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(r.body, 'input') } } } } : {}),
      responses: { [String(r.status)]: { description: 'Success', ...(r.response ? { content: { [contentType]: { schema: schemaOf(r.response, 'output') } } } : {}) }, ...problems },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Booking engine', version: '1', description: 'Event-sourced scheduling backend. Errors are RFC 9457 problem+json.' },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths,
    components: {
      schemas: { Problem: schemaOf(problemSchema, 'output'), GatewayUnauthorized: schemaOf(gatewayUnauthorizedSchema, 'output') },
      securitySchemes: {
        organizer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An organizer token (Cognito, or `npm run token` locally)' },
        bookingToken: { type: 'apiKey', in: 'header', name: 'X-Booking-Token', description: "The attendee's manageToken" },
        bookingTokenQuery: { type: 'apiKey', in: 'query', name: 'token', description: "The attendee's manageToken (or a mail's link token), in the query" },
        stripeSignature: { type: 'apiKey', in: 'header', name: 'Stripe-Signature', description: "Stripe's webhook signature over the raw body, with the endpoint's signing secret" },
      },
    },
  };
}

/**
 * The WebSocket and webhook messages as an AsyncAPI 3 document. On the WebSocket (`live`) every message is an
 * event envelope with one catalog payload, carrying the listener's `position`; `reset` and `resumed` are the
 * resume protocol's answers. A webhook (`webhooks`) receives the booking events' envelopes as they are, POSTed
 * with the Standard Webhooks headers.
 */
export function asyncApiDocument(): JsonSchema {
  const messages: Record<string, unknown> = {};
  const webhookMessages: string[] = [];
  for (const type of eventTypeNames) {
    const entry = eventCatalog[type];
    const event = z.object({ ...envelopeSchema.shape, type: z.literal(type), aggregateType: z.literal(entry.aggregateType), version: z.int().check(z.positive()), payload: entry.payload, metadata: eventMetadataSchema });
    const envelope = z.object({ type: z.literal('event'), position: z.int().check(z.positive()), data: event });
    messages[type.replaceAll('.', '_')] = { name: type, title: type, payload: schemaOf(envelope, 'output') };
    if (entry.aggregateType === 'booking') {
      const name = `webhook_${type.replaceAll('.', '_')}`;
      webhookMessages.push(name);
      messages[name] = { name: type, title: `${type} (webhook)`, headers: { $ref: '#/components/schemas/WebhookHeaders' }, payload: schemaOf(event, 'output') };
    }
  }
  messages.resumed = { name: 'resumed', payload: { type: 'object', properties: { type: { const: 'resumed' }, position: { type: 'integer' }, head: { type: 'integer' } } } };
  messages.reset = { name: 'reset', payload: { type: 'object', properties: { type: { const: 'reset' }, position: { type: 'integer' } } } };
  const live = Object.keys(messages).filter((name) => !webhookMessages.includes(name));
  return {
    asyncapi: '3.0.0',
    info: { title: 'Booking engine live messages and webhooks', version: '1' },
    channels: {
      live: {
        address: '/?token={token}&after={position}',
        messages: Object.fromEntries(live.map((name) => [name, { $ref: `#/components/messages/${name}` }])),
      },
      webhooks: {
        address: '{subscriptionUrl}',
        description: 'POSTed to each subscribed URL; retried on Svix\'s schedule, the same webhook-id every time',
        messages: Object.fromEntries(webhookMessages.map((name) => [name, { $ref: `#/components/messages/${name}` }])),
      },
    },
    operations: {
      receive: { action: 'receive', channel: { $ref: '#/channels/live' } },
      receiveWebhook: { action: 'receive', channel: { $ref: '#/channels/webhooks' } },
    },
    components: {
      messages,
      schemas: {
        WebhookHeaders: {
          type: 'object',
          required: ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
          properties: {
            'webhook-id': { type: 'string', description: 'The event id, the same on every retry' },
            'webhook-timestamp': { type: 'string', description: 'Seconds since the epoch when signed' },
            'webhook-signature': { type: 'string', description: 'v1,<base64 HMAC-SHA256 of id.timestamp.body>, two space-separated during a rotation' },
          },
        },
      },
    },
  };
}
