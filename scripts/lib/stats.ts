/**
 * Percentiles, summaries and formatting for the scripts' reports (benchmarks, load tests), plus the
 * benchmarks' small `--flag value` parser. Samples are milliseconds unless a unit is given.
 */

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (`p` in 0..100) of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** Summary of the samples; with no samples `n` is 0 and every statistic NaN. */
export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1]! : NaN,
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN,
  };
}

/** One value in ms with two decimals (benchmark output). */
export function fmt(ms: number): string {
  return `${ms.toFixed(2)} ms`;
}

/** `p50 … p95 … p99 … max … (n=…)` on one line; `n/a` without samples. */
export function fmtSummary(s: Summary | undefined, unit = 'ms'): string {
  if (!s || s.n === 0) return 'n/a';
  const f = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  return `p50 ${f(s.p50)} ${unit}  p95 ${f(s.p95)} ${unit}  p99 ${f(s.p99)} ${unit}  max ${f(s.max)} ${unit}  (n=${s.n})`;
}

/** `--key value`, `--key=value` and bare `--flag` (→ "true"); anything else is ignored. */
export function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    const k = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const v = eq < 0 ? undefined : a.slice(eq + 1);
    if (v !== undefined) out[k] = v;
    else if (argv[i + 1] && !argv[i + 1]!.startsWith('--')) out[k] = argv[++i]!;
    else out[k] = 'true';
  }
  return out;
}
