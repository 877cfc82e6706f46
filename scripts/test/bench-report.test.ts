import { describe, expect, test } from "bun:test";
import type { BenchResults, CapacityResult } from "../bench/results.ts";
import { BEFORE_VARIANT, TARGETS, baselineRun, benchJson, cpuPerSession, marginalCpuPerSession, latencyOverTimeSvg, latencyVsSessionsSvg, renderReport, serverCpuPct, targetLines } from "../bench/report.ts";
import { summarize } from "@ballstream/testing";
import { fanout as fanoutFixture, run } from "./bench-fixtures.ts";

const capacity: CapacityResult = {
  fps: 30, mode: "nats", receivers: "light receivers", baselineP95Ms: 30, sessionsMax: 4,
  stopReason: "8 sessions failed: x",
  steps: [
    { sessions: 1, lightSessions: 0, lightDeliveredPct: Number.NaN, lightLatency: summarize([]), probeDeliveredPct: 100, probeG2g: summarize([20, 30]), cpu: [{ name: "media", selfPct: 10, childrenPct: 10 }], failure: null },
    { sessions: 4, lightSessions: 3, lightDeliveredPct: 99, lightLatency: summarize([5, 6]), probeDeliveredPct: 100, probeG2g: summarize([22, 33]), cpu: [{ name: "media", selfPct: 20, childrenPct: 40 }, { name: "light receivers", selfPct: 50, childrenPct: 0 }], failure: null },
    { sessions: 8, lightSessions: 7, lightDeliveredPct: 80, lightLatency: summarize([9]), probeDeliveredPct: 90, probeG2g: summarize([40, 70]), cpu: [], failure: "x" },
  ],
};

const results: BenchResults = {
  startedAt: "2026-01-01T00:00:00.000Z", durationS: 400, loadAverageEnd: 2,
  machine: { nproc: 2, cpuModel: "AMD EPYC", memoryGiB: 23.5, freeMemoryGiB: 20, loadAverage1m: 1.5, kernel: "Linux 6", versions: { bun: "1.4.5" } },
  runs: [run("one-process", 30, [20, 22]), run("one-process", 60, [45, 50]), run("one-process", 30, [18, 19], "hints"), run("nats", 30, [21, 23])],
  capacity, fanout: null, network: [], transports: [], subBenchmarks: [{ name: "web: detect", command: "bun bench/detect.ts", lines: ["centroid 0.5 ms"], figures: {}, error: null }], notes: ["a note"],
};

describe("figures", () => {
  test("baselineRun skips variants", () => {
    expect(baselineRun(results, "one-process", 30)?.variant).toBe("");
    expect(baselineRun(results, "nats", 60)).toBeUndefined();
  });
  test("server CPU leaves out browsers and light receivers; per session at the largest count that held", () => {
    expect(serverCpuPct(results.runs[0]!.cpu)).toBe(14);
    expect(cpuPerSession(capacity)).toBe(15); // media 60 % over 4 sessions
    expect(cpuPerSession(null)).toBeNaN();
    expect(marginalCpuPerSession(capacity)).toBeCloseTo(40 / 3, 10); // media 20 % → 60 % from 1 to 4 sessions
    expect(marginalCpuPerSession(null)).toBeNaN();
  });
  test("the BENCH object has every required key, headline from one process, null where not measured", () => {
    const b = benchJson(results);
    for (const k of ["g2g_ms_p50_30fps", "g2g_ms_p95_30fps", "g2g_ms_p50_60fps", "g2g_ms_p95_60fps", "rt_error_px_p50_30fps", "frame_error_px_p50_30fps", "frame_error_px_p50", "sessions_max_30fps", "cpu_core_pct_per_session_30fps"]) {
      expect(k in b).toBe(true);
    }
    expect(b.g2g_ms_p50_30fps).toBe(21);
    expect(b.g2g_ms_p50_30fps_nats).toBe(22);
    expect(b.g2g_ms_p50_60fps_nats).toBeNull();
    expect(b.frame_error_px_p50).toBe(0.3);
    expect(b.sessions_max_30fps).toBe(4);
    expect(JSON.parse(JSON.stringify(b))).toEqual(b);
  });
  test("the BENCH object carries the before runs (ENCODER=ffmpeg) under _before: null when not measured", () => {
    expect(benchJson(results).g2g_ms_p50_30fps_before).toBeNull();
    const withBefore = benchJson({ ...results, runs: [...results.runs, run("one-process", 30, [30, 32], BEFORE_VARIANT)] });
    expect(withBefore.g2g_ms_p50_30fps_before).toBe(31);
    expect(withBefore.g2g_ms_p50_30fps).toBe(21); // the baseline is still the baseline
    expect(withBefore.g2g_ms_p50_60fps_before).toBeNull();
  });
  test("the BENCH object carries the fan-out's keys: null without a fan-out run, its figures with one", () => {
    expect(benchJson(results).channel_viewers_max_30fps).toBeNull();
    expect("channel_cpu_pct_per_viewer" in benchJson(results)).toBe(true);
    const withFanout = benchJson({ ...results, fanout: fanoutFixture });
    expect(withFanout.channel_viewers_max_30fps).toBe(100);
    expect(withFanout.sessions_max_30fps).toBe(4);
  });
});

describe("report", () => {
  test("target lines say what was met and which stage costs the time where missed", () => {
    const fast = { ...run("one-process", 30, [2.5, 2.9]), rtError: summarize([1.1, 1.2]), frameError: summarize([0.01, 0.02]) };
    const lines = targetLines({ ...results, runs: [fast, ...results.runs.slice(1)] }).join("\n");
    expect(lines).toContain("one-process, 30 fps: **met**");
    expect(lines).toContain("one-process, 60 fps: **missed**");
    expect(lines).toContain(`p50 ${(47.5).toFixed(1)} ms > ${TARGETS.g2gP50Ms[60]} ms, p95 ${(49.75).toFixed(1)} ms > ${TARGETS.g2gP95Ms[60]} ms`);
    expect(lines).toContain("Costliest stage: jitter buffer (15.0 ms)");
    expect(lines).toContain(`real-time error p50 9.50 px > ${TARGETS.rtErrorP50Px30} px, frame error p50 0.300 px > ${TARGETS.frameErrorP50Px} px`); // nats 30 fps
    expect(lines.split("\n").find((l) => l.includes("one-process, 60 fps"))).not.toContain("real-time error"); // a 30 fps target
    expect(lines).toContain(`capacity at 30 fps: **missed** — 4 sessions < ${TARGETS.sessions30}`);
    expect(lines).toContain(`server CPU per session at 30 fps: **missed** — ${cpuPerSession(capacity).toFixed(1)} % of a core > ${TARGETS.cpuPctPerSession30} %`);
  });
  test("the markdown has the machine, every run, the stages, capacity steps, plots and sub-benchmarks", () => {
    const md = renderReport(results, { latencyOverTime: "a.svg", latencyVsSessions: "b.svg" });
    expect(md).toContain("| CPUs (nproc) | 2 × AMD EPYC |");
    expect(md).toContain("| one-process (hints) | 30 |");
    expect(md).toContain("| g2g p50 / p95 / p99 ms | g2g to expected display p50 / p95 ms | g2g by browser's capture time p50 / p95 ms |");
    expect(md).toContain("| one-process | 30 | 21.0 / 21.9 / 22.0 | 37.0 / 37.9 | 21.3 / 22.1 |");
    expect(md).toContain("| **biggest glass-to-glass stage** |");
    expect(md).toContain("Largest count that held: **4**");
    expect(md).toContain("each added session costs 13.3 %");
    expect(md).toContain("![latency over time](a.svg)");
    expect(md).toContain("![latency vs sessions](b.svg)");
    expect(md).toContain("centroid 0.5 ms");
    expect(md).toContain("- a note");
    expect(md).not.toContain("## Channels: fan-out");
    const withFanout = renderReport({ ...results, fanout: fanoutFixture }, { latencyOverTime: "a.svg", latencyVsSessions: null, latencyVsViewers: "c.svg" });
    expect(withFanout).toContain("![latency vs viewers](c.svg)");
    expect(withFanout.indexOf("## Channels: fan-out")).toBeGreaterThan(withFanout.indexOf("## Capacity at 30 fps"));
    expect(withFanout).toContain("Largest count that held: **100** viewers");
  });
  test("plots are SVG documents with one line per baseline run and per capacity figure", () => {
    const overTime = latencyOverTimeSvg(results);
    expect(overTime).toContain("one-process 60 fps");
    expect(overTime).not.toContain("hints");
    const vs = latencyVsSessionsSvg(capacity);
    expect(vs).toContain("probe g2g p95");
    expect(vs.match(/<circle/g)!.length).toBeGreaterThanOrEqual(9);
    const viewers = latencyVsSessionsSvg(fanoutFixture, "viewers");
    expect(viewers).toContain("Latency vs viewers of one channel (30 fps, nats)");
    expect(viewers).not.toContain("concurrent sessions");
  });
});
