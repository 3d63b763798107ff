// zod's public API, less what no function uses and costs a third of a bundle: the locales (`z.locales`), the
// `z.core` namespace (our code names it in types only; a namespace object would keep every core module), the
// JSON Schema importer and the ahead-of-time compiler. A local export of a name shadows the same name from
// `export *`, so nothing reaches those modules and the bundler leaves them out (zod declares no side effects
// there). The names stay, empty; test/infra/bundles.test.ts checks that no source uses them as values.
export * from '../../node_modules/zod/v4/classic/external.js';
export const locales = {};
export const core = {};
export const fromJSONSchema = undefined;
export const compile = undefined;
export const withParser = undefined;
export const INVALID = undefined;
export const ZodCompileAsyncError = undefined;
export const ZodCompileUnsupportedError = undefined;
