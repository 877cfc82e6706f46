import { describe, expect, test } from "bun:test";
import { DEFAULT_SETTINGS, ballAt } from "@ballstream/protocol";
import { decodeFrame, decodeTruth } from "@ballstream/runtime";
import { hexToYuv } from "../src/raster.ts";
import { FrameRenderer, initialBallState } from "../src/renderer.ts";
import { centroid } from "./helpers.ts";

const SID = "Zm9vYmFyYmF6cXV4MTIzNA";
const T0 = 1_764_000_000_000;

describe("initialBallState", () => {
  test("starts at the centre moving at the configured speed, not along a diagonal", () => {
    const s = initialBallState(DEFAULT_SETTINGS, T0);
    expect([s.x, s.y, s.timeMs, s.width, s.height, s.radius]).toEqual([320, 240, T0, 640, 480, 24]);
    expect(Math.hypot(s.vx, s.vy)).toBeCloseTo(DEFAULT_SETTINGS.speed, 9);
    expect(Math.abs(Math.abs(s.vx) - Math.abs(s.vy))).toBeGreaterThan(1);
  });
});

describe("FrameRenderer", () => {
  test("draws the settings' scene: noise is fresh in every frame, texture moves with the capture time", () => {
    const corner = (r: FrameRenderer, t: number) => decodeFrame(r.render(t).frame).pixels.slice(0, 64); // far from the ball
    const flat = new FrameRenderer(SID, DEFAULT_SETTINGS, T0);
    expect(corner(flat, T0)).toEqual(corner(flat, T0 + 33));
    const noise = new FrameRenderer(SID, { ...DEFAULT_SETTINGS, scene: "noise" }, T0);
    expect(corner(noise, T0)).not.toEqual(corner(noise, T0));
    const texture = new FrameRenderer(SID, { ...DEFAULT_SETTINGS, scene: "texture" }, T0);
    expect(corner(texture, T0)).toEqual(corner(texture, T0));
    expect(corner(texture, T0)).not.toEqual(corner(texture, T0 + 100));
  });

  test("each frame and its truth decode, agree with each other, with physics and with the pixels", () => {
    const r = new FrameRenderer(SID, DEFAULT_SETTINGS, T0);
    const start = initialBallState(DEFAULT_SETTINGS, T0);
    const bg = hexToYuv(DEFAULT_SETTINGS.backgroundColor);
    const ball = hexToYuv(DEFAULT_SETTINGS.ballColor);
    for (let k = 0; k < 40; k++) {
      const t = T0 + k * 97.3;
      const out = r.render(t);
      const truth = decodeTruth(out.truth);
      const frame = decodeFrame(out.frame);
      expect([out.frameId, out.captureTimeMs, truth.frameId, truth.sessionId, truth.captureTimeMs]).toEqual([k, t, k, SID, t]);
      const expected = ballAt(start, t);
      expect(truth.x).toBeCloseTo(expected.x, 9);
      expect(truth.y).toBeCloseTo(expected.y, 9);
      expect([frame.x, frame.y, frame.vx, frame.vy, frame.radius]).toEqual([truth.x, truth.y, truth.vx, truth.vy, truth.radius]);
      const c = centroid(frame.pixels.subarray(0, 640 * 480), 640, 480, bg.y, ball.y);
      expect(Math.abs(c.x - truth.x)).toBeLessThan(0.5);
      expect(Math.abs(c.y - truth.y)).toBeLessThan(0.5);
    }
  });

  test.each([
    ["flat", 3],
    ["texture", 2],
  ] as const)("with zstd, %s frames (a patch / compressed pixels) decode to exactly what the raw renderer draws", (scene, format) => {
    const settings = { ...DEFAULT_SETTINGS, scene };
    const raw = new FrameRenderer(SID, settings, T0);
    const packed = new FrameRenderer(SID, settings, T0, "zstd");
    for (let k = 0; k < 5; k++) {
      const a = raw.render(T0 + k * 33.3);
      const b = packed.render(T0 + k * 33.3);
      expect(b.frame[5]).toBe(format);
      expect(b.frame.length).toBeLessThan(a.frame.length / 50);
      expect(b.truth).toEqual(a.truth);
      const { pixels: pa, ...ha } = decodeFrame(a.frame);
      const { pixels: pb, flat, ...hb } = decodeFrame(b.frame);
      expect(hb).toEqual(ha);
      expect(flat !== undefined).toBe(format === 3);
      expect(Buffer.from(pb).equals(Buffer.from(pa))).toBe(true);
    }
  });

  test("a takeover (resume) continues the trajectory and the frame ids of the renderer it replaces", () => {
    const first = new FrameRenderer(SID, DEFAULT_SETTINGS, T0);
    let last = decodeTruth(first.render(T0).truth);
    for (let k = 1; k < 50; k++) last = decodeTruth(first.render(T0 + k * 33.3).truth);
    // the new renderer starts later (another process) from the last truth signaling had
    const resume = { ball: { x: last.x, y: last.y, vx: last.vx, vy: last.vy, timeMs: last.captureTimeMs, width: last.width, height: last.height, radius: last.radius }, nextFrameId: last.frameId + 1 };
    const next = new FrameRenderer(SID, DEFAULT_SETTINGS, T0 + 5000, "none", resume);
    for (const t of [T0 + 1700, T0 + 2500, T0 + 9000]) {
      const a = decodeTruth(next.render(t).truth);
      const expected = first.ballAt(t);
      expect(a.x).toBeCloseTo(expected.x, 6);
      expect(a.y).toBeCloseTo(expected.y, 6);
    }
    expect(decodeTruth(new FrameRenderer(SID, DEFAULT_SETTINGS, T0, "none", resume).render(T0 + 2000).truth).frameId).toBe(50);
  });

  test("a speed change keeps the trajectory continuous and changes only the pace", () => {
    const r = new FrameRenderer(SID, DEFAULT_SETTINGS, T0);
    const before = r.ballAt(T0 + 1000);
    r.update({ speed: 640 }, T0 + 1000);
    const at = r.ballAt(T0 + 1000);
    expect(at.x).toBeCloseTo(before.x, 9);
    expect(at.y).toBeCloseTo(before.y, 9);
    expect(Math.hypot(at.vx, at.vy)).toBeCloseTo(640, 9);
    expect(Math.atan2(at.vy, at.vx)).toBeCloseTo(Math.atan2(before.vy, before.vx), 9);
    const truth = decodeTruth(r.render(T0 + 1010).truth);
    expect(Math.hypot(truth.vx, truth.vy)).toBeCloseTo(640, 9);
    r.update({ speed: 0 }, T0 + 2000);
    const a = decodeTruth(r.render(T0 + 2000).truth);
    const b = decodeTruth(r.render(T0 + 9000).truth);
    expect([b.x, b.y]).toEqual([a.x, a.y]);
  });

  test("frames carry the session's fps; an fps change reaches the frames that follow and leaves the ball alone", () => {
    const r = new FrameRenderer(SID, { ...DEFAULT_SETTINGS, fps: 30 }, T0);
    expect(decodeFrame(r.render(T0).frame).fps).toBe(30);
    const before = r.ballAt(T0 + 500);
    r.update({ fps: 120 }, T0 + 500);
    const after = decodeFrame(r.render(T0 + 500).frame);
    expect([after.fps, after.x, after.y]).toEqual([120, before.x, before.y]);
    r.update({}, T0 + 600);
    expect(decodeFrame(r.render(T0 + 600).frame).fps).toBe(120);
  });
});
