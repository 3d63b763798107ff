import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as z from '../../events/zod.ts';
import { eventCatalog, eventTypeNames, InvalidEventError, parseDomainEvent, type EventTypeName } from '../../events/catalog.ts';
import { jsonSchemaFiles } from '../../events/json-schema.ts';
import { MAX_EXPLANATION, MAX_HOSTS } from '../../events/booking.ts';
import { envelopeSchema, EVENT_SOURCE } from '../../events/envelope.ts';
import { MAX_ID_LENGTH } from '../../events/primitives.ts';

const samplesDir = fileURLToPath(new URL('../../events/samples/', import.meta.url));
const schemaDir = fileURLToPath(new URL('../../events/schema/', import.meta.url));
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const jsonFiles = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
const sample = (type: string): Record<string, any> => JSON.parse(readFileSync(`${samplesDir}${type}.json`, 'utf8'));

function invalid(input: unknown): InvalidEventError {
  try {
    parseDomainEvent(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEventError);
    return error as InvalidEventError;
  }
  throw new Error('parseDomainEvent accepted the event');
}


describe('event samples (one per catalog type, Serverlesspresso style)', () => {
  it('every catalog type has a sample and every sample file is a catalog type', () => {
    const sampleTypes = jsonFiles(samplesDir).map((name) => name.slice(0, -'.json'.length));
    expect(sampleTypes).toEqual([...eventTypeNames].sort());
  });

  it.each(eventTypeNames)('%s: the sample parses against the catalog and is a realistic envelope', (type) => {
    const raw = sample(type);
    const parsed = parseDomainEvent(raw);
    expect(parsed.type).toBe(type);
    expect(parsed.aggregateType).toBe(eventCatalog[type].aggregateType);
    expect(raw.id).toMatch(uuid);
    expect(raw.aggregateId).toMatch(uuid);
    expect(raw.metadata.correlationId).toMatch(uuid);
    if (raw.metadata.causationId !== undefined) expect(raw.metadata.causationId).toMatch(uuid);
    // Parsing neither adds nor drops anything the sample says.
    expect(parsed).toEqual(raw);
  });

  it.each(['event-type.updated', 'schedule.updated'] as const)('%s: an update carries only what changed; parsing adds no defaults', (type) => {
    expect(parseDomainEvent(sample(type))).toEqual(sample(type));
  });

  it('sample event ids are unique', () => {
    const ids = eventTypeNames.map((type) => sample(type).id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('parseDomainEvent refuses what does not match the catalog', () => {
  it.each(eventTypeNames)('%s: the wrong aggregate type is refused', (type) => {
    const other = eventCatalog[type].aggregateType === 'booking' ? 'user' : 'booking';
    const error = invalid({ ...sample(type), aggregateType: other });
    expect(error.message).toContain(`belongs to aggregate type ${eventCatalog[type].aggregateType}`);
  });

  it.each(eventTypeNames)('%s: a payload field of the wrong type is refused', (type) => {
    const raw = sample(type);
    const field = Object.keys(raw.payload)[0]!;
    const error = invalid({ ...raw, payload: { ...raw.payload, [field]: 12345 } });
    expect(error.message).toBe(`invalid ${type} payload`);
    expect(error.issues.map((issue) => issue.path.join('.'))).toContain(field);
  });

  it.each(eventTypeNames)('%s: a payload that is missing entirely is refused', (type) => {
    const { payload: _, ...withoutPayload } = sample(type);
    invalid(withoutPayload);
  });

  const cases: Array<[string, (raw: Record<string, any>) => unknown]> = [
    ['an unknown type', (raw) => ({ ...raw, type: 'booking.teleported' })],
    ['a type that only differs in case', (raw) => ({ ...raw, type: 'Booking.Requested' })],
    ['version 0', (raw) => ({ ...raw, version: 0 })],
    ['a fractional version', (raw) => ({ ...raw, version: 1.5 })],
    ['a timestamp without an offset', (raw) => ({ ...raw, metadata: { ...raw.metadata, timestamp: '2030-03-01 10:15' } })],
    ['no metadata', ({ metadata: _, ...raw }) => raw],
    ['an empty id', (raw) => ({ ...raw, id: '' })],
    ['an end time that is not an instant', (raw) => ({ ...raw, payload: { ...raw.payload, end: 'tomorrow' } })],
    ['an attendee with a bad email', (raw) => ({ ...raw, payload: { ...raw.payload, attendee: { ...raw.payload.attendee, email: 'ada' } } })],
    ['an attendee time zone that does not exist', (raw) => ({ ...raw, payload: { ...raw.payload, attendee: { ...raw.payload.attendee, timeZone: 'Mars/Olympus' } } })],
    ['no hosts', (raw) => ({ ...raw, payload: { ...raw.payload, hostIds: [] } })],
    ['a negative buffer', (raw) => ({ ...raw, payload: { ...raw.payload, bufferBeforeMinutes: -5 } })],
  ];
  it.each(cases)('booking.requested with %s is refused', (_, mutate) => {
    invalid(mutate(sample('booking.requested')));
  });

  it('an unknown type is named in the error', () => {
    expect(invalid({ ...sample('booking.requested'), type: 'booking.teleported' }).message).toBe('unknown event type booking.teleported');
  });

  it('enumerated payload fields refuse values outside the enum', () => {
    invalid({ ...sample('booking.created'), payload: { ...sample('booking.created').payload, awaiting: 'godot' } });
    invalid({ ...sample('booking.cancelled'), payload: { ...sample('booking.cancelled').payload, cancelledBy: 'robot' } });
    invalid({ ...sample('calendar.connected'), payload: { ...sample('calendar.connected').payload, provider: 'lotus-notes' } });
    invalid({ ...sample('payment.initiated'), payload: { ...sample('payment.initiated').payload, currency: 'EURO' } });
    invalid({ ...sample('payment.completed'), payload: { ...sample('payment.completed').payload, amount: 0 } });
  });
});

describe('generated JSON Schema (events/schema)', () => {
  const files = jsonSchemaFiles();

  it('there is one schema file per catalog type and no stale extras (run `npm run catalog` to regenerate)', () => {
    expect(jsonFiles(schemaDir), 'events/schema is out of date: run `npm run catalog`').toEqual(Object.keys(files).sort());
    expect(Object.keys(files).sort()).toEqual(eventTypeNames.map((type) => `${type}.json`).sort());
  });

  it.each(Object.keys(files))('%s is up to date with the zod schemas', (name) => {
    const committed = existsSync(schemaDir + name) ? readFileSync(schemaDir + name, 'utf8') : '(missing)';
    expect(committed, `events/schema/${name} is stale: run \`npm run catalog\``).toBe(files[name]);
  });

  it.each(eventTypeNames)('%s: the schema pins the type and aggregate type and carries the schema version', (type) => {
    const schema = JSON.parse(files[`${type}.json`]!);
    expect(schema.$id).toBe(`${type}.v${eventCatalog[type].schemaVersion}`);
    expect(schema.properties.type.const).toBe(type);
    expect(schema.properties.aggregateType.const).toBe(eventCatalog[type].aggregateType);
    expect(schema.required).toEqual(expect.arrayContaining(['id', 'type', 'aggregateId', 'aggregateType', 'version', 'payload', 'metadata']));
  });
});

describe('events/README.md', () => {
  const readme = readFileSync(fileURLToPath(new URL('../../events/README.md', import.meta.url)), 'utf8');
  const rows = new Map(
    readme
      .split('\n')
      .map((line) => /^\| `([a-z.-]+)` \| ([a-z-]+) \| v(\d+) \|/.exec(line))
      .filter((match) => match !== null)
      .map((match) => [match[1]!, { aggregateType: match[2]!, schemaVersion: Number(match[3]) }]),
  );

  it('has one row per catalog type and no row for a type the catalog does not have', () => {
    expect([...rows.keys()].sort()).toEqual([...eventTypeNames].sort());
  });

  it.each(eventTypeNames)('%s: the row names the aggregate and schema version of the catalog', (type) => {
    expect(rows.get(type)).toEqual({ aggregateType: eventCatalog[type].aggregateType, schemaVersion: eventCatalog[type].schemaVersion });
  });
});

describe('the seed names its events; the catalog has them all', () => {
  const seed = [
    'booking.created',
    'booking.updated',
    'booking.cancelled',
    'booking.confirmed',
    'booking.rescheduled',
    'booking.creation.failed',
    'user.created',
    'user.updated',
    'user.deleted',
    'calendar.connected',
    'calendar.disconnected',
    'calendar.event.created',
    'calendar.event.updated',
    'payment.initiated',
    'payment.completed',
    'payment.failed',
    'payment.refunded',
  ];
  it.each(seed)('%s is in the catalog', (type) => {
    expect(eventTypeNames).toContain(type as EventTypeName);
  });
});

/**
 * An upper bound on the UTF-8 size of any JSON value a zod schema accepts, by structure: every string at its
 * maximum length, every list at its maximum count, every optional field present. Free text counts 6 bytes a
 * character (a control character escapes to \u0000; no UTF-16 unit takes more in UTF-8); strings held to a
 * format or pattern (ids, emails, dates, zones, clocks) count 1, as all of ours admit only ASCII that JSON
 * does not escape. A string or list without a maximum has no bound: Infinity, and the path says where.
 */
function jsonSizeBound(schema: z.ZodMiniType, path = '(payload)'): number {
  const def = (schema as any)._zod.def;
  const checks: any[] = (def.checks ?? []).map((check: any) => check._zod.def);
  const maximum = () => {
    const limits = checks.flatMap((check) => (check.check === 'max_length' ? [check.maximum] : check.check === 'length_equals' ? [check.length] : []));
    return limits.length ? Math.min(...limits) : Infinity;
  };
  switch (def.type) {
    case 'string': {
      const formatted = def.format !== undefined || checks.some((check) => check.check === 'string_format');
      const max = maximum();
      if (max === Infinity) throw new RangeError(`${path} is a string without a maximum length`);
      return 2 + max * (formatted ? 1 : 6);
    }
    case 'number':
      return 24;
    case 'boolean':
      return 5;
    case 'literal':
      return Math.max(...def.values.map((value: unknown) => JSON.stringify(value).length));
    case 'enum':
      return Math.max(...Object.values(def.entries).map((value) => JSON.stringify(value).length));
    case 'object':
      return 2 + Object.entries(def.shape as Record<string, z.ZodMiniType>).reduce((sum, [key, value]) => sum + key.length + 4 + jsonSizeBound(value, `${path}.${key}`), 0);
    case 'array': {
      const max = maximum();
      if (max === Infinity) throw new RangeError(`${path} is a list without a maximum length`);
      return 2 + max * (jsonSizeBound(def.element, `${path}[]`) + 1);
    }
    case 'optional':
    case 'default':
    case 'nullable':
    case 'readonly':
    case 'prefault':
      return jsonSizeBound(def.innerType, path);
    case 'pipe':
      return Math.max(jsonSizeBound(def.in, path), jsonSizeBound(def.out, path));
    case 'union':
      return Math.max(...def.options.map((option: z.ZodMiniType) => jsonSizeBound(option, path)));
    default:
      throw new RangeError(`${path}: no size bound for a ${def.type}`);
  }
}

const envelopeOf = (type: EventTypeName) => z.extend(envelopeSchema, { type: z.literal(type), payload: eventCatalog[type].payload });
/** What PutEvents counts for an entry: Source, DetailType and Detail (the envelope), in UTF-8. */
const entryBound = (type: EventTypeName) => EVENT_SOURCE.length + type.length + jsonSizeBound(envelopeOf(type), type);

describe('every event fits EventBridge (256 KB) and a DynamoDB item (400 KB) with a wide margin', () => {
  const LIMIT = 64 * 1024;

  it.each(eventTypeNames)('%s: the largest event its schema admits is under 64 KB', (type) => {
    expect(entryBound(type)).toBeLessThan(LIMIT);
  });

  it.each(eventTypeNames)('%s: the bound really bounds: the sample is within it', (type) => {
    expect(Buffer.byteLength(JSON.stringify(sample(type)))).toBeLessThanOrEqual(jsonSizeBound(envelopeOf(type)));
  });

  it('a booking.requested filled to every maximum, control characters and all, parses and is within its bound', () => {
    const nasty = (length: number) => '\u0001'.repeat(length);
    const ident = (n: number) => `${'h'.repeat(MAX_ID_LENGTH - 4)}${String(n).padStart(4, '0')}`;
    const raw = sample('booking.requested');
    const largest = {
      ...raw,
      id: ident(0),
      aggregateId: ident(1),
      metadata: { userId: ident(2), organizationId: ident(3), timestamp: '2099-12-31T23:59:59.123456789+14:00', correlationId: '!'.repeat(128), causationId: ident(4) },
      payload: {
        ...raw.payload,
        eventTypeId: ident(5),
        organizerId: ident(6),
        hostIds: Array.from({ length: MAX_HOSTS }, (_, n) => ident(100 + n)),
        title: `x${nasty(498)}x`,
        attendee: { name: `x${nasty(198)}x`, email: `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`, timeZone: 'America/Argentina/ComodRivadavia' },
        price: { amount: 1_000_000_000, currency: 'EUR' },
        assignment: { strategy: 'x'.repeat(50), reason: nasty(MAX_EXPLANATION) },
      },
    };
    expect(largest.payload.attendee.email).toHaveLength(254);
    const parsed = parseDomainEvent(largest);
    const size = Buffer.byteLength(JSON.stringify(parsed));
    expect(size).toBeLessThanOrEqual(jsonSizeBound(envelopeOf('booking.requested')));
    expect(size).toBeLessThan(LIMIT);
  });

  it('what is not bounded is refused: one character over a maximum fails parsing', () => {
    const raw = sample('booking.requested');
    invalid({ ...raw, payload: { ...raw.payload, attendee: { ...raw.payload.attendee, name: 'x'.repeat(201) } } });
    invalid({ ...raw, payload: { ...raw.payload, attendee: { ...raw.payload.attendee, email: `${'a'.repeat(65)}@example.com` } } });
    invalid({ ...raw, payload: { ...raw.payload, attendee: { ...raw.payload.attendee, email: `a@${'b'.repeat(250)}.com` } } });
    invalid({ ...raw, payload: { ...raw.payload, hostIds: Array.from({ length: MAX_HOSTS + 1 }, (_, n) => `host-${n}`) } });
    invalid({ ...raw, payload: { ...raw.payload, start: '9999-12-31T23:59:59Z' } });
    invalid({ ...raw, payload: { ...raw.payload, start: `2030-01-01T00:00:00.${'1'.repeat(100)}Z` } });
    invalid({ ...raw, metadata: { ...raw.metadata, correlationId: 'x'.repeat(129) } });
    invalid({ ...raw, aggregateId: 'x'.repeat(MAX_ID_LENGTH + 1) });
    invalid({ ...raw, aggregateId: 'BOOKING#1' });
  });

  it('time zones are stored in their canonical spelling', () => {
    const raw = sample('booking.requested');
    const parsed = parseDomainEvent({ ...raw, payload: { ...raw.payload, attendee: { ...raw.payload.attendee, timeZone: 'europe/berlin' } } });
    expect((parsed.payload as any).attendee.timeZone).toBe('Europe/Berlin');
    invalid({ ...raw, payload: { ...raw.payload, attendee: { ...raw.payload.attendee, timeZone: '+01:00' } } });
  });

  // The read models hold what their aggregate's events say, one value per field (updates replace, they do not
  // append), plus bookkeeping: their size follows from the events'. The booking's view is the widest one.
  it.each(['booking.requested', 'event-type.created', 'schedule.created', 'user.created'] as const)('%s: the view it founds fits a DynamoDB item many times over', (type) => {
    expect(4 * jsonSizeBound(eventCatalog[type].payload) + 8 * 1024).toBeLessThan(400 * 1024);
  });
});
