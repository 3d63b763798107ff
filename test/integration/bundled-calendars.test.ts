// The calendar adapters as they are deployed: shared/calendars/provider-wiring.ts (what every calendar function
// reaches the providers through) built with the stack's bundling (infra/bundling/build.ts, its plugins
// included) into a temporary directory, and that bundle, not the sources, run against the local Google and Graph
// servers and Radicale: OAuth code exchange and refresh, calendars, a busy read and a write, each provider,
// each loaded from its own chunk as a function loads it.
// The bundle leaves parts of the libraries out (infra/bundling/calendar-libraries.ts); a code path that reached
// one would throw here. And each left-out part fails loudly, naming what was left out.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction, bundleOptions } from '../../infra/bundling/build.ts';
import { calendarLibraryReplacements } from '../../infra/bundling/calendar-libraries.ts';
import { DEFAULT_GOOGLE_CLIENT, startLocalGoogle, type LocalGoogle } from '../../infra/local/google-calendar.ts';
import { DEFAULT_GRAPH_CLIENT, startLocalGraph, trustLocalGraphCertificate, type LocalGraph } from '../../infra/local/microsoft-graph.ts';
import { radicaleInstalled, startCaldavServer, type CaldavServer } from '../../infra/local/caldav-server.ts';
import type { CalendarAdapters } from '../../shared/calendars/adapters.ts';
import type { BookingCalendarEvent, ProviderCredentials } from '../../shared/calendars/provider.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
// Inside the project, so the bundle's external imports (@aws-sdk/*) resolve from its node_modules, as the Lambda
// runtime provides them.
const outdir = mkdtempSync(join(projectRoot, '.test-bundles-'));
const caldavData = mkdtempSync(join(tmpdir(), 'bundled-caldav-'));
let google: LocalGoogle;
let graph: LocalGraph;
let caldav: CaldavServer;
let adapters: CalendarAdapters;
let bundledInputs: string[] = [];
const caldavUser = { username: 'bundle-organizer', password: 'bundle-secret' };

beforeAll(async () => {
  if (!radicaleInstalled()) throw new Error('radicale is not installed: apt-get install radicale (.ci/run does)');
  [google, graph, caldav] = await Promise.all([startLocalGoogle(), startLocalGraph(), startCaldavServer({ dataDir: caldavData, users: { [caldavUser.username]: caldavUser.password } })]);
  trustLocalGraphCertificate(graph.certificate);
  // What the local runtime gives the calendar functions: the local servers as the providers' endpoints.
  Object.assign(process.env, {
    GOOGLE_CLIENT_ID: DEFAULT_GOOGLE_CLIENT.clientId,
    GOOGLE_CLIENT_SECRET: DEFAULT_GOOGLE_CLIENT.clientSecret,
    GOOGLE_AUTH_URL: `${google.url}/o/oauth2/v2/auth`,
    GOOGLE_TOKEN_URL: `${google.url}/token`,
    GOOGLE_API_URL: google.url,
    GOOGLE_REVOKE_URL: `${google.url}/revoke`,
    MICROSOFT_CLIENT_ID: DEFAULT_GRAPH_CLIENT.clientId,
    MICROSOFT_CLIENT_SECRET: DEFAULT_GRAPH_CLIENT.clientSecret,
    MICROSOFT_AUTH_URL: `${graph.url}/common/oauth2/v2.0/authorize`,
    MICROSOFT_TOKEN_URL: `${graph.url}/common/oauth2/v2.0/token`,
    MICROSOFT_API_URL: graph.url,
    CALDAV_ALLOW_LOOPBACK: 'true',
  });
  delete process.env.CALENDAR_OAUTH_SECRET_ARN;
  const result = await bundleFunction(join(projectRoot, 'shared/calendars/provider-wiring.ts'), outdir);
  expect(result.errors).toEqual([]);
  const meta = await build({ ...bundleOptions(join(projectRoot, 'shared/calendars/provider-wiring.ts'), join(outdir, 'meta.mjs')), write: false, metafile: true });
  bundledInputs = Object.keys(meta.metafile!.inputs);
  ({ adapters } = (await import(pathToFileURL(join(outdir, 'index.mjs')).href)) as { adapters: CalendarAdapters });
});

afterAll(async () => {
  await Promise.all([google?.close(), graph?.close(), caldav?.close()]);
  rmSync(outdir, { recursive: true, force: true });
  rmSync(caldavData, { recursive: true, force: true });
});

/** The packages infra/bundling/xml-js.mjs and debug.mjs stand in for. */
const xmlAndDebug = ['node_modules/xml-js/', 'node_modules/sax/', 'node_modules/debug/', 'node_modules/ms/', 'node_modules/supports-color/'];
const calendarFunctions = ['functions/http/calendars.ts', 'functions/sync/calendar-sync.ts', 'functions/subscribers/calendar-writes.ts', 'functions/workflow/check-availability.ts', 'functions/http/calendar-notifications.ts', 'functions/scheduled/renew-calendar-push.ts'];

const booking = (bookingId: string, start: string): BookingCalendarEvent => ({
  bookingId, sequence: 1, status: 'confirmed', title: 'Bundled call', description: 'Booked online', start, end: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
  timeZone: 'Europe/Berlin', organizer: { email: 'host@example.com' }, attendee: { name: 'Ann', email: 'ann@example.org' }, manageUrl: 'https://app.example/bookings/x',
});
const window = { from: '2027-03-01T00:00:00Z', to: '2027-04-30T00:00:00Z', timeZone: 'Europe/Berlin' };

/** The consent round trip (as a browser makes it) and the code exchange, through the bundled OAuth flow. */
async function connect(provider: 'google' | 'microsoft', email: string): Promise<Extract<ProviderCredentials, { kind: 'oauth' }>> {
  const flow = await adapters.oauthFlow(provider);
  const redirectUri = `http://127.0.0.1:9/calendars/callback/${provider}`;
  const url = new URL(flow.authorizationUrl({ state: `state-${email}`, redirectUri }));
  url.searchParams.set('login_hint', email);
  const consent = await fetch(url, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
  return flow.exchangeCode({ code, redirectUri });
}

async function dev(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}/dev/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`dev ${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

describe('the bundled calendar adapters', () => {
  it('are built with the lean replacements, not the libraries they replace, each provider a chunk of its own', () => {
    const chunks = readdirSync(join(outdir, 'chunks'));
    for (const provider of ['google', 'microsoft', 'caldav']) expect(chunks.filter((c) => c.startsWith(`${provider}-`) && c.endsWith('.mjs')), provider).toHaveLength(1);
    for (const lean of Object.values(calendarLibraryReplacements)) expect(bundledInputs).toContain(lean.slice(projectRoot.length));
    for (const leftOut of ['node_modules/node-fetch/', 'node_modules/qs/', 'node_modules/gcp-metadata/', 'node_modules/web-streams-polyfill/', 'node_modules/luxon/', 'node_modules/ical-generator/', 'node_modules/nodemailer/', ...xmlAndDebug]) {
      expect(bundledInputs.filter((input) => input.startsWith(leftOut)), leftOut).toEqual([]);
    }
  });

  it('no calendar function bundles xml-js, sax or debug (with ms and supports-color): the lean modules instead', async () => {
    for (const entry of calendarFunctions) {
      const { metafile } = await build({ ...bundleOptions(join(projectRoot, entry), join(outdir, 'functions', `${entry.replace(/\W/g, '-')}.mjs`)), write: false, metafile: true });
      const inputs = Object.keys(metafile!.inputs);
      expect(inputs.filter((input) => xmlAndDebug.some((leftOut) => input.startsWith(leftOut))), entry).toEqual([]);
      expect(inputs, entry).toEqual(expect.arrayContaining(['infra/bundling/xml-js.mjs', 'infra/bundling/debug.mjs', 'node_modules/tsdav/dist/tsdav.mjs']));
    }
  });

  it('Google: code exchange, refresh, calendars, a busy read with paging parameters, an idempotent write and its removal', async () => {
    const email = 'bundled-google@example.com';
    const granted = await connect('google', email);
    // Without an access token: the bundled OAuth2Client refreshes through gaxios on Node's fetch.
    const provider = await adapters.providerFor('google', { kind: 'oauth', refreshToken: granted.refreshToken });
    expect((await provider.account()).email).toBe(email);
    expect((await provider.listCalendars()).find((c) => c.primary)).toMatchObject({ id: email, writable: true });
    await dev(google.url, 'POST', `users/${email}/calendars/primary/events`, { summary: 'Dentist', start: { dateTime: '2027-03-10T09:00:00Z' }, end: { dateTime: '2027-03-10T10:00:00Z' } });
    // All day, across the DST change in Berlin: read with the bundle's zone arithmetic.
    await dev(google.url, 'POST', `users/${email}/calendars/primary/events`, { summary: 'Away', start: { date: '2027-03-28' }, end: { date: '2027-03-29' } });
    const first = await provider.readBusy('primary', window);
    expect(first.full).toBe(true);
    expect(first.events.flatMap((e) => e.spans).sort((a, b) => a.start.localeCompare(b.start))).toEqual([
      { start: '2027-03-10T09:00:00.000Z', end: '2027-03-10T10:00:00.000Z' },
      { start: '2027-03-27T23:00:00.000Z', end: '2027-03-28T22:00:00.000Z' },
    ]);
    expect(await provider.putBookingEvent('primary', booking('bundled-g1', '2027-03-12T09:00:00Z'))).toMatchObject({ created: true });
    expect(await provider.putBookingEvent('primary', { ...booking('bundled-g1', '2027-03-12T10:00:00Z'), sequence: 2 })).toMatchObject({ created: false });
    const next = await provider.readBusy('primary', { ...window, cursor: first.cursor });
    expect(next.full).toBe(false);
    expect(next.events).toEqual([expect.objectContaining({ bookingId: 'bundled-g1', spans: [{ start: '2027-03-12T10:00:00.000Z', end: '2027-03-12T10:30:00.000Z' }] })]);
    await provider.removeBookingEvent('primary', 'bundled-g1');
    const after = await provider.readBusy('primary', { ...window, cursor: next.cursor });
    expect(after.removed).toHaveLength(1);
    await provider.revoke();
  });

  it('Microsoft: code exchange, calendars, a delta read and an idempotent write', async () => {
    const email = 'bundled-graph@example.com';
    const credentials = await connect('microsoft', email);
    const provider = await adapters.providerFor('microsoft', credentials);
    expect((await provider.account()).email).toBe(email);
    const calendar = (await provider.listCalendars()).find((c) => c.primary)!;
    await dev(graph.url, 'POST', `users/${email}/events`, { subject: 'Standup', start: { dateTime: '2027-03-10T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2027-03-10T09:15:00', timeZone: 'UTC' } });
    const first = await provider.readBusy(calendar.id, window);
    expect(first.events.flatMap((e) => e.spans)).toEqual([{ start: '2027-03-10T09:00:00.000Z', end: '2027-03-10T09:15:00.000Z' }]);
    expect(await provider.putBookingEvent(calendar.id, booking('bundled-m1', '2027-03-29T07:00:00Z'))).toMatchObject({ created: true });
    expect(await provider.putBookingEvent(calendar.id, booking('bundled-m1', '2027-03-29T07:00:00Z'))).toMatchObject({ created: false });
    const next = await provider.readBusy(calendar.id, { ...window, cursor: first.cursor });
    // Written as Berlin's wall clock (09:00, summer time from March 28th) and read back as the same instant.
    expect(next.events).toEqual([expect.objectContaining({ bookingId: 'bundled-m1', spans: [{ start: '2027-03-29T07:00:00.000Z', end: '2027-03-29T07:30:00.000Z' }] })]);
    // The client's RetryHandler, kept in the bundle, honours Retry-After on 429; a 401 refreshes the token once.
    const before = graph.requests.length;
    await dev(graph.url, 'POST', 'faults', { status: 429, count: 1, retryAfter: 1 });
    const started = Date.now();
    expect(await provider.account()).toEqual({ email });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(graph.requests.length - before).toBe(2);
    await dev(graph.url, 'POST', 'faults', { status: 503, count: 20, retryAfter: 0 });
    expect((await provider.listCalendars().catch((error: Error) => error)) as Error).toHaveProperty('name', 'CalendarUnavailableError');
    await dev(graph.url, 'DELETE', 'faults');
  });

  it('CalDAV: discovery, a write (the object built with ical.js and its VTIMEZONE) and a busy read from Radicale', async () => {
    const found = await adapters.discoverCaldav({ serverUrl: caldav.url, ...caldavUser });
    const calendarId = caldav.calendarUrl(caldavUser.username);
    expect(found.calendars.map((c) => c.id)).toContain(calendarId);
    const provider = await adapters.providerFor('caldav', found.credentials);
    expect(await provider.putBookingEvent(calendarId, booking('bundled-c1', '2027-03-29T07:00:00Z'))).toMatchObject({ created: true });
    expect(await provider.putBookingEvent(calendarId, { ...booking('bundled-c1', '2027-03-29T08:00:00Z'), sequence: 2 })).toMatchObject({ created: false });
    const object = await fetch(`${calendarId}booking-bundled-c1.ics`, { headers: { authorization: `Basic ${Buffer.from(`${caldavUser.username}:${caldavUser.password}`).toString('base64')}` } });
    const text = await object.text();
    expect(text).toContain('DTSTART;TZID=Europe/Berlin:20270329T100000');
    expect(text).toContain('BEGIN:VTIMEZONE');
    const read = await provider.readBusy(calendarId, window);
    expect(read.events).toEqual([expect.objectContaining({ bookingId: 'bundled-c1', spans: [{ start: '2027-03-29T08:00:00.000Z', end: '2027-03-29T08:30:00.000Z' }] })]);
    await provider.removeBookingEvent(calendarId, 'bundled-c1');
    expect((await provider.readBusy(calendarId, { ...window, cursor: read.cursor })).removed).toHaveLength(1);
  });

  it("the bundled debug logs https-proxy-agent (the Google path behind a proxy) only when DEBUG names it", async () => {
    const probe = join(outdir, 'proxy-agent.ts');
    writeFileSync(probe, "import { HttpsProxyAgent } from 'https-proxy-agent';\nnew HttpsProxyAgent('http://127.0.0.1:9');\n");
    await bundleFunction(probe, join(outdir, 'proxy-agent'));
    const stderrWith = (debug?: string) => {
      const env: Record<string, string | undefined> = { ...process.env, DEBUG: debug };
      if (debug === undefined) delete env.DEBUG;
      return spawnSync(process.execPath, [join(outdir, 'proxy-agent', 'index.mjs')], { env, encoding: 'utf8' }).stderr;
    };
    expect(stderrWith()).toBe('');
    expect(stderrWith('tsdav:*')).toBe('');
    expect(stderrWith('https-proxy-agent')).toMatch(/^\S+Z https-proxy-agent Creating new HttpsProxyAgent instance: 'http:\/\/127\.0\.0\.1:9\/'\n$/);
  });

  it('what the bundles leave out fails loudly, naming what was left out', async () => {
    const probe = join(outdir, 'left-out.ts');
    writeFileSync(
      probe,
      [
        "import { JWT, GoogleAuth } from 'google-auth-library';",
        "import qs from 'qs';",
        "import convert from 'xml-js';",
        'export const attempts = [() => new JWT(), () => new GoogleAuth().getClient(), () => qs.parse("a=1"), () => qs.stringify({ a: [1] }, { arrayFormat: "brackets" }),',
        '  () => convert.xml2json("<a/>"), () => convert.xml2js("<a/>", { compact: false }), () => convert.js2xml({}, { compact: true, fullTagEmptyElement: true })];',
      ].join('\n'),
    );
    await bundleFunction(probe, join(outdir, 'probe'));
    const { attempts } = (await import(pathToFileURL(join(outdir, 'probe', 'index.mjs')).href)) as { attempts: Array<() => unknown> };
    for (const attempt of attempts) expect(attempt).toThrow(/left out of this bundle \(infra\/bundling\/(google-auth-library|qs|xml-js)\.mjs\)/);
  });
});
