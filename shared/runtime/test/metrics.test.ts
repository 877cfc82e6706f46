import { afterEach, describe, expect, test } from "bun:test";
import {
  DEFAULT_METRICS_PORTS,
  ENCODE_BUCKETS_S,
  ERROR_BUCKETS_PX,
  LATENCY_BUCKETS_S,
  type MetricsServer,
  collectProcessMetrics,
  counter,
  gauge,
  histogram,
  once,
  createRegistry,
  defaultRegistry,
  metricsResponse,
  hasBearerToken,
  metricsEndpointFromEnv,
  serveMetrics,
  steppedBuckets,
} from "../src/metrics.ts";
import { sampleValue } from "@ballstream/testing";



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

describe("metric helpers", () => {
  test("once runs create once per registry and key", () => {
    const a = createRegistry();
    let made = 0;
    const make = () => ({ n: ++made });
    expect(once(a, "x", make)).toBe(once(a, "x", make));
    expect(once(a, "y", make)).not.toBe(once(a, "x", make));
    expect(once(createRegistry(), "x", make).n).toBe(3);
  });

  test("counter, gauge and histogram carry the ballstream_ prefix and land in their registry", async () => {
    const r = createRegistry();
    counter(r, "x_total", "a counter").inc(2);
    gauge(r, "x_level", "a gauge").set(5);
    histogram(r, "x_seconds", "a histogram", [0.1, 1]).observe(0.5);
    const text = await r.metrics();
    expect(sampleValue(text, "ballstream_x_total")).toBe(2);
    expect(sampleValue(text, "ballstream_x_level")).toBe(5);
    expect(sampleValue(text, 'ballstream_x_seconds_bucket{le="1"}')).toBe(1);
    expect(await createRegistry().metrics()).not.toContain("ballstream_x_total");
  });
});

describe("process metrics", () => {
  test("carry the service label and are registered once", async () => {
    const r = createRegistry();
    collectProcessMetrics(r, "media");
    collectProcessMetrics(r, "media");
    const text = await r.metrics();
    expect(sampleValue(text, 'process_cpu_seconds_total{service="media"}')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(text, 'process_resident_memory_bytes{service="media"}')).toBeGreaterThan(0);
  });

  test("the default registry is prom-client's global one and separate from fresh ones", () => {
    expect(createRegistry()).not.toBe(defaultRegistry);
    expect(DEFAULT_METRICS_PORTS.generator).not.toBe(DEFAULT_METRICS_PORTS.media);
  });
});

describe("metricsResponse", () => {
  test("answers the Prometheus text format", async () => {
    const r = createRegistry();
    counter(r, "generator_frames_produced_total", "Frames.").inc();
    const res = await metricsResponse(r);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(sampleValue(await res.text(), "ballstream_generator_frames_produced_total")).toBe(1);
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
    const dropped = counter(r, "media_frames_dropped_total", "Dropped frames.");
    server = serveMetrics({ registry: r, host: "127.0.0.1", port: 0 });
    expect(server.port).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${server.port}`;
    dropped.inc(4);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(sampleValue(await metrics.text(), "ballstream_media_frames_dropped_total")).toBe(4);
    dropped.inc();
    expect(sampleValue(await (await fetch(`${base}/metrics`)).text(), "ballstream_media_frames_dropped_total")).toBe(5);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe("ok\n");
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(405);
  });

  test("with a token, /metrics needs the bearer token (401 otherwise), /healthz stays open; beforeScrape runs per scrape", async () => {
    const r = createRegistry();
    counter(r, "media_frames_dropped_total", "Dropped frames.");
    let scrapes = 0;
    server = serveMetrics({ registry: r, host: "127.0.0.1", port: 0, token: "t0ken", beforeScrape: () => scrapes++ });
    const url = `http://127.0.0.1:${server.port}`;
    const denied = await fetch(`${url}/metrics`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toContain("Bearer");
    expect((await fetch(`${url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: "Bearer t0ken" } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("ballstream_media_frames_dropped_total");
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(scrapes).toBe(1);
  });

  test("/readyz: ready without a ready() check; 503 draining once ready() says false, open without the token", async () => {
    let ready = true;
    server = serveMetrics({ registry: createRegistry(), host: "127.0.0.1", port: 0, token: "t0ken", ready: () => ready });
    const url = `http://127.0.0.1:${server.port}/readyz`;
    const first = await fetch(url);
    expect([first.status, await first.text()]).toEqual([200, "ready\n"]);
    ready = false;
    const draining = await fetch(url);
    expect([draining.status, await draining.text()]).toEqual([503, "draining\n"]);
    await server.stop();
    server = serveMetrics({ registry: createRegistry(), host: "127.0.0.1", port: 0 });
    expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(200);
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
