import { describe, expect, test } from "bun:test";
import { OwnStalls, excuse } from "../src/own-stalls.ts";

describe("OwnStalls", () => {
  test("ticks on time, or late by up to one more interval, are no hold-up", () => {
    const stalls = new OwnStalls(250, 1000);
    expect(stalls.tick(1250)).toBe(0);
    expect(stalls.tick(1500)).toBe(0);
    expect(stalls.tick(2000)).toBe(0); // 250 ms late: jitter, a busy moment
    expect(stalls.tick(2240)).toBe(0); // early
  });

  test("a tick later than that: the time past its due time is the hold-up, counted from the previous tick", () => {
    const stalls = new OwnStalls(250, 1000);
    expect(stalls.tick(1250)).toBe(0);
    expect(stalls.tick(2700)).toBe(1200); // due at 1500
    expect(stalls.tick(2950)).toBe(0); // on time again after it
    expect(stalls.tick(3451)).toBe(251);
  });
});

describe("excuse", () => {
  test("moves the last time a peer was heard on by the hold-up, never past now; no hold-up changes nothing", () => {
    expect(excuse(1000, 0, 2700)).toBe(1000);
    expect(excuse(1000, 1200, 2700)).toBe(2200);
    expect(excuse(2500, 1200, 2700)).toBe(2700);
  });
});
