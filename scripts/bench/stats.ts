/**
 * Small statistics helpers for the benchmark.
 * @module
 */

/** The q-quantile (0..1) of the values, by linear interpolation between closest ranks. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Median and 95th percentile. */
export function summary(values: readonly number[]): { median: number; p95: number; n: number } {
  return { median: quantile(values, 0.5), p95: quantile(values, 0.95), n: values.length };
}

/** Milliseconds with two decimals. */
export function ms(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : "n/a";
}

/** Bytes as "12,345 B (12.1 KiB)". */
export function bytes(v: number): string {
  return `${Math.round(v).toLocaleString("en-US")} B (${(v / 1024).toFixed(1)} KiB)`;
}

/** MiB with one decimal. */
export function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
