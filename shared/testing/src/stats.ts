/** Order statistics of measured values (latencies, errors): the figures every benchmark and test report prints. */

/** Summary of a set of values; NaN figures when there are none. */
export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

/** The finite numbers of `values` (null, NaN and ±Infinity are not measurements). */
export function finite(values: Iterable<number | null | undefined>): number[] {
  const out: number[] = [];
  for (const v of values) if (typeof v === "number" && Number.isFinite(v)) out.push(v);
  return out;
}

/**
 * The `q`-quantile (0–1) by linear interpolation between closest ranks (R type 7, what numpy calls "linear").
 * Ignores values that are not finite; NaN when none are left. Throws on `q` outside [0, 1].
 */
export function quantile(values: Iterable<number | null | undefined>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q} is outside [0, 1]`);
  const sorted = finite(values).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** n, p50, p95, p99, mean, min and max of the finite values. */
export function summarize(values: Iterable<number | null | undefined>): Summary {
  const v = finite(values);
  if (v.length === 0) return { n: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, mean: Number.NaN, min: Number.NaN, max: Number.NaN };
  return {
    n: v.length,
    p50: quantile(v, 0.5),
    p95: quantile(v, 0.95),
    p99: quantile(v, 0.99),
    mean: v.reduce((a, b) => a + b, 0) / v.length,
    min: Math.min(...v),
    max: Math.max(...v),
  };
}

/** `value` rounded to `digits` decimals, or null when it is not finite (JSON has no NaN). */
export function round(value: number, digits = 1): number | null {
  if (!Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The value of one sample line `name{labels} value` in a Prometheus text exposition, or undefined. */
export function sampleValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
