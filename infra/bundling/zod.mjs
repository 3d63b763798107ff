// What `zod` is in a Lambda bundle (an esbuild alias, see service-function.ts): zod itself, without the 40-odd
// error-message locales (about 258 KB minified) and the other parts no function uses (see zod-namespace.mjs).
// English, the default, is registered by zod's schemas module on its own. `z.locales` is empty here: a function
// that wanted another language would import it from 'zod/v4/locales' by name. `z` is a namespace re-export, not
// a value, so the bundler keeps only the members the code uses; there is no default export (our code imports
// `{ z }`; a dependency importing zod's default would fail the bundle loudly, not at run time).
export * as z from './zod-namespace.mjs';
export * from './zod-namespace.mjs';
