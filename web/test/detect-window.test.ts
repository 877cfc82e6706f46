import { describe, expect, test } from "bun:test";
import { type BallTrack, fitsWindow, nextTrack, searchWindow } from "../src/lib/detect-window.ts";

const AREA = Math.PI * 24 * 24;
/** A ball of radius 24 at (x, y) at RTP time 0, moving at 320 px/s to the right, in a 640×480 frame. */
const track = (x: number, y: number, velocity: BallTrack["velocity"] = { x: 320, y: 0 }): BallTrack => ({ rtpTimestamp: 0, x, y, velocity, area: AREA, frameWidth: 640, frameHeight: 480 });
const ball = (x: number, y: number, area = AREA) => ({ found: true, x, y, area });
const FRAME_30 = 3000; // RTP ticks of one frame at 30 fps

describe("searchWindow", () => {
  test("centres on the predicted position with radius + edge + twice the motion + safety (≥ radius) each side, even-aligned", () => {
    const w = searchWindow(track(300, 200), FRAME_30, 640, 480)!;
    // predicted x = 300 + 320/30 = 310.67; reach x = 24 + 4 + 2·10.67 + 24 = 73.33; reach y = 52
    expect(w).toEqual({ x: 236, y: 148, width: 148, height: 104 });
    for (const v of [w.x, w.y, w.width, w.height]) expect(v % 2).toBe(0);
  });
  test("clipped to the frame at its edges", () => {
    const w = searchWindow(track(620, 20), FRAME_30, 640, 480)!;
    expect([w.x + w.width, w.y]).toEqual([640, 0]);
  });
  test("the whole frame (null) without a velocity, after a gap, for another frame size or when the window would cover it all", () => {
    expect(searchWindow(null, FRAME_30, 640, 480)).toBeNull();
    expect(searchWindow(track(300, 200, null), FRAME_30, 640, 480)).toBeNull();
    expect(searchWindow(track(300, 200), 0, 640, 480)).toBeNull(); // same timestamp: nothing to predict from
    expect(searchWindow(track(300, 200), 90_000, 640, 480)).toBeNull(); // 1 s later
    expect(searchWindow(track(300, 200), FRAME_30, 1280, 720)).toBeNull();
    expect(searchWindow(track(300, 200, { x: 20_000, y: 20_000 }), FRAME_30, 640, 480)).toBeNull();
  });
  test("RTP time wraps modulo 2^32", () => {
    const wrapped = { ...track(300, 200), rtpTimestamp: 2 ** 32 - 1000 };
    expect(searchWindow(wrapped, 2000, 640, 480)).toEqual(searchWindow(track(300, 200), FRAME_30, 640, 480));
  });
});

describe("fitsWindow", () => {
  const window = { x: 244, y: 156, width: 132, height: 88 };
  test("a ball well inside its window fits", () => {
    expect(fitsWindow(ball(311, 200), window, track(300, 200))).toBe(true);
  });
  test("a ball reaching a window side that is not the frame's does not (it may be cut off)", () => {
    expect(fitsWindow(ball(360, 200), window, track(300, 200))).toBe(false);
    expect(fitsWindow(ball(311, 170), window, track(300, 200))).toBe(false);
  });
  test("a ball at a window side that is the frame's own edge fits", () => {
    expect(fitsWindow(ball(20, 200), { x: 0, y: 156, width: 80, height: 88 }, track(30, 200))).toBe(true);
  });
  test("not found, or an area changed by more than a factor of two, does not fit", () => {
    expect(fitsWindow({ found: false, x: Number.NaN, y: Number.NaN, area: 0 }, window, track(300, 200))).toBe(false);
    expect(fitsWindow(ball(311, 200, AREA / 2.5), window, track(300, 200))).toBe(false);
    expect(fitsWindow(ball(311, 200, AREA * 2.5), window, track(300, 200))).toBe(false);
  });
});

describe("nextTrack", () => {
  test("the first detection has no velocity; the next one measures it from the RTP time between them", () => {
    const first = nextTrack(null, ball(300, 200), 0, 640, 480)!;
    expect(first.velocity).toBeNull();
    const second = nextTrack(first, ball(310, 195), FRAME_30, 640, 480)!;
    expect(second.velocity!.x).toBeCloseTo(300, 9);
    expect(second.velocity!.y).toBeCloseTo(-150, 9);
    expect([second.x, second.y, second.rtpTimestamp, second.area]).toEqual([310, 195, FRAME_30, AREA]);
  });
  test("a ball not found drops the track; a gap or a new frame size starts it again without a velocity", () => {
    expect(nextTrack(track(300, 200), { found: false, x: Number.NaN, y: Number.NaN, area: 0 }, FRAME_30, 640, 480)).toBeNull();
    expect(nextTrack(track(300, 200), ball(310, 200), 90_000, 640, 480)?.velocity).toBeNull();
    expect(nextTrack(track(300, 200), ball(310, 200), FRAME_30, 1280, 720)?.velocity).toBeNull();
  });
});
