import { describe, expect, test } from "bun:test";
import { detectInFrame, rtpTimestampOf } from "../src/lib/detect-worker.ts";
import { preferH264, waitForIceGathering } from "../src/lib/webrtc.ts";
import { lumaFrame, rgbaFrame } from "./synthetic.ts";

/** A stand-in for a decoded VideoFrame: copyTo writes `pixels` and reports one plane at offset 0. */
function fakeFrame(format: string, pixels: Uint8Array | Uint8ClampedArray, width: number, stride: number, metadata?: Record<string, unknown>) {
  return {
    format,
    displayWidth: width,
    displayHeight: 480,
    visibleRect: { width, height: 480 },
    copyTo: async (buffer: Uint8Array) => {
      buffer.set(pixels);
      return [{ offset: 0, stride }];
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
