import { describe, expect, test } from "bun:test";
import { TIMER_LEAD_MS, blockFor, planWait } from "../src/precise-wait.ts";

describe("planWait", () => {
  test("far from the deadline: a timer that fires the lead early", () => {
    expect(planWait(16.7, 2)).toEqual({ kind: "timer", ms: 16.7 - 2 });
    expect(planWait(2.01, 2).kind).toBe("timer");
    expect(planWait(10)).toEqual({ kind: "timer", ms: 10 - TIMER_LEAD_MS });
  });

  test("within the lead: a block of exactly the remaining time, never more than the lead", () => {
    expect(planWait(2, 2)).toEqual({ kind: "block", ms: 2 });
    expect(planWait(0.3, 2)).toEqual({ kind: "block", ms: 0.3 });
  });

  test("at or past the deadline (or NaN): due now", () => {
    for (const r of [0, -0.1, -50, Number.NaN]) expect(planWait(r, 2)).toEqual({ kind: "due" });
  });
});

describe("blockFor", () => {
  test("does not return before the time has passed; zero or negative returns at once", () => {
    for (const ms of [0.5, 1.5, 3]) {
      const t0 = performance.now();
      blockFor(ms);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(ms * 0.99);
    }
    const t0 = performance.now();
    blockFor(0);
    blockFor(-5);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
