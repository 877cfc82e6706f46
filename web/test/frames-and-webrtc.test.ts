import { describe, expect, test } from "bun:test";
import { detectInFrame, detectTracked, rtpTimestampOf } from "../src/lib/detect-worker.ts";
import type { BallTrack } from "../src/lib/detect-window.ts";
import { preferH264, waitForIceGathering } from "../src/lib/webrtc.ts";
import { lumaFrame, rgbaFrame } from "./synthetic.ts";

/** The rects a {@link fakeFrame} was copied with (undefined: whole), newest last. */
const copies: Array<DOMRectInit | undefined> = [];

/**
 * A stand-in for a decoded VideoFrame: copyTo writes `pixels` and reports one plane at offset 0; with a `rect` (of a
 * one-byte-per-pixel plane) it writes that rect's rows tightly packed, as Chromium does without a `layout`.
 */
function fakeFrame(format: string, pixels: Uint8Array | Uint8ClampedArray, width: number, stride: number, metadata?: Record<string, unknown>) {
  return {
    format,
    displayWidth: width,
    displayHeight: 480,
    visibleRect: { x: 0, y: 0, width, height: 480 },
    copyTo: async (buffer: Uint8Array, options?: { rect?: DOMRectInit }) => {
      const r = options?.rect;
      copies.push(r);
      if (!r) {
        buffer.set(pixels);
        return [{ offset: 0, stride }];
      }
      for (let y = 0; y < r.height!; y++) buffer.set(pixels.subarray((r.y! + y) * stride + r.x!, (r.y! + y) * stride + r.x! + r.width!), y * r.width!);
      return [{ offset: 0, stride: r.width! }];
    },
    ...(metadata ? { metadata: () => metadata } : {}),
  } as unknown as VideoFrame;
}

describe("detect-worker helpers", () => {
  test("rtpTimestampOf reads VideoFrame.metadata().rtpTimestamp, or null", () => {
    expect(rtpTimestampOf(fakeFrame("I420", new Uint8Array(0), 0, 0, { rtpTimestamp: 2 ** 32 + 5 }))).toBe(5);
    expect(rtpTimestampOf(fakeFrame("I420", new Uint8Array(0), 0, 0, {}))).toBeNull();
    expect(rtpTimestampOf(fakeFrame("I420", new Uint8Array(0), 0, 0))).toBeNull();
  });
  test("detectInFrame uses the luma plane of YUV frames and converts RGBA ones", async () => {
    const luma = lumaFrame(300.25, 200.75, 24, { stride: 672 });
    const d = await detectInFrame(fakeFrame("I420", luma.data, 640, 672), new Uint8Array(luma.data.length));
    expect(Math.abs(d.x - 300.25)).toBeLessThan(0.05);
    expect(Math.abs(d.y - 200.75)).toBeLessThan(0.05);
    const rgba = rgbaFrame(100.5, 50.5, 24, [255, 90, 31], [16, 20, 28]);
    const r = await detectInFrame(fakeFrame("RGBA", rgba, 640, 2560), new Uint8Array(rgba.length));
    expect(Math.abs(r.x - 100.5)).toBeLessThan(0.05);
  });
  test("detectInFrame copies only a rect when given one and answers in frame coordinates", async () => {
    const luma = lumaFrame(300.25, 200.75, 24, { stride: 672 });
    const d = await detectInFrame(fakeFrame("I420", luma.data, 640, 672), new Uint8Array(luma.data.length), { x: 240, y: 150, width: 120, height: 100 });
    expect(copies.at(-1)).toEqual({ x: 240, y: 150, width: 120, height: 100 });
    expect(Math.abs(d.x - 300.25)).toBeLessThan(0.05);
    expect(Math.abs(d.y - 200.75)).toBeLessThan(0.05);
  });
  test("detectTracked: whole frames to acquire, then a window around the prediction, the whole frame again when the ball is not in it", async () => {
    const buffer = new Uint8Array(672 * 480);
    let track: BallTrack | null = null;
    const windows: boolean[] = [];
    const errors: number[] = [];
    const at = async (x: number, y: number, rtp: number) => {
      const detected = await detectTracked(fakeFrame("I420", lumaFrame(x, y, 24, { stride: 672 }).data, 640, 672), rtp, buffer, track);
      track = detected.track;
      windows.push(detected.window !== null);
      errors.push(Math.hypot(detected.ball.x - x, detected.ball.y - y));
    };
    for (let i = 0; i < 4; i++) await at(100 + 10.7 * i, 200 - 5.3 * i, 3000 * i); // 320 px/s right, 160 up, at 30 fps
    await at(500, 400, 12_000); // jumped (a new session's ball): not where predicted
    expect(windows).toEqual([false, false, true, true, false]);
    expect(copies.at(-1)).toBeUndefined(); // the last frame was copied whole after its window missed
    expect(Math.max(...errors)).toBeLessThan(0.05);
  });
});

describe("webrtc helpers", () => {
  test("preferH264 puts packetization-mode=1 42e01f first, then other H.264, then the rest in order", () => {
    const codecs = [
      { mimeType: "video/VP8" },
      { mimeType: "video/rtx" },
      { mimeType: "video/H264", sdpFmtpLine: "packetization-mode=0;profile-level-id=42e01f" },
      { mimeType: "video/H264", sdpFmtpLine: "packetization-mode=1;profile-level-id=4d001f" },
      { mimeType: "video/H264", sdpFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f" },
    ];
    expect(preferH264(codecs).map((c) => `${c.mimeType} ${c.sdpFmtpLine ?? ""}`)).toEqual([
      "video/H264 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
      "video/H264 packetization-mode=1;profile-level-id=4d001f",
      "video/H264 packetization-mode=0;profile-level-id=42e01f",
      "video/VP8 ",
      "video/rtx ",
    ]);
  });

  class FakePc extends EventTarget {
    iceGatheringState: RTCIceGatheringState = "gathering";
    complete() {
      this.iceGatheringState = "complete";
      this.dispatchEvent(new Event("icegatheringstatechange"));
    }
  }
  test("waitForIceGathering resolves true on completion and false on timeout", async () => {
    const pc = new FakePc();
    const waiting = waitForIceGathering(pc, 5000);
    pc.complete();
    expect(await waiting).toBe(true);
    expect(await waitForIceGathering(pc, 10)).toBe(true);
    expect(await waitForIceGathering(new FakePc(), 10)).toBe(false);
  });
});
