// The cold-start section of `npm run bench`: every function module bundled as the stack bundles it
// (infra/bundling/build.ts), its size, and the CPU its import costs in a fresh Node process (median of several), beside
// two floors measured in the same run: an empty module, and the AWS SDK clients that function's bundle imports,
// alone. The SDK is the runtime's (external to the bundles), so it is imported from node_modules here too.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleOptions } from '../../infra/bundling/build.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const BUNDLE_LIMIT_BYTES = 250 * 1024;

export type ColdStart = { entry: string; bytes: number; mapBytes: number; sdk: string[]; importMs: number; sdkFloorMs: number; emptyMs: number };

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
      const outfile = join(dir, entry.replace(/\W/g, '_') + '.mjs');
      await build(bundleOptions(join(projectRoot, entry), outfile));
      const code = readFileSync(outfile, 'utf8');
      // The SDK packages the bundle imports at its top level: what it costs to load them is this function's floor.
      const sdk = [...new Set([...code.matchAll(/from\s*"(@aws-sdk\/[^"]+)"/g)].map((m) => m[1]!))].sort();
      const key = sdk.join(' ');
      if (!floors.has(key)) {
        const floorFile = join(dir, `sdk-${floors.size}.mjs`);
        writeFileSync(floorFile, sdk.map((name) => `import ${JSON.stringify(name)};`).join('\n'));
        floors.set(key, floorFile);
      }
      const [importMs, sdkFloorMs, emptyMs] = importCpuMs([outfile, floors.get(key)!, empty], runs);
      results.push({ entry, bytes: statSync(outfile).size, mapBytes: statSync(`${outfile}.map`).size, sdk, importMs: importMs!, sdkFloorMs: sdkFloorMs!, emptyMs: emptyMs! });
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
  const within = results.filter((r) => r.sdk.length && r.importMs <= 1.25 * r.sdkFloorMs).length;
  console.log(`${'function module'.padEnd(38)}${'bundle'.padStart(9)}${'map'.padStart(9)}${'import'.padStart(10)}${'SDK floor'.padStart(11)}${'ratio'.padStart(7)}  SDK clients`);
  for (const r of results) {
    const ratio = r.sdkFloorMs > 0 ? r.importMs / r.sdkFloorMs : NaN;
    console.log(
      `${r.entry.replace(/^functions\//, '').padEnd(38)}${`${(r.bytes / 1024).toFixed(0)} KB`.padStart(9)}${`${(r.mapBytes / 1024).toFixed(0)} KB`.padStart(9)}${`${r.importMs.toFixed(0)} ms`.padStart(10)}${`${r.sdkFloorMs.toFixed(0)} ms`.padStart(11)}${ratio.toFixed(2).padStart(7)}  ${r.sdk.map((s) => s.replace('@aws-sdk/', '')).join(', ') || '-'}`,
    );
  }
  const over = results.filter((r) => r.bytes > BUNDLE_LIMIT_BYTES);
  console.log(`within 1.25 x their SDK floor: ${within} of ${results.filter((r) => r.sdk.length).length} functions that import a client`);
  console.log(`empty module: ${median(results.map((r) => r.emptyMs)).toFixed(0)} ms; bundles over ${BUNDLE_LIMIT_BYTES / 1024} KB: ${over.length ? over.map((r) => r.entry).join(', ') : 'none'}`);
}
