import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { startHttpApi, type HttpApi, type HttpRequestLog, type HttpRoute } from '../../infra/local/http-api.ts';

type AnyEvent = APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer;

/** A route whose handler answers with the event it received, so tests can inspect it. */
const echo = (routeKey: string, extra: Partial<HttpRoute> = {}): HttpRoute => ({
  routeKey,
  invoke: async (event) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) }),
  ...extra,
});

async function eventFor(api: HttpApi, path: string, init?: RequestInit): Promise<AnyEvent> {
  const response = await fetch(api.url + path, init);
  expect(response.status).toBe(200);
  return (await response.json()) as AnyEvent;
}

describe('local HTTP API', () => {
  let api: HttpApi;
  const logs: HttpRequestLog[] = [];
  let invocations = 0;

  beforeAll(async () => {
    api = await startHttpApi({
      port: 0,
      onRequest: (log) => logs.push(log),
      routes: [
        echo('GET /bookings/{id}'),
        echo('GET /bookings/mine'),
        echo('ANY /bookings/{id}'),
        echo('ANY /bookings/{proxy+}'),
        echo('POST /bookings'),
        echo('GET /files/{proxy+}'),
        echo('$default'),
        {
          routeKey: 'GET /me',
          authorize: async (token) => {
            if (token !== 'good.jwt.token') throw new Error('signature verification failed');
            return { sub: 'user-1', 'cognito:groups': ['admins', 'staff'], exp: 1700000000, email_verified: true };
          },
          invoke: async (event) => {
            invocations++;
            return (event as APIGatewayProxyEventV2WithJWTAuthorizer).requestContext.authorizer.jwt;
          },
        },
        { routeKey: 'GET /plain', invoke: async () => ({ bookings: [1, 2] }) },
        { routeKey: 'GET /text', invoke: async () => 'hello' },
        {
          routeKey: 'GET /shaped',
          invoke: async () => ({
            statusCode: 201,
            headers: { 'X-Count': 3, 'content-type': 'application/octet-stream' },
            cookies: ['a=1; Path=/', 'b=2; HttpOnly'],
            body: Buffer.from([0, 1, 2, 255]).toString('base64'),
            isBase64Encoded: true,
          }),
        },
        {
          routeKey: 'GET /boom',
          invoke: async () => {
            throw new Error('handler exploded');
          },
        },
      ],
    });
  });
  afterAll(() => api.close());

  it('binds to 127.0.0.1 and reports the port it got', () => {
    expect(api.port).toBeGreaterThan(0);
    expect(api.url).toBe(`http://127.0.0.1:${api.port}`);
  });

  it('prefers exact segments over {param} over {proxy+}, and an exact method over ANY', async () => {
    expect((await eventFor(api, '/bookings/mine')).routeKey).toBe('GET /bookings/mine');
    expect((await eventFor(api, '/bookings/mine/')).routeKey).toBe('GET /bookings/mine');
    expect((await eventFor(api, '/bookings/b-1')).routeKey).toBe('GET /bookings/{id}');
    expect((await eventFor(api, '/bookings/b-1', { method: 'DELETE' })).routeKey).toBe('ANY /bookings/{id}');
    expect((await eventFor(api, '/bookings/b-1/notes')).routeKey).toBe('ANY /bookings/{proxy+}');
    expect((await eventFor(api, '/bookings', { method: 'POST', body: '{}' })).routeKey).toBe('POST /bookings');
    expect((await eventFor(api, '/bookings')).routeKey).toBe('$default'); // no GET /bookings; {proxy+} needs a segment
    expect((await eventFor(api, '/nowhere/at/all', { method: 'PUT' })).routeKey).toBe('$default');
  });

  it('URL-decodes path parameters, including greedy ones, and keeps rawPath as sent', async () => {
    const single = await eventFor(api, '/bookings/a%20b%2Fc');
    expect(single.pathParameters).toEqual({ id: 'a b/c' });
    expect(single.rawPath).toBe('/bookings/a%20b%2Fc');
    const greedy = await eventFor(api, '/files/2024/caf%C3%A9%20menu.pdf');
    expect(greedy.pathParameters).toEqual({ proxy: '2024/café menu.pdf' });
    expect((await eventFor(api, '/bookings/mine')).pathParameters).toBeUndefined();
  });

  it('builds a 2.0 event: query strings, headers, cookies and request context', async () => {
    const event = await eventFor(api, '/bookings/b-1?tag=a&tag=b&q=x%20y&empty=', {
      headers: { 'X-Trace': 'abc', Cookie: 'session=s1; theme=dark', 'User-Agent': 'vitest' },
    });
    expect(event.version).toBe('2.0');
    expect(event.rawQueryString).toBe('tag=a&tag=b&q=x%20y&empty=');
    expect(event.queryStringParameters).toEqual({ tag: 'a,b', q: 'x y', empty: '' });
    expect(event.headers['x-trace']).toBe('abc');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.cookies).toEqual(['session=s1', 'theme=dark']);
    expect(event.body).toBeUndefined();
    expect(event.isBase64Encoded).toBe(false);
    const context = event.requestContext;
    expect(context).toMatchObject({
      accountId: '000000000000',
      apiId: 'local',
      domainName: `127.0.0.1:${api.port}`,
      domainPrefix: '127',
      routeKey: 'GET /bookings/{id}',
      stage: '$default',
      http: { method: 'GET', path: '/bookings/b-1', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
    });
    expect(context.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.time).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    expect(Math.abs(context.timeEpoch - Date.now())).toBeLessThan(60_000);
    expect('authorizer' in context).toBe(false);

    const bare = await eventFor(api, '/bookings/b-1');
    expect(bare.queryStringParameters).toBeUndefined();
    expect(bare.cookies).toBeUndefined();
  });

  it('joins repeated request headers with commas', async () => {
    const event = await new Promise<AnyEvent>((resolve, reject) => {
      const req = request(`${api.url}/bookings/b-1`, { headers: { 'x-multi': ['one', 'two'] } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk) => (text += chunk)).on('end', () => resolve(JSON.parse(text)));
      });
      req.on('error', reject).end();
    });
    expect(event.headers['x-multi']).toBe('one,two');
  });

  it('passes JSON and text bodies as text and binary bodies base64-encoded', async () => {
    const json = await eventFor(api, '/bookings', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"slot":"10:00","note":"café"}',
    });
    expect(json).toMatchObject({ body: '{"slot":"10:00","note":"café"}', isBase64Encoded: false });
    const bytes = Buffer.from([0, 159, 146, 150, 255]);
    const binary = await eventFor(api, '/bookings', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(binary.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.body!, 'base64')).toEqual(bytes);
    const form = await eventFor(api, '/bookings', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1&b=2',
    });
    expect(form.isBase64Encoded).toBe(true);
    expect(Buffer.from(form.body!, 'base64').toString()).toBe('a=1&b=2');
  });

  it('maps a result with statusCode: status, headers, cookies and a base64 body', async () => {
    const response = await fetch(`${api.url}/shaped`);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-count')).toBe('3');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(response.headers.get('apigw-requestid')).toBeTruthy();
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('maps a result without statusCode to 200 application/json', async () => {
    const object = await fetch(`${api.url}/plain`);
    expect(object.status).toBe(200);
    expect(object.headers.get('content-type')).toBe('application/json');
    expect(await object.json()).toEqual({ bookings: [1, 2] });
    const text = await fetch(`${api.url}/text`);
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe('application/json');
    expect(await text.text()).toBe('hello'); // a returned string is the body verbatim, as in AWS
  });

  it('answers 404 {"message":"Not Found"} when nothing matches and there is no $default', async () => {
    const bare = await startHttpApi({ routes: [echo('GET /only')] });
    try {
      const response = await fetch(`${bare.url}/missing`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ message: 'Not Found' });
      expect((await fetch(`${bare.url}/only`, { method: 'POST' })).status).toBe(404);
    } finally {
      await bare.close();
    }
  });

  it('rejects a missing or invalid bearer token with 401 without invoking the handler', async () => {
    const before = invocations;
    const missing = await fetch(`${api.url}/me`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ message: 'Unauthorized' });
    const bad = await fetch(`${api.url}/me`, { headers: { authorization: 'Bearer forged.jwt.token' } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ message: 'Unauthorized' });
    expect(invocations).toBe(before);
  });

  it('passes the claims of a valid token to the handler as strings', async () => {
    const response = await fetch(`${api.url}/me`, { headers: { authorization: 'Bearer good.jwt.token' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      claims: { sub: 'user-1', 'cognito:groups': '[admins staff]', exp: '1700000000', email_verified: 'true' },
      scopes: null,
    });
  });

  it('turns a handler error into 500 and reports it to onRequest', async () => {
    const response = await fetch(`${api.url}/boom`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    const entry = logs.find((log) => log.path === '/boom');
    expect(entry).toMatchObject({ method: 'GET', routeKey: 'GET /boom', status: 500 });
    expect((entry?.error as Error).message).toBe('handler exploded');
  });

  it('refuses request bodies over 10 MB with 413', async () => {
    const response = await fetch(`${api.url}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(10 * 1024 * 1024 + 1),
    });
    expect(response.status).toBe(413);
  });
});
