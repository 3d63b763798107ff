// A local stand-in for an API Gateway HTTP API (Lambda proxy integrations, payload format 2.0, JWT authorizers).
// It reproduces what handlers can observe in AWS: route selection, the shape of the 2.0 event, the
// authorizer's 401 short-circuit and the 2.0 response-mapping rules, so handlers run unchanged on a laptop.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';

export type HttpRoute = {
  /** "GET /bookings/{id}", "POST /bookings", "ANY /x/{proxy+}" or "$default". */
  routeKey: string;
  /** JWT authorizer: resolves to the token's claims or throws. When set, the route requires a bearer token. */
  authorize?: (token: string) => Promise<Record<string, unknown>>;
  /** The Lambda handler; its return value is mapped to the HTTP response by the 2.0 rules. */
  invoke: (event: APIGatewayProxyEventV2WithJWTAuthorizer | APIGatewayProxyEventV2) => Promise<unknown>;
};

export type HttpRequestLog = {
  requestId: string;
  method: string;
  path: string;
  routeKey: string | null;
  status: number;
  durationMs: number;
  error?: unknown;
};

export type HttpApi = { url: string; port: number; close(): Promise<void> };

/** The API's CorsConfiguration, as CloudFormation spells it. */
export type CorsConfiguration = {
  AllowOrigins?: string[];
  AllowMethods?: string[];
  AllowHeaders?: string[];
  ExposeHeaders?: string[];
  AllowCredentials?: boolean;
  MaxAge?: number;
};

/**
 * API Gateway's CORS for HTTP APIs: it answers preflight requests itself (the handler never sees them) and
 * adds the allow-origin header to every response for an allowed origin.
 */
function corsHeaders(cors: CorsConfiguration | undefined, origin: string | undefined, preflight: boolean): Record<string, string> | undefined {
  if (!cors || !origin) return undefined;
  const origins = cors.AllowOrigins ?? [];
  if (!origins.includes('*') && !origins.includes(origin)) return undefined;
  const headers: Record<string, string> = { 'access-control-allow-origin': origins.includes('*') && !cors.AllowCredentials ? '*' : origin };
  if (cors.AllowCredentials) headers['access-control-allow-credentials'] = 'true';
  if (preflight) {
    headers['access-control-allow-methods'] = (cors.AllowMethods ?? ['*']).join(',');
    headers['access-control-allow-headers'] = (cors.AllowHeaders ?? []).join(',');
    if (cors.MaxAge !== undefined) headers['access-control-max-age'] = String(cors.MaxAge);
  } else if (cors.ExposeHeaders?.length) {
    headers['access-control-expose-headers'] = cors.ExposeHeaders.join(',');
  }
  return headers;
}

/** API Gateway's payload limit for HTTP APIs. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string };
type CompiledRoute = { route: HttpRoute; method: string; segments: Segment[] | null /* null = $default */ };

function compileRoute(route: HttpRoute): CompiledRoute {
  if (route.routeKey === '$default') return { route, method: 'ANY', segments: null };
  const match = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) (\/\S*)$/.exec(route.routeKey);
  if (!match) throw new Error(`invalid routeKey "${route.routeKey}"`);
  const segments = splitPath(match[2]).map((part, index, all): Segment => {
    const variable = /^\{([A-Za-z0-9_.:-]+)(\+?)\}$/.exec(part);
    if (!variable) return { kind: 'literal', value: part };
    if (!variable[2]) return { kind: 'param', name: variable[1] };
    if (index !== all.length - 1) throw new Error(`greedy variable must be the last segment in "${route.routeKey}"`);
    return { kind: 'greedy', name: variable[1] };
  });
  return { route, method: match[1], segments };
}

/** "/a/b/" and "/a/b" are the same route; "/" has no segments. */
function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // a malformed escape is passed through as API Gateway does rather than failing the request
  }
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === 'greedy') {
      if (i >= parts.length) return null; // {proxy+} needs at least one segment
      params[segment.name] = parts.slice(i).map(decode).join('/');
      return params;
    }
    if (i >= parts.length) return null;
    if (segment.kind === 'literal' && decode(parts[i]) !== segment.value) return null;
    if (segment.kind === 'param') params[segment.name] = decode(parts[i]);
  }
  return segments.length === parts.length ? params : null;
}

const specificity = { literal: 0, param: 1, greedy: 2 } as const;

/** Most specific wins: segment by segment literal > {param} > {proxy+}, then an exact method over ANY. */
function compareRoutes(a: CompiledRoute, b: CompiledRoute): number {
  const [sa, sb] = [a.segments!, b.segments!];
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const difference = specificity[sa[i].kind] - specificity[sb[i].kind];
    if (difference !== 0) return difference;
  }
  if (sa.length !== sb.length) return sb.length - sa.length;
  return (a.method === 'ANY' ? 1 : 0) - (b.method === 'ANY' ? 1 : 0);
}

function selectRoute(routes: CompiledRoute[], method: string, path: string) {
  const parts = splitPath(path);
  const candidates: { compiled: CompiledRoute; params: Record<string, string> }[] = [];
  for (const compiled of routes) {
    if (!compiled.segments || (compiled.method !== 'ANY' && compiled.method !== method)) continue;
    const params = matchSegments(compiled.segments, parts);
    if (params) candidates.push({ compiled, params });
  }
  candidates.sort((x, y) => compareRoutes(x.compiled, y.compiled));
  if (candidates[0]) return candidates[0];
  const fallback = routes.find((compiled) => compiled.segments === null);
  return fallback ? { compiled: fallback, params: {} } : null;
}

/** API Gateway passes bodies as text only for text-like content types; everything else arrives base64-encoded. */
function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    /^application\/(json|xml|javascript|ecmascript|graphql)$/.test(type) ||
    /\+(json|xml)$/.test(type)
  );
}

/** "12/Mar/2020:19:03:58 +0000", API Gateway's requestContext.time / requestTime format. */
export function clfTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** JWT authorizer claims reach the handler flattened to strings (arrays as "[a b]"), as API Gateway sends them. */
function stringifyClaims(claims: Record<string, unknown>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined) continue;
    flat[name] = Array.isArray(value)
      ? `[${value.join(' ')}]`
      : typeof value === 'object' && value !== null
        ? JSON.stringify(value)
        : String(value);
  }
  return flat;
}

function bearerToken(header: string | undefined): string | null {
  // API Gateway takes the token from the Authorization header and strips an optional "Bearer " prefix.
  const token = header?.replace(/^Bearer\s+/i, '').trim();
  return token ? token : null;
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Keep draining past the limit (discarding) so the client gets the 413 instead of a reset connection.
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
  }
  return size > MAX_REQUEST_BYTES ? 'too-large' : Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

/** Applies the payload format 2.0 response rules to a handler's return value. */
function writeResult(res: ServerResponse, result: unknown): number {
  const structured = typeof result === 'object' && result !== null && 'statusCode' in result;
  if (!structured) {
    // Without statusCode API Gateway assumes 200 + application/json; a string is used as the body verbatim.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(typeof result === 'string' ? result : JSON.stringify(result ?? null));
    return 200;
  }
  const shaped = result as {
    statusCode: unknown;
    headers?: Record<string, unknown>;
    multiValueHeaders?: Record<string, unknown[]>;
    cookies?: string[];
    body?: unknown;
    isBase64Encoded?: boolean;
  };
  const status = Number(shaped.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new Error(`invalid statusCode ${String(shaped.statusCode)}`);
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(shaped.multiValueHeaders ?? {})) headers[name.toLowerCase()] = values.map(String);
  for (const [name, value] of Object.entries(shaped.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (shaped.cookies?.length) headers['set-cookie'] = shaped.cookies;
  const body = shaped.body === undefined || shaped.body === null ? '' : String(shaped.body);
  res.writeHead(status, headers);
  res.end(shaped.isBase64Encoded ? Buffer.from(body, 'base64') : body);
  return status;
}

function buildEvent(
  req: IncomingMessage,
  body: Buffer,
  routeKey: string,
  params: Record<string, string>,
  requestId: string,
  port: number,
): APIGatewayProxyEventV2 {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const rawPath = queryStart === -1 ? url : url.slice(0, queryStart);
  const rawQueryString = queryStart === -1 ? '' : url.slice(queryStart + 1);
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (name !== 'cookie' && values) headers[name] = values.join(',');
  }
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-port'] ??= String(port);
  headers['x-forwarded-proto'] ??= 'http';
  const cookies = (req.headersDistinct.cookie ?? [])
    .flatMap((header) => header.split(';'))
    .map((cookie) => cookie.trim())
    .filter(Boolean);
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) query[key] = key in query ? `${query[key]},${value}` : value;
  const now = new Date();
  const domainName = headers.host ?? `127.0.0.1:${port}`;
  const textual = isTextual(headers['content-type']);
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split(':')[0].split('.')[0],
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: body.toString(textual ? 'utf8' : 'base64') } : {}),
    ...(Object.keys(params).length ? { pathParameters: params } : {}),
    isBase64Encoded: body.length > 0 && !textual,
  };
}

export async function startHttpApi(opts: {
  port?: number;
  host?: '127.0.0.1';
  routes: HttpRoute[];
  cors?: CorsConfiguration;
  onRequest?: (log: HttpRequestLog) => void;
}): Promise<HttpApi> {
  const routes = opts.routes.map(compileRoute);
  let port = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<HttpRequestLog> {
    const started = performance.now();
    const requestId = randomUUID();
    const method = (req.method ?? 'GET').toUpperCase();
    const path = (req.url ?? '/').split('?')[0];
    const log = (status: number, routeKey: string | null, error?: unknown): HttpRequestLog => ({
      requestId,
      method,
      path,
      routeKey,
      status,
      durationMs: Math.round(performance.now() - started),
      ...(error === undefined ? {} : { error }),
    });
    res.setHeader('apigw-requestid', requestId);
    const origin = req.headers.origin;
    const preflight = method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined;
    const cors = corsHeaders(opts.cors, origin, preflight);
    if (opts.cors && preflight) {
      res.writeHead(204, cors ?? {});
      res.end();
      return log(204, null);
    }
    for (const [name, value] of Object.entries(cors ?? {})) res.setHeader(name, value);
    const body = await readBody(req);
    if (body === 'too-large') {
      sendJson(res, 413, { message: 'Request Entity Too Large' }, { connection: 'close' });
      return log(413, null);
    }
    const selected = selectRoute(routes, method, path);
    if (!selected) {
      sendJson(res, 404, { message: 'Not Found' });
      return log(404, null);
    }
    const { route } = selected.compiled;
    const event = buildEvent(req, body, route.routeKey, selected.params, requestId, port);
    if (route.authorize) {
      const token = bearerToken(req.headers.authorization);
      let claims: Record<string, unknown> | undefined;
      try {
        if (token) claims = await route.authorize(token);
      } catch {
        // An invalid token is a 401 like a missing one; the reason is only hinted at in www-authenticate.
      }
      if (!claims) {
        const challenge = token ? 'Bearer error="invalid_token"' : 'Bearer';
        sendJson(res, 401, { message: 'Unauthorized' }, { 'www-authenticate': challenge });
        return log(401, route.routeKey);
      }
      (event as APIGatewayProxyEventV2WithJWTAuthorizer).requestContext.authorizer = {
        jwt: { claims: stringifyClaims(claims), scopes: null },
      };
    }
    try {
      return log(writeResult(res, await route.invoke(event)), route.routeKey);
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' });
      else res.destroy();
      return log(500, route.routeKey, error);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res)
      .then((entry) => {
        if (opts.onRequest) opts.onRequest(entry);
        else if (entry.error !== undefined) console.error(`[http-api] ${entry.method} ${entry.path} failed:`, entry.error);
      })
      .catch((error) => {
        // Only reachable on a broken client connection while reading the body.
        console.error('[http-api] request failed:', error);
        if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
