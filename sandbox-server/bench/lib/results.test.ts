// Percentiles and result rows: nearest rank, and failures that count as slower than any success.
import { describe, expect, it } from 'vitest';
import { formatTable, percentile, resultOf, summarize, toJson, withTarget } from './results.ts';

describe('percentile', () => {
  it('is the nearest rank of the sorted samples', () => {
    const samples = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    expect(percentile(samples, 50)).toBe(5);
    expect(percentile(samples, 95)).toBe(10);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('sorts numerically, not as text', () => {
    expect(percentile([100, 9, 20], 50)).toBe(20);
  });
});

describe('summarize with failures', () => {
  it('counts a failure as slower than any sample, so it can reach p95 but never drops out', () => {
    const ok = Array.from({ length: 19 }, (_, i) => i + 1);
    expect(summarize(ok).p95).toBe(19);
    const withOne = summarize(ok, 1);
    expect(withOne.n).toBe(20);
    expect(withOne.p95).toBe(19);
    expect(withOne.max).toBe(Number.POSITIVE_INFINITY);
    expect(summarize(ok, 2).p95).toBe(Number.POSITIVE_INFINITY);
    expect(summarize([], 3).p50).toBe(Number.POSITIVE_INFINITY);
  });

  it('makes a row with failures miss an upper-bound target and show them', () => {
    const row = withTarget(
      resultOf({ name: 'concurrency', metric: 'echo', unit: 'ms', failures: 2 }, [10, 10, 10]),
      'p95 ≤ 100 ms',
      'p95',
      '<=',
      100,
    );
    expect(row.n).toBe(5);
    expect(row.failures).toBe(2);
    expect(row.met).toBe(false);
    const table = formatTable([row]);
    expect(table).toContain('failed');
    expect(toJson(row)).toContain('"p95": "Infinity"');
  });

  it('leaves failures out of a row that has none', () => {
    expect(resultOf({ name: 'x', metric: 'y', unit: 's', failures: 0 }, [1])).not.toHaveProperty('failures');
  });
});
