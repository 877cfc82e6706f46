import { describe, expect, test } from "bun:test";
import { mapBounded } from "../bench/bounded.ts";
import { JOIN_CONCURRENCY, addTimeoutMs } from "../bench/light-fleet.ts";

describe("mapBounded", () => {
  test("runs at most `limit` at once and keeps the items' order", async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapBounded([30, 5, 20, 1, 10, 2, 8], 3, async (ms, i) => {
      most = Math.max(most, ++inFlight);
      await Bun.sleep(ms);
      inFlight--;
      return i * 10;
    });
    expect(most).toBe(3);
    expect(out).toEqual([0, 10, 20, 30, 40, 50, 60].map((value) => ({ ok: true, value })));
  });
  test("a failure is its item's outcome; the others still run", async () => {
    const out = await mapBounded([1, 2, 3], 2, async (n) => {
      if (n === 2) throw new Error("two");
      return n;
    });
    expect(out[0]).toEqual({ ok: true, value: 1 });
    expect(out[1]!.ok).toBe(false);
    expect(String((out[1] as { error: unknown }).error)).toContain("two");
    expect(out[2]).toEqual({ ok: true, value: 3 });
  });
  test("no items, no calls; a limit below 1 is refused", async () => {
    expect(await mapBounded([], 5, async () => 1)).toEqual([]);
    await expect(mapBounded([1], 0, async () => 1)).rejects.toThrow("limit");
  });
});

describe("addTimeoutMs", () => {
  test("leaves every batch of joins its 10 s first-frame timeout, and grows with the count", () => {
    expect(addTimeoutMs(400)).toBeGreaterThan(Math.ceil(400 / JOIN_CONCURRENCY) * 10_000);
    expect(addTimeoutMs(1)).toBeGreaterThan(10_000);
    expect(addTimeoutMs(100)).toBeGreaterThan(addTimeoutMs(20));
  });
});
