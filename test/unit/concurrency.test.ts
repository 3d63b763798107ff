import { describe, expect, it } from 'vitest';
import { mapWithConcurrency } from '../../shared/concurrency.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('mapWithConcurrency', () => {
  it('keeps the items order in its results and never runs more than the limit at once', async () => {
    for (const [count, limit] of [[0, 3], [1, 3], [7, 3], [40, 16], [5, 50]] as const) {
      let running = 0;
      let most = 0;
      const items = Array.from({ length: count }, (_, i) => i);
      const results = await mapWithConcurrency(items, limit, async (item, index) => {
        running++;
        most = Math.max(most, running);
        // Later items finish first, so order cannot come from completion order.
        for (let n = 0; n <= (count - item) % 4; n++) await tick();
        running--;
        return `${item}:${index}`;
      });
      expect(results).toEqual(items.map((i) => `${i}:${i}`));
      expect(most).toBe(Math.min(limit, count));
    }
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    await expect(
      mapWithConcurrency([0, 1, 2, 3, 4, 5], 2, async (item) => {
        started.push(item);
        await tick();
        if (item === 1) throw new Error('item 1 failed');
        return item;
      }),
    ).rejects.toThrow('item 1 failed');
    await tick();
    await tick();
    expect(started.length).toBeLessThan(6);
  });

  it('refuses a limit that is not a positive integer', async () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) await expect(mapWithConcurrency([1], limit, async (x) => x)).rejects.toThrow(RangeError);
  });
});
