import { describe, expect, test } from "bun:test";
import { KeyframeCoalescer } from "../src/keyframe-coalescer.ts";

describe("KeyframeCoalescer", () => {
  test("a request is honoured at once when the last keyframe is old enough", () => {
    const c = new KeyframeCoalescer(200);
    expect(c.take(0)).toBe(false); // nothing asked
    c.request();
    expect(c.take(0)).toBe(true);
    expect(c.pending).toBe(false);
  });

  test("requests repeated within the gap give one keyframe when the gap has passed, none lost", () => {
    const c = new KeyframeCoalescer(200);
    c.request();
    expect(c.take(1000)).toBe(true);
    const taken = [1010, 1050, 1100, 1150, 1199].map((t) => {
      c.request();
      return c.take(t);
    });
    expect(taken).toEqual([false, false, false, false, false]);
    expect(c.pending).toBe(true);
    expect(c.take(1200)).toBe(true);
    expect(c.take(1500)).toBe(false); // all those requests were one keyframe
  });

  test("a keyframe made for another reason answers a waiting request and restarts the gap", () => {
    const c = new KeyframeCoalescer(200);
    c.request();
    c.made(500);
    expect(c.pending).toBe(false);
    expect(c.ready(650)).toBe(false);
    expect(c.ready(700)).toBe(true);
  });
  test("readyInMs counts down the gap from the last keyframe, 0 before any and once it has passed", () => {
    const k = new KeyframeCoalescer(500);
    expect(k.readyInMs(0)).toBe(0);
    k.made(1000);
    expect(k.readyInMs(1200)).toBe(300);
    expect(k.readyInMs(1500)).toBe(0);
    expect(k.readyInMs(2000)).toBe(0);
  });
});
