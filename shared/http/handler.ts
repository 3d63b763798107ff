import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as z from '../../events/zod.ts';
import { isId, token } from '../../events/primitives.ts';
import { DomainError } from '../domain/decider.ts';
import { ConcurrencyError } from '../eventstore/event-store.ts';
import { logger } from '../observability/logger.ts';
import { HttpProblem, fieldErrors, problems } from './problems.ts';

export type HttpEvent = APIGatewayProxyEventV2 & {
  requestContext: APIGatewayProxyEventV2['requestContext'] & { authorizer?: { jwt?: { claims?: Record<string, unknown> } } };
};
export type HttpResult = APIGatewayProxyStructuredResultV2;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

const kebab = (code: string) => code.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** Each kind of domain refusal has its status and title; the code names the problem's type. */
const refusals = {
  not_found: { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'This conflicts with its current state' },
  rule: { status: 422, title: 'Your request breaks a rule' },
} as const;

/** Errors become problems here, at the edge, and nowhere else. */
function problemOf(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof DomainError) {
    const { status, title } = refusals[error.kind];
    return new HttpProblem(status, `/problems/${kebab(error.code)}`, title, error.message, { errors: error.fields });
  }
  if (error instanceof ConcurrencyError) {
    return problems.conflict('concurrent-update', 'Someone changed this at the same moment', 'reload and try again');
  }
  logger.error('unhandled error', { error });
  return new HttpProblem(500, '/problems/internal', 'Internal error', 'something went wrong on our side; it has been logged');
}

function problemResponse(problem: HttpProblem, instance: string): HttpResult {
  const body = { type: problem.type, title: problem.title, status: problem.status, detail: problem.message, instance, errors: problem.errors };
  return { statusCode: problem.status, headers: { 'content-type': 'application/problem+json', ...problem.headers }, body: JSON.stringify(body) };
}

/**
 * The longest path a route takes: ours are a few ids long. A longer one (slashes repeated thousands of times
 * still match a route) names nothing, and would overflow the keys that embed the path (Idempotency-Key scopes).
 */
const MAX_PATH_LENGTH = 512;

/** A thin HTTP Lambda: the function returns a result or throws; every error leaves as problem+json. */
export function httpHandler(fn: (event: HttpEvent) => Promise<HttpResult>) {
  return middy<HttpEvent, HttpResult>().handler(async (event) => {
    try {
      if (event.rawPath.length > MAX_PATH_LENGTH) throw problems.notFound('this path');
      // Every header of a known shape is checked before anything else, so a bad one is the same 400 whatever
      // the request would have run into first (and before anything is read or written).
      for (const name of Object.keys(headerShapes)) header(event, name);
      return await fn(event);
    } catch (error) {
      return problemResponse(problemOf(error), event.rawPath);
    }
  });
}

export function parseJsonBody<S extends z.ZodMiniType>(event: HttpEvent, schema: S): z.infer<S> {
  let raw: unknown;
  try {
    const text = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    raw = text ? JSON.parse(text) : {};
  } catch {
    throw problems.invalidBody([{ path: '(body)', message: 'must be a JSON document' }]);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw problems.invalidBody(fieldErrors(parsed.error.issues));
  return parsed.data;
}

/**
 * Every path parameter is an id. One that is not an id's shape (too long, a `#`, unicode) cannot name anything,
 * so it is a 404 like any id that names nothing, and it never reaches a DynamoDB key.
 */
export function pathParameter(event: HttpEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value || !isId(value)) throw problems.notFound(name);
  return value;
}

/**
 * The shape of each header a handler reads: a value outside it is a 400 before it is hashed, compared or
 * copied into an event's metadata. (Idempotency-Key has its own rule in idempotency.ts.)
 */
const headerShapes: Record<string, z.ZodMiniType<string>> = {
  authorization: z.string().check(z.regex(/^[\x20-\x7e]{1,8192}$/, 'must be at most 8192 printable ASCII characters')),
  'x-booking-token': z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be the booking token you were given')),
  // It becomes the metadata.correlationId of the events the request records.
  'x-correlation-id': token(128),
};

export function header(event: HttpEvent, name: string): string | undefined {
  const key = name.toLowerCase();
  const value = event.headers?.[key];
  const shape = headerShapes[key];
  const checked = value !== undefined && shape?.safeParse(value);
  if (checked && !checked.success) throw problems.invalidBody(fieldErrors(checked.error.issues, ['headers', key]));
  return value;
}

/** One Lambda for several routes: the handler of the event's route key, or a 404 for any other. */
export function routeHandler(table: Record<string, ReturnType<typeof httpHandler>>) {
  const unknown = httpHandler(async (event) => {
    throw problems.notFound(`route ${event.routeKey}`);
  });
  return (event: HttpEvent, context: Context) => (table[event.routeKey] ?? unknown)(event, context);
}
