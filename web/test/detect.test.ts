import { describe, expect, test } from "bun:test";
import { detectBall, detectBallRgba, rgbaToLuma } from "../src/lib/detect.ts";
import { lumaFrame, noiseSource, rgbaFrame } from "./synthetic.ts";

const R = 24;

function expectNear(d: { found: boolean; x: number; y: number }, x: number, y: number, tolerance: number): void {
  expect(d.found).toBe(true);
  expect(Math.abs(d.x - x)).toBeLessThan(tolerance);
  expect(Math.abs(d.y - y)).toBeLessThan(tolerance);
}

describe("detectBall", () => {
  test("finds sub-pixel centres of a clean anti-aliased disc to 0.02 px", () => {
    const rand = noiseSource(42, 1000);
    for (let i = 0; i < 12; i++) {
      const cx = 100 + 440 * ((rand() + 1000) / 2000) + 0.137 * i;
      const cy = 80 + 320 * ((rand() + 1000) / 2000) + 0.291 * i;
      const d = detectBall(lumaFrame(cx, cy, R));
      expectNear(d, cx, cy, 0.02);
      expect(d.area).toBeCloseTo(Math.PI * R * R, -1);
    }
  });

  test("stays within 0.5 px with codec-like noise (±4 levels)", () => {
    for (const [cx, cy] of [[320.3, 240.7], [61.9, 400.25], [577.5, 33.33]] as const) {
      expectNear(detectBall(lumaFrame(cx!, cy!, R, { noise: 4, seed: Math.round(cx! * 10) })), cx!, cy!, 0.5);
    }
  });

  test("the generator's noise and texture scenes (±8 luma under the ball): within 0.1 px, edges included", () => {
    const centres = [[320.3, 240.7], [61.9, 400.25], [577.5, 33.33], [R, R], [640 - R, 480 - R], [200.77, 120.12]] as const;
    for (const [i, [cx, cy]] of centres.entries()) {
      expectNear(detectBall(lumaFrame(cx, cy, R, { scene: "noise", seed: i + 1 })), cx, cy, 0.1);
      expectNear(detectBall(lumaFrame(cx, cy, R, { scene: "noise", noise: 4, seed: i + 1 })), cx, cy, 0.1);
      expectNear(detectBall(lumaFrame(cx, cy, R, { scene: "texture", seed: 5 * i })), cx, cy, 0.1);
    }
    expect(detectBall(lumaFrame(0, 0, 0, { scene: "noise" })).found).toBe(false);
    expect(detectBall(lumaFrame(0, 0, 0, { scene: "texture" })).found).toBe(false);
  });

  test("a texture whose two levels are minContrast apart (x264 starved of bits): the ball, not the other squares", () => {
    const frame = lumaFrame(250.4, 300.6, R, { scene: "texture" });
    frame.data.forEach((v, i) => v === 25 && (frame.data[i] = 17)); // dark squares 24 below the light ones (41)
    expectNear(detectBall(frame), 250.4, 300.6, 0.25); // its edge still blends from 25: a little off, by design of the test
  });

  test("ball touching edges and corners", () => {
    const w = 640;
    const h = 480;
    for (const [cx, cy] of [[R, R], [w - R, R], [R, h - R], [w - R, h - R], [R, 240.4], [320.6, h - R]] as const) {
      expectNear(detectBall(lumaFrame(cx!, cy!, R)), cx!, cy!, 0.02);
    }
  });

  test("small radius and a dark ball on a bright background", () => {
    expectNear(detectBall(lumaFrame(200.4, 100.8, 3)), 200.4, 100.8, 0.05);
    expectNear(detectBall(lumaFrame(410.7, 300.2, R, { ball: 20, background: 200 })), 410.7, 300.2, 0.02);
  });

  test("honours a stride wider than the width", () => {
    expectNear(detectBall(lumaFrame(123.4, 234.5, R, { stride: 704 })), 123.4, 234.5, 0.02);
  });

  test("a window of a noisy scene in which the ball's one level outnumbers every background level (detect-window.ts)", () => {
    // 104×104 around the ball: 1,800 px of ball at one level against ~550 per background level (±8 luma)
    for (const [i, [cx, cy]] of [[300.3, 200.6], [30.2, 25.9]].entries()) {
      const frame = lumaFrame(cx!, cy!, R, { scene: "noise", seed: i + 3 });
      const x0 = Math.max(0, 2 * Math.floor((cx! - 52) / 2));
      const y0 = Math.max(0, 2 * Math.floor((cy! - 52) / 2));
      const d = detectBall({ data: frame.data.subarray(y0 * 640 + x0), width: 104, height: 104, stride: 640 });
      expectNear({ ...d, x: d.x + x0, y: d.y + y0 }, cx!, cy!, 0.1);
    }
  });

  test("no ball → not found (flat and noisy frames, too little contrast)", () => {
    expect(detectBall(lumaFrame(0, 0, 0)).found).toBe(false);
    expect(detectBall(lumaFrame(0, 0, 0, { noise: 4 })).found).toBe(false);
    expect(detectBall(lumaFrame(300, 200, R, { ball: 45, background: 33 })).found).toBe(false);
  });

  test("a disc too small for minArea is not found", () => {
    expect(detectBall(lumaFrame(300.5, 200.5, 2), { minArea: 50 }).found).toBe(false);
  });

  test("rejects a buffer too small for the plane", () => {
    expect(() => detectBall({ data: new Uint8Array(100), width: 640, height: 480 })).toThrow(RangeError);
  });
});

describe("RGBA input", () => {
  const ball = [0xff, 0x5a, 0x1f];
  const background = [0x10, 0x14, 0x1c];

  test("detectBallRgba finds the default-coloured ball to 0.05 px", () => {
    expectNear(detectBallRgba(rgbaFrame(333.3, 222.2, R, ball, background), 640, 480), 333.3, 222.2, 0.05);
    expect(detectBallRgba(rgbaFrame(-100, -100, R, ball, background), 640, 480).found).toBe(false);
  });

  test("rgbaToLuma uses BT.601 weights and checks sizes", () => {
    const out = rgbaToLuma(new Uint8ClampedArray([255, 255, 255, 255, 255, 0, 0, 255, 0, 255, 0, 255]), 3, 1, new Uint8Array(3));
    expect([...out]).toEqual([255, 76, 149]);
    expect(() => rgbaToLuma(new Uint8ClampedArray(8), 3, 1)).toThrow(RangeError);
    expect(() => rgbaToLuma(new Uint8ClampedArray(12), 3, 1, new Uint8Array(2))).toThrow(RangeError);
  });
});
