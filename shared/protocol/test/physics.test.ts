import { describe, expect, test } from "bun:test";
import { type BallState, ballAt, distance, withSpeed } from "../src/physics.ts";

const box = { width: 640, height: 480, radius: 20, timeMs: 1_000_000 };
const state = (x: number, y: number, vx: number, vy: number): BallState => ({ ...box, x, y, vx, vy });

describe("ballAt", () => {
  test("moves in a straight line between edges", () => {
    const s = ballAt(state(100, 100, 200, -50), box.timeMs + 500);
    expect(s.x).toBeCloseTo(200, 9);
    expect(s.y).toBeCloseTo(75, 9);
    expect([s.vx, s.vy]).toEqual([200, -50]);
    expect(s.timeMs).toBe(box.timeMs + 500);
  });

  test("reflects exactly off the right and left edges (centre stays radius away)", () => {
    // 100 px of travel from 600: 20 px to the right limit (620), then 80 px back to 540.
    const r = ballAt(state(600, 240, 100, 0), box.timeMs + 1000);
    expect(r.x).toBeCloseTo(540, 9);
    expect(r.vx).toBe(-100);
    const l = ballAt(state(40, 240, -100, 0), box.timeMs + 500);
    expect(l.x).toBeCloseTo(50, 9);
    expect(l.vx).toBe(100);
  });

  test("reflects off the top and bottom edges", () => {
    const b = ballAt(state(320, 450, 0, 100), box.timeMs + 300);
    expect(b.y).toBeCloseTo(460 - 20, 9);
    expect(b.vy).toBe(-100);
    const t = ballAt(state(320, 30, 0, -100), box.timeMs + 300);
    expect(t.y).toBeCloseTo(40, 9);
    expect(t.vy).toBe(100);
  });

  test("a corner hit reverses both axes at once and comes straight back", () => {
    // Aimed at the bottom-right limit corner (620, 460) from 100 px away on each axis.
    const start = state(520, 360, 100, 100);
    const hit = ballAt(start, box.timeMs + 1000);
    expect(hit.x).toBeCloseTo(620, 9);
    expect(hit.y).toBeCloseTo(460, 9);
    const back = ballAt(start, box.timeMs + 1500);
    expect(back.x).toBeCloseTo(570, 9);
    expect(back.y).toBeCloseTo(410, 9);
    expect([back.vx, back.vy]).toEqual([-100, -100]);
  });

  test("many bounces later the ball is still inside and the motion is periodic", () => {
    const start = state(123, 77, 333, -271);
    for (let t = 0; t < 60_000; t += 997) {
      const s = ballAt(start, box.timeMs + t);
      expect(s.x).toBeGreaterThanOrEqual(20);
      expect(s.x).toBeLessThanOrEqual(620);
      expect(s.y).toBeGreaterThanOrEqual(20);
      expect(s.y).toBeLessThanOrEqual(460);
      expect(Math.abs(s.vx)).toBe(333);
      expect(Math.abs(s.vy)).toBe(271);
    }
    // x period: 2 * 600 / 333 s; after exactly one period the x-state repeats.
    const period = ((2 * 600) / 333) * 1000;
    const a = ballAt(start, box.timeMs + period);
    expect(a.x).toBeCloseTo(123, 6);
    expect(a.vx).toBe(333);
  });

  test("negative time runs the motion backwards, consistently with forward time", () => {
    const start = state(300, 200, 250, 180);
    const past = ballAt(start, box.timeMs - 4321);
    const again = ballAt(past, box.timeMs);
    expect(again.x).toBeCloseTo(300, 6);
    expect(again.y).toBeCloseTo(200, 6);
    expect([again.vx, again.vy]).toEqual([250, 180]);
  });

  test("composes: stepping in pieces equals one jump", () => {
    const start = state(50, 400, -777, 555);
    let s = start;
    for (let i = 1; i <= 100; i++) s = ballAt(s, box.timeMs + i * 33.3);
    const direct = ballAt(start, box.timeMs + 3330);
    expect(s.x).toBeCloseTo(direct.x, 6);
    expect(s.y).toBeCloseTo(direct.y, 6);
    expect([s.vx, s.vy]).toEqual([direct.vx, direct.vy]);
  });

  test("a box no larger than the ball pins the centre to the limit", () => {
    const s = ballAt({ ...state(20, 240, 100, 0), width: 40 }, box.timeMs + 1000);
    expect(s.x).toBe(20);
  });
});

describe("withSpeed", () => {
  test("keeps the direction and sets the speed", () => {
    const s = withSpeed(state(0, 0, 30, -40), 100);
    expect(s.vx).toBeCloseTo(60, 9);
    expect(s.vy).toBeCloseTo(-80, 9);
    expect(s.x).toBe(0);
  });

  test("speed zero stops the ball; a stopped ball restarts along the diagonal", () => {
    const stopped = withSpeed(state(0, 0, 30, -40), 0);
    expect(Math.hypot(stopped.vx, stopped.vy)).toBe(0);
    const restarted = withSpeed(stopped, 200);
    expect(restarted.vx).toBeCloseTo(200 / Math.SQRT2, 9);
    expect(restarted.vy).toBeCloseTo(200 / Math.SQRT2, 9);
  });

  test("a speed change mid-flight continues from the same position", () => {
    const start = state(100, 100, 300, 400);
    const mid = ballAt(start, box.timeMs + 200);
    const faster = withSpeed(mid, 1000);
    const later = ballAt(faster, mid.timeMs + 100);
    expect(later.x).toBeCloseTo(mid.x + 60, 9);
    expect(later.y).toBeCloseTo(mid.y + 80, 9);
  });
});

describe("distance", () => {
  test("is Euclidean", () => {
    expect(distance(0, 0, 3, 4)).toBe(5);
    expect(distance(1, 1, 1, 1)).toBe(0);
    expect(distance(-1, 2, 2, -2)).toBe(5);
  });
});
