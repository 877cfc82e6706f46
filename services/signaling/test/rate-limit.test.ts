import { describe, expect, test } from "bun:test";
import { PerAddressCounter, TokenBucket } from "../src/rate-limit.ts";

describe("TokenBucket", () => {
  test("allows a burst, then the rate", () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now += 100; // one token at 10/s
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now += 10_000; // refills only up to the burst
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });

  test("refuses bad settings", () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
    expect(() => new TokenBucket(5, 0)).toThrow(RangeError);
  });
});

describe("PerAddressCounter", () => {
  test("caps sessions per host and releases them", () => {
    const c = new PerAddressCounter(2);
    expect([c.acquire("10.0.0.1"), c.acquire("10.0.0.1"), c.acquire("10.0.0.1"), c.acquire("10.0.0.2")]).toEqual([true, true, false, true]);
    c.release("10.0.0.1");
    expect(c.count("10.0.0.1")).toBe(1);
    expect(c.acquire("10.0.0.1")).toBe(true);
    c.release("10.0.0.2");
    expect(c.count("10.0.0.2")).toBe(0);
  });

  test("hostOf strips the port, keeps IPv6 brackets", () => {
    expect(PerAddressCounter.hostOf("127.0.0.1:4433")).toBe("127.0.0.1");
    expect(PerAddressCounter.hostOf("[::1]:5000")).toBe("[::1]");
    expect(PerAddressCounter.hostOf("nohost")).toBe("nohost");
  });
});
