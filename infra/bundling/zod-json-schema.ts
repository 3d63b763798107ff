// zod builds JSON Schema (z.toJSONSchema, a schema's ~standard.jsonSchema) with about 20 KB of processors that
// every bundle carried: each schema class names its processor. Only the OpenAPI document calls it at run time
// (shared/http/openapi.ts); the event catalog's JSON Schema is generated at build time (npm run catalog). So every
// other function gets stand-ins that throw when called (infra/bundling/left-out.mjs); test/infra/bundles.test.ts
// checks that no bundle with the stand-ins holds a module of ours that calls toJSONSchema.
import type { Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportedNames } from './module-exports.ts';

/** The function modules that generate JSON Schema at run time, and keep zod's generator. */
export const generatesJsonSchema = new Set(['functions/http/openapi.ts']);

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const leftOutModule = fileURLToPath(new URL('./left-out.mjs', import.meta.url));
const GENERATOR = /[\\/]zod[\\/]v4[\\/]core[\\/](json-schema-processors|to-json-schema|json-schema-generator)\.js$/;
const keepIn = 'add the function module to generatesJsonSchema (infra/bundling/zod-json-schema.ts) to generate JSON Schema';

export const zodJsonSchema: Plugin = {
  name: 'zod-json-schema',
  setup(build) {
    const entries = Array.isArray(build.initialOptions.entryPoints) ? build.initialOptions.entryPoints : [];
    if (entries.some((entry) => generatesJsonSchema.has(relative(projectRoot, typeof entry === 'string' ? entry : entry.in).replaceAll('\\', '/')))) return;
    build.onLoad({ filter: GENERATOR }, async ({ path }) => {
      const names = exportedNames(await readFile(path, 'utf8'));
      const what = (name: string) => JSON.stringify(`zod's JSON Schema generation (${name})`);
      const contents = [
        `import { leftOutExport } from ${JSON.stringify(leftOutModule)};`,
        // Schemas create their ~standard.jsonSchema methods when ~standard is read (as validators read it): the
        // factories work, the methods they make throw.
        ...names.map((name) =>
          /^create\w+Method$/.test(name)
            ? `export const ${name} = () => leftOutExport(${what(name)}, ${JSON.stringify(keepIn)});`
            : `export const ${name} = /* @__PURE__ */ leftOutExport(${what(name)}, ${JSON.stringify(keepIn)});`,
        ),
      ].join('\n');
      return { contents, loader: 'js', resolveDir: dirname(path) };
    });
  },
};
