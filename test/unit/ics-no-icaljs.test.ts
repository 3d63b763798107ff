// ical.js is a devDependency: the test oracle (test/support/ics-oracle.ts), tests and the local fake calendar
// store use it; no Lambda bundle may. The six calendar functions, built as the stack builds them, and every
// production module, checked for it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { bundleOptions } from '../../infra/bundling/build.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const CALENDAR_FUNCTIONS = [
  'functions/http/calendars.ts',
  'functions/sync/calendar-sync.ts',
  'functions/subscribers/calendar-writes.ts',
  'functions/workflow/check-availability.ts',
  'functions/http/calendar-notifications.ts',
  'functions/scheduled/renew-calendar-push.ts',
];

describe('ical.js stays out of production code', () => {
  it.each(CALENDAR_FUNCTIONS)('%s: no ical.js module among the inputs of its bundle and chunks', async (entry) => {
    const result = await build({ ...bundleOptions(join(projectRoot, entry), join(projectRoot, 'bundle.mjs')), sourcesContent: false, write: false, metafile: true });
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs.some((input) => input.includes('shared/calendars/icalendar/'))).toBe(true);
    expect(inputs.filter((input) => input.includes('node_modules/ical.js/'))).toEqual([]);
  }, 120_000);

  it('no module under functions/ or shared/ imports it', () => {
    const files = (dir: string): string[] =>
      readdirSync(join(projectRoot, dir), { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
    const importers = [...files('functions'), ...files('shared')].filter((file) => /from ['"]ical\.js['"]|import\(['"]ical\.js['"]\)/.test(readFileSync(join(projectRoot, file), 'utf8')));
    expect(importers).toEqual([]);
    expect(files('shared').length).toBeGreaterThan(20);
  });
});
