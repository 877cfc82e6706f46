import { describe, expect, test } from "bun:test";
import { LogThrottle } from "../src/log-throttle.ts";

describe("LogThrottle", () => {
  test("writes the first hit, counts hits within the interval, reports them with the next written line", () => {
    let now = 0;
    const throttle = new LogThrottle(1000, () => now);
    const written: number[] = [];
    const write = (suppressed: number) => written.push(suppressed);
    expect(throttle.hit(write)).toBe(true);
    now = 10;
    expect(throttle.hit(write)).toBe(false);
    now = 999;
    expect(throttle.hit(write)).toBe(false);
    now = 1000;
    expect(throttle.hit(write)).toBe(true);
    now = 2500;
    expect(throttle.hit(write)).toBe(true);
    expect(written).toEqual([0, 2, 0]);
  });
});
