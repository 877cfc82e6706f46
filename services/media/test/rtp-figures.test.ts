import { describe, expect, test } from "bun:test";
import { RtpHeader, RtpPacket } from "werift";
import { phaseFigures, startsKeyframe } from "./rtp-figures.ts";

const packet = (timestamp: number, payload: number[]) => new RtpPacket(new RtpHeader({ timestamp }), Buffer.from(payload));

describe("startsKeyframe", () => {
  test("IDR or SPS as a single NAL, an FU-A start of an IDR, a STAP-A opening with SPS; not P-slices or FU-A middles", () => {
    expect([[0x65], [0x67], [0x7c, 0x85], [0x78, 0, 4, 0x67]].map((p) => startsKeyframe(Uint8Array.from(p)))).toEqual([true, true, true, true]);
    expect([[0x41], [0x7c, 0x05], [0x7c, 0x81], [0x78, 0, 4, 0x68]].map((p) => startsKeyframe(Uint8Array.from(p)))).toEqual([false, false, false, false]);
  });
});

describe("phaseFigures", () => {
  test("frames by timestamp, keyframe gaps in frames and seconds, bytes per second over whole keyframe intervals", () => {
    // 1 fps (90,000 ticks a frame), a keyframe every 2 frames across the 2³² wrap; keyframes 3 bytes, P-frames 1 + 1.
    const start = 2 ** 32 - 90_000;
    const packets = [0, 1, 2, 3, 4].flatMap((k) => {
      const ts = (start + k * 90_000) >>> 0;
      return k % 2 === 0 ? [packet(ts, [0x65, 1, 2])] : [packet(ts, [0x41]), packet(ts, [0x41])];
    });
    expect(phaseFigures(1, packets)).toEqual({ fps: 1, frames: 5, keyframes: 3, keyframeGapsFrames: [2, 2], keyframeGapsS: [2, 2], bytesPerSecond: 3 });
  });

  test("without two keyframes the rate is over the whole phase", () => {
    const f = phaseFigures(30, [packet(0, [0x41, 1]), packet(3000, [0x41, 1]), packet(6000, [0x41])]);
    expect([f.keyframes, f.keyframeGapsFrames, f.bytesPerSecond]).toEqual([0, [], 60]);
  });
});
