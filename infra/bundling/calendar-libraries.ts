// Packages the calendar adapters' libraries pull in that no code path of ours calls, replaced in the Lambda
// bundles by the lean modules beside this file: each says what it keeps, and throws, naming itself, on what it
// left out. Only the bare package names are redirected (a deep import such as the lean module's own
// '.../google-auth-library/build/src/auth/oauth2client.js' is not). test/integration/bundled-calendars.test.ts
// runs the bundled adapters against the local Google and Graph servers and Radicale, which proves no code path
// reaches what was left out.
import type { Plugin } from 'esbuild';
import { fileURLToPath } from 'node:url';

const lean = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export const calendarLibraryReplacements: Record<string, string> = {
  // googleapis-common re-exports all of google-auth-library (GCE metadata, JWT, external-account clients,
  // json-bigint with bignumber.js: about 85 KB minified); the adapter uses its OAuth2Client alone.
  'google-auth-library': lean('./google-auth-library.mjs'),
  // gaxios falls back to node-fetch with fetch-blob, formdata-polyfill and web-streams-polyfill (about 90 KB);
  // Node 24 has fetch.
  'node-fetch': lean('./node-fetch.mjs'),
  // googleapis-common serializes a query with qs; its parser's side-channel stack (about 50 KB) is not needed.
  qs: lean('./qs.mjs'),
  // tsdav writes and reads DAV's XML with xml-js (13 KB), which parses with sax (21 KB, most of it streams,
  // namespaces and loose mode that xml-js never asks for): the two compact calls tsdav makes, sax's strict parser
  // as xml-js drives it.
  'xml-js': lean('./xml-js.mjs'),
  // tsdav and https-proxy-agent log through debug, with ms and supports-color (10 KB); Lambda never sets DEBUG.
  debug: lean('./debug.mjs'),
  // google-auth-library logs its requests through google-logging-utils (6 KB: three backends, colours), which
  // writes nothing unless GOOGLE_SDK_NODE_LOGGING is set: its log() and Node backend.
  'google-logging-utils': lean('./google-logging-utils.mjs'),
};

const names = Object.keys(calendarLibraryReplacements).map((name) => name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'));

/**
 * The Graph client's ES modules, as side-effect free: its index re-exports batching and large-file uploads,
 * and the package declares no `sideEffects`, so every module the index names was kept whether called or not
 * (11 KB minified). Its modules define classes and constants only; what the adapter imports is kept whole.
 */
const GRAPH_CLIENT_ES = /[\\/]@microsoft[\\/]microsoft-graph-client[\\/]lib[\\/]es[\\/]/;

export const calendarLibrariesPlugin: Plugin = {
  name: 'calendar-libraries',
  setup(build) {
    build.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => ({ path: calendarLibraryReplacements[args.path]! }));
    build.onResolve({ filter: /^(\.\.?\/|@microsoft\/microsoft-graph-client$)/ }, async (args) => {
      if (args.pluginData?.graphClient) return undefined;
      if (!args.path.startsWith('@microsoft/') && !GRAPH_CLIENT_ES.test(args.importer)) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { graphClient: true } });
      if (resolved.errors.length || !GRAPH_CLIENT_ES.test(resolved.path)) return undefined;
      return { ...resolved, sideEffects: false };
    });
  },
};
