import { describe, expect, test } from "bun:test";
import { MAX_P95_GROWTH, MIN_DELIVERED_PCT, lightDeliveredPct, stepFailure } from "../bench/capacity.ts";
import { summarize } from "@ballstream/testing";

const count = (sent: number, complete: number) => ({ framesSent: sent, framesComplete: complete, packets: 0, sequenceGaps: 0, latenciesMs: [] });

describe("lightDeliveredPct", () => {
  test("pools every session; never above 100 % per session", () => {
    expect(lightDeliveredPct([count(100, 90), count(100, 100)])).toBe(95);
    expect(lightDeliveredPct([count(10, 11)])).toBe(100);
    expect(lightDeliveredPct([])).toBeNaN();
  });
});

describe("stepFailure", () => {
  const ok = { lightDeliveredPct: 99, probeDeliveredPct: 100, probeG2g: summarize([20, 30]) };
  test("holds within the limits (and with no light sessions yet)", () => {
    expect(stepFailure(ok, 30)).toBeNull();
    expect(stepFailure({ ...ok, lightDeliveredPct: Number.NaN }, 30)).toBeNull();
  });
  test(`fails below ${MIN_DELIVERED_PCT} % delivered or above ${MAX_P95_GROWTH} × the baseline p95`, () => {
    expect(stepFailure({ ...ok, lightDeliveredPct: 94.9 }, 30)).toContain("light receivers got 94.9 %");
    expect(stepFailure({ ...ok, probeDeliveredPct: 80 }, 30)).toContain("probe decoded 80.0 %");
    expect(stepFailure({ ...ok, probeG2g: summarize([70, 70]) }, 30)).toContain("> 2 × 30.0 ms");
    expect(stepFailure({ ...ok, probeG2g: summarize([]) }, 30)).toContain("p95");
  });
});
