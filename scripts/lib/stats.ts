/** Percentiles and formatting for the load test's report. */

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { n: s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s[s.length - 1]!, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

export function fmtSummary(s: Summary | undefined, unit = 'ms'): string {
  if (!s) return 'n/a';
  const f = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  return `p50 ${f(s.p50)} ${unit}  p95 ${f(s.p95)} ${unit}  p99 ${f(s.p99)} ${unit}  max ${f(s.max)} ${unit}  (n=${s.n})`;
}
