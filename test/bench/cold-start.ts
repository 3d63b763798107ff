// The cold-start section of `npm run bench`: every function module bundled as the stack bundles it
// (infra/bundling/build.ts), its size, and the CPU its import costs in a fresh Node process (median of several), beside
// two floors measured in the same run: an empty module, and the AWS SDK clients that function's bundle imports,
// alone. The SDK is the runtime's (external to the bundles), so it is imported from node_modules here too.
import { build, type Metafile } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleOptions } from '../../infra/bundling/build.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const BUNDLE_LIMIT_BYTES = 250 * 1024;

/**
 * `bytes`: what the function's cold start loads (its entry and the chunks that imports statically);
 * `largestLoadBytes`: that plus the most a chain of its import()s loads (the largest provider path); the same
 * when the function has no import().
 */
export type ColdStart = { entry: string; bytes: number; largestLoadBytes: number; mapBytes: number; sdk: string[]; importMs: number; sdkFloorMs: number; emptyMs: number };

/** CPU (user + system) that importing `file` costs one fresh Node process. */
function importCpuSample(file: string): number {
  const script = `const t = process.cpuUsage(); await import(${JSON.stringify(pathToFileURL(file).href)}); const u = process.cpuUsage(t); process.stdout.write(String((u.user + u.system) / 1000));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: projectRoot, env: { ...process.env, AWS_REGION: 'us-east-1' } }));
}
const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

/**
 * Medians of `runs` samples of each file, taken in turns (a, b, a, b, ...), so that a busy moment of a shared
 * machine falls on the function and its floor alike and their ratio holds.
 */
function importCpuMs(files: string[], runs: number): number[] {
  const samples = files.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) files.forEach((file, n) => samples[n]!.push(importCpuSample(file)));
  return samples.map(median);
}

export async function measureColdStarts(entries: string[], runs = 5): Promise<ColdStart[]> {
  const dir = mkdtempSync(join(projectRoot, '.bench-bundles-'));
  try {
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, '');
    const floors = new Map<string, string>();
    const results: ColdStart[] = [];
    for (const entry of entries) {
      // A directory per function: a split bundle's chunks (infra/bundling/build.ts) sit beside its entry.
      const outfile = join(dir, entry.replace(/\W/g, '_'), 'index.mjs');
      const { metafile } = await build({ ...bundleOptions(join(projectRoot, entry), outfile), metafile: true });
      const loads = bundleLoads(metafile!);
      const code = loads[0]!.files.map((file) => readFileSync(resolve(file), 'utf8')).join('\n');
      // The SDK packages the bundle imports at its top level: what it costs to load them is this function's floor.
      const sdk = [...new Set([...code.matchAll(/from\s*"(@aws-sdk\/[^"]+)"/g)].map((m) => m[1]!))].sort();
      const key = sdk.join(' ');
      if (!floors.has(key)) {
        const floorFile = join(dir, `sdk-${floors.size}.mjs`);
        writeFileSync(floorFile, sdk.map((name) => `import ${JSON.stringify(name)};`).join('\n'));
        floors.set(key, floorFile);
      }
      const [importMs, sdkFloorMs, emptyMs] = importCpuMs([outfile, floors.get(key)!, empty], runs);
      results.push({ entry, bytes: loads[0]!.bytes, largestLoadBytes: Math.max(...loads.map((l) => l.bytes)), mapBytes: statSync(`${outfile}.map`).size, sdk, importMs: importMs!, sdkFloorMs: sdkFloorMs!, emptyMs: emptyMs! });
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every function module of the template, once each (a module serving several routes is one bundle). */
export function functionEntries(template: { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> }): string[] {
  return [...new Set(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').map((r) => r.Metadata?.['BookingEngine:Entry']).filter((e): e is string => Boolean(e)))].sort();
}

// Run on its own: `node test/bench/cold-start.ts` prints the section without the rest of the bench.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { synthesizeTemplate } = await import('../../infra/synth.ts');
  printColdStarts(await measureColdStarts(functionEntries(synthesizeTemplate()), Number(process.env.RUNS ?? 5)));
}

export function printColdStarts(results: ColdStart[]): void {
  console.log('\nCold start: bundle size and import CPU (fresh process, median), beside an empty module and the SDK clients alone');
  console.log('(bundle: the entry and its static chunks; largest: with the largest chain of import()s it may load, a calendar provider)');
  const within = results.filter((r) => r.sdk.length && r.importMs <= 1.25 * r.sdkFloorMs).length;
  console.log(`${'function module'.padEnd(38)}${'bundle'.padStart(9)}${'largest'.padStart(9)}${'map'.padStart(9)}${'import'.padStart(10)}${'SDK floor'.padStart(11)}${'ratio'.padStart(7)}  SDK clients`);
  for (const r of results) {
    const ratio = r.sdkFloorMs > 0 ? r.importMs / r.sdkFloorMs : NaN;
    console.log(
      `${r.entry.replace(/^functions\//, '').padEnd(38)}${`${(r.bytes / 1024).toFixed(0)} KB`.padStart(9)}${`${(r.largestLoadBytes / 1024).toFixed(0)} KB`.padStart(9)}${`${(r.mapBytes / 1024).toFixed(0)} KB`.padStart(9)}${`${r.importMs.toFixed(0)} ms`.padStart(10)}${`${r.sdkFloorMs.toFixed(0)} ms`.padStart(11)}${ratio.toFixed(2).padStart(7)}  ${r.sdk.map((s) => s.replace('@aws-sdk/', '')).join(', ') || '-'}`,
    );
  }
  const over = results.filter((r) => r.largestLoadBytes > BUNDLE_LIMIT_BYTES);
  console.log(`within 1.25 x their SDK floor: ${within} of ${results.filter((r) => r.sdk.length).length} functions that import a client`);
  console.log(`empty module: ${median(results.map((r) => r.emptyMs)).toFixed(0)} ms; bundles over ${BUNDLE_LIMIT_BYTES / 1024} KB: ${over.length ? over.map((r) => r.entry).join(', ') : 'none'}`);
}

/**
 * What a cold start of a split bundle loads (infra/bundling/build.ts): the entry with the chunks it imports
 * statically, and then, for each chain of import()s the code may take (a provider's adapter), that chain's
 * chunks on top. One row per distinct set of files, named by the modules the import()s load ('' for the entry
 * alone); `bytes` is the whole set's, since that is what a function serving that path has loaded.
 */
export type BundleLoad = { via: string[]; bytes: number; files: string[] };

export function bundleLoads(metafile: Metafile): BundleLoad[] {
  const outputs = metafile.outputs;
  const js = Object.keys(outputs).filter((file) => file.endsWith('.mjs'));
  const entry = js.find((file) => !/(^|\/)chunks\//.test(file));
  if (!entry) throw new Error('bundleLoads: no entry output in the metafile');
  const closure = (start: string, loaded: Set<string>) => {
    const stack = [start];
    while (stack.length) {
      const file = stack.pop()!;
      if (loaded.has(file)) continue;
      loaded.add(file);
      for (const next of outputs[file]!.imports) if (next.kind === 'import-statement' && outputs[next.path]) stack.push(next.path);
    }
    return loaded;
  };
  const loads = new Map<string, BundleLoad>();
  // A chain follows the import()s of what its last step loaded: one provider's path, not two providers at once
  // (a container serving both has loaded both, but each path is measured on its own).
  const visit = (loaded: Set<string>, added: Set<string>, via: string[]) => {
    const key = [...loaded].sort().join(' ');
    if (loads.has(key)) return;
    loads.set(key, { via, files: [...loaded].sort(), bytes: [...loaded].reduce((sum, file) => sum + outputs[file]!.bytes, 0) });
    for (const file of added) {
      for (const next of outputs[file]!.imports) {
        if (next.kind !== 'dynamic-import' || !outputs[next.path] || loaded.has(next.path)) continue;
        const module = outputs[next.path]!.entryPoint ?? next.path;
        const after = closure(next.path, new Set(loaded));
        visit(after, new Set([...after].filter((f) => !loaded.has(f))), [...via, module]);
      }
    }
  };
  const first = closure(entry, new Set());
  visit(first, first, []);
  return [...loads.values()];
}
