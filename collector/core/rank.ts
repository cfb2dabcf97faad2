/**
 * Nearest-rank statistics over a histogram given as (value, count) pairs in ascending value order: the one mechanism
 * behind the reports' medians and p75 (touches, sessions) and the bucket search of the exact quantiles
 * (stores/sql/reports.ts).
 */
export type Histogram = ReadonlyArray<readonly [number, number]>;

/** The pair holding the `rank`-th smallest value (1-based), and how many values lie in the pairs before it. */
export const atRank = (sorted: Histogram, rank: number): { value: number; before: number } | null => {
  let before = 0;
  for (const [value, count] of sorted) {
    if (before + count >= rank) return { value, before };
    before += count;
  }
  return null;
};

/** The ⌈p·n⌉-th smallest value (at least the first); null for an empty histogram. */
export const percentile = (sorted: Histogram, p: number): number | null => {
  const n = sorted.reduce((t, [, c]) => t + c, 0);
  return n === 0 ? null : (atRank(sorted, Math.max(1, Math.ceil(p * n)))?.value ?? null);
};

/** A histogram (value → count) in ascending value order. */
export const sortedHistogram = (hist: ReadonlyMap<number, number>): Histogram => [...hist].sort((a, b) => a[0] - b[0]);
