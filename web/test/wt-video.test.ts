import { describe, expect, test } from "bun:test";
import type { Coordinates, ErrorReport } from "@ballstream/protocol";
import { avcCodecString } from "../src/lib/avc-codec.ts";
import { SessionStore } from "../src/lib/session-state.ts";
import { NO_WEBRTC_H264, TRANSPORT_CHOICES, resolveTransport, transportFromQuery, withTransport } from "../src/lib/transport-choice.ts";
import { canReceiveH264 } from "../src/lib/webrtc.ts";
import { DecodeGate, rtpFromMediaTime, wtSurfaceKind } from "../src/lib/wt-video.ts";

describe("transport choice", () => {
  test("?transport= names the path; absent or bad means WebRTC (a bad one with a warning)", () => {
    expect(transportFromQuery("")).toEqual({ choice: "webrtc", explicit: false, warning: null });
    for (const c of TRANSPORT_CHOICES) expect(transportFromQuery(`?fps=30&transport=${c}`)).toEqual({ choice: c, explicit: true, warning: null });
    const bad = transportFromQuery("?transport=carrier-pigeon");
    expect(bad.choice).toBe("webrtc");
    expect(bad.warning).toContain("webrtc, webtransport, both");
  });

  test("withTransport sets the parameter and keeps the rest of the query", () => {
    expect(withTransport("http://127.0.0.1:8080/?fps=20&transport=webrtc", "both")).toBe("http://127.0.0.1:8080/?fps=20&transport=both");
    expect(withTransport("http://127.0.0.1:8080/", "webtransport")).toBe("http://127.0.0.1:8080/?transport=webtransport");
  });

  test("with H.264 over WebRTC every choice plays as asked", () => {
    expect(resolveTransport("webrtc", false, true)).toEqual({ webrtc: true, webtransport: false, notice: null });
    expect(resolveTransport("webtransport", true, true)).toEqual({ webrtc: false, webtransport: true, notice: null });
    expect(resolveTransport("both", true, true)).toEqual({ webrtc: true, webtransport: true, notice: null });
  });

  test("without it: the default falls back to WebTransport and says so, both plays WebTransport alone, an explicit webrtc keeps WebRTC (to fail with the message)", () => {
    const fallback = resolveTransport("webrtc", false, false);
    expect(fallback).toMatchObject({ webrtc: false, webtransport: true });
    expect(fallback.notice).toStartWith(NO_WEBRTC_H264);
    expect(resolveTransport("both", true, false)).toMatchObject({ webrtc: false, webtransport: true });
    expect(resolveTransport("both", true, false).notice).toContain("only the WebTransport picture");
    expect(resolveTransport("webrtc", true, false)).toEqual({ webrtc: true, webtransport: false, notice: null });
    expect(resolveTransport("webtransport", true, false)).toEqual({ webrtc: false, webtransport: true, notice: null });
  });

  test("canReceiveH264 looks for video/h264 in the receiver's capabilities", () => {
    expect(canReceiveH264({ codecs: [{ mimeType: "video/VP8" }, { mimeType: "video/H264" }] })).toBe(true);
    expect(canReceiveH264({ codecs: [{ mimeType: "video/VP8" }] })).toBe(false);
    expect(canReceiveH264(null)).toBe(false);
  });
});

describe("avcCodecString", () => {
  test("profile, constraints and level from the first SPS, after any start code; null without an SPS", () => {
    const sps = [0x67, 0x42, 0xc0, 0x1e, 0xda];
    expect(avcCodecString(Uint8Array.of(0, 0, 0, 1, ...sps, 0, 0, 0, 1, 0x68, 0xce))).toBe("avc1.42c01e");
    expect(avcCodecString(Uint8Array.of(0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1f, 0xac))).toBe("avc1.64001f");
    expect(avcCodecString(Uint8Array.of(0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x33))).toBeNull();
  });
});

describe("the WebTransport path's surface", () => {
  test("a generated track on a <video> where MediaStreamTrackGenerator exists (Chromium), else a canvas (Firefox)", () => {
    expect(wtSurfaceKind({ MediaStreamTrackGenerator: class {} })).toBe("video");
    expect(wtSurfaceKind({})).toBe("canvas");
    expect(wtSurfaceKind({ MediaStreamTrackGenerator: "not a constructor" })).toBe("canvas");
  });
  test("rtpFromMediaTime: the frame callback's mediaTime (s, µs steps) back to the RTP timestamp written as the frame's µs", () => {
    for (const rtp of [0, 1, 1_033_333, 2_147_483_647, 4_294_967_295]) expect(rtpFromMediaTime(rtp / 1e6)).toBe(rtp);
    expect(rtpFromMediaTime(1.033333)).toBe(1_033_333);
  });
});

describe("DecodeGate", () => {
  test("starts on a keyframe, decodes only growing frame ids, waits for a keyframe again after reset", () => {
    const gate = new DecodeGate();
    const take = (frameId: number, keyframe = false) => gate.accept({ frameId, keyframe });
    expect([take(1), take(2, true), take(3), take(3), take(2), take(5)]).toEqual([false, true, true, false, false, true]);
    gate.reset();
    expect([take(6), take(7, true), take(8)]).toEqual([false, true, true]);
    gate.reset();
    expect(take(7, true)).toBe(true); // after a decoder error the same keyframe may be fed again
  });
});

describe("SessionStore: two paths", () => {
  const coords = (path?: "webtransport"): Coordinates => ({ rtpTimestamp: 1, found: true, x: 1, y: 2, decodedAtMs: 3, detectMs: 0.5, ...(path ? { path } : {}) });
  const report = (path?: "webtransport") => ({ realtimeErrorPx: 2, ...(path ? { path } : {}) }) as unknown as ErrorReport;

  test("each path's detections, datagrams, reports and glass-to-glass land in its own figures", () => {
    let changes = 0;
    const store = new SessionStore(() => changes++);
    store.playing({ webrtc: true, webtransport: true, notice: null });
    store.detected(coords());
    store.detected(coords("webtransport"));
    store.detected(coords("webtransport"));
    store.sent("webtransport");
    store.sent();
    store.reported(report("webtransport"));
    store.glassToGlass({ glassToGlassMs: 7, glassToGlassExpectedMs: null, glassToGlassBrowserMs: null }, "webtransport");
    store.glassToGlass({ glassToGlassMs: 4, glassToGlassExpectedMs: null, glassToGlassBrowserMs: null });
    store.wtVideo({ unitsReceived: 3, unitsDecoded: 2, framesPainted: 2, codec: "avc1.42c01e" });
    const s = store.state;
    expect([s.framesDetected, s.framesSent, s.reportsReceived, s.glassToGlassMs]).toEqual([1, 1, 0, 4]);
    expect(s.wt).toMatchObject({ framesDetected: 2, framesSent: 1, reportsReceived: 1, glassToGlassMs: 7, unitsReceived: 3, unitsDecoded: 2, framesPainted: 2, codec: "avc1.42c01e" });
    expect(s.wt.lastReport?.realtimeErrorPx).toBe(2);
    expect(s.paths).toEqual({ webrtc: true, webtransport: true, notice: null });
    expect(changes).toBe(10);
  });
});
