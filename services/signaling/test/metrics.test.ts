import { describe, expect, test } from "bun:test";
import type { ErrorReport } from "@ballstream/protocol";
import { createRegistry } from "@ballstream/runtime";
import { sampleValue } from "@ballstream/testing";
import { createSignalingMetrics } from "../src/metrics.ts";

function report(overrides: Partial<ErrorReport>): ErrorReport {
  return {
    frameMatched: true,
    found: true,
    frameId: 7,
    rtpTimestamp: 1234,
    detectedX: 100,
    detectedY: 100,
    frameTruthX: 101,
    frameTruthY: 100,
    nowTruthX: 120,
    nowTruthY: 100,
    realtimeErrorPx: 20,
    frameErrorPx: 1,
    latencyMs: 63,
    captureTimeMs: 1_700_000_000_000,
    arrivalMs: 1_700_000_000_063,
    ...overrides,
  };
}

describe("signaling metrics", () => {
  test("a matched report feeds all three histograms at the right buckets", async () => {
    const r = createRegistry();
    const m = createSignalingMetrics(r);
    m.observeReport(report({}));
    const text = await r.metrics();
    expect(sampleValue(text, 'ballstream_signaling_coordinates_received_total{outcome="matched"}')).toBe(1);
    expect(sampleValue(text, 'ballstream_signaling_frame_error_pixels_bucket{le="0.5"}')).toBe(0);
    expect(sampleValue(text, 'ballstream_signaling_frame_error_pixels_bucket{le="1"}')).toBe(1);
    expect(sampleValue(text, 'ballstream_signaling_realtime_error_pixels_bucket{le="18"}')).toBe(0);
    expect(sampleValue(text, 'ballstream_signaling_realtime_error_pixels_bucket{le="20"}')).toBe(1);
    expect(sampleValue(text, 'ballstream_signaling_latency_seconds_bucket{le="0.06"}')).toBe(0);
    expect(sampleValue(text, 'ballstream_signaling_latency_seconds_bucket{le="0.065"}')).toBe(1);
    expect(sampleValue(text, "ballstream_signaling_latency_seconds_sum")).toBeCloseTo(0.063, 9);
  });
  test("an unmatched report records only the real-time error; a ball not found records only latency", async () => {
    const r = createRegistry();
    const m = createSignalingMetrics(r);
    m.observeReport(report({ frameMatched: false, frameErrorPx: Number.NaN, latencyMs: Number.NaN }));
    m.observeReport(report({ found: false, realtimeErrorPx: Number.NaN, frameErrorPx: Number.NaN }));
    const text = await r.metrics();
    expect(sampleValue(text, 'ballstream_signaling_coordinates_received_total{outcome="unmatched"}')).toBe(1);
    expect(sampleValue(text, 'ballstream_signaling_coordinates_received_total{outcome="not_found"}')).toBe(1);
    expect(sampleValue(text, "ballstream_signaling_realtime_error_pixels_count")).toBe(1);
    expect(sampleValue(text, "ballstream_signaling_frame_error_pixels_count")).toBe(0);
    expect(sampleValue(text, "ballstream_signaling_latency_seconds_count")).toBe(1);
  });
  test("rejections are counted by kind and reason", async () => {
    const r = createRegistry();
    const m = createSignalingMetrics(r);
    m.reject("datagram", "bad_request");
    m.reject("datagram", "bad_request");
    m.reject("control", "too_large");
    m.reject("datagram", "rate_limited");
    m.reject("session", "limit_exceeded");
    m.activeSessions.set(2);
    m.quicConnections.set(3);
    const text = await r.metrics();
    expect(sampleValue(text, 'ballstream_signaling_messages_rejected_total{kind="datagram",reason="rate_limited"}')).toBe(1);
    expect(sampleValue(text, 'ballstream_signaling_messages_rejected_total{kind="session",reason="limit_exceeded"}')).toBe(1);
    expect(sampleValue(text, "ballstream_signaling_quic_connections")).toBe(3);
    expect(sampleValue(text, 'ballstream_signaling_messages_rejected_total{kind="datagram",reason="bad_request"}')).toBe(2);
    expect(sampleValue(text, 'ballstream_signaling_messages_rejected_total{kind="control",reason="too_large"}')).toBe(1);
    expect(sampleValue(text, "ballstream_signaling_active_sessions")).toBe(2);
  });
});
