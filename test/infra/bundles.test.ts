// Every function bundled as the stack bundles it (bundleSettings): at most 250 KB, source maps without the
// sources inlined, and only the SDK clients the function calls. And zod as the sources import it (events/zod.ts):
// zod/mini with its English messages alone, the JSON Schema generator only where JSON Schema is generated.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import Stripe from 'stripe';
import { ServiceFunction } from '../../infra/constructs/service-function.ts';
import { keptStripeResources } from '../../infra/bundling/stripe-resources.ts';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, inject, it } from 'vitest';
import { bundleFunction, bundleOptions, bundleSettings } from '../../infra/bundling/build.ts';
import { BUNDLE_LIMIT_BYTES, bundleLoads, functionEntries } from '../bench/cold-start.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The clients each module's code calls, by the SDK package it must import. */
const clientsCalled: Record<string, string[]> = {
  'functions/scheduled/dispatch-calendar-sync.ts': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb'],
  'functions/stream/publish-events.ts': ['@aws-sdk/client-eventbridge'],
  'functions/subscribers/realtime-push.ts': ['@aws-sdk/client-apigatewaymanagementapi', '@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'],
  // Resume replays the connection's feed (state table) onto the socket.
  'functions/ws/default.ts': ['@aws-sdk/client-apigatewaymanagementapi', '@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'],
  // A static page without the shared HTTP middleware: no client at all.
  'functions/http/console.ts': [],
  'functions/http/retry-payment.ts': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sfn', '@aws-sdk/lib-dynamodb'],
  // Webhook deliveries are SQS messages (an attempt each; a retry is a delayed re-send).
  'functions/http/webhooks.ts': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb'],
  'functions/subscribers/webhooks.ts': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb'],
  'functions/webhooks/deliver.ts': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb'],
  'functions/subscribers/notifications.ts': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-ses', '@aws-sdk/lib-dynamodb'],
  // Credentials are sealed and opened with KMS, the OAuth clients are in Secrets Manager, sync requests are SQS messages.
  // ... and push channels' renewals are Scheduler schedules.
  'functions/http/calendars.ts': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kms', '@aws-sdk/client-scheduler', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb'],
  'functions/http/calendar-notifications.ts': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kms', '@aws-sdk/client-scheduler', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb'],
  'functions/scheduled/renew-calendar-push.ts': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kms', '@aws-sdk/client-scheduler', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb'],
  'functions/sync/calendar-sync.ts': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kms', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb'],
  'functions/subscribers/calendar-writes.ts': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kms', '@aws-sdk/client-secrets-manager', '@aws-sdk/lib-dynamodb'],
  'functions/workflow/check-availability.ts': ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kms', '@aws-sdk/client-secrets-manager', '@aws-sdk/lib-dynamodb'],
};
/** Held below the limit: a static page and its script (no middleware, no zod). */
const overLimit: Record<string, number> = {
  'functions/http/console.ts': 32_000,
};
/** The functions that call Stripe: they also read its secret (Secrets Manager), besides their tables. */
const callsStripe = new Set(['functions/http/stripe-webhook.ts', 'functions/subscribers/refund-payments.ts', 'functions/workflow/payment-steps.ts']);
const dynamoOnly = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'];
/**
 * The calendar functions reach the providers through import()s (shared/calendars/provider-wiring.ts), which the
 * split bundles (infra/bundling/build.ts) turn into chunks loaded on first use: what counts is each path a cold
 * start may take, the entry plus the chunks of one provider's adapter (bundleLoads), and every path is held to
 * the limit, behind an HTTPS proxy too. Measured (KB minified, the six functions): the entries 31-85; with
 * Microsoft's chunk 70-123; with Google's 139-191 (202 behind a proxy, which loads https-proxy-agent); with
 * CalDAV's 129-181 (184 with booking-ics.ts, which a write loads). What brought CalDAV's from 319-367: the
 * iCalendar reading and writing of our own (shared/calendars/icalendar/, 18 KB, for ical.js's 76), the lean
 * xml-js, debug and google-logging-utils (infra/bundling/calendar-libraries.ts), zod/mini (about 48 KB less in
 * every entry), our own logger (22 KB) and the OAuth state signed with node:crypto (jose, 17 KB).
 */
const calendarProviders = ['shared/calendars/providers/google.ts', 'shared/calendars/providers/microsoft.ts', 'shared/calendars/providers/caldav.ts'];
/** An entry holds no provider's libraries: they are the chunks. */
const calendarEntryCeiling = 100_000;
/**
 * The function modules that generate JSON Schema at run time (the OpenAPI document, shared/http/openapi.ts): only
 * their bundles hold zod's JSON Schema generator. zod/mini's schemas do not reach it (classic zod's named it in
 * every schema class), so the other bundles leave it out by themselves; the event catalog's JSON Schema is
 * generated at build time (npm run catalog).
 */
const generatesJsonSchema = new Set(['functions/http/openapi.ts']);
const ZOD_JSON_SCHEMA = /node_modules\/zod\/v4\/core\/(json-schema-processors|to-json-schema|json-schema-generator)\.js$/;
const callsCalendars = new Set(['functions/http/calendars.ts', 'functions/sync/calendar-sync.ts', 'functions/subscribers/calendar-writes.ts', 'functions/workflow/check-availability.ts', 'functions/http/calendar-notifications.ts', 'functions/scheduled/renew-calendar-push.ts']);

describe('function bundles', () => {
  it.each(functionEntries(inject('template')))('%s: at most 250 KB, its map without sources, only the clients it calls', async (entry) => {
    const result = await build({ ...bundleOptions(join(projectRoot, entry), join(projectRoot, 'bundle.mjs')), sourcesContent: false, write: false, metafile: true });
    const loads = bundleLoads(result.metafile!);
    if (callsCalendars.has(entry)) {
      expect(loads[0]!.bytes, `${entry} without a provider`).toBeLessThanOrEqual(calendarEntryCeiling);
      const paths = loads.filter((load) => load.via.some((module) => calendarProviders.includes(module)));
      // Each provider's adapter is a chunk of its own: a path loads one provider, never another's libraries.
      expect(new Set(paths.map((load) => load.via.find((module) => calendarProviders.includes(module))))).toEqual(new Set(calendarProviders));
      for (const load of paths) {
        expect(load.via.filter((module) => calendarProviders.includes(module)), `${entry} via ${load.via.join(' > ')}`).toHaveLength(1);
        expect(load.bytes, `${entry} via ${load.via.join(' > ')}`).toBeLessThanOrEqual(BUNDLE_LIMIT_BYTES);
      }
    } else {
      // No import() of our own: the one file, as before.
      expect(Math.max(...loads.map((load) => load.bytes))).toBeLessThanOrEqual(overLimit[entry] ?? BUNDLE_LIMIT_BYTES);
    }
    for (const map of result.outputFiles.filter((f) => f.path.endsWith('.map'))) expect(JSON.parse(map.text).sourcesContent).toBeUndefined();
    const code = { text: result.outputFiles.filter((f) => f.path.endsWith('.mjs')).map((f) => f.text).join('\n') };
    const clients = [...new Set([...code.text.matchAll(/from\s*"(@aws-sdk\/client-[^"]+|@aws-sdk\/lib-dynamodb)"/g)].map((m) => m[1]!))].sort();
    if (!callsStripe.has(entry)) expect(clients).toEqual(clientsCalled[entry] ?? dynamoOnly);
    else expect(clients).toEqual(expect.arrayContaining(dynamoOnly));
    // zod's JSON Schema generator is in the bundle exactly when the function generates JSON Schema, that is when
    // one of the project's modules in it calls toJSONSchema.
    const inputs = Object.keys(result.metafile!.inputs);
    const ownModules = inputs.filter((input) => !input.includes('node_modules/') && /\.(ts|mjs)$/.test(input));
    const callers = ownModules.filter((input) => /\btoJSONSchema\(/.test(readFileSync(join(projectRoot, input), 'utf8')));
    expect(generatesJsonSchema.has(entry), `${entry} bundles ${callers.join(', ') || 'no caller of toJSONSchema'}`).toBe(callers.length > 0);
    // What the bundle holds (the metafile's inputs also list the modules it read and left out).
    const held = Object.values(result.metafile!.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, { bytesInOutput }]) => bytesInOutput > 0).map(([input]) => input));
    expect(held.some((input) => ZOD_JSON_SCHEMA.test(input)), `${entry} holds zod's JSON Schema generator`).toBe(generatesJsonSchema.has(entry));
    // zod/mini alone: none of classic zod's API, and no locale but English (events/zod.ts registers it).
    const zodModules = held.filter((input) => input.includes('node_modules/zod/'));
    expect(zodModules.filter((input) => /\/zod\/v4\/(classic|locales\/(?!en\.js$))/.test(input)), entry).toEqual([]);
    if (zodModules.length) expect(zodModules, entry).toContain('node_modules/zod/v4/locales/en.js');
  });

  it('keeps every Stripe resource the code calls: those it leaves out are resources no module calls', () => {
    // The client's own properties that are resources (or namespaces of them), from a client of the real SDK.
    const client = new Stripe('sk_test_bundles') as unknown as Record<string, unknown>;
    const resources = new Set(Object.keys(client).filter((key) => !key.startsWith('_') && typeof client[key] === 'object' && client[key] !== null && key !== 'errors' && key !== 'webhooks'));
    expect(resources.size).toBeGreaterThan(50);
    const callers = ['functions', 'shared']
      .flatMap((dir) => (readdirSync(join(projectRoot, dir), { recursive: true }) as string[]).map((f) => join(projectRoot, dir, f)))
      .filter((file) => file.endsWith('.ts') && /^import (?!type)[^\n]*from 'stripe'/m.test(readFileSync(file, 'utf8')));
    expect(callers.length).toBeGreaterThan(0);
    const called = new Set(callers.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\.(\w+)\.\w+\(/g)].map((m) => m[1]!)).filter((name) => resources.has(name)));
    expect([...called].sort()).toEqual(Object.keys(keptStripeResources).sort());
    for (const [property, file] of Object.entries(keptStripeResources)) expect(existsSync(join(projectRoot, 'node_modules/stripe/esm/resources', file)), property).toBe(true);
  });

  it("a ServiceFunction's asset is the module built by infra/bundling/build.ts, its files copied in, and the same on every synth", () => {
    const outdirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'bundles-synth-')));
    try {
      const synth = (outdir: string) => {
        const app = new App({ outdir });
        const stack = new Stack(app, 'MailOnly');
        new ServiceFunction(stack, 'Mail', { entry: 'subscribers/notifications', copyIntoBundle: [['shared/notifications/templates', 'templates']] });
        const assembly = app.synth();
        const fn = Object.values(assembly.getStackByName('MailOnly').template.Resources as Record<string, any>).find((r) => r.Type === 'AWS::Lambda::Function');
        return { fn, asset: join(outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`) };
      };
      const [first, second] = outdirs.map(synth);
      expect(first!.fn.Properties.Handler).toBe('index.handler');
      expect(first!.fn.Metadata['BookingEngine:Entry']).toBe('functions/subscribers/notifications.ts');
      expect(second!.fn.Properties.Code).toEqual(first!.fn.Properties.Code);
      expect(readdirSync(first!.asset).sort()).toEqual(['index.mjs', 'index.mjs.map', 'templates']);
      expect(readdirSync(join(first!.asset, 'templates')).sort()).toEqual(readdirSync(join(projectRoot, 'shared/notifications/templates')).sort());
      const map = JSON.parse(readFileSync(join(first!.asset, 'index.mjs.map'), 'utf8'));
      expect(map.sourcesContent).toBeUndefined();
      expect(map.sources).toContain('functions/subscribers/notifications.ts');
      expect(readFileSync(join(first!.asset, 'index.mjs'), 'utf8')).toContain('createRequire');
      // The temporary directory CDK bundles into is gone: nothing is left to be reused by a later synth.
      expect(readdirSync(outdirs[0]!).filter((f) => f.startsWith('bundling-temp'))).toEqual([]);
      expect(existsSync(first!.asset)).toBe(true);
    } finally {
      for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a calendar function's asset carries each provider's chunk beside its entry, each chunk with its map", () => {
    const outdir = mkdtempSync(join(tmpdir(), 'bundles-synth-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'SyncOnly');
      new ServiceFunction(stack, 'Sync', { entry: 'sync/calendar-sync' });
      const fn = Object.values(app.synth().getStackByName('SyncOnly').template.Resources as Record<string, any>).find((r) => r.Type === 'AWS::Lambda::Function');
      const asset = join(outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
      expect(readdirSync(asset).sort()).toEqual(['chunks', 'index.mjs', 'index.mjs.map']);
      const chunks = readdirSync(join(asset, 'chunks'));
      for (const provider of ['google', 'microsoft', 'caldav']) expect(chunks.filter((c) => new RegExp(`^${provider}-\\w+\\.mjs$`).test(c)), provider).toHaveLength(1);
      for (const chunk of chunks.filter((c) => c.endsWith('.mjs'))) expect(chunks).toContain(`${chunk}.map`);
      // The entry names its chunks relatively: the asset works wherever Lambda unpacks it.
      expect(readFileSync(join(asset, 'index.mjs'), 'utf8')).toMatch(/import\("\.\/chunks\/provider-wiring-\w+\.mjs"\)/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('the event catalog, bundled as the functions bundle it, parses and refuses every event as it does from source', async () => {
    mkdirSync(join(projectRoot, 'test-artifacts'), { recursive: true });
    const dir = mkdtempSync(join(projectRoot, 'test-artifacts', 'catalog-bundle-'));
    try {
      await bundleFunction(join(projectRoot, 'events/catalog.ts'), dir);
      const bundled = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as typeof import('../../events/catalog.ts');
      const source = await import('../../events/catalog.ts');
      const samples = readdirSync(join(projectRoot, 'events/samples')).map((f) => JSON.parse(readFileSync(join(projectRoot, 'events/samples', f), 'utf8')));
      expect(samples.length).toBe(source.eventTypeNames.length);
      const outcome = (parse: (input: unknown) => unknown, input: unknown) => {
        try {
          return { event: parse(input) };
        } catch (error) {
          return { error: (error as Error).message, issues: JSON.stringify((error as { issues?: unknown }).issues) };
        }
      };
      // Each sample, and each with one payload field broken (dropped, nulled, made a long string, a number).
      const variants = samples.flatMap((sample) => [
        sample,
        ...Object.keys(sample.payload).flatMap((key) => [
          { ...sample, payload: { ...sample.payload, [key]: undefined } },
          { ...sample, payload: { ...sample.payload, [key]: null } },
          { ...sample, payload: { ...sample.payload, [key]: 'x'.repeat(5000) } },
          { ...sample, payload: { ...sample.payload, [key]: -1.5 } },
        ]),
        { ...sample, version: 0 },
        { ...sample, metadata: { ...sample.metadata, timestamp: 'yesterday' } },
      ]);
      expect(variants.length).toBeGreaterThan(500);
      let refused = 0;
      for (const input of variants) {
        const ours = outcome(bundled.parseDomainEvent, input);
        expect(ours).toEqual(outcome(source.parseDomainEvent, input));
        if ('error' in ours) refused++;
      }
      expect(refused).toBeGreaterThan(variants.length / 2);
      // In English, as classic zod spoke (zod/mini has no messages of its own: events/zod.ts registers them).
      expect(outcome(bundled.parseDomainEvent, { ...samples[0], version: 'one' }).issues).toContain('Invalid input: expected number, received string');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every function bundle loads in a fresh Node process', async () => {
    mkdirSync(join(projectRoot, 'test-artifacts'), { recursive: true });
    const dir = mkdtempSync(join(projectRoot, 'test-artifacts', 'function-bundles-'));
    try {
      const entries = functionEntries(inject('template'));
      const files = await Promise.all(entries.map(async (entry) => {
        const out = join(dir, entry.replace(/\W/g, '_'));
        await bundleFunction(join(projectRoot, entry), out);
        return pathToFileURL(join(out, 'index.mjs')).href;
      }));
      const script = `const failed = []; for (const file of ${JSON.stringify(files)}) { try { const m = await import(file); if (!Object.values(m).some((v) => typeof v === 'function')) failed.push(file + ': no handler'); } catch (e) { failed.push(file + ': ' + e.message); } } process.stdout.write(JSON.stringify(failed));`;
      const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: projectRoot, env: { ...process.env, AWS_REGION: 'us-east-1' } });
      expect(JSON.parse(String(output))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the stack bundles without inlined sources unless asked to', () => {
    expect(bundleSettings.sourcesContent).toBe(process.env.BUNDLE_SOURCES_CONTENT === 'true');
  });

  it('every source imports zod through events/zod.ts: zod/mini, with English messages', () => {
    const files = ['functions', 'shared', 'events'].flatMap((dir) =>
      (readdirSync(join(projectRoot, dir), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(projectRoot, dir, f)),
    );
    expect(files.length).toBeGreaterThan(30);
    const importers = files.filter((file) => /from '\.[./]*\/events\/zod\.ts'|from '\.\/zod\.ts'/.test(readFileSync(file, 'utf8')));
    expect(importers.length).toBeGreaterThan(20);
    // Classic zod (its methods keep all of its API in a bundle) or zod/mini imported directly (no messages: "Invalid input").
    const direct = files.filter((file) => !file.endsWith(join('events', 'zod.ts')) && /from 'zod(\/[\w/]+)?'/.test(readFileSync(file, 'utf8')));
    expect(direct).toEqual([]);
  });
});
