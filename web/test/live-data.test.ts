import { describe, expect, test } from "bun:test";
import { CLOSE_CODES, type ErrorReport } from "@ballstream/protocol";
import { RollingSeries, drawChart, niceCeil } from "../src/lib/chart.ts";
import { describeClose, describeConfigFailure, errorText, missingBrowserFeature } from "../src/lib/failures.ts";
import { formatNumber } from "../src/lib/format.ts";
import { createHook } from "../src/lib/hook.ts";
import { NO_INBOUND_STATS, summariseInbound } from "../src/lib/inbound-stats.ts";
import { paintedAt } from "../src/lib/display-times.ts";
import { SAMPLE_COLUMNS, sampleOf, toCsv, toJson } from "../src/lib/samples.ts";
import type { SessionState } from "../src/lib/session-state.ts";

const det = (rtp: number, decodedAtMs = 1000) => ({ rtpTimestamp: rtp, found: true, x: 1, y: 2, detectMs: 0.5, decodedAtMs });

const report: ErrorReport = {
  frameMatched: true, found: true, frameId: 9, rtpTimestamp: 100, detectedX: 10, detectedY: 20, frameTruthX: 10.5, frameTruthY: 20,
  nowTruthX: 15, nowTruthY: 20, realtimeErrorPx: 5, frameErrorPx: 0.5, latencyMs: 30, captureTimeMs: 1000, arrivalMs: 1030,
};

describe("samples", () => {
  test("sampleOf joins the report with the page's frame record", () => {
    const s = sampleOf(report, { ...det(100), ...paintedAt(1025) });
    expect(s.glassToGlassMs).toBe(25);
    expect(s.frameId).toBe(9);
    expect(s.detectMs).toBe(0.5);
    const unknown = sampleOf({ ...report, frameMatched: false }, null);
    expect([unknown.frameId, unknown.presentedAtMs, unknown.glassToGlassMs]).toEqual([null, null, null]);
  });
  test("toCsv writes a header and empty cells for unknowns; toJson maps NaN to null", () => {
    const s = sampleOf({ ...report, frameErrorPx: Number.NaN }, null);
    const [header, row] = toCsv([s]).trim().split("\n");
    expect(header).toBe(SAMPLE_COLUMNS.join(","));
    const cells = row!.split(",");
    expect(cells[SAMPLE_COLUMNS.indexOf("frameErrorPx")]).toBe("");
    expect(cells[SAMPLE_COLUMNS.indexOf("realtimeErrorPx")]).toBe("5");
    const doc = JSON.parse(toJson([s], { sessionId: "x" }));
    expect(doc.sessionId).toBe("x");
    expect(doc.samples[0].frameErrorPx).toBeNull();
  });
});

describe("summariseInbound", () => {
  test("reads codec, frames, jitter buffer and transport state", () => {
    const s = summariseInbound([
      { id: "c1", type: "codec", mimeType: "video/H264", sdpFmtpLine: "packetization-mode=1;profile-level-id=42e01f" },
      { id: "i1", type: "inbound-rtp", kind: "video", codecId: "c1", framesDecoded: 300, framesDropped: 2, packetsLost: 1,
        framesPerSecond: 30, jitterBufferDelay: 6, jitterBufferEmittedCount: 300, frameWidth: 640, frameHeight: 480 },
      { id: "t1", type: "transport", dtlsState: "connected", iceState: "connected" },
    ]);
    expect(s).toMatchObject({ codec: "H264 42e01f", framesDecoded: 300, framesDropped: 2, packetsLost: 1, framesPerSecond: 30,
      jitterBufferDelayMs: 20, frameWidth: 640, frameHeight: 480, transportState: "connected", iceState: "connected" });
  });
  test("an empty report gives the defaults", () => {
    expect(summariseInbound([])).toEqual(NO_INBOUND_STATS);
  });
});

describe("failures", () => {
  test("describeClose names the code", () => {
    expect(describeClose(CLOSE_CODES.serverShutdown, "bye")).toBe("The server shut down: serverShutdown (code 1) — bye");
    expect(describeClose(CLOSE_CODES.backendError, "")).toBe("Session closed by the server: backendError (code 3)");
    expect(describeClose(99, "x")).toContain("unknown (code 99)");
    expect(describeClose(undefined, undefined)).toContain("no close code");
  });
  test("missingBrowserFeature", () => {
    expect(missingBrowserFeature({})).toContain("WebTransport");
    expect(missingBrowserFeature({ WebTransport: () => 0 })).toContain("WebRTC");
    expect(missingBrowserFeature({ WebTransport: () => 0, RTCPeerConnection: () => 0 })).toBeNull();
  });
  test("describeConfigFailure and errorText", () => {
    expect(describeConfigFailure(undefined, 404)).toContain("HTTP 404");
    expect(describeConfigFailure(new TypeError("Failed to fetch"))).toContain("Failed to fetch");
    expect(errorText(new Error("boom"))).toBe("boom");
    expect(errorText("plain")).toBe("plain");
  });
});

describe("chart", () => {
  test("RollingSeries keeps the newest points and skips non-finite values", () => {
    const s = new RollingSeries("a", "#fff", 3);
    for (const [t, v] of [[1, 1], [2, Number.NaN], [3, 3], [4, 4], [5, 5]]) s.push(t!, v!);
    const seen: number[] = [];
    s.forEachSince(0, (_t, v) => seen.push(v));
    expect(seen).toEqual([3, 4, 5]);
    expect(s.maxSince(4.5)).toBe(5);
    expect(s.maxSince(10)).toBe(0);
  });
  test("niceCeil", () => {
    expect([0, 0.4, 1, 1.2, 3, 7, 12, 99, 101].map(niceCeil)).toEqual([1, 1, 1, 2, 5, 10, 20, 100, 200]);
  });
  test("drawChart draws each series within the canvas and returns the axis top", () => {
    const calls: Array<[string, number, number]> = [];
    const ctx = {
      clearRect() {}, beginPath() {}, stroke() {}, fillText() {},
      moveTo: (x: number, y: number) => void calls.push(["m", x, y]),
      lineTo: (x: number, y: number) => void calls.push(["l", x, y]),
      strokeStyle: "", fillStyle: "", lineWidth: 1, font: "",
    };
    const s = new RollingSeries("a", "#fff");
    s.push(9000, 3);
    s.push(10_000, 7);
    expect(drawChart(ctx, 200, 100, [s], 10_000, 2000)).toBe(10);
    const points = calls.slice(-2);
    expect(points[0]).toEqual(["m", 100, 100 - 0.3 * 96]);
    expect(points[1]![1]).toBe(200);
  });
});

describe("createHook", () => {
  test("reads live state and forwards actions", async () => {
    const state = { status: "connecting", sessionId: null, framesDetected: 0 } as unknown as SessionState;
    const actions: string[] = [];
    const hook = createHook({
      state,
      samples: () => [],
      wtSamples: () => (actions.push("wtSamples"), []),
      control: async (c) => void actions.push(`control ${JSON.stringify(c)}`),
      stop: async () => void actions.push("stop"),
    });
    state.status = "streaming";
    state.framesDetected = 5;
    Object.assign(state, { glassToGlassMs: 3.5, glassToGlassExpectedMs: 16.2, browserCapture: { browserMs: 3.7, oursMs: 3.5 } });
    expect([hook.status, hook.framesDetected]).toEqual(["streaming", 5]);
    expect([hook.glassToGlassMs, hook.glassToGlassExpectedMs, hook.browserCapture]).toEqual([3.5, 16.2, { browserMs: 3.7, oursMs: 3.5 }]);
    await hook.control({ fps: 60 });
    await hook.stop();
    expect(actions).toEqual(['control {"fps":60}', "stop"]);
    expect(hook.samples()).toEqual([]);
    expect(hook.wtSamples()).toEqual([]);
    expect(actions.at(-1)).toBe("wtSamples");
    (state as { wt: unknown }).wt = { framesPainted: 3 };
    expect(hook.wt.framesPainted).toBe(3);
  });
});

describe("formatNumber", () => {
  test("fixed decimals (1 by default), a dash without a finite value", () => {
    expect([formatNumber(2.345), formatNumber(2.345, 2), formatNumber(59.6, 0)]).toEqual(["2.3", "2.35", "60"]);
    expect([formatNumber(null), formatNumber(undefined), formatNumber(Number.NaN), formatNumber(Number.POSITIVE_INFINITY)]).toEqual(["–", "–", "–", "–"]);
  });
});
