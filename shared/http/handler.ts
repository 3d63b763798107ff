import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
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

/** A thin HTTP Lambda: the function returns a result or throws; every error leaves as problem+json. */
export function httpHandler(fn: (event: HttpEvent) => Promise<HttpResult>) {
  return middy<HttpEvent, HttpResult>().handler(async (event) => {
    try {
      return await fn(event);
    } catch (error) {
      return problemResponse(problemOf(error), event.rawPath);
    }
  });
}

export function parseJsonBody<S extends z.ZodType>(event: HttpEvent, schema: S): z.infer<S> {
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

export function pathParameter(event: HttpEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value) throw problems.notFound(name);
  return value;
}

export function header(event: HttpEvent, name: string): string | undefined {
  return event.headers?.[name.toLowerCase()];
}

/** One Lambda for several routes: the handler of the event's route key, or a 404 for any other. */
export function routeHandler(table: Record<string, ReturnType<typeof httpHandler>>) {
  const unknown = httpHandler(async (event) => {
    throw problems.notFound(`route ${event.routeKey}`);
  });
  return (event: HttpEvent, context: Context) => (table[event.routeKey] ?? unknown)(event, context);
}
