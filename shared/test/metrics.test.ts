import { afterEach, describe, expect, test } from "bun:test";
import {
  DEFAULT_METRICS_PORTS,
  ENCODE_BUCKETS_S,
  ERROR_BUCKETS_PX,
  LATENCY_BUCKETS_S,
  type MetricsServer,
  collectProcessMetrics,
  createGeneratorMetrics,
  createMediaMetrics,
  createRegistry,
  createSignalingMetrics,
  defaultRegistry,
  metricsResponse,
  hasBearerToken,
  metricsEndpointFromEnv,
  serveMetrics,
  steppedBuckets,
} from "../src/metrics.ts";
import type { ErrorReport } from "../src/wt-protocol.ts";

/** The value of one sample line `name{labels} value` in a Prometheus text exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

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

describe("steppedBuckets", () => {
  test("expands linear runs with exact decimal bounds", () => {
    expect(steppedBuckets([[1, 3, 1], [5, 9, 2]])).toEqual([1, 2, 3, 5, 7, 9]);
    expect(steppedBuckets([[0.001, 0.005, 0.001]])).toEqual([0.001, 0.002, 0.003, 0.004, 0.005]);
  });

  test("rejects bad or overlapping runs", () => {
    expect(() => steppedBuckets([[1, 3, 0]])).toThrow(RangeError);
    expect(() => steppedBuckets([[3, 1, 1]])).toThrow(RangeError);
    expect(() => steppedBuckets([[1, 3, 1], [3, 5, 1]])).toThrow(/not increasing/);
  });
});

describe("bucket layouts", () => {
  const increasing = (b: readonly number[]) => b.every((x, i) => i === 0 || x > (b[i - 1] as number));

  test("latency resolves 1 ms up to 10 ms and reaches 5 s", () => {
    expect(increasing(LATENCY_BUCKETS_S)).toBe(true);
    for (let ms = 1; ms <= 10; ms++) expect(LATENCY_BUCKETS_S).toContain(ms / 1000);
    expect(LATENCY_BUCKETS_S).toContain(0.1);
    expect(LATENCY_BUCKETS_S.at(-1)).toBe(5);
  });

  test("errors resolve 1 px up to 10 px and reach 1000 px", () => {
    expect(increasing(ERROR_BUCKETS_PX)).toBe(true);
    for (let px = 1; px <= 10; px++) expect(ERROR_BUCKETS_PX).toContain(px);
    expect(ERROR_BUCKETS_PX[0]).toBeLessThan(1);
    expect(ERROR_BUCKETS_PX.at(-1)).toBe(1000);
  });

  test("encode time resolves 1 ms up to 10 ms", () => {
    expect(increasing(ENCODE_BUCKETS_S)).toBe(true);
    for (let ms = 1; ms <= 10; ms++) expect(ENCODE_BUCKETS_S).toContain(ms / 1000);
  });
});

describe("service metrics", () => {
  test("each create* is idempotent per registry and distinct across registries", () => {
    const a = createRegistry();
    expect(createGeneratorMetrics(a)).toBe(createGeneratorMetrics(a));
    expect(createMediaMetrics(a)).toBe(createMediaMetrics(a));
    expect(createSignalingMetrics(a)).toBe(createSignalingMetrics(a));
    expect(createSignalingMetrics(createRegistry())).not.toBe(createSignalingMetrics(a));
  });

  test("all three services fit in one registry (the embedded process) with prefixed names", async () => {
    const r = createRegistry();
    createGeneratorMetrics(r);
    createMediaMetrics(r);
    createSignalingMetrics(r);
    const names = (await r.getMetricsAsJSON()).map((m) => m.name);
    expect(names.length).toBe(4 + 8 + 7);
    for (const name of names) expect(name).toMatch(/^ballstream_(generator|media|signaling)_[a-z_]+$/);
    for (const name of names.filter((n) => n.endsWith("_total"))) expect(name).not.toMatch(/_total_total$/);
  });

  test("generator counters and gauge appear in the exposition", async () => {
    const r = createRegistry();
    const m = createGeneratorMetrics(r);
    m.framesProduced.inc(3);
    m.framesLate.inc();
    m.framesSkipped.inc(2);
    m.activeSessions.inc();
    m.activeSessions.inc();
    m.activeSessions.dec();
    const text = await r.metrics();
    expect(sample(text, "ballstream_generator_frames_produced_total")).toBe(3);
    expect(sample(text, "ballstream_generator_frames_late_total")).toBe(1);
    expect(sample(text, "ballstream_generator_frames_skipped_total")).toBe(2);
    expect(sample(text, "ballstream_generator_active_sessions")).toBe(1);
  });

  test("media encode time is recorded in seconds with 1 ms resolution; bad values are ignored", async () => {
    const r = createRegistry();
    const m = createMediaMetrics(r);
    m.observeEncodeMs(2.5);
    m.observeEncodeMs(Number.NaN);
    m.observeEncodeMs(-1);
    m.framesSent.inc();
    m.keyframes.inc();
    const text = await r.metrics();
    expect(sample(text, "ballstream_media_encode_seconds_count")).toBe(1);
    expect(sample(text, "ballstream_media_encode_seconds_sum")).toBeCloseTo(0.0025, 9);
    expect(sample(text, 'ballstream_media_encode_seconds_bucket{le="0.002"}')).toBe(0);
    expect(sample(text, 'ballstream_media_encode_seconds_bucket{le="0.003"}')).toBe(1);
    expect(sample(text, "ballstream_media_frames_sent_total")).toBe(1);
    expect(sample(text, "ballstream_media_keyframes_total")).toBe(1);
  });

  test("a matched report feeds all three histograms at the right buckets", async () => {
    const r = createRegistry();
    const m = createSignalingMetrics(r);
    m.observeReport(report({}));
    const text = await r.metrics();
    expect(sample(text, 'ballstream_signaling_coordinates_received_total{outcome="matched"}')).toBe(1);
    expect(sample(text, 'ballstream_signaling_frame_error_pixels_bucket{le="0.5"}')).toBe(0);
    expect(sample(text, 'ballstream_signaling_frame_error_pixels_bucket{le="1"}')).toBe(1);
    expect(sample(text, 'ballstream_signaling_realtime_error_pixels_bucket{le="18"}')).toBe(0);
    expect(sample(text, 'ballstream_signaling_realtime_error_pixels_bucket{le="20"}')).toBe(1);
    expect(sample(text, 'ballstream_signaling_latency_seconds_bucket{le="0.06"}')).toBe(0);
    expect(sample(text, 'ballstream_signaling_latency_seconds_bucket{le="0.065"}')).toBe(1);
    expect(sample(text, "ballstream_signaling_latency_seconds_sum")).toBeCloseTo(0.063, 9);
  });

  test("an unmatched report records only the real-time error; a ball not found records only latency", async () => {
    const r = createRegistry();
    const m = createSignalingMetrics(r);
    m.observeReport(report({ frameMatched: false, frameErrorPx: Number.NaN, latencyMs: Number.NaN }));
    m.observeReport(report({ found: false, realtimeErrorPx: Number.NaN, frameErrorPx: Number.NaN }));
    const text = await r.metrics();
    expect(sample(text, 'ballstream_signaling_coordinates_received_total{outcome="unmatched"}')).toBe(1);
    expect(sample(text, 'ballstream_signaling_coordinates_received_total{outcome="not_found"}')).toBe(1);
    expect(sample(text, "ballstream_signaling_realtime_error_pixels_count")).toBe(1);
    expect(sample(text, "ballstream_signaling_frame_error_pixels_count")).toBe(0);
    expect(sample(text, "ballstream_signaling_latency_seconds_count")).toBe(1);
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
    expect(sample(text, 'ballstream_signaling_messages_rejected_total{kind="datagram",reason="rate_limited"}')).toBe(1);
    expect(sample(text, 'ballstream_signaling_messages_rejected_total{kind="session",reason="limit_exceeded"}')).toBe(1);
    expect(sample(text, "ballstream_signaling_quic_connections")).toBe(3);
    expect(sample(text, 'ballstream_signaling_messages_rejected_total{kind="datagram",reason="bad_request"}')).toBe(2);
    expect(sample(text, 'ballstream_signaling_messages_rejected_total{kind="control",reason="too_large"}')).toBe(1);
    expect(sample(text, "ballstream_signaling_active_sessions")).toBe(2);
  });

  test("no metric carries a session-like label", async () => {
    const r = createRegistry();
    createGeneratorMetrics(r);
    createMediaMetrics(r);
    createSignalingMetrics(r).observeReport(report({}));
    for (const line of (await r.metrics()).split("\n").filter((l) => l && !l.startsWith("#"))) {
      expect(line).not.toMatch(/session_?id|sessionId/i);
    }
  });
});

describe("process metrics", () => {
  test("carry the service label and are registered once", async () => {
    const r = createRegistry();
    collectProcessMetrics(r, "media");
    collectProcessMetrics(r, "media");
    const text = await r.metrics();
    expect(sample(text, 'process_cpu_seconds_total{service="media"}')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'process_resident_memory_bytes{service="media"}')).toBeGreaterThan(0);
  });

  test("the default registry is prom-client's global one and separate from fresh ones", () => {
    expect(createRegistry()).not.toBe(defaultRegistry);
    expect(DEFAULT_METRICS_PORTS.generator).not.toBe(DEFAULT_METRICS_PORTS.media);
  });
});

describe("metricsResponse", () => {
  test("answers the Prometheus text format", async () => {
    const r = createRegistry();
    createGeneratorMetrics(r).framesProduced.inc();
    const res = await metricsResponse(r);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(sample(await res.text(), "ballstream_generator_frames_produced_total")).toBe(1);
  });

  test("answers 500 when a collector throws", async () => {
    const r = createRegistry();
    const { Gauge } = await import("prom-client");
    new Gauge({
      name: "broken",
      help: "throws on collect",
      registers: [r],
      collect() {
        throw new Error("boom");
      },
    });
    const res = await metricsResponse(r);
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("boom");
  });
});

describe("serveMetrics", () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  test("serves /metrics and /healthz over real HTTP, 404 elsewhere, 405 for POST", async () => {
    const r = createRegistry();
    const m = createMediaMetrics(r);
    server = serveMetrics({ registry: r, host: "127.0.0.1", port: 0 });
    expect(server.port).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${server.port}`;
    m.framesDropped.inc(4);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(sample(await metrics.text(), "ballstream_media_frames_dropped_total")).toBe(4);
    m.framesDropped.inc();
    expect(sample(await (await fetch(`${base}/metrics`)).text(), "ballstream_media_frames_dropped_total")).toBe(5);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe("ok\n");
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(405);
  });

  test("with a token, /metrics needs the bearer token (401 otherwise), /healthz stays open; beforeScrape runs per scrape", async () => {
    const r = createRegistry();
    createMediaMetrics(r);
    let scrapes = 0;
    server = serveMetrics({ registry: r, host: "127.0.0.1", port: 0, token: "t0ken", beforeScrape: () => scrapes++ });
    const url = `http://127.0.0.1:${server.port}`;
    const denied = await fetch(`${url}/metrics`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toContain("Bearer");
    expect((await fetch(`${url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: "Bearer t0ken" } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("ballstream_media_frames_sent_total");
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(scrapes).toBe(1);
  });

  test("stop closes the port", async () => {
    server = serveMetrics({ registry: createRegistry(), host: "127.0.0.1", port: 0 });
    const port = server.port;
    await server.stop();
    server = undefined;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});

describe("metrics settings", () => {
  test("metricsEndpointFromEnv: defaults, overrides, no token when empty, bad port named", () => {
    expect(metricsEndpointFromEnv({}, { host: "0.0.0.0", port: 9464 })).toEqual({ host: "0.0.0.0", port: 9464, token: undefined });
    expect(metricsEndpointFromEnv({ METRICS_HOST: "127.0.0.1", METRICS_PORT: "0", METRICS_TOKEN: " s " }, { host: "0.0.0.0", port: 9464 })).toEqual({ host: "127.0.0.1", port: 0, token: "s" });
    expect(metricsEndpointFromEnv({ METRICS_TOKEN: "" }, { host: "h", port: 1 }).token).toBeUndefined();
    expect(() => metricsEndpointFromEnv({ METRICS_PORT: "70000" }, { host: "h", port: 1 })).toThrow("METRICS_PORT");
  });

  test("hasBearerToken accepts exactly `Bearer <token>`", () => {
    const req = (authorization?: string) => new Request("http://x/metrics", authorization ? { headers: { authorization } } : {});
    expect(hasBearerToken(req("Bearer abc"), "abc")).toBe(true);
    expect(hasBearerToken(req("bearer abc"), "abc")).toBe(true);
    expect(hasBearerToken(req("Bearer abcd"), "abc")).toBe(false);
    expect(hasBearerToken(req("Basic abc"), "abc")).toBe(false);
    expect(hasBearerToken(req(), "abc")).toBe(false);
  });

  test("every service has its own default metrics port", () => {
    expect(new Set(Object.values(DEFAULT_METRICS_PORTS)).size).toBe(3);
  });
});
