import { describe, expect, test } from "bun:test";
import type { ProbeWindow } from "../bench/browser-probe.ts";
import { parsePrometheusText } from "../bench/prom.ts";
import { encodeMsBetween, runResult, scrapeMetrics } from "../bench/scenario.ts";
import type { Sample } from "@ballstream/web/samples";

const hist = (n: number, sum: number) =>
  parsePrometheusText(`ballstream_media_encode_seconds_bucket{le="0.005"} ${n}\nballstream_media_encode_seconds_bucket{le="+Inf"} ${n}\nballstream_media_encode_seconds_sum ${sum}\nballstream_media_encode_seconds_count ${n}\n`);

const sample = (frameId: number, g2g: number | null, found = true, browser: Partial<Sample> = {}): Sample => ({
  frameId, rtpTimestamp: frameId * 3000, captureTimeMs: 1000 + frameId * 33, decodedAtMs: null, sentAtMs: null, presentedAtMs: null, arrivalMs: 1030 + frameId * 33, found,
  detectedX: 0, detectedY: 0, frameTruthX: 0, frameTruthY: 0, nowTruthX: 0, nowTruthY: 0, realtimeErrorPx: 8, frameErrorPx: 0.25, latencyMs: 30, glassToGlassMs: g2g, detectMs: 0.5,
  expectedDisplayMs: null, glassToGlassExpectedMs: null, rvfcCaptureMs: null, absCaptureMs: null, glassToGlassBrowserMs: null, ...browser,
});

describe("scenario", () => {
  test("encodeMsBetween is the mean of the new observations in ms", () => {
    expect(encodeMsBetween(hist(10, 0.02), hist(30, 0.08))).toBeCloseTo(3, 10);
    expect(encodeMsBetween([], [])).toBeNaN();
  });
  test("runResult turns a probe window into the figures", () => {
    const w: ProbeWindow = {
      seconds: 2, framesGenerated: 60, framesDecoded: 57, framesDropped: 1, packetsLost: 0, framesPresented: 3,
      samples: [sample(0, 20, true, { glassToGlassExpectedMs: 30, glassToGlassBrowserMs: 20.4 }), sample(1, 24, true, { glassToGlassExpectedMs: 40 }), sample(2, null, false)],
      timings: [{ captureMs: 1000, receiveMs: 1005, presentedMs: 1020, decodedMs: 1019, detectMs: 0.5, sentMs: 1019.7, arrivalMs: 1030 }],
      jitterBufferMs: 9, decodeMs: 2, freezes: 1, senderKbps: 150, ended: "closed", startMs: 990,
    };
    const r = runResult({ mode: "nats", generateMs: 1 }, 30, "", w, [], 3);
    expect(r.g2g.p50).toBe(22);
    expect([r.g2gExpected.p50, r.g2gExpected.n, r.g2gBrowser.p50, r.g2gBrowser.n]).toEqual([35, 2, 20.4, 1]);
    expect(r.frameError.n).toBe(2);
    expect(r.rtError.n).toBe(2);
    expect(r.deliveredPct).toBe(95);
    expect(r.receiveFps).toBe(28.5);
    expect(r.freezesPerMin).toBe(30);
    expect(r.senderKbps).toBe(150);
    expect(r.ended).toBe("closed");
    expect(r.series).toEqual([[0.03, 20]]);
    expect(r.stages.find((s) => s.name === "jitter buffer")?.ms).toBe(9);
  });
  test("scrapeMetrics reads a live endpoint and ignores a dead one", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ballstream_x_total 3\n") });
    try {
      const samples = await scrapeMetrics([`http://127.0.0.1:${server.port}/metrics`, "http://127.0.0.1:1/metrics"]);
      expect(samples).toEqual([{ name: "ballstream_x_total", labels: {}, value: 3 }]);
    } finally {
      server.stop(true);
    }
  });
});
