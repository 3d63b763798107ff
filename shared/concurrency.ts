/**
 * Runs `work` over `items` with at most `limit` in flight and returns the results in the items' order. For a
 * request that fans out to many DynamoDB or SQS calls: one at a time is bounded by the sum of their latencies
 * (a replay of a few hundred events outlived its Lambda's timeout on a busy machine), all at once by nothing.
 * The first failure rejects the whole; work already started runs to its end.
 */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, not ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}
