// The structured logger: Powertools' fields, any attribute value written as JSON, and the level honoured.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Logger, logLine } from '../../shared/observability/logger.ts';

const context = { service: 'booking-engine', now: new Date('2026-12-02T10:00:00.000Z'), traceHeader: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' };

describe('logLine', () => {
  it("writes Powertools' fields first, then the caller's", () => {
    const line = JSON.parse(logLine('WARN', 'calendar sync', { connectionId: 'c1', ms: 12 }, context));
    expect(line).toEqual({ level: 'WARN', message: 'calendar sync', timestamp: '2026-12-02T10:00:00.000Z', service: 'booking-engine', xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793', connectionId: 'c1', ms: 12 });
    expect(Object.keys(line).slice(0, 5)).toEqual(['level', 'message', 'timestamp', 'service', 'xray_trace_id']);
    expect(JSON.parse(logLine('INFO', 'm', {}, { ...context, traceHeader: undefined }))).not.toHaveProperty('xray_trace_id');
  });

  it('writes an error, nested or with a cause, as its name, message and stack', () => {
    const cause = new RangeError('deep');
    const error = new TypeError('outer', { cause });
    const line = JSON.parse(logLine('ERROR', 'unhandled error', { error, nested: { list: [cause] } }, context));
    expect(line.error).toMatchObject({ name: 'TypeError', message: 'outer', cause: { name: 'RangeError', message: 'deep' } });
    expect(line.error.stack).toContain('outer');
    expect(line.nested.list[0]).toMatchObject({ name: 'RangeError', message: 'deep' });
  });

  it('writes bigints as strings and cuts a cycle, never throwing', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const line = JSON.parse(logLine('INFO', 'm', { n: 2n ** 70n, cyclic }, context));
    expect(line.n).toBe('1180591620717411303424');
    expect(line.cyclic).toEqual({ a: 1, self: '[Circular]' });
    const selfCaused = new Error('loop');
    (selfCaused as { cause?: unknown }).cause = selfCaused;
    expect(JSON.parse(logLine('ERROR', 'm', { error: selfCaused }, context)).error).toMatchObject({ message: 'loop', cause: '[Circular]' });
  });
});

describe('Logger', () => {
  afterEach(() => vi.restoreAllMocks());
  const captured = () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    return lines;
  };

  it('writes one line a call at or above its level, nothing below', () => {
    const lines = captured();
    const logger = new Logger({ service: 's', level: 'warn' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w', { k: 1 });
    logger.error('e');
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['w', 'e']);
    expect(lines.every((l) => l.endsWith('}\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
  });

  it('is silent at SILENT and CRITICAL for what it writes, and INFO for an unknown level', () => {
    const lines = captured();
    new Logger({ service: 's', level: 'SILENT' }).error('e');
    new Logger({ service: 's', level: 'CRITICAL' }).error('e');
    const fallback = new Logger({ service: 's', level: 'loud' });
    expect(fallback.level).toBe('INFO');
    fallback.debug('d');
    fallback.info('i');
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['i']);
  });
});
