import { describe, expect, test } from "bun:test";
import type { ErrorReport } from "@ballstream/protocol";
import { NTP_UNIX_OFFSET_MS, absCaptureMsOf, paintedAt, presentationOf } from "../src/lib/display-times.ts";
import { FrameJoiner } from "../src/lib/frame-joiner.ts";
import { sampleOf } from "../src/lib/samples.ts";
import { ABS_CAPTURE_TIME_URI, type HeaderExtensionChoice, negotiateAbsCaptureTime, withAbsCaptureTime } from "../src/lib/webrtc.ts";

const ORIGIN = 1_796_150_000_000.25;

describe("presentationOf, paintedAt", () => {
  test("rVFC times are the page's timeline: timeOrigin makes them epoch ms; absent ones are null", () => {
    expect(presentationOf({ presentationTime: 4549.6, expectedDisplayTime: 4565.3, captureTime: 4546 }, ORIGIN)).toEqual({
      presentedAtMs: ORIGIN + 4549.6, expectedDisplayMs: ORIGIN + 4565.3, rvfcCaptureMs: ORIGIN + 4546, absCaptureMs: null,
    });
    expect(presentationOf({ presentationTime: 10 }, ORIGIN)).toEqual({ presentedAtMs: ORIGIN + 10, expectedDisplayMs: null, rvfcCaptureMs: null, absCaptureMs: null });
  });
  test("a frame the page painted itself has only its paint time", () => {
    expect(paintedAt(1234.5)).toEqual({ presentedAtMs: 1234.5, expectedDisplayMs: null, rvfcCaptureMs: null, absCaptureMs: null });
  });
});

describe("absCaptureMsOf", () => {
  // Measured in Chromium 156: the synchronization source of the frame 3855633678 said captureTimestamp 4005139241703.
  const sources = [{ rtpTimestamp: 3_855_633_678, captureTimestamp: 4_005_139_241_703, source: 1, timestamp: 0 }];
  test("the NTP ms of the frame's source, as epoch ms", () => {
    expect(NTP_UNIX_OFFSET_MS).toBe(25_567 * 86_400_000); // 1900 → 1970: 70 years, 17 of them leap years
    expect(absCaptureMsOf(sources, 3_855_633_678)).toBe(1_796_150_441_703);
  });
  test("null for another frame (the sources hold only the newest) or a source without the extension", () => {
    expect(absCaptureMsOf(sources, 3_855_636_678)).toBeNull();
    expect(absCaptureMsOf([{ rtpTimestamp: 5 }], 5)).toBeNull();
    expect(absCaptureMsOf([], 5)).toBeNull();
  });
});

describe("the samples' display and capture columns", () => {
  const report: ErrorReport = {
    frameMatched: true, found: true, frameId: 9, rtpTimestamp: 100, detectedX: 10, detectedY: 20, frameTruthX: 10.5, frameTruthY: 20,
    nowTruthX: 15, nowTruthY: 20, realtimeErrorPx: 5, frameErrorPx: 0.5, latencyMs: 30, captureTimeMs: 1000, arrivalMs: 1030,
  };
  const det = { rtpTimestamp: 100, found: true, x: 1, y: 2, detectMs: 0.5, decodedAtMs: 1002 };
  const joined = (presentation: Parameters<FrameJoiner["presented"]>[1]) => {
    const j = new FrameJoiner();
    j.detected(det);
    return j.presented(100, presentation)[0]!;
  };

  test("g2g to the expected display and from the browser's capture time beside the compositor's", () => {
    const s = sampleOf(report, joined({ presentedAtMs: 1003.5, expectedDisplayMs: 1016.7, rvfcCaptureMs: null, absCaptureMs: 1000.4 }));
    expect([s.glassToGlassMs, s.expectedDisplayMs, s.rvfcCaptureMs, s.absCaptureMs]).toEqual([3.5, 1016.7, null, 1000.4]);
    expect(s.glassToGlassExpectedMs).toBeCloseTo(16.7, 9);
    expect(s.glassToGlassBrowserMs).toBeCloseTo(3.1, 9);
  });
  test("rVFC captureTime, where the browser gives it, is the browser's capture time before abs-capture-time", () => {
    const s = sampleOf(report, joined({ presentedAtMs: 1004, expectedDisplayMs: null, rvfcCaptureMs: 999, absCaptureMs: 1000 }));
    expect([s.glassToGlassBrowserMs, s.glassToGlassExpectedMs, s.expectedDisplayMs]).toEqual([5, null, null]);
  });
  test("unpresented: no display or browser figure; unmatched: the browser's figure without ours", () => {
    const j = new FrameJoiner(50);
    j.detected(det);
    const unpresented = sampleOf(report, j.expire(2000)[0]!);
    expect([unpresented.expectedDisplayMs, unpresented.glassToGlassExpectedMs, unpresented.absCaptureMs, unpresented.glassToGlassBrowserMs]).toEqual([null, null, null, null]);
    const unmatched = sampleOf({ ...report, frameMatched: false, captureTimeMs: Number.NaN }, joined({ presentedAtMs: 1004, expectedDisplayMs: 1010, rvfcCaptureMs: null, absCaptureMs: 1001 }));
    expect([unmatched.glassToGlassMs, unmatched.glassToGlassExpectedMs, unmatched.expectedDisplayMs, unmatched.glassToGlassBrowserMs]).toEqual([null, null, 1010, 3]);
  });
});

describe("abs-capture-time in the offer", () => {
  // What Chromium 156 lists for a recvonly video transceiver (abridged): abs-capture-time is offered only on request.
  const listed: HeaderExtensionChoice[] = [
    { uri: "urn:ietf:params:rtp-hdrext:toffset", direction: "sendrecv" },
    { uri: "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay", direction: "sendrecv" },
    { uri: ABS_CAPTURE_TIME_URI, direction: "stopped" },
    { uri: "http://www.webrtc.org/experiments/rtp-hdrext/video-layers-allocation00", direction: "stopped" },
  ];
  test("withAbsCaptureTime receives abs-capture-time and leaves the rest as listed; null where it is not listed", () => {
    expect(withAbsCaptureTime(listed)?.map((e) => e.direction)).toEqual(["sendrecv", "sendrecv", "recvonly", "stopped"]);
    expect(withAbsCaptureTime(listed.filter((e) => e.uri !== ABS_CAPTURE_TIME_URI))).toBeNull();
  });
  test("negotiateAbsCaptureTime sets the list where the browser can, and says whether it did", () => {
    let set: HeaderExtensionChoice[] | null = null;
    const transceiver = { getHeaderExtensionsToNegotiate: () => listed, setHeaderExtensionsToNegotiate: (e: HeaderExtensionChoice[]) => void (set = e) };
    expect(negotiateAbsCaptureTime(transceiver)).toBe(true);
    expect(set!.find((e) => e.uri === ABS_CAPTURE_TIME_URI)?.direction).toBe("recvonly");
    expect(negotiateAbsCaptureTime({})).toBe(false); // no API (Firefox ESR 153)
    expect(negotiateAbsCaptureTime({ ...transceiver, getHeaderExtensionsToNegotiate: () => listed.slice(0, 2) })).toBe(false);
  });
});
