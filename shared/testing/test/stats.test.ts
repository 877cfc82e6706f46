import { describe, expect, test } from "bun:test";
import { finite, quantile, round, sampleValue, summarize } from "../src/stats.ts";

describe("quantile", () => {
  test("interpolates between closest ranks", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50], 0.95)).toBeCloseTo(48, 10);
    expect(quantile([5], 0.99)).toBe(5);
  });
  test("ignores order, null and non-finite values", () => {
    expect(quantile([3, null, 1, Number.NaN, 2, Infinity, undefined], 0)).toBe(1);
    expect(quantile([3, null, 1, 2], 1)).toBe(3);
  });
  test("is NaN without values and rejects a bad q", () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(() => quantile([1], 1.5)).toThrow(RangeError);
  });
});

describe("summarize", () => {
  test("gives every figure", () => {
    const s = summarize([4, 1, 3, 2]);
    expect(s).toMatchObject({ n: 4, p50: 2.5, mean: 2.5, min: 1, max: 4 });
    expect(s.p95).toBeCloseTo(3.85, 10);
  });
  test("is all NaN for nothing", () => {
    const s = summarize([null, Number.NaN]);
    expect(s.n).toBe(0);
    expect(s.p50).toBeNaN();
    expect(s.max).toBeNaN();
  });
});

describe("finite and round", () => {
  test("finite keeps numbers only", () => {
    expect(finite([1, null, -Infinity, 2])).toEqual([1, 2]);
  });
  test("round gives null for non-finite values", () => {
    expect(round(1.26, 1)).toBe(1.3);
    expect(round(Number.NaN)).toBeNull();
  });
});

describe("sampleValue", () => {
  test("reads the value of one series of a Prometheus exposition", () => {
    const text = '# HELP x\nballstream_a_total 3\nballstream_b{le="1"} 2.5\n';
    expect(sampleValue(text, "ballstream_a_total")).toBe(3);
    expect(sampleValue(text, 'ballstream_b{le="1"}')).toBe(2.5);
    expect(sampleValue(text, "ballstream_c")).toBeUndefined();
  });
});
