import { describe, expect, test } from "bun:test";
import { FrameSchedule } from "../src/schedule.ts";

/** Drives a schedule with a fake clock: at each time in `times`, takes a frame if one is due. */
function run(s: FrameSchedule, times: number[]) {
  return times.map((t) => s.take(t)).filter((f) => f !== undefined);
}

describe("FrameSchedule", () => {
  test("frame k is due at start + k/fps, with no drift however late the wake-ups are", () => {
    const s = new FrameSchedule(1000, 50); // 20 ms
    expect(s.nextDueMs).toBe(1000);
    expect(s.take(999.9)).toBeUndefined();
    // Wake-ups 3 ms late every time: capture times stay on the grid.
    const frames = run(s, Array.from({ length: 100 }, (_, k) => 1000 + k * 20 + 3));
    expect(frames.map((f) => f.captureTimeMs)).toEqual(Array.from({ length: 100 }, (_, k) => 1000 + k * 20));
    expect(frames.every((f) => f.lateMs === 3 && f.skipped === 0)).toBe(true);
    expect(s.nextDueMs).toBe(1000 + 100 * 20);
    expect([s.frames, s.skipped]).toEqual([100, 0]);
  });

  test("a frame is taken once: a second poll in the same slot gets nothing", () => {
    const s = new FrameSchedule(0, 10);
    expect(s.take(5)?.captureTimeMs).toBe(0);
    expect(s.take(50)).toBeUndefined();
    expect(s.take(100)?.captureTimeMs).toBe(100);
  });

  test("when a whole interval or more behind, it skips ahead instead of bursting", () => {
    const s = new FrameSchedule(0, 100); // 10 ms
    expect(s.take(0)?.captureTimeMs).toBe(0);
    const f = s.take(57); // slots 10..50 passed; 50 is the latest due
    expect(f).toEqual({ captureTimeMs: 50, lateMs: 7, skipped: 4 });
    expect(s.take(57)).toBeUndefined();
    expect(s.nextDueMs).toBe(60);
    expect([s.frames, s.skipped]).toEqual([2, 4]);
  });

  test("late by less than an interval: the frame is taken late, nothing skipped", () => {
    const s = new FrameSchedule(0, 100);
    s.take(0);
    expect(s.take(19.9)).toEqual({ captureTimeMs: 10, lateMs: 9.899999999999999, skipped: 0 });
  });

  test("an fps change continues one new interval after the last frame", () => {
    const s = new FrameSchedule(0, 10); // 100 ms
    s.take(0);
    s.take(100);
    s.setFps(50, 130); // 20 ms from now on, anchored at the last frame (100)
    expect(s.intervalMs).toBe(20);
    expect(s.nextDueMs).toBe(120);
    const frames = run(s, [130, 140, 160, 180]);
    expect(frames.map((f) => f.captureTimeMs)).toEqual([120, 140, 160, 180]);
    s.setFps(1, 185);
    expect(s.nextDueMs).toBe(1180);
  });

  test("an fps change before the first frame starts the schedule at that moment", () => {
    const s = new FrameSchedule(500, 10);
    s.setFps(20, 200);
    expect(s.nextDueMs).toBe(200);
    expect(s.take(200)?.captureTimeMs).toBe(200);
    expect(s.nextDueMs).toBe(250);
  });

  test("capture times never come closer than one interval, even across fps changes", () => {
    const s = new FrameSchedule(0, 120);
    const times: number[] = [];
    let t = 0;
    for (let i = 0; i < 2000; i++) {
      t += (i * 7919) % 13;
      if (i % 97 === 0) s.setFps(1 + ((i * 31) % 120), t);
      const f = s.take(t);
      if (f) times.push(f.captureTimeMs);
    }
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000 / 120 - 1e-9);
  });

  test("refuses a non-positive fps", () => {
    expect(() => new FrameSchedule(0, 0)).toThrow(/fps/);
    expect(() => new FrameSchedule(0, 10).setFps(Number.NaN, 0)).toThrow(/fps/);
  });
});
