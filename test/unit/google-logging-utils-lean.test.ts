// The lean google-logging-utils of the Lambda bundles (infra/bundling/google-logging-utils.mjs) beside the real
// one, each in a fresh process (both read GOOGLE_SDK_NODE_LOGGING and keep their backend per process): the calls
// google-auth-library makes (log('auth') at load, .debug in its interceptors) and the rest of the logger API,
// with logging off (Lambda's case) and on for some namespaces. What each writes to stderr is compared whole.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const leanUrl = new URL('../../infra/bundling/google-logging-utils.mjs', import.meta.url).href;
const realUrl = pathToFileURL(createRequire(import.meta.url).resolve('google-logging-utils')).href;
const script = (url: string) => `
  const { log, placeholder } = await import(${JSON.stringify(url)});
  const auth = log('auth');
  process.stdout.write(JSON.stringify({ placeholder: auth === placeholder, namespace: auth.instance.namespace, same: log('auth') === auth }) + '\\n');
  const heard = [];
  auth.on('log', (fields, args) => heard.push([fields, args.length]));
  auth.debug('%s [%s] request %j', 'getToken', '123', { url: 'https://oauth2.example/token', headers: { a: 'b' } });
  auth.info('plain %d', 7);
  auth.warn({ not: 'a format' });
  auth.error('failed', new Error('boom').message);
  auth({ severity: 'DEBUG', extra: 'field' }, 'with fields');
  auth.sublog('refresh').debug('a child namespace');
  log('other').debug('another namespace');
  log('').info('no namespace');
  process.stdout.write(JSON.stringify(heard));`;
const run = (url: string, flag: string | undefined) => {
  const environment: Record<string, string | undefined> = { ...process.env };
  delete environment.GOOGLE_SDK_NODE_LOGGING;
  if (flag !== undefined) environment.GOOGLE_SDK_NODE_LOGGING = flag;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script(url)], { env: environment, encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
  return { stdout: out.stdout, stderr: out.stderr.replace(new RegExp(`^${out.pid} `, 'gm'), '<pid> ') };
};

describe('the lean google-logging-utils', () => {
  it.each([undefined, '', 'auth', 'other', 'auth,other', 'AUTH', 'au*', 'auth:*', '*', 'all', 'true', 'nothing'])('GOOGLE_SDK_NODE_LOGGING=%j: the same loggers and the same lines', (flag) => {
    const lean = run(leanUrl, flag);
    expect(lean).toEqual(run(realUrl, flag));
    if (!flag) expect(lean.stderr).toBe('');
  });

  it('writes google-auth-library\'s request line when asked to', () => {
    expect(run(leanUrl, 'auth').stderr.split('\n')[0]).toBe('<pid> [auth|DEBUG] getToken [123] request {"url":"https://oauth2.example/token","headers":{"a":"b"}}');
  });
});
