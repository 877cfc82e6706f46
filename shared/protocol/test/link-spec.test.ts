import { describe, expect, test } from "bun:test";
import { DEFAULT_QUEUE_MS, MAX_LINK_SPEC_CHARS, formatLinkConditions, gilbertFor, parseLinkConditions } from "../src/link-spec.ts";

describe("parseLinkConditions", () => {
  test("reads every key with its units", () => {
    expect(parseLinkConditions("loss=1%,delay=50ms,jitter=5ms,reorder=on,rate=2mbit,queue=64kb,seed=7")).toEqual({
      loss: 0.01,
      delayMs: 50,
      jitterMs: 5,
      reorder: true,
      rateBps: 2e6,
      queueBytes: 65_536,
      seed: 7,
    });
    expect(parseLinkConditions("loss=0.05, delay=0.1s, jitter=500us, rate=800kbit, queue=1mb")).toEqual({
      loss: 0.05,
      delayMs: 100,
      jitterMs: 0.5,
      rateBps: 8e5,
      queueBytes: 1024 * 1024,
    });
    expect(parseLinkConditions("blackout=1s,blackout-at=10s,blackout-every=30s")).toEqual({ blackout: { durationMs: 1000, atMs: 10_000, everyMs: 30_000 } });
    expect(parseLinkConditions("blackout=250ms")).toEqual({ blackout: { durationMs: 250, atMs: 0 } });
  });

  test("empty, off and none are no impairment at all", () => {
    for (const spec of ["", "  ", "off", "none"]) expect(parseLinkConditions(spec)).toBeUndefined();
  });

  test("a queue as a time is that long at the rate; a rate alone gets a 50 ms queue, at least one packet", () => {
    expect(parseLinkConditions("rate=8mbit,queue=20ms")?.queueBytes).toBe(20_000);
    expect(parseLinkConditions("rate=8mbit")?.queueBytes).toBe(8e6 / 8 * DEFAULT_QUEUE_MS / 1000);
    expect(parseLinkConditions("rate=64kbit")?.queueBytes).toBe(1500);
  });

  test("loss with burst is Gilbert–Elliott with that average loss and mean burst", () => {
    expect(parseLinkConditions("loss=5%,burst=4")).toEqual({ gilbertElliott: gilbertFor(0.05, 4) });
    const ge = gilbertFor(0.05, 4);
    expect(ge.r).toBe(0.25);
    expect(ge.p / (ge.p + ge.r)).toBeCloseTo(0.05, 12);
    expect([ge.lossBad, ge.lossGood]).toEqual([1, 0]);
  });

  test("refuses what it cannot mean, naming the pair", () => {
    const bad: Array<[string, RegExp]> = [
      ["loss", /key=value/],
      ["loss=", /key=value/],
      ["los=1%", /unknown key/],
      ["loss=1%,loss=2%", /twice/],
      ["loss=120%", /0–100/],
      ["loss=-1", /≥ 0/],
      ["delay=50", /unit/],
      ["delay=5min", /unit/],
      ["rate=0mbit", /above 0/],
      ["rate=2mbps", /unit/],
      ["queue=64kb", /needs a "rate"/],
      ["burst=4", /needs a loss/],
      ["loss=5%,burst=0.5", /at least 1/],
      ["blackout-at=1s", /need a "blackout"/],
      ["blackout=1s,blackout-every=1s", /longer/],
      ["reorder=yes", /on or off/],
      ["seed=1.5", /integer/],
    ];
    for (const [spec, message] of bad) expect(() => parseLinkConditions(spec), spec).toThrow(message);
  });

  test("error texts stay short whatever the input, and an overlong spec is refused", () => {
    const long = "x".repeat(200);
    for (const spec of [`${long}=1`, `loss=${long}`, `${long}`, `reorder=${long}`]) {
      let message = "";
      try {
        parseLinkConditions(spec);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message.length, spec).toBeGreaterThan(0);
      expect(message.length, spec).toBeLessThan(200); // bounded: at most 32 characters of the input, and the list of keys
    }
    expect(() => parseLinkConditions(`delay=1ms,${" ".repeat(MAX_LINK_SPEC_CHARS)}`)).toThrow(/longer than/);
  });
});

describe("formatLinkConditions", () => {
  test("gives a canonical text that parses back to the same conditions", () => {
    for (const spec of ["loss=1%,delay=50ms,jitter=5ms,reorder=off,rate=2mbit,queue=64kb,seed=3", "loss=5%,burst=4", "blackout=1s,blackout-at=2s,blackout-every=10s", "rate=1.5mbit"]) {
      const conditions = parseLinkConditions(spec);
      expect(conditions).toBeDefined();
      const text = formatLinkConditions(conditions ?? {});
      const again = parseLinkConditions(text) ?? {};
      expect(formatLinkConditions(again)).toBe(text);
      expect(again.rateBps).toBe(conditions?.rateBps);
      expect(again.gilbertElliott?.r).toBe(conditions?.gilbertElliott?.r);
    }
    expect(formatLinkConditions(parseLinkConditions("loss=1%,delay=50ms,rate=2mbit,queue=64kb") ?? {})).toBe("loss=1%,delay=50ms,rate=2000kbit,queue=65536b");
  });
});

