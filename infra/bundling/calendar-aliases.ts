// Packages the calendar adapters' libraries pull in that no code path of ours calls, replaced in the Lambda
// bundles by the lean modules beside this file (each says what it keeps and throws, naming itself, on what it
// left out). esbuild aliases, merged into bundleSettings.alias (infra/constructs/service-function.ts), so the
// stack, `npm run bench` and test/infra/bundles.test.ts bundle alike; test/integration/bundled-calendars.test.ts
// runs the bundled adapters against the local Google and Graph servers and Radicale.
import { fileURLToPath } from 'node:url';

const lean = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export const calendarAliases = {
  // googleapis-common re-exports all of google-auth-library; the adapter uses its OAuth2Client alone.
  'google-auth-library': lean('./google-auth-library.mjs'),
  // gaxios falls back to node-fetch and its polyfills; Node 24 has fetch.
  'node-fetch': lean('./node-fetch.mjs'),
  // googleapis-common serializes a query with qs; its side-channel stack is for parsing.
  qs: lean('./qs.mjs'),
} as const;
