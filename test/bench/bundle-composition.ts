// What a function's bundle is made of: `node test/bench/bundle-composition.ts functions/sync/calendar-sync.ts`
// bundles the module as the stack bundles it (infra/bundling/build.ts) and prints its minified bytes by package (and by
// project folder), largest first. TOP=n prints more or fewer rows (30).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { bundleOptions } from '../../infra/bundling/build.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

export async function bundleComposition(entry: string): Promise<{ bytes: number; parts: Array<[string, number]> }> {
  const result = await build({ ...bundleOptions(join(projectRoot, entry), 'bundle.mjs'), write: false, metafile: true, sourcemap: false });
  const output = Object.values(result.metafile.outputs)[0]!;
  const parts = new Map<string, number>();
  for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
    const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const key = inPackage ? inPackage[1]! : file.split('/').slice(0, 2).join('/');
    parts.set(key, (parts.get(key) ?? 0) + bytesInOutput);
  }
  return { bytes: output.bytes, parts: [...parts].sort((a, b) => b[1] - a[1]) };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const entry = process.argv[2];
  if (!entry) throw new Error('usage: node test/bench/bundle-composition.ts functions/<trigger>/<name>.ts');
  const { bytes, parts } = await bundleComposition(entry);
  console.log(`${entry}: ${(bytes / 1024).toFixed(1)} KB minified`);
  for (const [part, size] of parts.slice(0, Number(process.env.TOP ?? 30))) console.log(`${(size / 1024).toFixed(1).padStart(8)} KB  ${part}`);
}
