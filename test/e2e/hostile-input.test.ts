// Hostile input against every route of the HTTP API, over real HTTP on the local stack. The routes come from
// the synthesized template, so a route added tomorrow is fuzzed tomorrow. For each one fast-check sends bodies
// (arbitrary JSON, valid bodies with one field made hostile, text that is not JSON), path parameters, query
// strings and headers, half of them with a valid organizer token, and checks three things: no 5xx, every
// refusal is problem+json, and a refused request leaves the events and state tables exactly as they were.
import { createHash, randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/dynamodb-local.ts';
import { connect, futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let token: string;
let dynamo: DynamoDBDocumentClient;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
const ids: Record<string, string> = {};
let manageToken: string;

type Sent = { method: string; path: string; headers: Record<string, string>; body?: Buffer };
type Answer = { status: number; headers: Record<string, string | string[] | undefined>; text: string };

/** node:http rather than fetch: the path, its escapes and the headers go out exactly as generated. */
function send(request: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(stack.httpUrl);
    const outgoing = httpRequest(
      { host: url.hostname, port: url.port, method: request.method, path: request.path, headers: { ...request.headers, ...(request.body ? { 'content-length': String(request.body.length) } : {}) }, agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

const json = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  send({ method, path, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)) });

/** Every HTTP route of the template ("POST /bookings/{id}/cancel"); WebSocket routes ($connect...) are not HTTP. */
function templateRoutes(): string[] {
  return Object.values(inject('template').Resources)
    .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
    .map((resource) => String(resource.Properties!.RouteKey))
    .filter((key) => /^(GET|POST|PUT|PATCH|DELETE) \//.test(key))
    .sort();
}

/** A fingerprint of every item of the events and state tables. */
async function snapshot(): Promise<string> {
  const hash = createHash('sha256');
  for (const TableName of [process.env.EVENTS_TABLE!, process.env.STATE_TABLE!]) {
    const items: string[] = [];
    for await (const page of paginateScan({ client: dynamo }, { TableName, ConsistentRead: true })) {
      for (const item of page.Items ?? []) items.push(canonical(item));
    }
    hash.update(`${TableName}\n${items.sort().join('\n')}\n`);
  }
  return hash.digest('hex');
}

const canonical = (value: unknown): string =>
  value instanceof Uint8Array
    ? JSON.stringify(Buffer.from(value).toString('base64'))
    : value instanceof Set
      ? canonical([...value].sort())
      : Array.isArray(value)
        ? `[${value.map(canonical).join(',')}]`
        : value !== null && typeof value === 'object'
          ? `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`).join(',')}}`
          : JSON.stringify(value);

/** Waits until what accepted requests set going (the booking workflow) has finished writing. */
async function settled(): Promise<string> {
  let before = await snapshot();
  for (;;) {
    await stack.stepFunctions.drained();
    await new Promise((resolve) => setTimeout(resolve, 250));
    const after = await snapshot();
    if (after === before) return after;
    before = after;
  }
}

// ---- what to send ----------------------------------------------------------------------------------------

// Strings for paths, query strings and headers: long, but within what HTTP carries to a handler (API Gateway
// refuses a request line or headers past about 10 KB itself).
const hostileShortString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '', ' ', '\u0000', '\ud800', '\u202e', 'null', '__proto__', 'constructor', 'toString', '#', 'a#b', '../..', '%00', '%', '%zz',
    '9999-12-31T23:59:59Z', '9999-12-31T23:00:00Z', '9999-12-31', '9999-12-30', '0001-01-01', '0001-01-01T00:00:00Z', '0000-00-00', '2030-02-30', '2030-13-01T00:00:00Z',
    '+275760-09-13T00:00:00.000Z', `2030-01-07T09:00:00.${'9'.repeat(5000)}Z`, '2030-01-07T09:00:00+99:99', '1999-12-31T23:59:59Z', '2101-01-01',
    'europe/berlin', 'EUROPE/BERLIN', '+01:00', 'Etc/GMT+99', 'Mars/Olympus', 'a'.repeat(65),
    `${'a'.repeat(65)}@example.com`, `a@${'b'.repeat(260)}.com`, 'a@b', '@', 'x'.repeat(129), 'x'.repeat(3000), 'é'.repeat(300),
  ),
);
// Bodies may also be huge.
const hostileString = fc.oneof({ weight: 10, arbitrary: hostileShortString }, { weight: 1, arbitrary: fc.constantFrom('\n'.repeat(3000), 'x'.repeat(450_000), `${'a'.repeat(450_000)}@example.com`, '\u0001'.repeat(20_000)) });
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, -0, 1.5, 2 ** 53 + 2, 1e308, -1e308, 5e-324, true, false, null),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, leaf, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.array(fc.constant('x'), { minLength: 500, maxLength: 2000 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** A valid body to start from, per route; a route not listed here starts from an empty object. */
function validBody(route: string): Record<string, unknown> {
  const slot = futureSlot(40 + Math.floor(Math.random() * 40)).toISOString();
  const attendee = { name: 'Fuzzy', email: 'fuzzy@example.com', timeZone: 'Europe/Berlin' };
  const bodies: Record<string, Record<string, unknown>> = {
    'POST /bookings': { eventTypeId: ids.eventType, start: slot, attendee },
    'POST /bookings/{id}/cancel': { reason: 'plans changed' },
    'POST /bookings/{id}/reject': { reason: 'no' },
    'POST /bookings/{id}/reschedule': { start: slot },
    'POST /event-types': { title: 'Fuzzed', slug: `fuzz-${randomUUID().slice(0, 8)}`, lengthMinutes: 30, description: 'fuzz' },
    'PATCH /event-types/{id}': { title: 'Renamed', bufferBeforeMinutes: 5 },
    'POST /organizations': { name: 'Fuzz Inc' },
    'POST /organizations/{id}/members': { userId: 'fuzz-member', role: 'member' },
    'POST /organizations/{id}/teams': { name: 'Fuzz team', memberIds: [] },
    'POST /teams/{id}/members': { userId: 'fuzz-organizer' },
    'POST /schedules': { name: 'Fuzz hours', timeZone: 'Europe/Berlin', weekly: (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, start: '08:00', end: '18:00' })), overrides: [{ date: '2030-01-07', ranges: [] }] },
    'PATCH /schedules/{id}': { name: 'Renamed', outOfOffice: [{ start: '2030-01-01', end: '2030-01-02' }] },
    'POST /users/me': { name: 'Fuzz', email: 'fuzz@example.com', timeZone: 'Europe/Berlin' },
    'PATCH /users/me': { name: 'Fuzz again', timeZone: 'America/New_York' },
    // Graph's batches, for subscriptions that are not ours: verified away before anything is enqueued.
    'POST /calendars/notifications/microsoft': { value: [{ subscriptionId: randomUUID(), clientState: 'fuzz', changeType: 'created', resource: 'Users/x/Events/y' }] },
    'POST /calendars/notifications/microsoft/lifecycle': { value: [{ subscriptionId: randomUUID(), clientState: 'fuzz', lifecycleEvent: 'subscriptionRemoved' }] },
  };
  return structuredClone(bodies[route] ?? {});
}

function validQuery(route: string): Record<string, string> {
  if (route === 'GET /slots') return { eventTypeId: ids.eventType!, start: '2030-01-07', end: '2030-01-09', timeZone: 'Europe/Berlin' };
  if (route === 'GET /bookings') return { status: 'confirmed', from: '2030-01-01', limit: '2' };
  return {};
}

/** The real id of the thing a path names, so that half the cases get past "not found" into the handler. */
function validParameter(route: string, name: string): string {
  if (name === 'userId') return 'fuzz-member';
  const collection = route.split(' ')[1]!.split('/')[1]!;
  return { bookings: ids.booking, 'event-types': ids.eventType, organizations: ids.organization, teams: ids.team, schedules: ids.schedule }[collection] ?? randomUUID();
}

type Mutation = { kind: 'replace' | 'add' | 'delete' | 'nest' | 'whole'; pick: number; value: unknown; key: string };

function mutate(body: Record<string, unknown>, { kind, pick, value, key }: Mutation): unknown {
  const keys = Object.keys(body);
  const target = keys.length ? keys[pick % keys.length]! : key;
  switch (kind) {
    case 'whole':
      return value;
    case 'add':
      return { ...body, [key || 'extra']: value };
    case 'delete': {
      const { [target]: _, ...rest } = body;
      return rest;
    }
    case 'nest': {
      const inner = body[target];
      if (inner && typeof inner === 'object' && !Array.isArray(inner)) return { ...body, [target]: mutate(inner as Record<string, unknown>, { kind: 'replace', pick: pick >> 3, value, key }) };
      return { ...body, [target]: value };
    }
    default:
      return { ...body, [target]: value };
  }
}

const mutation = fc.record({
  kind: fc.constantFrom<Mutation['kind']>('replace', 'replace', 'add', 'delete', 'nest', 'whole'),
  pick: fc.nat(),
  value: hostileValue,
  key: fc.oneof(fc.constantFrom('extra', '__proto__', 'constructor', 'status', 'ownerId', 'id'), fc.string({ maxLength: 10 })),
});

const rawBody = fc.oneof(
  fc.constantFrom('{', '}', '[', 'nul', 'NaN', '{"a":', '{"__proto__":{"polluted":true}}', '"just a string"', '[]', 'null', '0', '\u0000', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, `{"x":${'{"x":'.repeat(5_000)}1${'}'.repeat(5_001)}`),
  fc.string({ maxLength: 200 }),
);

/** Header values as HTTP can carry them (latin-1, no control characters). */
const headerValue = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.:/+= "é;,'.split('')), maxLength: 60 }),
  fc.constantFrom('', ' ', 'x'.repeat(300), 'x'.repeat(2500), 'é'.repeat(100), randomUUID()),
);

type Case = {
  pathParameters: Record<string, { valid: boolean; value: string; encode: boolean }>;
  query: { useValid: boolean; mutations: Array<[string, string]>; raw?: string };
  body: { kind: 'none' } | { kind: 'intact' } | { kind: 'mutated'; mutation: Mutation } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string; contentType: string };
  auth: { kind: 'organizer' } | { kind: 'none' } | { kind: 'garbage'; value: string };
  headers: Array<[string, string]>;
  /** Slashes repeated before or after the path still select the route. */
  slashes?: { where: 'before' | 'after'; count: number };
};

function caseFor(route: string): fc.Arbitrary<Case> {
  const names = [...route.matchAll(/\{(\w+)\+?\}/g)].map((match) => match[1]!);
  const parameter = fc.record({
    valid: fc.boolean(),
    value: fc.oneof(hostileShortString, fc.constantFrom('x'.repeat(2100), '%E0%A4%A', '%C0%AF', 'a%2Fb', '%2e%2e', '..', 'BOOKING%23x', 'ab%00cd')),
    encode: fc.boolean(),
  });
  const queryKey = fc.constantFrom('status', 'from', 'limit', 'cursor', 'timeZone', 'eventTypeId', 'start', 'end', 'token', 'validationToken', 'extra');
  const queryValue = fc.oneof(hostileShortString, fc.constantFrom('-1', '0', '101', '1e2', 'NaN', 'Infinity', '50', 'confirmed', 'a'.repeat(1500), 'eyJwayI6IkJPT0tJTkcjeCJ9'));
  return fc.record({
    pathParameters: fc.record(Object.fromEntries(names.map((name) => [name, parameter]))) as fc.Arbitrary<Case['pathParameters']>,
    query: fc.record({
      useValid: fc.boolean(),
      mutations: fc.array(fc.tuple(queryKey, queryValue), { maxLength: 3 }),
      raw: fc.option(fc.constantFrom('%', '%zz=1', 'a=%E0%A4%A', '&&&', '=x', 'limit=1&limit=2', 'from=%00'), { nil: undefined }),
    }),
    body: fc.oneof(
      { weight: 1, arbitrary: fc.constant<Case['body']>({ kind: 'none' }) },
      // A valid body gets the hostile path, query and headers past body validation.
      { weight: 1, arbitrary: fc.constant<Case['body']>({ kind: 'intact' }) },
      { weight: 5, arbitrary: mutation.map((m): Case['body'] => ({ kind: 'mutated', mutation: m })) },
      { weight: 2, arbitrary: hostileValue.map((value): Case['body'] => ({ kind: 'json', value })) },
      { weight: 1, arbitrary: fc.tuple(rawBody, fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'application/json; charset=utf-16')).map(([text, contentType]): Case['body'] => ({ kind: 'raw', text, contentType })) },
    ),
    auth: fc.oneof(
      { weight: 5, arbitrary: fc.constant<Case['auth']>({ kind: 'organizer' }) },
      { weight: 2, arbitrary: fc.constant<Case['auth']>({ kind: 'none' }) },
      { weight: 3, arbitrary: headerValue.map((value): Case['auth'] => ({ kind: 'garbage', value: Math.random() < 0.5 ? `Bearer ${value}` : value })) },
    ),
    headers: fc.array(fc.tuple(fc.constantFrom('idempotency-key', 'x-booking-token', 'x-correlation-id', 'content-type', 'x-extra', 'x-goog-channel-id', 'x-goog-channel-token', 'x-goog-resource-state'), headerValue), { maxLength: 3 }),
    slashes: fc.option(fc.record({ where: fc.constantFrom<'before' | 'after'>('before', 'after'), count: fc.constantFrom(1, 2, 600, 3000) }), { nil: undefined, freq: 8 }),
  });
}

/** Percent-encodes what `which` matches; a lone surrogate, which has no UTF-8, goes out as U+FFFD. */
const escape = (value: string, which: RegExp) =>
  value.replace(which, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%EF%BF%BD';
    }
  });

function build(route: string, input: Case): Sent {
  const [method, template] = route.split(' ') as [string, string];
  let path = template;
  for (const [name, parameter] of Object.entries(input.pathParameters)) {
    const value = parameter.valid ? validParameter(route, name) : parameter.encode ? escape(parameter.value, /./gsu) : escape(parameter.value, /[^\x21-\x7e]|[?#]/gu);
    path = path.replace(new RegExp(`\\{${name}\\+?\\}`), value || 'x');
  }
  if (input.slashes) path = input.slashes.where === 'before' ? `${'/'.repeat(input.slashes.count)}${path}` : `${path}${'/'.repeat(input.slashes.count)}`;
  const query = new URLSearchParams(input.query.useValid ? validQuery(route) : {});
  for (const [key, value] of input.query.mutations) query.set(key, value);
  const search = [query.toString(), input.query.raw].filter(Boolean).join('&');
  if (search) path += `?${search}`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (input.auth.kind === 'organizer') headers.authorization = `Bearer ${token}`;
  if (input.auth.kind === 'garbage') headers.authorization = input.auth.value;
  for (const [name, value] of input.headers) headers[name] = name === 'x-booking-token' && value === '' ? manageToken : value;
  let body: Buffer | undefined;
  if (input.body.kind === 'intact') body = Buffer.from(JSON.stringify(validBody(route)));
  if (input.body.kind === 'mutated') body = Buffer.from(JSON.stringify(mutate(validBody(route), input.body.mutation)) ?? 'null');
  if (input.body.kind === 'json') body = Buffer.from(JSON.stringify(input.body.value) ?? 'null');
  if (input.body.kind === 'raw') {
    body = Buffer.from(input.body.text);
    headers['content-type'] = input.body.contentType;
  }
  return { method, path, headers, body };
}

/** What API Gateway itself answers (no route, JWT authorizer, payload or header limits): not ours to shape. */
function isGatewayAnswer(answer: Answer): boolean {
  if (answer.status === 431) return true;
  if (![401, 404, 413].includes(answer.status) || answer.headers['content-type'] !== 'application/json') return false;
  return /^\{"message":"[A-Za-z ]+"\}$/.test(answer.text);
}

function expectWellFormed(sent: Sent, answer: Answer): void {
  const where = `${sent.method} ${sent.path.slice(0, 200)} -> ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, where).toBeLessThan(500);
  if (answer.status < 400 || isGatewayAnswer(answer)) return;
  expect(answer.headers['content-type'], where).toBe('application/problem+json');
  const problem = JSON.parse(answer.text);
  expect(problem, where).toMatchObject({ type: expect.any(String), title: expect.any(String), status: answer.status });
}

// ---- the stack and what the cases point at -----------------------------------------------------------------

beforeAll(async () => {
  stack = await startTestStack();
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ ...localAwsConfig, endpoint: inject('dynamoEndpoint') }));
  token = await stack.issuer.sign('fuzz-organizer');
  const created = async (method: string, path: string, body: unknown) => {
    const answer = await json(method, path, body);
    expect(answer.status, answer.text).toBeLessThan(300);
    return JSON.parse(answer.text);
  };
  await created('POST', '/users/me', { name: 'Fuzz', email: 'fuzz@example.com', timeZone: 'Europe/Berlin' });
  ids.schedule = (await created('POST', '/schedules', validBody('POST /schedules'))).id;
  ids.eventType = (await created('POST', '/event-types', { title: 'Fuzz call', slug: 'fuzz-call', lengthMinutes: 30 })).id;
  ids.organization = (await created('POST', '/organizations', { name: 'Fuzz Inc' })).id;
  ids.team = (await created('POST', `/organizations/${ids.organization}/teams`, { name: 'Fuzzers', memberIds: ['fuzz-organizer'] })).id;
  const booking = await send({ method: 'POST', path: '/bookings', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(validBody('POST /bookings'))) });
  expect(booking.status, booking.text).toBe(202);
  ({ id: ids.booking, manageToken } = JSON.parse(booking.text));
  await settled();
}, 120_000);

afterAll(async () => {
  agent.destroy();
  dynamo?.destroy();
  await stack?.stop();
});

// ---- the fuzz ------------------------------------------------------------------------------------------------

// FUZZ_RUNS raises (or lowers) the count for a deeper (or quicker) local run.
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 50);
const routes = templateRoutes();

describe('hostile input on every route of the template', () => {
  it('finds the routes in the template, and the local stack serves each of them', async () => {
    expect(routes.length).toBeGreaterThan(20);
    expect(routes).toEqual(expect.arrayContaining(['POST /bookings', 'GET /bookings', 'GET /slots', 'PATCH /event-types/{id}', 'DELETE /organizations/{id}/members/{userId}']));
    for (const route of routes) {
      const [method, template] = route.split(' ') as [string, string];
      const answer = await send({ method, path: template.replace(/\{(\w+)\}/g, (_, name) => validParameter(route, name)), headers: {} });
      expect(isGatewayAnswer(answer) && answer.status === 404, `${route} is not served`).toBe(false);
    }
  });

  let requests = 0;
  it.each(routes)('%s: no 5xx, every refusal is problem+json, a refused request writes nothing', async (route) => {
    const log: Array<{ sent: Sent; answer: Answer }> = [];
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(caseFor(route), async (input) => {
        const sent = build(route, input);
        const answer = await send(sent);
        log.push({ sent, answer });
        expectWellFormed(sent, answer);
      }),
      { numRuns: RUNS_PER_ROUTE, endOnFailure: true },
    );
    requests += log.length;
    const accepted = log.filter(({ answer }) => answer.status < 400);
    if (accepted.length === 0) {
      expect(await snapshot(), `a refused ${route} request wrote something`).toBe(before);
      return;
    }
    // Some cases were valid and wrote. Send each refused one again on its own, between two fingerprints.
    let baseline = await settled();
    for (const { sent } of log.filter(({ answer }) => answer.status >= 400)) {
      const answer = await send(sent);
      expectWellFormed(sent, answer);
      requests++;
      if (answer.status < 400) {
        baseline = await settled();
        continue;
      }
      const after = await snapshot();
      expect(after, `refused, yet wrote: ${sent.method} ${sent.path.slice(0, 200)} -> ${answer.status} ${answer.text.slice(0, 300)}`).toBe(baseline);
    }
  }, 600_000);

  it('sent a few thousand requests in all', () => {
    expect(requests).toBeGreaterThan(routes.length * RUNS_PER_ROUTE);
  });
});

// ---- targeted regressions -------------------------------------------------------------------------------------

const problemOf = (answer: Answer) => {
  expect(answer.headers['content-type'], answer.text.slice(0, 300)).toBe('application/problem+json');
  return JSON.parse(answer.text) as { type: string; status: number; errors?: Array<{ path: string; message: string }> };
};
const paths = (answer: Answer) => (problemOf(answer).errors ?? []).map((error) => error.path);
const anonymous = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  send({ method, path, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)) });

/** Runs `act` and checks that it changed neither table. */
async function writesNothing(act: () => Promise<void>): Promise<void> {
  const before = await settled();
  await act();
  expect(await snapshot()).toBe(before);
}

describe('hostile input, case by case', () => {
  it('a date at the edge of the calendar is a 400, on /slots, /bookings and GET /bookings', async () => {
    await writesNothing(async () => {
      const slots = await anonymous('GET', `/slots?eventTypeId=${ids.eventType}&start=9999-12-30&end=9999-12-31`);
      expect(slots.status).toBe(400);
      expect(paths(slots)).toEqual(['query.start', 'query.end']);
      expect((await anonymous('GET', `/slots?eventTypeId=${ids.eventType}&start=0001-01-01&end=0001-01-02`)).status).toBe(400);
      const booking = await anonymous('POST', '/bookings', { ...validBody('POST /bookings'), start: '9999-12-31T23:00:00Z' });
      expect(booking.status).toBe(400);
      expect(paths(booking)).toEqual(['start']);
      expect(problemOf(booking).errors![0]!.message).toMatch(/2000 and 2100/);
      expect(paths(await json('GET', '/bookings?from=9999-12-31T00:00:00Z'))).toEqual(['query.from']);
      expect(paths(await json('POST', `/bookings/${ids.booking}/reschedule`, { start: '9999-12-31T23:00:00Z' }))).toEqual(['start']);
    });
  });

  it('a 9 MB attendee email or name is a 400 naming the field, and writes nothing', async () => {
    await writesNothing(async () => {
      const body = validBody('POST /bookings') as { attendee: Record<string, string> };
      const email = await anonymous('POST', '/bookings', { ...body, attendee: { ...body.attendee, email: `${'a'.repeat(9_000_000)}@example.com` } });
      expect(email.status).toBe(400);
      expect(paths(email)).toContain('attendee.email');
      const name = await anonymous('POST', '/bookings', { ...body, attendee: { ...body.attendee, name: 'n'.repeat(9_000_000) } });
      expect(paths(name)).toEqual(['attendee.name']);
      const local = await anonymous('POST', '/bookings', { ...body, attendee: { ...body.attendee, email: `${'a'.repeat(65)}@example.com` } });
      expect(paths(local)).toEqual(['attendee.email']);
    });
  });

  it('a body past API Gateway\'s 10 MB is refused by the gateway (413) and the server carries on', async () => {
    const answer = await send({ method: 'POST', path: '/bookings', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20) });
    expect(answer.status).toBe(413);
    expect((await anonymous('GET', '/health')).status).toBe(200);
  });

  it('an id that cannot exist (too long, a key separator, unicode, malformed escapes) is a 404 before any lookup', async () => {
    for (const bad of ['x'.repeat(3000), 'BOOKING%23x', '%E0%A4%A', '%C3%A9t%C3%A9', '__proto__', 'a%2Fb']) {
      for (const [method, path] of [['GET', `/bookings/${bad}`], ['GET', `/event-types/${bad}`], ['PATCH', `/schedules/${bad}`], ['DELETE', `/organizations/${ids.organization}/members/${bad}`]] as const) {
        const answer = await json(method, path, method === 'GET' ? undefined : {});
        expect(answer.status, `${method} ${path.slice(0, 80)}`).toBe(404);
        expect(problemOf(answer).type).toBe('/problems/not-found');
      }
    }
  });

  it('a path padded with thousands of slashes, which still selects its route, is a 404 and writes nothing', async () => {
    await writesNothing(async () => {
      const answer = await json('POST', `/organizations${'/'.repeat(3000)}`, { name: 'Padded' }, { 'idempotency-key': randomUUID() });
      expect(answer.status).toBe(404);
      expect(problemOf(answer).type).toBe('/problems/not-found');
    });
  });

  it('oversized or malformed headers are a 400 naming the header, before anything is written', async () => {
    await writesNothing(async () => {
      const booking = validBody('POST /bookings');
      expect(paths(await anonymous('POST', '/bookings', booking, { 'x-correlation-id': 'c'.repeat(5000) }))).toEqual(['headers.x-correlation-id']);
      expect(paths(await anonymous('POST', '/bookings', booking, { 'x-correlation-id': 'has "quotes"' }))).toEqual(['headers.x-correlation-id']);
      expect(paths(await anonymous('GET', `/bookings/${ids.booking}`, undefined, { 'x-booking-token': 't'.repeat(5000) }))).toEqual(['headers.x-booking-token']);
      expect(paths(await anonymous('POST', '/bookings', booking, { 'idempotency-key': 'k'.repeat(300) }))).toEqual(['headers.idempotency-key']);
    });
  });

  it('headers past what HTTP servers take are refused (431) and the server carries on', async () => {
    const answer = await send({ method: 'GET', path: '/health', headers: { 'x-big': 'b'.repeat(20_000) } }).catch((error: Error) => ({ status: 0, error }));
    expect([0, 431]).toContain(answer.status);
    expect((await anonymous('GET', '/health')).status).toBe(200);
  });

  it('a WebSocket asking for a booking id that cannot exist is refused as unauthorized, not failed', async () => {
    await expect(connect(`${stack.wsUrl}/?booking=${'x'.repeat(3000)}&bookingToken=whatever`)).rejects.toThrow(/401/);
  });

  it('a token whose subject is not an id\'s shape is a 401', async () => {
    const odd = await stack.issuer.sign('x'.repeat(300));
    const answer = await send({ method: 'GET', path: '/bookings', headers: { authorization: `Bearer ${odd}` } });
    expect(answer.status).toBe(401);
    expect(problemOf(answer).type).toBe('/problems/unauthorized');
  });

  it('an unknown field in a PATCH (or any command) body is a 400 naming it', async () => {
    await writesNothing(async () => {
      expect(paths(await json('PATCH', `/event-types/${ids.eventType}`, { titel: 'typo' }))).toEqual(['titel']);
      expect(paths(await json('PATCH', `/schedules/${ids.schedule}`, { nmae: 'typo', timeZone: 'UTC' }))).toEqual(['nmae']);
      expect(paths(await json('PATCH', '/users/me', { name: 'Fuzz', colour: 'blue' }))).toEqual(['colour']);
      expect(paths(await anonymous('POST', '/bookings', { ...validBody('POST /bookings'), price: 0 }))).toEqual(['price']);
    });
  });

  it('a time zone is stored and echoed in its canonical spelling, wherever one is accepted', async () => {
    // Its own organizer: the fuzz may have deleted the fuzz organizer's profile.
    const zoner = { authorization: `Bearer ${await stack.issuer.sign('zoner')}` };
    const me = await anonymous('POST', '/users/me', { name: 'Zoe', email: 'zoe@example.com', timeZone: 'europe/berlin' }, zoner);
    expect(me.status, me.text).toBe(201);
    expect(JSON.parse(me.text).timeZone).toBe('Europe/Berlin');
    const schedule = await anonymous('POST', '/schedules', { ...validBody('POST /schedules'), timeZone: 'EUROPE/BERLIN' }, zoner);
    expect(JSON.parse(schedule.text).timeZone).toBe('Europe/Berlin');
    const changed = await anonymous('PATCH', `/schedules/${JSON.parse(schedule.text).id}`, { timeZone: 'america/los_angeles' }, zoner);
    expect(JSON.parse(changed.text).timeZone).toBe('America/Los_Angeles');
    // An event type of its own too: deleting the fuzz organizer's profile deactivates theirs.
    const zoned = JSON.parse((await anonymous('POST', '/event-types', { title: 'Zoned', slug: 'zoned', lengthMinutes: 30 }, zoner)).text);
    const slots = await anonymous('GET', `/slots?eventTypeId=${zoned.id}&start=2030-01-07&end=2030-01-08&timeZone=america/new_york`);
    expect(slots.status, slots.text).toBe(200);
    expect(JSON.parse(slots.text).timeZone).toBe('America/New_York');
    const body = validBody('POST /bookings') as { attendee: Record<string, string> };
    // 18:00 UTC: inside the zoner's hours, now 08:00-18:00 in Los Angeles.
    const booking = await anonymous('POST', '/bookings', { ...body, eventTypeId: zoned.id, start: futureSlot(45, 8).toISOString(), attendee: { ...body.attendee, timeZone: 'asia/tokyo' } });
    expect(booking.status, booking.text).toBe(202);
    expect(JSON.parse(booking.text).attendee.timeZone).toBe('Asia/Tokyo');
    expect(paths(await anonymous('PATCH', '/users/me', { timeZone: '+01:00' }, zoner))).toEqual(['timeZone']);
    await settled();
  });
});

describe('GET /bookings pages with sealed cursors', () => {
  let lister: string;
  let stranger: string;
  const listed = async (query: string, as = lister) => {
    const answer = await send({ method: 'GET', path: `/bookings?${query}`, headers: { authorization: `Bearer ${as}` } });
    return { status: answer.status, answer, body: JSON.parse(answer.text) as { bookings: Array<{ id: string; start: string }>; nextCursor?: string } };
  };

  beforeAll(async () => {
    lister = await stack.issuer.sign('lister');
    stranger = await stack.issuer.sign('stranger');
    const eventType = await send({ method: 'POST', path: '/event-types', headers: { 'content-type': 'application/json', authorization: `Bearer ${lister}` }, body: Buffer.from(JSON.stringify({ title: 'Listed', slug: 'listed', lengthMinutes: 30 })) });
    const { id } = JSON.parse(eventType.text);
    for (const n of [1, 2, 3]) {
      const booking = await anonymous('POST', '/bookings', { eventTypeId: id, start: futureSlot(n).toISOString(), attendee: { name: 'L', email: 'l@example.com', timeZone: 'UTC' } });
      expect(booking.status, booking.text).toBe(202);
    }
    await settled();
  });

  it('the last page has no nextCursor, whether or not it is full', async () => {
    const all = await listed('limit=3');
    expect(all.body.bookings).toHaveLength(3);
    expect(all.body.nextCursor).toBeUndefined();
    const first = await listed('limit=2');
    expect(first.body.bookings).toHaveLength(2);
    const second = await listed(`limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.bookings).toHaveLength(1);
    expect(second.body.nextCursor).toBeUndefined();
    expect([...first.body.bookings, ...second.body.bookings].map((b) => b.id)).toEqual(all.body.bookings.map((b) => b.id));
    // A filter that matches nothing reads to the end and says so.
    const none = await listed('status=cancelled&limit=1');
    expect(none.body).toEqual({ bookings: [] });
    // Opaque: the cursor does not show the table's keys.
    expect(Buffer.from(first.body.nextCursor!, 'base64url').toString('latin1')).not.toMatch(/VIEWER|BOOKING/);
  });

  it('takes a plain date for from: that day\'s start in UTC, or in timeZone', async () => {
    const second = futureSlot(2).toISOString().slice(0, 10);
    const fromDate = await listed(`from=${second}`);
    expect(fromDate.status).toBe(200);
    expect(fromDate.body.bookings.map((b) => b.start)).toEqual([futureSlot(2).toISOString(), futureSlot(3).toISOString()]);
    // Midnight in Auckland is late morning of the day before in UTC.
    const aucklandMidnight = DateTime.fromISO(second, { zone: 'Pacific/Auckland' }).toMillis();
    const zoned = await listed(`from=${second}&timeZone=pacific/auckland`);
    expect(zoned.body.bookings.map((b) => b.start)).toEqual([1, 2, 3].map((n) => futureSlot(n)).filter((start) => start.getTime() >= aucklandMidnight).map((start) => start.toISOString()));
  });

  it('a cursor forged, altered, replayed by another user or with another query is a 400 query.cursor', async () => {
    const { nextCursor } = (await listed('limit=1')).body;
    expect(nextCursor).toEqual(expect.any(String));
    const forged = Buffer.from(JSON.stringify({ pk: 'BOOKING#x', sk: 'VIEWER#lister', ownerKey: 'VIEWER#lister', ownerSort: '2030' })).toString('base64url');
    const flipped = `${nextCursor!.slice(0, 20)}${nextCursor![20] === 'A' ? 'B' : 'A'}${nextCursor!.slice(21)}`;
    await writesNothing(async () => {
      for (const [query, as] of [
        [`limit=1&cursor=${forged}`, lister],
        [`limit=1&cursor=${flipped}`, lister],
        [`limit=1&cursor=${nextCursor}`, stranger],
        [`limit=1&status=confirmed&cursor=${nextCursor}`, lister],
        [`limit=1&from=2030-01-01&cursor=${nextCursor}`, lister],
        [`limit=1&cursor=${'A'.repeat(2000)}`, lister],
        ['limit=1&cursor=%00', lister],
      ] as const) {
        const { status, answer } = await listed(query, as);
        expect(status, query.slice(0, 80)).toBe(400);
        expect(paths(answer)).toEqual(['query.cursor']);
      }
    });
    expect((await listed(`limit=1&cursor=${nextCursor}`)).status).toBe(200);
  });
});
