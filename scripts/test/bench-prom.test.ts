import { describe, expect, test } from "bun:test";
import { histogramDelta, histogramMean, histogramOf, histogramQuantile, metricValue, parsePrometheusText } from "../bench/prom.ts";

const TEXT = (n: number) => `# HELP ballstream_media_encode_seconds Time to encode.
# TYPE ballstream_media_encode_seconds histogram
ballstream_media_encode_seconds_bucket{le="0.001"} ${n}
ballstream_media_encode_seconds_bucket{le="0.002"} ${3 * n}
ballstream_media_encode_seconds_bucket{le="0.004"} ${4 * n}
ballstream_media_encode_seconds_bucket{le="+Inf"} ${4 * n}
ballstream_media_encode_seconds_sum ${0.006 * n}
ballstream_media_encode_seconds_count ${4 * n}
process_cpu_seconds_total{service="media",note="a \\"quoted\\" one"} 12.5
ballstream_frames_total 7 1700000000000
not a metric line
`;

describe("parsePrometheusText", () => {
  const samples = parsePrometheusText(TEXT(1));
  test("reads names, labels (with escapes) and values; skips comments and junk", () => {
    expect(metricValue(samples, "process_cpu_seconds_total", { service: "media" })).toBe(12.5);
    expect(samples.find((s) => s.name === "process_cpu_seconds_total")?.labels.note).toBe('a "quoted" one');
    expect(metricValue(samples, "ballstream_frames_total")).toBe(7);
    expect(metricValue(samples, "absent")).toBe(0);
    expect(samples.some((s) => s.name === "not")).toBe(false);
  });
});

describe("histograms", () => {
  const before = histogramOf(parsePrometheusText(TEXT(1)), "ballstream_media_encode_seconds");
  const after = histogramOf(parsePrometheusText(TEXT(3)), "ballstream_media_encode_seconds")!;
  test("histogramOf collects buckets in order", () => {
    expect(before?.buckets).toEqual([[0.001, 1], [0.002, 3], [0.004, 4], [Infinity, 4]]);
    expect(histogramOf([], "x")).toBeNull();
  });
  test("delta, mean and quantile of the observations between two scrapes", () => {
    const d = histogramDelta(before, after);
    expect(d.count).toBe(8);
    expect(histogramMean(d)).toBeCloseTo(0.0015, 10);
    // 8 observations: 2 ≤ 1 ms, 6 ≤ 2 ms, 8 ≤ 4 ms. Median (rank 4) lies in (1, 2] ms, half way through its bucket.
    expect(histogramQuantile(d, 0.5)).toBeCloseTo(0.0015, 10);
    expect(histogramQuantile(d, 1)).toBeCloseTo(0.004, 10);
  });
  test("an empty histogram has NaN figures", () => {
    const empty = histogramDelta(after, after);
    expect(histogramMean(empty)).toBeNaN();
    expect(histogramQuantile(empty, 0.5)).toBeNaN();
  });
});
