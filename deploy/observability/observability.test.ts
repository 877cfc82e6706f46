/**
 * The observability artefacts agree with the code: every metric the dashboard, the Prometheus config and the docs
 * name exists in shared/src/metrics.ts (and every metric is documented), the scrape targets use the services'
 * ports, and the compose override only adds services under the `observability` profile, with files that exist.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_METRICS_PORTS, createRegistry } from "@ballstream/runtime";
import { createGeneratorMetrics } from "@ballstream/generator";
import { createMediaMetrics } from "@ballstream/media";
import { createSignalingMetrics } from "@ballstream/signaling";

const here = import.meta.dir;
const root = join(here, "..", "..");
const read = (...p: string[]) => readFileSync(join(here, ...p), "utf8");

async function definedMetrics(): Promise<Map<string, string>> {
  const r = createRegistry();
  createGeneratorMetrics(r);
  createMediaMetrics(r);
  createSignalingMetrics(r);
  return new Map((await r.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
}

/** ballstream metric names mentioned in a text (not prefixes like `ballstream_media_…`), sample suffixes stripped. */
function mentioned(text: string): Set<string> {
  return new Set([...text.matchAll(/ballstream_(?:generator|media|signaling)_[a-z_]*[a-z]/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, "")));
}

interface Panel {
  id: number;
  type: string;
  datasource?: { uid: string };
  targets?: Array<{ expr: string }>;
}

describe("docs/observability.md", () => {
  test("documents every metric, and names none that does not exist", async () => {
    const defined = await definedMetrics();
    const docs = readFileSync(join(root, "docs", "observability.md"), "utf8");
    for (const name of defined.keys()) expect(docs).toContain(`\`${name}\``);
    for (const name of mentioned(docs)) expect(defined.has(name)).toBe(true);
  });
});

describe("Grafana dashboard", () => {
  const dashboard = JSON.parse(read("grafana", "dashboards", "ballstream.json")) as { uid: string; panels: Panel[]; templating: { list: Array<{ name: string; type: string }> } };

  test("has unique panel ids and takes its data source from the datasource variable", () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list.find((v) => v.name === "datasource")?.type).toBe("datasource");
    for (const p of dashboard.panels.filter((p) => p.type !== "row")) {
      expect(p.datasource?.uid).toBe("${datasource}");
      expect(p.targets?.length).toBeGreaterThan(0);
    }
  });

  test("queries only existing metrics, quantiles only of histograms", async () => {
    const defined = await definedMetrics();
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    for (const expr of exprs) {
      for (const name of mentioned(expr)) expect(defined.has(name)).toBe(true);
      for (const m of expr.matchAll(/histogram_quantile\([^,]+, sum by \(le\) \(rate\((ballstream_[a-z_]+)_bucket/g)) {
        expect(defined.get(m[1] as string)).toBe("histogram");
      }
    }
  });

  test("shows the figures the issue asks for", () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr).join("\n");
    expect(exprs).toContain("histogram_quantile(0.5, sum by (le) (rate(ballstream_signaling_latency_seconds_bucket");
    expect(exprs).toContain("histogram_quantile(0.95, sum by (le) (rate(ballstream_signaling_latency_seconds_bucket");
    for (const name of ["realtime_error_pixels", "frame_error_pixels", "active_sessions"]) expect(exprs).toContain(`ballstream_signaling_${name}`);
    for (const name of ["frames_sent_total", "frames_dropped_total", "encode_seconds"]) expect(exprs).toContain(`ballstream_media_${name}`);
  });
});

describe("Prometheus configuration", () => {
  const config = Bun.YAML.parse(read("prometheus.yml")) as {
    scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[]; labels?: Record<string, string> }> }>;
  };

  test("scrapes the three services on their ports", () => {
    const job = config.scrape_configs.find((j) => j.job_name === "ballstream");
    expect(job?.metrics_path).toBe("/metrics");
    const targets = Object.fromEntries((job?.static_configs ?? []).map((s) => [s.labels?.service, s.targets]));
    expect(targets).toEqual({
      generator: [`generator:${DEFAULT_METRICS_PORTS.generator}`],
      media: [`media:${DEFAULT_METRICS_PORTS.media}`],
      signaling: [`signaling:${DEFAULT_METRICS_PORTS.signaling}`],
    });
  });

  test.skipIf(Bun.which("promtool") === null)("passes promtool check config", () => {
    const r = Bun.spawnSync(["promtool", "check", "config", join(here, "prometheus.yml")]);
    expect(r.stdout.toString() + r.stderr.toString()).toContain("SUCCESS");
    expect(r.exitCode).toBe(0);
  });
});

describe("compose profile", () => {
  const compose = Bun.YAML.parse(read("compose.observability.yaml")) as {
    services: Record<string, { profiles?: string[]; volumes?: string[]; ports?: string[] }>;
  };

  test("adds only services under the observability profile, bound to loopback", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["grafana", "prometheus"]);
    for (const s of Object.values(compose.services)) {
      expect(s.profiles).toEqual(["observability"]);
      for (const p of s.ports ?? []) expect(p.startsWith("127.0.0.1:")).toBe(true);
    }
  });

  test("mounts files that exist, relative to compose.yaml's directory", () => {
    const sources = Object.values(compose.services).flatMap((s) => s.volumes ?? []).map((v) => v.split(":")[0] as string);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(existsSync(join(root, source))).toBe(true);
  });
});

/** One matched error report, for the label check. */
const SAMPLE_REPORT = { frameMatched: true, found: true, frameId: 7, rtpTimestamp: 1234, detectedX: 100, detectedY: 100, frameTruthX: 101, frameTruthY: 100, nowTruthX: 120, nowTruthY: 100, realtimeErrorPx: 20, frameErrorPx: 1, latencyMs: 63, captureTimeMs: 1_700_000_000_000, arrivalMs: 1_700_000_000_063 };

describe("the three services' metrics together", () => {
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
    expect(names.length).toBe(4 + 12 + 11 + 5 + 5); // generator, media (4 of channels), signaling (1 of channels), and each one's emulated-link metrics
    for (const name of names) expect(name).toMatch(/^ballstream_(generator|media|signaling)_[a-z_]+$/);
    for (const name of names.filter((n) => n.endsWith("_total"))) expect(name).not.toMatch(/_total_total$/);
  });
  test("no metric carries a session-like label", async () => {
    const r = createRegistry();
    createGeneratorMetrics(r);
    createMediaMetrics(r);
    createSignalingMetrics(r).observeReport(SAMPLE_REPORT);
    for (const line of (await r.metrics()).split("\n").filter((l) => l && !l.startsWith("#"))) {
      expect(line).not.toMatch(/session_?id|sessionId/i);
    }
  });
});
