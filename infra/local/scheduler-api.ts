// The EventBridge Scheduler API (REST-JSON) on 127.0.0.1, for the real @aws-sdk/client-scheduler: functions
// reach it through AWS_ENDPOINT_URL_SCHEDULER, which the local runtime sets. Schedules, groups, ClientToken
// idempotency and the errors the SDK turns into its classes (x-amzn-errortype: ConflictException 409,
// ResourceNotFoundException 404, ValidationException 400). Running them is scheduler.ts's job.
// Not played: tags (TagResource and friends answer 400), KMS keys (kept, unused).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidTimeZone } from '../../events/primitives.ts';
import { SchedulerError, type LocalScheduler, type ScheduleDefinition } from './scheduler.ts';

export type SchedulerApi = { endpoint: string; close: () => Promise<void> };

const NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;
const MAX_BODY_BYTES = 512 * 1024;
const MAX_INPUT_CHARS = 256 * 1024;

const invalid = (message: string) => new SchedulerError('ValidationException', message);

function text(value: unknown, field: string, max: number, required = false): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw invalid(`${field} is required`);
    return undefined;
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw invalid(`${field} must be a string of 1 to ${max} characters`);
  return value;
}

function integer(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalid(`${field} must be an integer from ${min} to ${max}`);
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (!allowed.includes(value as T)) throw invalid(`${field} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function epochSeconds(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 4_102_444_800) throw invalid(`${field} must be a date`);
  return value;
}

/** A CreateSchedule/UpdateSchedule body as a definition, or a ValidationException naming the field. */
export function definitionOf(name: string, body: Record<string, any>, groupName: unknown): ScheduleDefinition {
  if (!NAME.test(name)) throw invalid('Name must be 1 to 64 letters, digits, hyphens, underscores and dots');
  const group = text(groupName, 'GroupName', 64) ?? 'default';
  if (!NAME.test(group)) throw invalid('GroupName must be 1 to 64 letters, digits, hyphens, underscores and dots');
  const expression = text(body.ScheduleExpression, 'ScheduleExpression', 256, true)!;
  const zone = text(body.ScheduleExpressionTimezone, 'ScheduleExpressionTimezone', 50);
  if (zone !== undefined && !isValidTimeZone(zone)) throw invalid(`ScheduleExpressionTimezone ${zone} is not a time zone`);
  const window = body.FlexibleTimeWindow;
  if (!window || typeof window !== 'object') throw invalid('FlexibleTimeWindow is required');
  const mode = oneOf(window.Mode, 'FlexibleTimeWindow.Mode', ['OFF', 'FLEXIBLE'] as const, 'OFF');
  const windowMinutes = integer(window.MaximumWindowInMinutes, 'FlexibleTimeWindow.MaximumWindowInMinutes', 1, 1440);
  if (mode === 'FLEXIBLE' && windowMinutes === undefined) throw invalid('FlexibleTimeWindow.MaximumWindowInMinutes is required when Mode is FLEXIBLE');
  const target = body.Target;
  if (!target || typeof target !== 'object') throw invalid('Target is required');
  const retry = target.RetryPolicy;
  if (retry !== undefined && (typeof retry !== 'object' || retry === null)) throw invalid('Target.RetryPolicy must be an object');
  const deadLetter = target.DeadLetterConfig;
  if (deadLetter !== undefined && (typeof deadLetter !== 'object' || deadLetter === null)) throw invalid('Target.DeadLetterConfig must be an object');
  const definition: ScheduleDefinition = {
    Name: name,
    GroupName: group,
    ScheduleExpression: expression,
    ScheduleExpressionTimezone: zone,
    StartDate: epochSeconds(body.StartDate, 'StartDate'),
    EndDate: epochSeconds(body.EndDate, 'EndDate'),
    Description: text(body.Description, 'Description', 512),
    State: oneOf(body.State, 'State', ['ENABLED', 'DISABLED'] as const, 'ENABLED'),
    FlexibleTimeWindow: { Mode: mode, ...(windowMinutes !== undefined ? { MaximumWindowInMinutes: windowMinutes } : {}) },
    ActionAfterCompletion: oneOf(body.ActionAfterCompletion, 'ActionAfterCompletion', ['NONE', 'DELETE'] as const, 'NONE'),
    KmsKeyArn: text(body.KmsKeyArn, 'KmsKeyArn', 2048),
    Target: {
      Arn: text(target.Arn, 'Target.Arn', 1600, true)!,
      RoleArn: text(target.RoleArn, 'Target.RoleArn', 1600, true)!,
      Input: text(target.Input, 'Target.Input', MAX_INPUT_CHARS),
      ...(retry
        ? {
            RetryPolicy: {
              MaximumRetryAttempts: integer(retry.MaximumRetryAttempts, 'Target.RetryPolicy.MaximumRetryAttempts', 0, 185),
              MaximumEventAgeInSeconds: integer(retry.MaximumEventAgeInSeconds, 'Target.RetryPolicy.MaximumEventAgeInSeconds', 60, 86_400),
            },
          }
        : {}),
      ...(deadLetter ? { DeadLetterConfig: { Arn: text(deadLetter.Arn, 'Target.DeadLetterConfig.Arn', 1600) } } : {}),
      ...(target.SqsParameters ? { SqsParameters: { MessageGroupId: text(target.SqsParameters.MessageGroupId, 'Target.SqsParameters.MessageGroupId', 128) } } : {}),
    },
  };
  if (definition.StartDate !== undefined && definition.EndDate !== undefined && definition.EndDate <= definition.StartDate) throw invalid('EndDate must be after StartDate');
  return definition;
}

export async function startSchedulerApi(scheduler: LocalScheduler, port = 0): Promise<SchedulerApi> {
  const server = createServer((req, res) => {
    void handle(scheduler, req, res).catch((error) => {
      const known = error instanceof SchedulerError;
      send(res, known ? ({ ValidationException: 400, ConflictException: 409, ResourceNotFoundException: 404 } as Record<string, number>)[error.name] ?? 400 : 500, { Message: (error as Error).message }, known ? error.name : 'InternalServerException');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function handle(scheduler: LocalScheduler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const query = url.searchParams;
  const [, collection, rawName, extra] = url.pathname.split('/');
  if (extra !== undefined) throw invalid(`${req.method} ${url.pathname} is not a Scheduler operation`);
  let name: string | undefined;
  try {
    name = rawName === undefined ? undefined : decodeURIComponent(rawName);
  } catch {
    throw invalid('the name is not URI-encoded');
  }
  const body = req.method === 'POST' || req.method === 'PUT' ? await readJson(req) : {};
  const page = <T>(items: T[]) => {
    const max = query.has('MaxResults') ? Number(query.get('MaxResults')) : 100;
    if (!Number.isInteger(max) || max < 1 || max > 100) throw invalid('MaxResults must be an integer from 1 to 100');
    const from = query.has('NextToken') ? Number(Buffer.from(query.get('NextToken')!, 'base64url').toString()) : 0;
    if (!Number.isInteger(from) || from < 0) throw invalid('NextToken is not one this endpoint gave');
    const slice = items.slice(from, from + max);
    return { slice, NextToken: from + max < items.length ? Buffer.from(String(from + max)).toString('base64url') : undefined };
  };

  if (collection === 'schedules' && name) {
    switch (req.method) {
      case 'POST':
        return send(res, 200, scheduler.create(definitionOf(name, body, body.GroupName), text(body.ClientToken, 'ClientToken', 64)));
      case 'PUT':
        return send(res, 200, scheduler.update(definitionOf(name, body, body.GroupName)));
      case 'GET':
        return send(res, 200, scheduler.get(query.get('groupName') ?? 'default', name));
      case 'DELETE':
        scheduler.delete(query.get('groupName') ?? 'default', name);
        return send(res, 200, {});
    }
  }
  if (collection === 'schedules' && !name && req.method === 'GET') {
    const state = query.get('State') ?? undefined;
    if (state !== undefined && state !== 'ENABLED' && state !== 'DISABLED') throw invalid('State must be ENABLED or DISABLED');
    const { slice, NextToken } = page(scheduler.list({ group: query.get('ScheduleGroup') ?? undefined, namePrefix: query.get('NamePrefix') ?? undefined, state }));
    return send(res, 200, { Schedules: slice, NextToken });
  }
  if (collection === 'schedule-groups' && name) {
    if (!NAME.test(name)) throw invalid('Name must be 1 to 64 letters, digits, hyphens, underscores and dots');
    switch (req.method) {
      case 'POST':
        return send(res, 200, scheduler.createGroup(name));
      case 'GET':
        return send(res, 200, scheduler.getGroup(name));
      case 'DELETE':
        scheduler.deleteGroup(name);
        return send(res, 200, {});
    }
  }
  if (collection === 'schedule-groups' && !name && req.method === 'GET') {
    const { slice, NextToken } = page(scheduler.listGroups(query.get('NamePrefix') ?? undefined));
    return send(res, 200, { ScheduleGroups: slice, NextToken });
  }
  throw invalid(`${req.method} ${url.pathname} is not a Scheduler operation played locally`);
}

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': crypto.randomUUID() };
  if (errorType) headers['x-amzn-errortype'] = errorType;
  res.writeHead(status, headers);
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, any>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw invalid(`the request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch {
    // answered below
  }
  throw invalid('the request body is not a JSON object');
}
