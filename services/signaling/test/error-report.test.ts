import { describe, expect, test } from "bun:test";
import { type Coordinates, rtpTimestampFromCaptureTime } from "@ballstream/protocol";
import { buildErrorReport } from "../src/error-report.ts";
import { TruthRing } from "../src/truth-ring.ts";
import { truthAt } from "./fixtures.ts";

const T0 = 1_750_000_000_000;

function coords(captureTimeMs: number, x: number, y: number, found = true): Coordinates {
  return { rtpTimestamp: rtpTimestampFromCaptureTime(captureTimeMs), found, x, y, decodedAtMs: captureTimeMs + 20, detectMs: 0.5 };
}

describe("buildErrorReport", () => {
  test("nothing to report before the first truth", () => {
    expect(buildErrorReport(coords(T0, 1, 1), T0 + 10, new TruthRing())).toBeUndefined();
  });

  test("frame-matched error, real-time error by physics and latency", () => {
    const ring = new TruthRing();
    ring.add(truthAt(0, T0, 100, 200));
    ring.add(truthAt(1, T0 + 100, 110, 200));
    // The page saw frame 0 and found the ball 3-4-5 px off; it arrives 400 ms after frame 0 was captured.
    const r = buildErrorReport(coords(T0, 103, 204), T0 + 400, ring)!;
    expect(r.frameMatched).toBe(true);
    expect(r.found).toBe(true);
    expect(r.frameId).toBe(0);
    expect(r.frameTruthX).toBe(100);
    expect(r.frameErrorPx).toBeCloseTo(5, 9);
    // Ball now: latest truth (110 at T0+100) + 300 ms × 100 px/s = 140.
    expect(r.nowTruthX).toBeCloseTo(140, 9);
    expect(r.nowTruthY).toBe(200);
    expect(r.realtimeErrorPx).toBeCloseTo(Math.hypot(37, 4), 9);
    expect(r.latencyMs).toBeCloseTo(400, 6);
    expect(r.captureTimeMs).toBe(T0);
    expect(r.arrivalMs).toBe(T0 + 400);
  });

  test("real-time truth reflects off the frame edge", () => {
    const ring = new TruthRing();
    ring.add(truthAt(0, T0, 610, 200, 100, 0)); // 10 px from the right bound (640 - 20)
    const r = buildErrorReport(coords(T0, 610, 200), T0 + 300, ring)!;
    expect(r.nowTruthX).toBeCloseTo(600, 9);
    expect(r.realtimeErrorPx).toBeCloseTo(10, 9);
  });

  test("unknown frame: frame fields NaN, real-time error still computed", () => {
    const ring = new TruthRing();
    ring.add(truthAt(5, T0, 100, 200));
    const r = buildErrorReport(coords(T0 - 5000, 100, 200), T0, ring)!;
    expect(r.frameMatched).toBe(false);
    expect(r.frameErrorPx).toBeNaN();
    expect(r.latencyMs).toBeNaN();
    expect(r.frameTruthX).toBeNaN();
    expect(r.realtimeErrorPx).toBeCloseTo(0, 9);
  });

  test("ball not found: distances NaN, latency still known", () => {
    const ring = new TruthRing();
    ring.add(truthAt(0, T0, 100, 200));
    const r = buildErrorReport(coords(T0, 0, 0, false), T0 + 50, ring)!;
    expect(r.found).toBe(false);
    expect(r.realtimeErrorPx).toBeNaN();
    expect(r.frameErrorPx).toBeNaN();
    expect(r.latencyMs).toBeCloseTo(50, 6);
  });
});
