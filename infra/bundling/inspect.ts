// What a function's bundle is made of: `node infra/bundling/inspect.ts functions/http/stripe-webhook.ts [--modules]`
// builds it as the stack does (infra/bundling/build.ts) and prints its minified bytes by package (and, with
// --modules, by module), largest first, for the entry and each chunk its import()s load. For deciding what to
// trim; nothing runs it but a person.
import { build } from 'esbuild';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleOptions } from './build.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const [entry, ...flags] = process.argv.slice(2);
if (!entry) throw new Error('usage: node infra/bundling/inspect.ts <function module> [--modules]');

const result = await build({ ...bundleOptions(join(projectRoot, entry), join(projectRoot, 'inspect.mjs')), write: false, metafile: true });
const packageOf = (input: string) => {
  const parts = input.split('node_modules/').at(-1)!.split('/');
  return input.includes('node_modules/') ? (parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!) : input.split('/').slice(0, 2).join('/');
};
// A split bundle (a calendar function) is its entry and the chunks its import()s load: each is shown on its own.
for (const [file, output] of Object.entries(result.metafile!.outputs).filter(([name]) => name.endsWith('.mjs'))) {
  const byKey = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const key = flags.includes('--modules') ? input : packageOf(input);
    byKey.set(key, (byKey.get(key) ?? 0) + bytesInOutput);
  }
  const chunk = /(?:^|\/)chunks\//.test(file) ? ` chunk ${file.replace(/^.*\//, '')}${output.entryPoint ? ` (${output.entryPoint})` : ''}` : '';
  console.log(`${entry}${chunk}: ${(output.bytes / 1024).toFixed(1)} KB`);
  for (const [key, bytes] of [...byKey].sort((a, b) => b[1] - a[1]).slice(0, flags.includes('--modules') ? 60 : 30)) {
    if (bytes >= 256) console.log(`${(bytes / 1024).toFixed(1).padStart(8)} KB  ${key}`);
  }
}
