// The typed client, its live feed and the optimistic store against the local stack; the OpenAPI document
// checked against the stack's routes and the answers seen here; the client bundled for a browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { build } from 'esbuild';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import SwaggerParser from '@apidevtools/swagger-parser';
import { BookingClient, LiveFeed, ProblemError, routes, store, type LiveEvent } from '../../shared/client/index.ts';
import { contract } from '../../shared/http/contract.ts';
import { futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let client: BookingClient;
let eventTypeId: string;
let openapi: any;
const organizer = 'client-organizer';

/** Every answer this file receives, to be checked against the OpenAPI document at the end. */
const answers: Array<{ method: string; path: string; status: number; body: unknown }> = [];
const recordingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const url = new URL(String(input));
  const body = response.headers.get('content-type')?.includes('json') ? await response.clone().json() : undefined;
  answers.push({ method: init?.method ?? 'GET', path: url.pathname, status: response.status, body });
  return response;
};

const attendee = { name: 'Cleo', email: 'cleo@example.com', timeZone: 'UTC' };

beforeAll(async () => {
  stack = await startTestStack();
  client = new BookingClient({ baseUrl: stack.httpUrl, token: await stack.issuer.sign(organizer), fetch: recordingFetch, backoffMs: 50 });
  eventTypeId = ((await client.call('createEventType', { body: { title: 'Client', slug: 'client', lengthMinutes: 30 } })) as any).id;
  openapi = await client.call('openapi');
});
afterAll(async () => stack?.stop());

const confirmedBooking = async (slot: number) => {
  const created = await client.createBooking({ eventTypeId, start: futureSlot(slot).toISOString(), attendee });
  for (let i = 0; i < 100; i++) {
    const booking = await client.getBooking(created.id);
    if (booking.status === 'confirmed') return { ...booking, manageToken: created.manageToken };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('never confirmed');
};

describe('the typed client', () => {
  it('lists every route of the stack, as the contract does', () => {
    const template = inject('template') as any;
    const stackRoutes = Object.values(template.Resources)
      .filter((r: any) => r.Type === 'AWS::ApiGatewayV2::Route' && !String(r.Properties.RouteKey).startsWith('$'))
      .map((r: any) => r.Properties.RouteKey as string)
      .sort();
    expect(Object.values(routes).map(([method, path]) => `${method} ${path}`).sort()).toEqual(stackRoutes);
    expect(Object.values(contract).map((r) => `${r.method} ${r.path}`).sort()).toEqual(stackRoutes);
    const documented = Object.entries(openapi.paths).flatMap(([path, ops]: [string, any]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(stackRoutes);
  });

  it('surfaces problem+json as a typed error with field paths', async () => {
    const error = await client.createBooking({ eventTypeId, start: 'tomorrow', attendee } as any).catch((e) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect(error).toMatchObject({ status: 400, type: '/problems/validation' });
    expect(error.fields).toHaveProperty('start');
    // API Gateway's JWT authorizer answers {"message": "Unauthorized"}: a ProblemError too, typed about:blank.
    const anonymous = new BookingClient({ baseUrl: stack.httpUrl, fetch: recordingFetch });
    const refused = await anonymous.listBookings().catch((e) => e);
    expect(refused).toBeInstanceOf(ProblemError);
    expect(refused).toMatchObject({ status: 401, type: 'about:blank', title: 'Unauthorized' });
  });

  it('reuses one Idempotency-Key on retry, so a lost answer never books twice', async () => {
    let calls = 0;
    const keys: string[] = [];
    // The first attempt reaches the server but its answer is lost on the way back.
    const flaky: typeof fetch = async (input, init) => {
      keys.push((init?.headers as Record<string, string>)['idempotency-key']!);
      const response = await fetch(input, init);
      if (calls++ === 0) throw new TypeError('network lost the answer');
      return response;
    };
    const retrying = new BookingClient({ baseUrl: stack.httpUrl, fetch: flaky, backoffMs: 10 });
    const booking = await retrying.createBooking({ eventTypeId, start: futureSlot(6).toISOString(), attendee });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(booking.status).toBe('draft');
  });

  it('cancels optimistically; when the server refuses (cancelled elsewhere) the store rolls back and shows the problem', async () => {
    const booking = await confirmedBooking(4);
    let state = store.received(store.emptyStore, booking);
    // Cancelled elsewhere, by the attendee, before our command reaches the server.
    const attendeeClient = new BookingClient({ baseUrl: stack.httpUrl, fetch: recordingFetch });
    await attendeeClient.cancelBooking(booking.id, { reason: 'attendee first' }, { bookingToken: booking.manageToken });
    state = store.begin(state, { id: 'mine', bookingId: booking.id, intent: { kind: 'cancel' }, startedAt: Date.now() });
    expect(store.view(state, booking.id)!.status).toBe('cancelled');
    try {
      state = store.accepted(state, 'mine', await client.cancelBooking(booking.id, { reason: 'organizer too' }));
    } catch (error) {
      state = store.refused(state, 'mine', error as ProblemError);
    }
    expect(state.outcomes.at(-1)).toMatchObject({ result: 'rolled_back', problem: { status: 409 } });
    expect(store.view(state, booking.id)!.status).toBe('confirmed');
    // The pushed or reloaded truth then shows what happened elsewhere.
    state = store.received(state, await client.getBooking(booking.id));
    expect(store.view(state, booking.id)).toMatchObject({ status: 'cancelled', cancellation: { by: 'attendee' } });
  });

  it('reschedules optimistically and confirms by the pushed event; the live feed resumes after an interruption without gaps or repeats', async () => {
    const booking = await confirmedBooking(5);
    const delivered: Array<{ event: LiveEvent; position: number }> = [];
    let state = store.received(store.emptyStore, booking);
    const feed = new LiveFeed({
      url: `${stack.wsUrl}/?token=${await stack.issuer.sign(organizer)}`,
      onEvent: (event, position) => {
        delivered.push({ event, position });
        state = store.pushed(state, event);
      },
      backoffMs: 50,
    });
    await feed.resumed;
    const start = futureSlot(5, 3).toISOString();
    const end = new Date(Date.parse(start) + 30 * 60_000).toISOString();
    state = store.begin(state, { id: 'move', bookingId: booking.id, intent: { kind: 'reschedule', start, end }, startedAt: Date.now() });
    expect(store.view(state, booking.id)!.start).toBe(start);
    await client.rescheduleBooking(booking.id, start);
    await until(() => state.outcomes.some((o) => o.pendingId === 'move' && o.result === 'confirmed'));

    feed.interrupt();
    const missed = await client.createBooking({ eventTypeId, start: futureSlot(7).toISOString(), attendee });
    await until(() => delivered.some((d) => d.event.aggregateId === missed.id && d.event.type === 'booking.confirmed'));
    const positions = delivered.map((d) => d.position);
    expect(positions).toEqual(positions.map((_, i) => positions[0]! + i));
    expect(new Set(delivered.map((d) => d.event.id)).size).toBe(delivered.length);
    feed.close();
  });

  it('serves a document that validates as OpenAPI 3.1 (against the OpenAPI schema, by swagger-parser)', async () => {
    const validated = (await SwaggerParser.validate(structuredClone(openapi))) as { openapi?: string };
    expect(validated.openapi).toBe('3.1.0');
    // And a broken one does not: the check can fail.
    const broken = structuredClone(openapi);
    broken.paths['/slots'].get.parameters[0].in = 'nowhere';
    await expect(SwaggerParser.validate(broken)).rejects.toThrow(/schema validation failed/);
  });

  it('answers as its OpenAPI document says (every answer of this file validates)', () => {
    expect(openapi.openapi).toBe('3.1.0');
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    const templates = Object.keys(openapi.paths).map((path) => ({ path, pattern: new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`) }));
    let checked = 0;
    for (const answer of answers) {
      const match = templates.filter((t) => t.pattern.test(answer.path)).sort((a, b) => a.path.split('{').length - b.path.split('{').length)[0];
      expect(match, answer.path).toBeDefined();
      const operation = openapi.paths[match!.path][answer.method.toLowerCase()];
      const response = operation.responses[String(answer.status)];
      expect(response, `${answer.method} ${answer.path} ${answer.status}`).toBeDefined();
      const [content] = Object.values(response.content ?? {}) as any[];
      if (!content) {
        expect(answer.body, `${answer.method} ${answer.path}: the document says no body`).toBeUndefined();
        checked++;
        continue;
      }
      const schema = content.schema.$ref ? openapi.components.schemas[content.schema.$ref.split('/').at(-1)] : content.schema;
      const validate = ajv.compile(schema);
      expect(validate(answer.body), `${answer.method} ${answer.path}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('bundles for a browser without server code', async () => {
    const result = await build({ entryPoints: ['shared/client/index.ts'], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, minify: true });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((file) => /aws-sdk|dynamodb|node_modules/.test(file))).toEqual([]);
    expect(inputs.every((file) => file.startsWith('shared/client/'))).toBe(true);
    expect(result.outputFiles[0]!.contents.length).toBeLessThan(20_000);
  });
});

async function until(condition: () => boolean, ms = 15_000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
