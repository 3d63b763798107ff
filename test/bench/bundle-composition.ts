// What a function's bundle is made of: `node test/bench/bundle-composition.ts functions/sync/calendar-sync.ts`
// bundles the module as the stack bundles it (infra/bundling/build.ts) and prints, for its entry and for each
// chunk its import()s load (a calendar provider's adapter), the minified bytes by package (and by project
// module), largest first. TOP=n prints more or fewer rows per file (12).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { bundleOptions } from '../../infra/bundling/build.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

export type BundleFile = { file: string; module?: string; bytes: number; parts: Array<[string, number]> };

export async function bundleComposition(entry: string): Promise<BundleFile[]> {
  const result = await build({ ...bundleOptions(join(projectRoot, entry), join(projectRoot, 'bundle/index.mjs')), write: false, metafile: true, sourcemap: false });
  return Object.entries(result.metafile.outputs)
    .filter(([file]) => file.endsWith('.mjs'))
    .map(([file, output]) => {
      const parts = new Map<string, number>();
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
        const key = inPackage ? inPackage[1]! : input;
        parts.set(key, (parts.get(key) ?? 0) + bytesInOutput);
      }
      return { file: file.replace(/^.*?bundle\//, ''), module: output.entryPoint, bytes: output.bytes, parts: [...parts].sort((a, b) => b[1] - a[1]) };
    });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const entry = process.argv[2];
  if (!entry) throw new Error('usage: node test/bench/bundle-composition.ts functions/<trigger>/<name>.ts');
  for (const { file, module, bytes, parts } of await bundleComposition(entry)) {
    console.log(`${file}${module ? ` (${module})` : ''}: ${(bytes / 1024).toFixed(1)} KB minified`);
    for (const [part, size] of parts.slice(0, Number(process.env.TOP ?? 12))) if (size >= 512) console.log(`${(size / 1024).toFixed(1).padStart(8)} KB  ${part}`);
  }
}
