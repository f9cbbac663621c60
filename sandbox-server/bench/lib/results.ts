// Benchmark results: the one row shape every benchmark returns, percentiles, and the table printed at the end.

/** A p50/p95 pair, e.g. of a baseline measured in the same run. */
export interface Percentiles {
  p50: number;
  p95: number;
}

/** One measured quantity, with its in-run baseline and its target from DESIGN.md when it has them. */
export interface BenchResult {
  /** The benchmark that produced it: ready, echo, bulk, check, concurrency, site, reconnect. */
  name: string;
  /** What was measured, e.g. "warm claim → shell answers". */
  metric: string;
  unit: string;
  p50: number;
  p95: number;
  /** Samples behind p50/p95 (pages for the site, runs for throughput, round trips for echo), failures included. */
  n: number;
  /**
   * Samples that failed (a key with no echo, a check with no verdict): they count in p50/p95 as slower than any
   * success (an infinite time, written "Infinity" in the JSON), so a failure can never make a row look better.
   */
  failures?: number;
  /** Largest sample, where the worst case matters (site budget, RSS). */
  max?: number;
  /** What the baseline is, in words ("kubectl run busybox → Ready", "direct exec, same Pod, same command"). */
  baselineName?: string;
  baseline?: Percentiles;
  /** value / baseline, on the percentile named by `ratioOf` (p50 unless said otherwise). */
  ratio?: number;
  ratioOf?: 'p50' | 'p95';
  /** The target in words, e.g. "p50 ≤ 0.5 s" or "ratio ≤ 1.2". */
  target?: string;
  met?: boolean;
  /** Anything a reader needs to interpret the row (samples dropped, what did not fit). */
  note?: string;
  /** Extra numbers kept in the JSON only (per-page sizes, sub-phase timings). */
  details?: Record<string, unknown>;
}

/** Nearest-rank percentile of unsorted samples; NaN for none. Infinite samples (failures) sort last. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => (a === b ? 0 : a < b ? -1 : 1));
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** p50, p95, count and largest of `samples`, with `failures` counted as infinitely slow samples. */
export function summarize(samples: readonly number[], failures = 0): Percentiles & { n: number; max: number } {
  if (failures > 0) samples = [...samples, ...Array<number>(failures).fill(Number.POSITIVE_INFINITY)];
  return {
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    n: samples.length,
    max: samples.length ? Math.max(...samples) : Number.NaN,
  };
}

/** A result row from samples and an optional baseline's samples; the ratio is taken on `ratioOf`. */
export function resultOf(
  base: Pick<BenchResult, 'name' | 'metric' | 'unit'> & Partial<BenchResult>,
  samples: readonly number[],
  baseline?: { name: string; samples: readonly number[] } | { name: string; value: Percentiles },
  ratioOf: 'p50' | 'p95' = 'p50',
): BenchResult {
  const s = summarize(samples, base.failures ?? 0);
  const row: BenchResult = { ...base, p50: s.p50, p95: s.p95, n: s.n, max: s.max };
  if (!row.note) delete row.note;
  if (!row.failures) delete row.failures;
  if (baseline) {
    const b = 'samples' in baseline ? summarize(baseline.samples) : baseline.value;
    row.baselineName = baseline.name;
    row.baseline = { p50: b.p50, p95: b.p95 };
    row.ratio = row[ratioOf] / b[ratioOf];
    row.ratioOf = ratioOf;
  }
  return row;
}

/** Sets `target` and `met` from a comparison: `at most` for latencies and memory, `at least` for throughput. */
export function withTarget(
  row: BenchResult,
  text: string,
  on: 'p50' | 'p95' | 'max' | 'ratio',
  op: '<=' | '>=',
  limit: number,
): BenchResult {
  const value = row[on];
  row.target = text;
  // An infinite value is a failure in the percentile: it misses an upper bound (and meets no lower one honestly).
  if (value !== undefined && !Number.isNaN(value))
    row.met = op === '<=' ? value <= limit : Number.isFinite(value) && value >= limit;
  return row;
}

function fmt(value: number | undefined): string {
  if (value === Number.POSITIVE_INFINITY) return 'failed';
  if (value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** The results as a plain-text table, one row per result, notes listed under it. */
export function formatTable(results: readonly BenchResult[]): string {
  const header = [
    'benchmark',
    'metric',
    'unit',
    'n',
    'fail',
    'p50',
    'p95',
    'base p50',
    'base p95',
    'ratio',
    'target',
    'met',
  ];
  const rows = results.map((r) => [
    r.name,
    r.metric,
    r.unit,
    String(r.n),
    String(r.failures ?? 0),
    fmt(r.p50),
    fmt(r.p95),
    fmt(r.baseline?.p50),
    fmt(r.baseline?.p95),
    r.ratio === undefined ? '—' : `${fmt(r.ratio)}${r.ratioOf === 'p95' ? ' (p95)' : ''}`,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= 3 && i <= 9 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  const notes = results.filter((r) => r.note).map((r) => `  ${r.name} / ${r.metric}: ${r.note}`);
  if (notes.length) out.push('', 'notes:', ...notes);
  return out.join('\n');
}

/** The report as JSON; infinite values (failed samples in a percentile) are written as the string "Infinity". */
export function toJson(report: unknown): string {
  return `${JSON.stringify(report, (_key, value) => (value === Number.POSITIVE_INFINITY ? 'Infinity' : value), 2)}\n`;
}
