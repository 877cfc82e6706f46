import { describe, expect, test } from "bun:test";
import { crfFor, gopFrames } from "../src/encoder-settings.ts";

describe("crfFor", () => {
  test("23 up to 30 fps, then +5 per doubling, to one decimal", () => {
    expect([1, 30, 60, 100, 120].map(crfFor)).toEqual([23, 23, 28, 31.7, 33]);
  });
});

describe("gopFrames", () => {
  test("keyframeIntervalS seconds of frames, at least one", () => {
    expect([gopFrames(30, 2), gopFrames(60, 2), gopFrames(1, 0.1), gopFrames(25, 1.5)]).toEqual([60, 120, 1, 38]);
  });
});
