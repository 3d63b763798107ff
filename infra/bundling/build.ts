// How every function is bundled, in one place: the stack (ServiceFunction runs this module as a script to build
// each function's asset), test/infra/bundles.test.ts and `npm run bench` all build with bundleOptions, so what is
// measured and tested is what is deployed. esbuild's JS API, not its CLI, because the bundles need plugins
// (infra/bundling/plugins.ts): the CLI that CDK's NodejsFunction runs takes none.
import { build, type BuildOptions, type BuildResult } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundlePlugins } from './plugins.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Minified ESM for Node 24. Source maps are kept (Lambda's --enable-source-maps maps stack traces) but without
 * the sources inlined, which made each map 2 MB; `BUNDLE_SOURCES_CONTENT=true npm run synth` puts them back for a
 * debugging deploy.
 */
export const bundleSettings = {
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: true,
  sourcesContent: process.env.BUNDLE_SOURCES_CONTENT === 'true',
  mainFields: ['module', 'main'],
  // The runtime provides the AWS SDK v3 (the CDK's default for Node 18 and later, stated here so the bench
  // bundles the same way).
  external: ['@aws-sdk/*'],
  // Some dependencies are CommonJS and call require(); an ESM bundle has to provide it.
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
} as const;

/** The build of one function module (an absolute path) into `outfile`, with its source map beside it. */
export function bundleOptions(entry: string, outfile: string): BuildOptions & { outdir: string } {
  return {
    entryPoints: [entry],
    // Split: a module the code import()s (a calendar provider's adapter, shared/calendars/provider-wiring.ts) is
    // a chunk of its own under chunks/, loaded when first used, so a cold start carries only the providers it
    // serves. A function without import() is the one file `outfile` names, as before.
    outdir: dirname(outfile),
    entryNames: basename(outfile).replace(/\.mjs$/, ''),
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    bundle: true,
    platform: 'node',
    format: bundleSettings.format,
    target: bundleSettings.target,
    minify: bundleSettings.minify,
    sourcemap: bundleSettings.sourcemap,
    sourcesContent: bundleSettings.sourcesContent,
    mainFields: [...bundleSettings.mainFields],
    external: [...bundleSettings.external],
    banner: { js: bundleSettings.banner },
    plugins: [...bundlePlugins],
    logLevel: 'error',
  };
}

/**
 * Bundles `entry` to `<outdir>/index.mjs` (+ `.map`; the chunks its import()s load under `chunks/`): the asset
 * of one Lambda function. The maps name their sources relative to the project root ("functions/http/x.ts"), not
 * to wherever the asset was built, so the asset (and its hash in the template) is the same whatever the output
 * directory.
 */
export async function bundleFunction(entry: string, outdir: string): Promise<BuildResult> {
  const result = await build({ ...bundleOptions(entry, join(outdir, 'index.mjs')), write: false });
  mkdirSync(outdir, { recursive: true });
  for (const file of result.outputFiles ?? []) {
    mkdirSync(dirname(file.path), { recursive: true });
    if (!file.path.endsWith('.map')) writeFileSync(file.path, file.contents);
    else {
      const map = JSON.parse(file.text) as { sources: string[] };
      map.sources = map.sources.map((source) => relative(projectRoot, resolve(dirname(file.path), source)));
      writeFileSync(file.path, JSON.stringify(map));
    }
  }
  return result;
}

// As a script (`node infra/bundling/build.ts <entry> <outdir>`): what ServiceFunction's local bundling runs, in a
// child process because CDK bundles synchronously and esbuild's plugins need its asynchronous API.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [entry, outdir] = process.argv.slice(2);
  if (!entry || !outdir) throw new Error('usage: node infra/bundling/build.ts <entry module> <output directory>');
  await bundleFunction(entry, outdir);
}
