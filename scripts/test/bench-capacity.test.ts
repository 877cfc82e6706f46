import { describe, expect, test } from "bun:test";
import { MAX_P95_GROWTH, MIN_DELIVERED_PCT, lightDeliveredPct, packetGapPct, searchSteps, stepFailure } from "../bench/capacity.ts";
import { summarize } from "@ballstream/testing";

const count = (sent: number, complete: number) => ({ framesSent: sent, framesComplete: complete, packets: 0, sequenceGaps: 0, latenciesMs: [] });

describe("lightDeliveredPct", () => {
  test("pools every session; never above 100 % per session", () => {
    expect(lightDeliveredPct([count(100, 90), count(100, 100)])).toBe(95);
    expect(lightDeliveredPct([count(10, 11)])).toBe(100);
    expect(lightDeliveredPct([])).toBeNaN();
  });
});

describe("packetGapPct", () => {
  test("missing sequence numbers over packets received, pooled", () => {
    const c = (packets: number, sequenceGaps: number) => ({ framesSent: 0, framesComplete: 0, packets, sequenceGaps, latenciesMs: [] });
    expect(packetGapPct([c(900, 9), c(100, 1)])).toBe(1);
    expect(packetGapPct([c(0, 0)])).toBeNaN();
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

describe("searchSteps", () => {
  const step = (sessions: number, failure: string | null, p95 = 10) => ({
    sessions, lightSessions: sessions - 1, lightDeliveredPct: 99, lightLatency: summarize([]), probeDeliveredPct: 100, probeG2g: summarize([p95]), cpu: [], failure,
  });
  /** A search whose windows fail at the counts in `failing` (each count's windows in turn: true = fails). */
  const search = (failing: Record<number, boolean[]>, extra: Partial<Parameters<typeof searchSteps>[0]> = {}) => {
    const grown: number[] = [];
    const baselines: number[] = [];
    let light = 0;
    return {
      grown,
      baselines,
      run: searchSteps({
        steps: [1, 4, 8, 16],
        unit: "viewers",
        settleMs: 0,
        budgetMs: 60_000,
        startedMs: Date.now(),
        grow: async (n) => {
          grown.push(n);
          return (light += n);
        },
        measure: async (l, baselineP95Ms) => {
          baselines.push(baselineP95Ms);
          return step(l + 1, failing[l + 1]?.shift() ? "too slow" : null, 10 + l);
        },
        log: () => undefined,
        ...extra,
      }),
    };
  };
  test("grows by the difference to each count, takes the first window's p95 as the baseline, stops at a count failing twice", async () => {
    const s = search({ 8: [true, true] });
    const r = await s.run;
    expect(s.grown).toEqual([3, 4]);
    expect(s.baselines).toEqual([Number.NaN, 10, 10, 10]);
    expect(r.steps.map((x) => [x.sessions, x.failure])).toEqual([[1, null], [4, null], [8, "too slow"], [8, "too slow"]]);
    expect(r.max).toBe(4);
    expect(r.baselineP95Ms).toBe(10);
    expect(r.stopReason).toBe("8 viewers failed: too slow");
  });
  test("a count failing once and holding on the second window goes on", async () => {
    const r = await search({ 4: [true, false] }).run;
    expect(r.steps.map((x) => x.sessions)).toEqual([1, 4, 4, 8, 16]);
    expect(r.max).toBe(16);
    expect(r.stopReason).toBe("stopped at the largest step tried (16)");
  });
  test("a failure to grow or a used-up budget stops the search with its reason", async () => {
    const failed = await search({}, { grow: async () => Promise.reject(new Error("media full\nstack")) }).run;
    expect(failed.steps.map((x) => x.sessions)).toEqual([1]);
    expect(failed.stopReason).toBe("could not start 4 viewers: media full");
    const late = await search({}, { startedMs: Date.now() - 120_000 }).run;
    expect(late.steps).toEqual([]);
    expect(late.max).toBe(0);
    expect(late.stopReason).toBe("time budget of 60 s used up");
  });
});
