// zod as the project's schemas use it: `import * as z from '<this module>'`. It is zod/mini, zod's tree-shakable
// API (functions and checks, `z.optional(x)`, `.check(z.maxLength(n))`, in place of methods), so a function's
// bundle keeps only the parts its schemas use: about 20-45 KB of zod where classic zod's methods kept 77-80 KB
// in every bundle. The core is classic zod's: the same parsing, issues, paths and JSON Schema.
//
// Classic zod registers its English messages when its first schema is built; zod/mini registers none (its
// issues would all say "Invalid input"), so this module does, once, and every schema module imports zod through
// it. English alone: the other locales are not bundled. (Classic zod also installs its memoizer, which only
// recursive schemas use; ours are not recursive, and it takes itself out of any schema that is not.)
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
