import { describe, expect, test } from "bun:test";
import { PerAddressCounter, PerAddressRate, TokenBucket } from "../src/rate-limit.ts";

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

  test("full says whether acquire would refuse, without taking anything", () => {
    const c = new PerAddressCounter(1);
    expect(c.full("10.0.0.1")).toBe(false);
    expect(c.count("10.0.0.1")).toBe(0);
    c.acquire("10.0.0.1");
    expect(c.full("10.0.0.1")).toBe(true);
    expect(c.full("10.0.0.2")).toBe(false);
    c.release("10.0.0.1");
    expect(c.full("10.0.0.1")).toBe(false);
  });

  test("hostOf strips the port, keeps IPv6 brackets", () => {
    expect(PerAddressCounter.hostOf("127.0.0.1:4433")).toBe("127.0.0.1");
    expect(PerAddressCounter.hostOf("[::1]:5000")).toBe("[::1]");
    expect(PerAddressCounter.hostOf("nohost")).toBe("nohost");
  });
});

describe("TokenBucket.full", () => {
  test("is true until a token is taken and again once the burst has refilled", () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    expect(bucket.full).toBe(true);
    bucket.take();
    expect(bucket.full).toBe(false);
    now += 100;
    expect(bucket.full).toBe(true);
  });
});

describe("PerAddressRate", () => {
  test("each address has its own burst and rate", () => {
    let now = 0;
    const rate = new PerAddressRate(2, 3, 10, () => now);
    expect([1, 2, 3, 4].map(() => rate.take("10.0.0.1"))).toEqual([true, true, true, false]);
    expect(rate.take("10.0.0.2")).toBe(true);
    now += 500; // one token at 2/s
    expect([rate.take("10.0.0.1"), rate.take("10.0.0.1")]).toEqual([true, false]);
  });

  test("forgets refilled addresses once maxAddresses are held, keeps the ones still limited", () => {
    let now = 0;
    const rate = new PerAddressRate(1, 1, 3, () => now);
    for (const host of ["a", "b", "c"]) rate.take(host);
    now += 1000; // a, b and c have refilled
    rate.take("c");
    rate.take("d");
    expect(rate.size).toBe(2); // a and b forgotten; c (just taken) kept
    expect(rate.take("c")).toBe(false);
  });

  test("refuses bad settings at once", () => {
    expect(() => new PerAddressRate(0, 1)).toThrow(RangeError);
  });
});
