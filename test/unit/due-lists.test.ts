import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DUE_LIST_SHARDS, dueEntry, dueListKeys, dueLists } from '../../shared/booking/booking-commands.ts';

// The due lists are spread over shards so that no single partition key caps the bookings a second (README,
// "Scale on paper"); the sweep reads every shard and the unsharded key of earlier versions.
describe('due lists', () => {
  const confirmed = (id: string) => dueEntry({ status: 'confirmed', end: '2030-01-07T10:00:00.000Z' } as never, id)!;

  it('puts a booking on one shard, the same one every time, and spreads bookings evenly over all of them', () => {
    const id = randomUUID();
    expect(confirmed(id)).toEqual(confirmed(id));
    expect(confirmed(id).sk).toBe(`2030-01-07T10:00:00.000Z#${id}`);
    const counts = new Map<string, number>();
    for (let i = 0; i < 16_000; i++) {
      const { pk } = confirmed(randomUUID());
      counts.set(pk, (counts.get(pk) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(dueListKeys(dueLists.completion).filter((key) => key !== dueLists.completion).sort());
    for (const count of counts.values()) expect(count).toBeGreaterThan((16_000 / DUE_LIST_SHARDS) * 0.8);
  });

  it('the sweep reads every shard and the unsharded key', () => {
    expect(dueListKeys(dueLists.stranded)).toHaveLength(DUE_LIST_SHARDS + 1);
    expect(dueListKeys(dueLists.stranded)).toContain('DUE#STRANDED');
  });
});
