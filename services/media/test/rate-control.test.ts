import { describe, expect, test } from "bun:test";
import { BITRATE_DEAD_BAND, BITRATE_INCREASE, bitrateChange, targetFromRemb, vbvArgs } from "../src/rate-control.ts";

describe("bitrateChange", () => {
  test("changes within the dead band are ignored; beyond it a decrease is 'down', an increase 'up'", () => {
    expect(BITRATE_DEAD_BAND).toBe(0.15);
    expect(bitrateChange(1000, 1000)).toBeNull();
    expect(bitrateChange(1000, 860)).toBeNull();
    expect(bitrateChange(1000, 1140)).toBeNull();
    expect(bitrateChange(1000, 840)).toBe("down");
    expect(bitrateChange(1000, 1160)).toBe("up");
    expect(bitrateChange(1000, 1040, 0.02)).toBe("up");
  });
});

describe("vbvArgs", () => {
  test("maxrate is the target, bufsize one frame of it", () => {
    expect(vbvArgs(2000, 30)).toEqual(["-maxrate", "2000k", "-bufsize", "67k"]);
    expect(vbvArgs(600, 120)).toEqual(["-maxrate", "600k", "-bufsize", "5k"]);
    expect(vbvArgs(50, 120)[3]).toBe("1k");
  });
});

describe("targetFromRemb", () => {
  const limits = { maxKbps: 2000, minKbps: 150 };
  test("an estimate below the sent rate (well below: over-use) takes the target to 90 % of it, not below the floor", () => {
    expect(targetFromRemb(2000, 800, 1500, limits)).toBe(720);
    expect(targetFromRemb(2000, 136, 141, limits)).toBe(2000); // Chromium's REMB for an app-limited ball: not over-use
    expect(targetFromRemb(2000, 100, 1500, limits)).toBe(150);
  });

  test("an estimate above the sent rate raises the target stepwise up to the ceiling, never lowers it", () => {
    expect(targetFromRemb(720, 900, 700, limits)).toBe(720 * BITRATE_INCREASE);
    expect(targetFromRemb(1800, 1900, 1700, limits)).toBe(2000);
    expect(targetFromRemb(2000, 250, 160, limits)).toBe(2000); // a ball at 160 kbit/s keeps its ceiling
  });
});
