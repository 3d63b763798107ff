// The lean `debug` of the Lambda bundles (infra/bundling/debug.mjs) beside the real debug 4: which namespaces a
// DEBUG value enables (wildcards, exclusions, commas and spaces), the instance API tsdav and https-proxy-agent
// use, and that a logger writes to stderr only when DEBUG names it (in a fresh process, as Lambda starts one).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';

type Debugger = ((...args: unknown[]) => void) & { enabled: boolean; namespace: string; log?: (...args: unknown[]) => void; extend(name: string, delimiter?: string): Debugger };
type Factory = ((namespace: string) => Debugger) & { enable(namespaces: string): void; disable(): string; enabled(name: string): boolean; names: string[]; skips: string[] };
const leanUrl = new URL('../../infra/bundling/debug.mjs', import.meta.url);
const lean = ((await import(leanUrl.href)) as { default: Factory }).default;
const real = createRequire(import.meta.url)('debug') as Factory;
const savedDebug = process.env.DEBUG;
afterAll(() => {
  if (savedDebug === undefined) delete process.env.DEBUG;
  else process.env.DEBUG = savedDebug;
});

const patterns = [
  '', '*', 'tsdav:*', 'tsdav:request', 'tsdav:request,tsdav:calendar', 'tsdav:* -tsdav:request', '*,-tsdav:*', '-tsdav:request', 'https-proxy-agent*',
  '  tsdav:account   https-proxy-agent  ', 'tsdav:*,-*:calendar', '*:*', 'ts*v:re*t', '**', 'tsdav', 'TSDAV:*', '*-agent:parse-proxy-response', 'a,,b,', '-*',
];
const namespaces = ['tsdav:request', 'tsdav:calendar', 'tsdav:account', 'tsdav', 'https-proxy-agent', 'https-proxy-agent:parse-proxy-response', 'agent-base', 'express:router', ''];

describe('the lean debug', () => {
  it.each(patterns)('DEBUG=%j enables the namespaces debug enables', (pattern) => {
    real.enable(pattern);
    lean.enable(pattern);
    for (const namespace of namespaces) expect(lean.enabled(namespace), namespace).toBe(real.enabled(namespace));
    expect([lean.names, lean.skips]).toEqual([real.names, real.skips]);
    // An instance follows enable() as debug's does, unless set by hand.
    const [leanLogger, realLogger] = [lean('tsdav:request'), real('tsdav:request')];
    expect(leanLogger.enabled).toBe(realLogger.enabled);
    leanLogger.enabled = true;
    expect(leanLogger.enabled).toBe(true);
    expect(lean.disable()).toBe(real.disable());
    expect(lean('tsdav:request').enabled).toBe(false);
  });

  it('extend, namespace, formatting and a custom log as debug has them', () => {
    const written = (factory: Factory) => {
      factory.enable('tsdav:*');
      const parent = factory('tsdav');
      const lines: unknown[][] = [];
      parent.log = (...args: unknown[]) => lines.push(args);
      const child = parent.extend('request');
      child('fetched %s in %d ms: %o, %O, 100%% done', 'calendar', 12, { a: [1, 2], b: { c: 'd' } }, { e: 'f\ng' });
      child({ plain: 'object' });
      child(new Error('boom'));
      factory.disable();
      return { namespaces: [child.namespace, parent.extend('x', '-').namespace], lines: lines.map((line) => line.map((part) => String(part).replace(/^\S+Z /, '<time> ').replace(/\n\s+at [^]*$/, ' <stack>'))) };
    };
    const leanWritten = written(lean);
    expect(leanWritten).toEqual(written(real));
    expect(leanWritten.namespaces).toEqual(['tsdav:request', 'tsdav-x']);
    expect(leanWritten.lines[0]![0]).toBe("<time> tsdav:request fetched %s in %d ms: { a: [ 1, 2 ], b: { c: 'd' } }, { e: 'f\\ng' }, 100% done");
  });

  it('writes to stderr only when DEBUG names the namespace, in a fresh process', () => {
    const script = `const { default: debug } = await import(${JSON.stringify(leanUrl.href)});
      debug('tsdav:request')('answer %o', { status: 207 }); debug('https-proxy-agent')('proxy'); process.stdout.write('done');`;
    const stderrOf = (env: Record<string, string>) => {
      const environment: Record<string, string | undefined> = { ...process.env, ...env };
      if (!('DEBUG' in env)) delete environment.DEBUG;
      const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: environment, encoding: 'utf8' });
      expect(out.stdout).toBe('done');
      return out.stderr;
    };
    expect(stderrOf({})).toBe('');
    expect(stderrOf({ DEBUG: 'express:*' })).toBe('');
    expect(stderrOf({ DEBUG: 'tsdav:*' })).toMatch(/^\S+Z tsdav:request answer \{ status: 207 \}\n$/);
    expect(stderrOf({ DEBUG: '*,-tsdav:request', DEBUG_HIDE_DATE: 'true' })).toBe('https-proxy-agent proxy\n');
  });
});
