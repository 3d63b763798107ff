// Stripe's SDK constructs all of its ~190 resource classes (accounts, issuing, treasury, v2, ...) in the client's
// constructor, so neither tree-shaking nor a lazy import leaves any out: they are most of its 240 KB. The
// functions call two of them. This plugin gives every other resource module a stand-in that constructs but
// throws on any use, naming the resource (infra/bundling/left-out.mjs); test/infra/bundles.test.ts checks that
// every resource our code calls is kept, and the Stripe adapter's integration test runs the trimmed bundle
// against the local Stripe.
import type { Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportedNames } from './module-exports.ts';

/** Modules under stripe/esm/resources/ bundled as they are, by the client property that reaches them. */
export const keptStripeResources: Record<string, string> = {
  paymentIntents: 'PaymentIntents.js',
  refunds: 'Refunds.js',
};

const leftOutModule = fileURLToPath(new URL('./left-out.mjs', import.meta.url));
const RESOURCE = /[\\/]stripe[\\/]esm[\\/]resources[\\/](.+\.js)$/;

export const stripeResources: Plugin = {
  name: 'stripe-resources',
  setup(build) {
    const kept = new Set(Object.values(keptStripeResources));
    build.onLoad({ filter: RESOURCE }, async ({ path }) => {
      const file = RESOURCE.exec(path)![1]!.replaceAll('\\', '/');
      if (kept.has(file)) return undefined;
      const source = await readFile(path, 'utf8');
      const classes = [...source.matchAll(/^export class (\w+)/gm)].map((m) => m[1]!);
      // One stand-in per module (a module's classes are never used apart), so the bundle pays ~40 bytes for each.
      const contents = [
        `import { leftOutStripeResource } from ${JSON.stringify(leftOutModule)};`,
        `const LeftOut = /* @__PURE__ */ leftOutStripeResource(${JSON.stringify(file)});`,
        `export { ${classes.map((name) => `LeftOut as ${name}`).join(', ')} };`,
      ].join('\n');
      return { contents, loader: 'js', resolveDir: dirname(path) };
    });
    // The handler of Stripe's v2 event notifications (client.parseEventNotification and its kin), 13 KB: our
    // webhook takes v1 events (client.webhooks.constructEventAsync).
    build.onLoad({ filter: /[\\/]stripe[\\/]esm[\\/]StripeEventNotificationHandler\.js$/ }, async ({ path }) => ({
      contents: [
        `import { leftOutExport } from ${JSON.stringify(leftOutModule)};`,
        ...exportedNames(await readFile(path, 'utf8')).map(
          (name) => `export const ${name} = /* @__PURE__ */ leftOutExport("Stripe's ${name} (v2 event notifications)", "no function parses v2 event notifications; drop its stand-in in infra/bundling/stripe-resources.ts to do so");`,
        ),
      ].join('\n'),
      loader: 'js',
      resolveDir: dirname(path),
    }));
  },
};
