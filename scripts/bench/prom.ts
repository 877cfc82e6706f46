/**
 * Reading the services' `/metrics` (Prometheus text format): counters and histograms, differences between two
 * scrapes, and histogram quantiles estimated the way PromQL's `histogram_quantile` does.
 */

/** One sample line: `name{labels} value`. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A cumulative histogram: `le` bounds with counts (ascending, +Inf last), sum and count. */
export interface Histogram {
  readonly buckets: ReadonlyArray<readonly [number, number]>;
  readonly sum: number;
  readonly count: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text format; comments, blank and unparsable lines are skipped. */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_s, c: string) => (c === "n" ? "\n" : c));
    const v = m[3]!;
    const value = v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : Number(v);
    if (!Number.isNaN(value) || v === "NaN") out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `labels`; 0 when there are none. */
export function metricValue(samples: readonly PromSample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const s of samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  return sum;
}

/** The histogram `name` (its `_bucket`, `_sum`, `_count` series, summed over other labels); null if absent. */
export function histogramOf(samples: readonly PromSample[], name: string): Histogram | null {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || s.labels.le === undefined) continue;
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  if (byLe.size === 0) return null;
  return { buckets: [...byLe.entries()].sort((a, b) => a[0] - b[0]), sum: metricValue(samples, `${name}_sum`), count: metricValue(samples, `${name}_count`) };
}

/** `after − before`, bucket by bucket (the observations made between two scrapes). */
export function histogramDelta(before: Histogram | null, after: Histogram): Histogram {
  const prior = new Map(before?.buckets ?? []);
  return {
    buckets: after.buckets.map(([le, c]) => [le, c - (prior.get(le) ?? 0)] as const),
    sum: after.sum - (before?.sum ?? 0),
    count: after.count - (before?.count ?? 0),
  };
}

/** Mean of the observations, NaN when there are none. */
export function histogramMean(h: Histogram): number {
  return h.count > 0 ? h.sum / h.count : Number.NaN;
}

/**
 * The `q`-quantile, interpolated linearly inside the bucket it falls in (lower bound 0 for the first bucket; the
 * highest finite bound if it falls in +Inf). NaN for an empty histogram.
 */
export function histogramQuantile(h: Histogram, q: number): number {
  const total = h.buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of h.buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return count === prevCount ? le : prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
