// `import { z } from 'zod'` gives z as a namespace object that the module re-exports (`export * as z`), and
// esbuild keeps every member of a re-exported namespace: each bundle carried all of zod's API (118 KB minified),
// and V8 compiled it at every cold start. Only a namespace imported as such (`import * as z`) has its member
// accesses (z.object) bound to the members themselves, so that what no function reaches is left out (about
// 38 KB of it: the factories and schema types nobody calls; a string schema's methods still keep theirs). This plugin rewrites the project's own
// `import { z } from 'zod'` to that form as it bundles: the same functions, reached directly. (The sources keep
// the named import, which is how zod documents it and what the type checker expects.)
import type { Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';

const NAMED_Z = /^import \{ z \} from 'zod';$/m;

export const zodNamespaceImport: Plugin = {
  name: 'zod-namespace-import',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
      if (path.includes('node_modules')) return undefined;
      const source = await readFile(path, 'utf8');
      if (!NAMED_Z.test(source)) return undefined;
      return { contents: source.replace(NAMED_Z, "import * as z from 'zod';"), loader: 'ts' };
    });
  },
};
