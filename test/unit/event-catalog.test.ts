import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventCatalog, eventTypeNames, InvalidEventError, parseDomainEvent, type EventTypeName } from '../../events/catalog.ts';
import { jsonSchemaFiles } from '../../events/json-schema.ts';

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
