import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Booking } from '../../shared/booking/decider.ts';
import { busyDayKey, busyDayUpdate, busyFromCells, busyFromDays, busyDayRange, claimCellKey, claimOf, claimUpdate, planBusyDayChanges, planClaimChanges, type CellChange, type Claim } from '../../shared/booking/time-claims.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const at = (iso: string) => Date.parse(iso);
const hourOf = (iso: string) => at(iso) / HOUR;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const claim = (start: string, end: string, hostIds = ['host-a']): Claim => ({ hostIds, start: at(start), end: at(end) });

const booking = (overrides: Partial<Booking> = {}): Booking => ({
  eventTypeId: 'et-1',
  organizerId: 'host-a',
  hostIds: ['host-a'],
  title: 'Intro call',
  start: '2030-01-07T09:00:00.000Z',
  end: '2030-01-07T09:30:00.000Z',
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 0,
  attendee: { name: 'Ada', email: 'ada@example.com', timeZone: 'Europe/Berlin' },
  requiresConfirmation: false,
  status: 'draft',
  ...overrides,
});

/** Applies cell changes to an in-memory copy of the state table's claim items, as the transaction would. */
function applyChanges(cells: Map<string, Record<string, unknown>>, bookingId: string, changes: CellChange[]) {
  for (const change of changes) {
    const update = claimUpdate('State', bookingId, change).Update;
    const key = `${update.Key.pk}|${update.Key.sk}`;
    const item = cells.get(key) ?? { ...update.Key };
    for (const minute of change.take) {
      const name = `m${String(minute).padStart(2, '0')}`;
      if (name in item) throw new Error(`${name} of ${key} is already held by ${String(item[name])}`);
      item[name] = bookingId;
    }
    for (const minute of change.release) delete item[`m${String(minute).padStart(2, '0')}`];
    Object.assign(item, { hostId: update.ExpressionAttributeValues[':host'], hourStart: update.ExpressionAttributeValues[':hourStart'] });
    cells.set(key, item);
  }
}

describe('claimOf', () => {
  it('is the meeting widened by its buffers, for every host', () => {
    expect(claimOf(booking({ bufferBeforeMinutes: 10, bufferAfterMinutes: 15, hostIds: ['host-a', 'host-b'] }))).toEqual({
      hostIds: ['host-a', 'host-b'],
      start: at('2030-01-07T08:50:00Z'),
      end: at('2030-01-07T09:45:00Z'),
    });
  });
});

describe('planClaimChanges', () => {
  it('a fresh claim takes every minute of the meeting and releases nothing', () => {
    expect(planClaimChanges(null, claimOf(booking()))).toEqual([
      { hostId: 'host-a', hour: hourOf('2030-01-07T09:00:00Z'), take: range(0, 30), release: [] },
    ]);
  });

  it('giving the claim up releases every minute and takes nothing', () => {
    expect(planClaimChanges(claimOf(booking()), null)).toEqual([
      { hostId: 'host-a', hour: hourOf('2030-01-07T09:00:00Z'), take: [], release: range(0, 30) },
    ]);
  });

  it('no claim before and after changes nothing; the same claim before and after changes nothing', () => {
    expect(planClaimChanges(null, null)).toEqual([]);
    expect(planClaimChanges(claimOf(booking()), claimOf(booking()))).toEqual([]);
  });

  it('a reschedule within the same hour leaves the shared minutes alone', () => {
    const changes = planClaimChanges(claim('2030-01-07T09:00:00Z', '2030-01-07T09:30:00Z'), claim('2030-01-07T09:15:00Z', '2030-01-07T09:45:00Z'));
    expect(changes).toEqual([{ hostId: 'host-a', hour: hourOf('2030-01-07T09:00:00Z'), take: range(30, 45), release: range(0, 15) }]);
    const touched = new Set([...changes[0]!.take, ...changes[0]!.release]);
    for (const shared of range(15, 30)) expect(touched.has(shared), `minute ${shared} is held before and after`).toBe(false);
  });

  it('a reschedule to another day releases the old cell and takes the new one', () => {
    const changes = planClaimChanges(claim('2030-01-07T09:00:00Z', '2030-01-07T09:30:00Z'), claim('2030-01-08T14:30:00Z', '2030-01-08T15:00:00Z'));
    expect(changes).toEqual([
      { hostId: 'host-a', hour: hourOf('2030-01-07T09:00:00Z'), take: [], release: range(0, 30) },
      { hostId: 'host-a', hour: hourOf('2030-01-08T14:00:00Z'), take: range(30, 60), release: [] },
    ]);
  });

  it('buffers widen the claim into the neighbouring hours', () => {
    const changes = planClaimChanges(null, claimOf(booking({ start: '2030-01-07T09:00:00Z', end: '2030-01-07T10:00:00Z', bufferBeforeMinutes: 10, bufferAfterMinutes: 5 })));
    expect(changes).toEqual([
      { hostId: 'host-a', hour: hourOf('2030-01-07T08:00:00Z'), take: range(50, 60), release: [] },
      { hostId: 'host-a', hour: hourOf('2030-01-07T09:00:00Z'), take: range(0, 60), release: [] },
      { hostId: 'host-a', hour: hourOf('2030-01-07T10:00:00Z'), take: range(0, 5), release: [] },
    ]);
  });

  it('a part of a minute claims the whole minute', () => {
    const changes = planClaimChanges(null, claim('2030-01-07T09:00:30Z', '2030-01-07T09:10:00.001Z'));
    expect(changes).toEqual([{ hostId: 'host-a', hour: hourOf('2030-01-07T09:00:00Z'), take: range(0, 11), release: [] }]);
  });

  it('claims every host, sorted by host then hour', () => {
    const changes = planClaimChanges(null, claim('2030-01-07T09:45:00Z', '2030-01-07T10:15:00Z', ['host-b', 'host-a']));
    expect(changes).toEqual([
      { hostId: 'host-a', hour: hourOf('2030-01-07T09:00:00Z'), take: range(45, 60), release: [] },
      { hostId: 'host-a', hour: hourOf('2030-01-07T10:00:00Z'), take: range(0, 15), release: [] },
      { hostId: 'host-b', hour: hourOf('2030-01-07T09:00:00Z'), take: range(45, 60), release: [] },
      { hostId: 'host-b', hour: hourOf('2030-01-07T10:00:00Z'), take: range(0, 15), release: [] },
    ]);
  });

  it('a host dropped from the claim has its time released while the others keep theirs', () => {
    const changes = planClaimChanges(
      claim('2030-01-07T09:00:00Z', '2030-01-07T09:30:00Z', ['host-a', 'host-b']),
      claim('2030-01-07T09:00:00Z', '2030-01-07T09:30:00Z', ['host-a']),
    );
    expect(changes).toEqual([{ hostId: 'host-b', hour: hourOf('2030-01-07T09:00:00Z'), take: [], release: range(0, 30) }]);
  });
});

describe('claimUpdate', () => {
  const hour = hourOf('2030-01-07T09:00:00Z');

  it('takes minutes on condition that nobody holds them and releases minutes on condition that this booking holds them', () => {
    expect(claimUpdate('StateTable', 'booking-1', { hostId: 'host-a', hour, take: [5, 6], release: [0] })).toEqual({
      Update: {
        TableName: 'StateTable',
        Key: { pk: 'CLAIM#host-a', sk: '2030-01-07T09' },
        UpdateExpression: 'SET m05 = :booking, m06 = :booking, hostId = :host, hourStart = :hourStart REMOVE m00',
        ConditionExpression: 'attribute_not_exists(m05) AND attribute_not_exists(m06) AND m00 = :booking',
        ExpressionAttributeValues: { ':booking': 'booking-1', ':host': 'host-a', ':hourStart': '2030-01-07T09:00:00.000Z' },
      },
    });
  });

  it('a take-only change has no REMOVE clause; a release-only change sets no minute', () => {
    const take = claimUpdate('S', 'b', { hostId: 'h', hour, take: [59], release: [] }).Update;
    expect(take.UpdateExpression).toBe('SET m59 = :booking, hostId = :host, hourStart = :hourStart');
    expect(take.ConditionExpression).toBe('attribute_not_exists(m59)');
    const release = claimUpdate('S', 'b', { hostId: 'h', hour, take: [], release: [10, 11] }).Update;
    expect(release.UpdateExpression).toBe('SET hostId = :host, hourStart = :hourStart REMOVE m10, m11');
    expect(release.ConditionExpression).toBe('m10 = :booking AND m11 = :booking');
  });

  it('cell keys are per host and UTC hour: one partition per host, one sort key per hour', () => {
    expect(claimCellKey('host-a', hourOf('2030-12-31T23:00:00Z'))).toEqual({ pk: 'CLAIM#host-a', sk: '2030-12-31T23' });
    expect(claimCellKey('host-a', hour)).not.toEqual(claimCellKey('host-b', hour));
    expect(claimCellKey('host-a', hour)).not.toEqual(claimCellKey('host-a', hour + 1));
  });

  it('the day range of an interval spans exactly the days its summaries are written to', () => {
    expect(busyDayRange(at('2030-01-07T09:00:00Z'), at('2030-01-08T00:00:00Z'))).toEqual({ from: '2030-01-07', to: '2030-01-07' });
    expect(busyDayRange(at('2030-01-06T23:59:00Z'), at('2030-01-08T00:00:00.001Z'))).toEqual({ from: '2030-01-06', to: '2030-01-08' });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 * 24 * 60 }), fc.integer({ min: 1, max: 48 * 60 }), (startMinute, minutes) => {
        const c: Claim = { hostIds: ['h'], start: at('2030-01-07T00:00:00Z') + startMinute * MINUTE, end: at('2030-01-07T00:00:00Z') + (startMinute + minutes) * MINUTE };
        const sortKeys = planBusyDayChanges(null, c).map((change) => busyDayKey(change.hostId, change.day).sk).sort();
        const { from, to } = busyDayRange(c.start, c.end);
        expect([sortKeys[0], sortKeys.at(-1)]).toEqual([from, to]);
      }),
    );
  });
});

describe('busyFromCells', () => {
  it('reads back the claims written, as runs per booking', () => {
    const cells = new Map<string, Record<string, unknown>>();
    const first = claimOf(booking({ start: '2030-01-07T09:00:00Z', end: '2030-01-07T09:30:00Z', bufferAfterMinutes: 10 }));
    const second = claim('2030-01-07T09:40:00Z', '2030-01-07T11:05:00Z');
    applyChanges(cells, 'booking-1', planClaimChanges(null, first));
    applyChanges(cells, 'booking-2', planClaimChanges(null, second));
    expect(busyFromCells([...cells.values()])).toEqual([
      { start: at('2030-01-07T09:00:00Z'), end: at('2030-01-07T09:40:00Z'), bookingId: 'booking-1' },
      { start: at('2030-01-07T09:40:00Z'), end: at('2030-01-07T11:05:00Z'), bookingId: 'booking-2' },
    ]);
  });

  it('shows a rescheduled booking at its new time only', () => {
    const cells = new Map<string, Record<string, unknown>>();
    const before = claim('2030-01-07T09:00:00Z', '2030-01-07T09:30:00Z');
    const after = claim('2030-01-07T09:20:00Z', '2030-01-07T10:10:00Z');
    applyChanges(cells, 'booking-1', planClaimChanges(null, before));
    applyChanges(cells, 'booking-1', planClaimChanges(before, after));
    expect(busyFromCells([...cells.values()])).toEqual([{ start: after.start, end: after.end, bookingId: 'booking-1' }]);
    applyChanges(cells, 'booking-1', planClaimChanges(after, null));
    expect(busyFromCells([...cells.values()])).toEqual([]);
  });

  it('ignores attributes that are not minutes, and items in any order', () => {
    const items = [
      { pk: 'CLAIM#h', sk: '2030-01-07T10', hostId: 'h', hourStart: '2030-01-07T10:00:00.000Z', m00: 'b', m01: 'b', expiresAt: 1, m100: 'x' },
      { pk: 'CLAIM#h', sk: '2030-01-07T09', hostId: 'h', hourStart: '2030-01-07T09:00:00.000Z', m59: 'b', m58: 'b' },
    ];
    expect(busyFromCells(items)).toEqual([{ start: at('2030-01-07T09:58:00Z'), end: at('2030-01-07T10:02:00Z'), bookingId: 'b' }]);
  });

  it('round-trips random claims', () => {
    const base = at('2030-01-07T00:00:00Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * 24 * 60 }), fc.integer({ min: 1, max: 8 * 60 }), (startMinute, minutes) => {
        const cells = new Map<string, Record<string, unknown>>();
        const c: Claim = { hostIds: ['h'], start: base + startMinute * MINUTE, end: base + (startMinute + minutes) * MINUTE };
        applyChanges(cells, 'b', planClaimChanges(null, c));
        expect(busyFromCells([...cells.values()])).toEqual([{ start: c.start, end: c.end, bookingId: 'b' }]);
      }),
    );
  });
});

describe('property: two claims collide in the table exactly when their times overlap', () => {
  const base = at('2030-01-07T00:00:00Z');
  const hosts = ['host-a', 'host-b', 'host-c'];
  const minuteInterval = fc
    .record({ start: fc.integer({ min: 0, max: 2 * 24 * 60 }), length: fc.integer({ min: 1, max: 6 * 60 }) })
    .map(({ start, length }) => ({ start: base + start * MINUTE, end: base + (start + length) * MINUTE }));
  const hostSet = fc.subarray(hosts, { minLength: 1 });

  /** Every (host, hour, minute) a claim would write. */
  const slots = (c: Claim) => new Set(planClaimChanges(null, c).flatMap((change) => change.take.map((m) => `${change.hostId}|${change.hour}|${m}`)));
  const touch = (a: Claim, b: Claim) => {
    const held = slots(a);
    return [...slots(b)].some((slot) => held.has(slot));
  };

  // Independent pairs, and pairs where b starts within two minutes of a's end (the touching/one-minute cases).
  const pair = fc.oneof(
    fc.tuple(minuteInterval, minuteInterval),
    fc.tuple(minuteInterval, fc.integer({ min: -2, max: 2 }), fc.integer({ min: 1, max: 120 })).map(([a, shift, length]) => {
      const start = a.end + shift * MINUTE;
      return [a, { start, end: start + length * MINUTE }] as const;
    }),
  );

  it('for one host at minute resolution: a common (host, hour, minute) iff the intervals overlap', () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const overlap = a.start < b.end && b.start < a.end;
        expect(touch({ hostIds: ['host-a'], ...a }, { hostIds: ['host-a'], ...b })).toBe(overlap);
      }),
      { numRuns: 500 },
    );
  });

  it('across host sets: a collision iff they share a host and the intervals overlap', () => {
    fc.assert(
      fc.property(minuteInterval, hostSet, minuteInterval, hostSet, (a, aHosts, b, bHosts) => {
        const overlap = a.start < b.end && b.start < a.end && aHosts.some((host) => bHosts.includes(host));
        expect(touch({ hostIds: aHosts, ...a }, { hostIds: bHosts, ...b })).toBe(overlap);
      }),
      { numRuns: 300 },
    );
  });

  it('at millisecond precision no overlap ever goes unnoticed', () => {
    const msInterval = fc
      .record({ start: fc.integer({ min: 0, max: 24 * HOUR }), length: fc.integer({ min: 1, max: 3 * HOUR }) })
      .map(({ start, length }) => ({ start: base + start, end: base + start + length }));
    fc.assert(
      fc.property(msInterval, msInterval, (a, b) => {
        fc.pre(a.start < b.end && b.start < a.end);
        expect(touch({ hostIds: ['host-a'], ...a }, { hostIds: ['host-a'], ...b })).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('per-day busy summaries', () => {
  const HOUR_MS = 3_600_000;
  const t = (iso: string) => Date.parse(iso);

  it('set the claimed interval on every day it touches, for every host', () => {
    const claim = { hostIds: ['a', 'b'], start: t('2030-01-07T23:30:00Z'), end: t('2030-01-08T00:30:00Z') };
    const changes = planBusyDayChanges(null, claim);
    expect(changes.map((c) => `${c.hostId}:${busyDayKey(c.hostId, c.day).sk}`).sort()).toEqual(['a:2030-01-07', 'a:2030-01-08', 'b:2030-01-07', 'b:2030-01-08']);
    expect(changes.every((c) => c.interval?.[0] === claim.start && c.interval?.[1] === claim.end)).toBe(true);
  });

  it('move with a reschedule and disappear with a release', () => {
    const before = { hostIds: ['a'], start: t('2030-01-07T09:00:00Z'), end: t('2030-01-07T10:00:00Z') };
    const after = { hostIds: ['a'], start: t('2030-01-09T09:00:00Z'), end: t('2030-01-09T10:00:00Z') };
    expect(planBusyDayChanges(before, after)).toEqual([
      { hostId: 'a', day: Math.floor(before.start / (24 * HOUR_MS)), interval: null },
      { hostId: 'a', day: Math.floor(after.start / (24 * HOUR_MS)), interval: [after.start, after.end] },
    ]);
    expect(planBusyDayChanges(before, before)).toEqual([]);
    expect(planBusyDayChanges(before, null)).toEqual([{ hostId: 'a', day: Math.floor(before.start / (24 * HOUR_MS)), interval: null }]);
    expect(busyDayUpdate('T', 'bk', { hostId: 'a', day: 1, interval: null }).Update).toMatchObject({ UpdateExpression: 'REMOVE #booking', ExpressionAttributeNames: { '#booking': 'b_bk' } });
  });

  it('read back as one interval per booking, whatever days carry it', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ start: fc.integer({ min: 0, max: 10_000 }), length: fc.integer({ min: 1, max: 3_000 }) }), { maxLength: 8 }), (raw) => {
        const claims = raw.map((r, i) => ({ bookingId: `bk${i}`, claim: { hostIds: ['h'], start: t('2030-01-07T00:00:00Z') + r.start * 60_000, end: t('2030-01-07T00:00:00Z') + (r.start + r.length) * 60_000 } }));
        const items = new Map<string, Record<string, unknown>>();
        for (const { bookingId, claim } of claims) {
          for (const change of planBusyDayChanges(null, claim)) {
            const key = busyDayKey(change.hostId, change.day);
            const item = items.get(key.sk) ?? { ...key };
            item[`b_${bookingId}`] = change.interval;
            items.set(key.sk, item);
          }
        }
        const read = busyFromDays([...items.values()]);
        expect(read.map((r) => [r.bookingId, r.start, r.end]).sort()).toEqual(claims.map((c) => [c.bookingId, c.claim.start, c.claim.end]).sort());
      }),
      { numRuns: 300 },
    );
  });
});
