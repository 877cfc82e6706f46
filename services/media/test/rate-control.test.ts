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
  test("maxrate is the target, bufsize one frame of it up to 30 fps, 33 ms of it above", () => {
    expect(vbvArgs(2000, 30)).toEqual(["-maxrate", "2000k", "-bufsize", "67k"]);
    expect(vbvArgs(600, 10)).toEqual(["-maxrate", "600k", "-bufsize", "60k"]);
    expect(vbvArgs(600, 120)).toEqual(["-maxrate", "600k", "-bufsize", "20k"]);
    expect(vbvArgs(10, 30)[3]).toBe("1k");
  });
});

describe("targetFromRemb", () => {
  const limits = { maxKbps: 2000, minKbps: 150 };
  test("a sender using its budget follows the estimate (95 % of it), down and up, within the limits", () => {
    expect(targetFromRemb(2000, 878, 1574, limits)).toBe(834);
    expect(targetFromRemb(790, 1011, 682, limits)).toBe(960);
    expect(targetFromRemb(2000, 100, 1500, limits)).toBe(150);
    expect(targetFromRemb(2000, 5000, 1900, limits)).toBe(2000);
  });

  test("an app-limited sender (under half its target) climbs back stepwise to the ceiling, whatever REMB says", () => {
    expect(targetFromRemb(2000, 136, 141, limits)).toBe(2000); // Chromium's REMB for a ball: its own rate
    expect(targetFromRemb(800, 300, 200, limits)).toBe(800 * BITRATE_INCREASE);
    expect(targetFromRemb(1800, 300, 200, limits)).toBe(2000);
  });
});
