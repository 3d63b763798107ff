import { describe, expect, it } from 'vitest';
import { assertSupportedPattern, EventPatternError, matchesEventPattern } from '../../infra/local/event-pattern.ts';

// The sample event used throughout the EventBridge content-filtering docs (and aws/event-ruler's README).
const ec2Event = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

const withDetail = (detail: Record<string, unknown>) => ({ ...ec2Event, detail });

describe('literal matching', () => {
  it('matches nested fields, with OR across a leaf array and AND across fields', () => {
    const pattern = {
      'detail-type': ['EC2 Instance State-change Notification'],
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
      detail: { state: ['initializing', 'running'] },
    };
    expect(matchesEventPattern(pattern, ec2Event)).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ state: 'initializing' }))).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ state: 'stopped' }))).toBe(false);
    expect(matchesEventPattern({ ...pattern, source: ['aws.s3'] }, ec2Event)).toBe(false);
  });

  it('matches an event array if any element matches', () => {
    expect(matchesEventPattern({ resources: ['b', 'x'] }, { resources: ['a', 'b'] })).toBe(true);
    expect(matchesEventPattern({ resources: ['c'] }, { resources: ['a', 'b'] })).toBe(false);
  });

  it('matches numbers numerically and keeps types apart', () => {
    expect(matchesEventPattern({ detail: { 'x-limit': [3.018e2] } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ n: [300] }, { n: '300' })).toBe(false);
    expect(matchesEventPattern({ flag: [true] }, { flag: true })).toBe(true);
    expect(matchesEventPattern({ flag: [true] }, { flag: 'true' })).toBe(false);
  });

  it('matches null and empty strings, which are not interchangeable (docs: null values and empty strings)', () => {
    const event = { source: 'aws.autoscaling', detail: { eventVersion: '', responseElements: null } };
    expect(matchesEventPattern({ detail: { eventVersion: [''] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { responseElements: [null] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { eventVersion: [null] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { responseElements: [''] } }, event)).toBe(false);
  });

  it('does not match a missing field, or an object where a value is expected', () => {
    expect(matchesEventPattern({ detail: { missing: ['x'] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { state: ['running'] } }, { source: 'aws.ec2' })).toBe(false);
    expect(matchesEventPattern({ detail: ['running'] }, ec2Event)).toBe(false);
  });

  it('applies array consistency: nested fields must match within one array element', () => {
    const event = {
      employees: [
        { firstName: 'John', lastName: 'Doe' },
        [{ firstName: 'Anna', lastName: 'Smith' }, { firstName: 'Peter', lastName: 'Jones' }],
      ],
    };
    expect(matchesEventPattern({ employees: { firstName: ['Anna'] } }, event)).toBe(true);
    expect(matchesEventPattern({ employees: { firstName: ['Anna'], lastName: ['Smith'] } }, event)).toBe(true);
    expect(matchesEventPattern({ employees: { firstName: ['Anna'], lastName: ['Jones'] } }, event)).toBe(false);
  });
});

describe('prefix and suffix', () => {
  it('prefix (docs example on time)', () => {
    expect(matchesEventPattern({ time: [{ prefix: '2017-10-02' }] }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ time: [{ prefix: '2017-10-03' }] }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ source: ['aws.autoscaling'], region: [{ prefix: 'eu-' }] }, ec2Event)).toBe(false);
  });

  it('prefix ignoring case (docs example on service)', () => {
    const pattern = { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } };
    for (const service of ['EventBridge', 'eventbridge', 'EVENTBRIDGE']) {
      expect(matchesEventPattern(pattern, { detail: { service } })).toBe(true);
    }
    expect(matchesEventPattern(pattern, { detail: { service: 'SQS' } })).toBe(false);
  });

  it('suffix, also ignoring case (docs example on FileName)', () => {
    expect(matchesEventPattern({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.png' })).toBe(true);
    expect(matchesEventPattern({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.PNG' })).toBe(false);
    const ignoreCase = { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } };
    expect(matchesEventPattern(ignoreCase, { detail: { FileName: 'image.PNG' } })).toBe(true);
  });

  it('only matches string values', () => {
    expect(matchesEventPattern({ n: [{ prefix: '1' }] }, { n: 123 })).toBe(false);
  });
});

describe('anything-but', () => {
  it('a single string or number (docs)', () => {
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': 'running' }] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { 'x-limit': [{ 'anything-but': 123 }] } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ detail: { 'x-limit': [{ 'anything-but': 301.8 }] } }, ec2Event)).toBe(false);
  });

  it('a list of strings or numbers (docs)', () => {
    const strings = { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } };
    expect(matchesEventPattern(strings, ec2Event)).toBe(true);
    expect(matchesEventPattern(strings, withDetail({ state: 'stopped' }))).toBe(false);
    const numbers = { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } };
    expect(matchesEventPattern(numbers, ec2Event)).toBe(true);
    expect(matchesEventPattern(numbers, withDetail({ 'x-limit': 200 }))).toBe(false);
  });

  it('prefix, suffix, equals-ignore-case and wildcard (docs)', () => {
    const notInit = { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } };
    expect(matchesEventPattern(notInit, ec2Event)).toBe(true);
    expect(matchesEventPattern(notInit, withDetail({ state: 'initializing' }))).toBe(false);

    const notTxt = { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } };
    expect(matchesEventPattern(notTxt, { detail: { FileName: 'a.png' } })).toBe(true);
    expect(matchesEventPattern(notTxt, { detail: { FileName: 'a.txt' } })).toBe(false);

    const notStates = { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] } };
    expect(matchesEventPattern(notStates, ec2Event)).toBe(true);
    expect(matchesEventPattern(notStates, withDetail({ state: 'STOPPED' }))).toBe(false);

    const notLib = { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } };
    expect(matchesEventPattern(notLib, { detail: { FilePath: '/usr/bin/node' } })).toBe(true);
    expect(matchesEventPattern(notLib, { detail: { FilePath: '/usr/lib/node' } })).toBe(false);
  });

  it('does not match a missing field', () => {
    expect(matchesEventPattern({ detail: { missing: [{ 'anything-but': 'x' }] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { missing: [{ 'anything-but': { prefix: 'x' } }] } }, ec2Event)).toBe(false);
  });

  it('matches an event array if any element is not excluded', () => {
    const pattern = { tags: [{ 'anything-but': 'a' }] };
    expect(matchesEventPattern(pattern, { tags: ['a', 'b'] })).toBe(true);
    expect(matchesEventPattern(pattern, { tags: ['a'] })).toBe(false);
    expect(matchesEventPattern(pattern, { tags: [] })).toBe(false);
  });
});

describe('numeric', () => {
  it('the docs range example', () => {
    const pattern = {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    };
    expect(matchesEventPattern(pattern, ec2Event)).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ ...ec2Event.detail, 'c-count': 6 }))).toBe(false);
    expect(matchesEventPattern(pattern, withDetail({ ...ec2Event.detail, 'c-count': 0 }))).toBe(false);
    expect(matchesEventPattern(pattern, withDetail({ ...ec2Event.detail, 'd-count': 10 }))).toBe(false);
  });

  it('bounds are inclusive or exclusive as written, and only numbers match', () => {
    expect(matchesEventPattern({ n: [{ numeric: ['>=', 5, '<', 6] }] }, { n: 5 })).toBe(true);
    expect(matchesEventPattern({ n: [{ numeric: ['>=', 5, '<', 6] }] }, { n: 6 })).toBe(false);
    expect(matchesEventPattern({ n: [{ numeric: ['>', 0] }] }, { n: '5' })).toBe(false);
  });
});

describe('exists', () => {
  it('exists true and false (docs)', () => {
    expect(matchesEventPattern({ detail: { state: [{ exists: true }] } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ detail: { 'no-such': [{ exists: true }] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { 'no-such': [{ exists: false }] } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ exists: false }] } }, ec2Event)).toBe(false);
  });

  it('exists false matches when the whole parent object is missing', () => {
    const pattern = { detail: { booking: { cancelledAt: [{ exists: false }] } } };
    expect(matchesEventPattern(pattern, { detail: {} })).toBe(true);
    expect(matchesEventPattern(pattern, { source: 'x' })).toBe(true);
    expect(matchesEventPattern(pattern, { detail: { booking: { cancelledAt: '2026-01-01' } } })).toBe(false);
  });

  it('only works on leaves: an object value counts as absent (docs)', () => {
    const event = { detail: { 'c-count': { c1: 100 } } };
    expect(matchesEventPattern({ detail: { 'c-count': [{ exists: false }] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { 'c-count': [{ exists: true }] } }, event)).toBe(false);
  });

  it('null is a present value; an empty array holds no values', () => {
    expect(matchesEventPattern({ a: [{ exists: true }] }, { a: null })).toBe(true);
    expect(matchesEventPattern({ a: [{ exists: true }] }, { a: [] })).toBe(false);
    expect(matchesEventPattern({ a: [{ exists: false }] }, { a: [] })).toBe(true);
  });
});

describe('equals-ignore-case and wildcard', () => {
  it('equals-ignore-case (docs)', () => {
    const pattern = { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] };
    expect(matchesEventPattern(pattern, ec2Event)).toBe(true);
    expect(matchesEventPattern({ 'detail-type': [{ 'equals-ignore-case': 'ec2' }] }, ec2Event)).toBe(false);
  });

  it('wildcard (docs)', () => {
    const pattern = { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] };
    expect(matchesEventPattern(pattern, { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/my-bus' })).toBe(true);
    expect(matchesEventPattern(pattern, { EventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/my-bus' })).toBe(false);
    expect(matchesEventPattern({ f: [{ wildcard: 'dir/*.png' }] }, { f: 'dir/image.png' })).toBe(true);
    expect(matchesEventPattern({ f: [{ wildcard: 'dir/*.png' }] }, { f: 'dir/image.png.txt' })).toBe(false);
  });

  it('wildcard escapes: \\* is a literal star, regex characters are literal', () => {
    expect(matchesEventPattern({ f: [{ wildcard: 'a\\*b' }] }, { f: 'a*b' })).toBe(true);
    expect(matchesEventPattern({ f: [{ wildcard: 'a\\*b' }] }, { f: 'axb' })).toBe(false);
    expect(matchesEventPattern({ f: [{ wildcard: 'a.c*' }] }, { f: 'abc' })).toBe(false);
    expect(matchesEventPattern({ f: [{ wildcard: '*' }] }, { f: 'line1\nline2' })).toBe(true);
  });
});

describe('$or', () => {
  it('any of the alternatives at one level (docs)', () => {
    const pattern = {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
        ],
      },
    };
    expect(matchesEventPattern(pattern, ec2Event)).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ 'c-count': 9, 'd-count': 3 }))).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ 'c-count': 9, 'd-count': 30 }))).toBe(false);
  });

  it('is ANDed with sibling fields, and alternatives can nest (docs)', () => {
    const pattern = {
      source: ['aws.ec2'],
      $or: [{ 'detail-type': ['Nope'] }, { detail: { state: ['running'], 'c-count': [5] } }],
    };
    expect(matchesEventPattern(pattern, ec2Event)).toBe(true);
    expect(matchesEventPattern({ ...pattern, source: ['aws.s3'] }, ec2Event)).toBe(false);
  });
});

describe('the docs complex example, without cidr', () => {
  it('matches the sample event', () => {
    const pattern = {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
      },
    };
    expect(matchesEventPattern(pattern, ec2Event)).toBe(true);
    expect(matchesEventPattern(JSON.stringify(pattern), ec2Event)).toBe(true);
  });
});

describe('assertSupportedPattern', () => {
  it('accepts every supported operator', () => {
    expect(() =>
      assertSupportedPattern({
        source: ['a', 1, true, null, { prefix: 'a' }, { suffix: 'b' }, { 'equals-ignore-case': 'c' }],
        detail: { w: [{ wildcard: 'a*b' }], n: [{ numeric: ['>=', 1] }], e: [{ exists: false }] },
        $or: [{ a: [{ 'anything-but': { prefix: 'x' } }] }, { b: [{ 'anything-but': [1, 2] }] }],
      }),
    ).not.toThrow();
  });

  it.each([
    [{ detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, /detail\.ip\.cidr.*not supported/],
    [{ detail: { ip: [{ 'anything-but': { cidr: '10.0.0.0/24' } }] } }, /cidr.*not supported/],
    [{ detail: { x: [{ contains: 'a' }] } }, /detail\.x.*unknown operator "contains"/],
    [{ source: 'aws.ec2' }, /"source".*must be given in an array/],
    [{ source: [] }, /empty arrays/],
    [{ a: [{ numeric: ['<', 5, '>', 10] }] }, /numeric/],
    [{ a: [{ numeric: ['>', 'x'] }] }, /numeric/],
    [{ a: [{ wildcard: 'a**b' }] }, /consecutive wildcard/],
    [{ a: [{ wildcard: 'a\\b' }] }, /backslash/],
    [{ a: [{ prefix: 'a', suffix: 'b' }] }, /exactly one operator/],
    [{ a: [{ 'anything-but': ['a', 1] }] }, /only strings or only numbers/],
    [{ a: [{ exists: 'yes' }] }, /exists takes true or false/],
    [{ $or: [{ a: ['x'] }] }, /\$or needs/],
    ['not json', /not valid JSON/],
    [['array'], /must be a JSON object/],
  ])('rejects %j', (pattern, message) => {
    expect(() => assertSupportedPattern(pattern)).toThrow(EventPatternError);
    expect(() => assertSupportedPattern(pattern)).toThrow(message);
  });

  it('matchesEventPattern throws the same errors rather than silently not matching', () => {
    expect(() => matchesEventPattern({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '10.0.0.1' })).toThrow(/cidr/);
  });
});
