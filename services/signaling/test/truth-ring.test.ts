import { describe, expect, test } from "bun:test";
import { rtpTimestampFromCaptureTime } from "@ballstream/protocol";
import { TRUTH_RING_MAX_ENTRIES, TRUTH_RING_WINDOW_MS, TruthRing } from "../src/truth-ring.ts";
import { truthAt } from "./fixtures.ts";

const T0 = 1_750_000_000_000;

describe("TruthRing", () => {
  test("finds a truth by the RTP timestamp of its capture time", () => {
    const ring = new TruthRing();
    const t = truthAt(7, T0 + 33.3);
    ring.add(t);
    expect(ring.get(rtpTimestampFromCaptureTime(T0 + 33.3))).toBe(t);
    expect(ring.get(rtpTimestampFromCaptureTime(T0))).toBeUndefined();
  });

  test("keeps about the window's worth of frames and evicts older ones", () => {
    const ring = new TruthRing();
    const fps = 60;
    for (let i = 0; i < 5 * fps; i++) ring.add(truthAt(i, T0 + (i * 1000) / fps));
    const newest = T0 + ((5 * fps - 1) * 1000) / fps;
    expect(ring.size).toBe(Math.floor((TRUTH_RING_WINDOW_MS * fps) / 1000) + 1);
    expect(ring.get(rtpTimestampFromCaptureTime(newest - TRUTH_RING_WINDOW_MS))).toBeDefined();
    expect(ring.get(rtpTimestampFromCaptureTime(newest - TRUTH_RING_WINDOW_MS - 1000 / fps))).toBeUndefined();
  });

  test("never holds more than the entry cap", () => {
    const ring = new TruthRing(TRUTH_RING_WINDOW_MS, 10);
    for (let i = 0; i < 50; i++) ring.add(truthAt(i, T0 + i));
    expect(ring.size).toBe(10);
    expect(ring.get(rtpTimestampFromCaptureTime(T0 + 49))?.frameId).toBe(49);
    expect(ring.get(rtpTimestampFromCaptureTime(T0 + 39))).toBeUndefined();
    expect(TRUTH_RING_MAX_ENTRIES).toBeGreaterThanOrEqual(240);
  });

  test("latest is the newest capture time, even if an older truth arrives late", () => {
    const ring = new TruthRing();
    expect(ring.latest).toBeUndefined();
    ring.add(truthAt(2, T0 + 66));
    ring.add(truthAt(1, T0 + 33));
    expect(ring.latest?.frameId).toBe(2);
    expect(ring.get(rtpTimestampFromCaptureTime(T0 + 33))?.frameId).toBe(1);
  });

  test("matches a timestamp across the 32-bit wrap", () => {
    const ring = new TruthRing();
    const wrapMs = (2 ** 32 * 1000) / 90_000;
    const t = truthAt(1, wrapMs * 400_000 + 5);
    ring.add(t);
    expect(ring.get(rtpTimestampFromCaptureTime(t.captureTimeMs))).toBe(t);
    expect(rtpTimestampFromCaptureTime(t.captureTimeMs)).toBeLessThan(2 ** 32);
  });

  test("awaits a frame newer than every truth (up to 1 s ahead, across the 32-bit wrap), not one held or older", () => {
    const ring = new TruthRing();
    expect(ring.awaits(rtpTimestampFromCaptureTime(T0))).toBe(false); // no truth yet: nothing to wait for
    ring.add(truthAt(3, T0));
    expect(ring.awaits(rtpTimestampFromCaptureTime(T0 + 33.3))).toBe(true);
    expect(ring.awaits(rtpTimestampFromCaptureTime(T0 + 999))).toBe(true);
    expect(ring.awaits(rtpTimestampFromCaptureTime(T0 + 1001))).toBe(false);
    expect(ring.awaits(rtpTimestampFromCaptureTime(T0))).toBe(false);
    expect(ring.awaits(rtpTimestampFromCaptureTime(T0 - 33.3))).toBe(false);
    const wrap = (2 ** 32 * 1000 * 18_000) / 90_000; // the 18 000th wrap of the 90 kHz clock
    const beforeWrap = new TruthRing();
    beforeWrap.add(truthAt(1, wrap - 10));
    expect(beforeWrap.awaits(rtpTimestampFromCaptureTime(wrap + 20))).toBe(true);
    expect(beforeWrap.awaits(rtpTimestampFromCaptureTime(wrap - 40))).toBe(false);
  });
});
