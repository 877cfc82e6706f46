/** Turns {@link BenchResults} into the `BENCH {json}` line, docs/benchmarks.md and its SVG plots. */
import type { BenchResults, CapacityResult, Mode, RunResult } from "./results.ts";
import { type Series, lineChart } from "./svg.ts";
import { biggestStage } from "./stages.ts";
import { round } from "@ballstream/testing";
import { netJson, netMatrix } from "./network.ts";
import { transportJson, transportSection } from "./transports.ts";
import { cpuCell as cpuTreesCell, cpuSlope, treesCpuPct } from "./cpu.ts";
import { fanoutJson, fanoutSection } from "./fanout-report.ts";

/**
 * The targets of the open issues, 2 cores, in both modes: glass-to-glass by fps and the 30 fps errors (issue 20),
 * capacity and server CPU per session at 30 fps (issue 19).
 */
export const TARGETS = {
  g2gP50Ms: { 30: 3.0, 60: 3.0 },
  g2gP95Ms: { 30: 5.0, 60: 6.0 },
  rtErrorP50Px30: 1.3,
  frameErrorP50Px: 0.05,
  sessions30: 32,
  cpuPctPerSession30: 5,
} as const;

/** The glass-to-glass targets at `fps` (60 fps's for any rate above 30). */
function g2gTargets(fps: number): { p50: number; p95: number } {
  const at = fps > 30 ? 60 : 30;
  return { p50: TARGETS.g2gP50Ms[at], p95: TARGETS.g2gP95Ms[at] };
}

const SERVER_TREES = ["ballstream", "generator", "media", "signaling", "nats-server"];

/** The baseline run of `mode` at `fps` (no tuning variant), if it was measured. */
export function baselineRun(results: BenchResults, mode: Mode, fps: number): RunResult | undefined {
  return results.runs.find((r) => r.mode === mode && r.fps === fps && r.variant === "");
}

/** Server CPU (every service tree incl. ffmpeg children and nats-server, not browsers or light receivers), % of a core. */
export function serverCpuPct(cpu: RunResult["cpu"]): number {
  return treesCpuPct(cpu, SERVER_TREES);
}

/**
 * Marginal server CPU of one more session (% of a core): the slope between the first and the last step that held
 * (NaN with fewer than two such steps).
 */
export function marginalCpuPerSession(capacity: CapacityResult | null): number {
  return cpuSlope(capacity?.steps ?? [], SERVER_TREES);
}

/** Server CPU per session at the largest count that held (NaN without a capacity run). */
export function cpuPerSession(capacity: CapacityResult | null): number {
  const step = capacity?.steps.find((s) => s.sessions === capacity.sessionsMax) ?? capacity?.steps[0];
  return step ? serverCpuPct(step.cpu) / step.sessions : Number.NaN;
}

/** The variant of the one-process runs with the encoder before libx264 moved into the process (ENCODER=ffmpeg). */
export const BEFORE_VARIANT = "before: ENCODER=ffmpeg";

/**
 * The object printed as `BENCH {json}`. Headline figures are the one-process (default) runs; the same figures
 * over NATS carry a `_nats` suffix, the one-process runs with the ffmpeg encoder ({@link BEFORE_VARIANT}) `_before`.
 * Unmeasured figures are null.
 */
export function benchJson(results: BenchResults): Record<string, number | string | null> {
  const out: Record<string, number | string | null> = {};
  for (const [mode, suffix] of [["one-process", ""], ["nats", "_nats"]] as const) {
    for (const fps of [30, 60]) {
      const r = baselineRun(results, mode, fps);
      const tag = `${fps}fps${suffix}`;
      out[`g2g_ms_p50_${tag}`] = round(r?.g2g.p50 ?? Number.NaN);
      out[`g2g_ms_p95_${tag}`] = round(r?.g2g.p95 ?? Number.NaN);
      out[`rt_error_px_p50_${tag}`] = round(r?.rtError.p50 ?? Number.NaN, 2);
      out[`frame_error_px_p50_${tag}`] = round(r?.frameError.p50 ?? Number.NaN, 3);
      out[`delivered_pct_${tag}`] = round(r?.deliveredPct ?? Number.NaN);
      out[`receive_fps_${tag}`] = round(r?.receiveFps ?? Number.NaN);
    }
  }
  for (const fps of [30, 60]) {
    const before = results.runs.find((r) => r.mode === "one-process" && r.fps === fps && r.variant === BEFORE_VARIANT);
    out[`g2g_ms_p50_${fps}fps_before`] = round(before?.g2g.p50 ?? Number.NaN);
    out[`g2g_ms_p95_${fps}fps_before`] = round(before?.g2g.p95 ?? Number.NaN);
    out[`rt_error_px_p50_${fps}fps_before`] = round(before?.rtError.p50 ?? Number.NaN, 2);
  }
  out.frame_error_px_p50 = out.frame_error_px_p50_30fps ?? null;
  out.sessions_max_30fps = results.capacity?.sessionsMax ?? null;
  out.capacity_mode = results.capacity ? `${results.capacity.mode}, ${results.capacity.receivers}` : null;
  out.cpu_core_pct_per_session_30fps = round(cpuPerSession(results.capacity));
  out.cpu_core_pct_marginal_per_session_30fps = round(marginalCpuPerSession(results.capacity));
  Object.assign(out, fanoutJson(results.fanout));
  Object.assign(out, netJson(results.network));
  Object.assign(out, transportJson(results.transports));
  out.nproc = results.machine.nproc;
  out.duration_s = round(results.durationS, 0);
  return out;
}

const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "–");
const pct = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} %` : "–");

const cpuCell = (r: { cpu: RunResult["cpu"] }) => cpuTreesCell(r.cpu);

/** Latency over time of the baseline runs (one line per mode and fps). */
export function latencyOverTimeSvg(results: BenchResults): string {
  const colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];
  const series: Series[] = results.runs
    .filter((r) => r.variant === "")
    .map((r, i) => ({ name: `${r.mode} ${r.fps} fps`, points: r.series, color: colors[i % colors.length]! }));
  return lineChart({
    title: "Glass-to-glass latency over time (each presented frame; axis cut at 120 ms)",
    xLabel: "time in the measurement window (s)",
    yLabel: "capture → presentation (ms)",
    series,
    yMax: 120,
    references: [
      { y: TARGETS.g2gP50Ms[30], label: "p50 target", color: "#888888" },
      { y: TARGETS.g2gP95Ms[30], label: "p95 target 30 fps", color: "#bb3333" },
    ],
  });
}

/** Latency against the number of sessions (capacity run) or of viewers of one channel (fan-out run, `unit` "viewers"). */
export function latencyVsSessionsSvg(capacity: Pick<CapacityResult, "fps" | "mode" | "steps" | "baselineP95Ms">, unit: "sessions" | "viewers" = "sessions"): string {
  const pts = (pick: (s: CapacityResult["steps"][number]) => number) => capacity.steps.map((s) => [s.sessions, pick(s)] as const);
  return lineChart({
    title: unit === "sessions" ? `Latency vs concurrent sessions (${capacity.fps} fps, ${capacity.mode})` : `Latency vs viewers of one channel (${capacity.fps} fps, ${capacity.mode})`,
    xLabel: unit === "sessions" ? "concurrent sessions (1 Chromium probe + light receivers)" : "viewers of the channel (1 Chromium probe + light viewers)",
    yLabel: "ms",
    series: [
      { name: "probe g2g p50", points: pts((s) => s.probeG2g.p50), color: "#1f77b4", markers: true },
      { name: "probe g2g p95", points: pts((s) => s.probeG2g.p95), color: "#d62728", markers: true },
      { name: "light: capture → last packet p50", points: pts((s) => s.lightLatency.p50), color: "#2ca02c", markers: true },
      { name: "light: capture → last packet p95", points: pts((s) => s.lightLatency.p95), color: "#9467bd", markers: true },
    ],
    references: [{ y: 2 * capacity.baselineP95Ms, label: "2 × baseline probe p95", color: "#bb3333" }],
  });
}

/** One line per target: met or missed, and the costliest stage where missed. */
export function targetLines(results: BenchResults): string[] {
  const lines: string[] = [];
  for (const mode of ["one-process", "nats"] as const) {
    for (const fps of [30, 60]) {
      const r = baselineRun(results, mode, fps);
      if (!r) continue;
      const target = g2gTargets(fps);
      const misses: string[] = [];
      if (!(r.g2g.p50 <= target.p50)) misses.push(`p50 ${f(r.g2g.p50)} ms > ${target.p50} ms`);
      if (!(r.g2g.p95 <= target.p95)) misses.push(`p95 ${f(r.g2g.p95)} ms > ${target.p95} ms`);
      if (fps === 30 && !(r.rtError.p50 <= TARGETS.rtErrorP50Px30)) misses.push(`real-time error p50 ${f(r.rtError.p50, 2)} px > ${TARGETS.rtErrorP50Px30} px`);
      if (!(r.frameError.p50 <= TARGETS.frameErrorP50Px)) misses.push(`frame error p50 ${f(r.frameError.p50, 3)} px > ${TARGETS.frameErrorP50Px} px`);
      const big = biggestStage(r.stages);
      lines.push(
        misses.length === 0
          ? `- ${mode}, ${fps} fps: **met** (g2g p50 ${f(r.g2g.p50)} ms, p95 ${f(r.g2g.p95)} ms, frame error p50 ${f(r.frameError.p50, 3)} px).`
          : `- ${mode}, ${fps} fps: **missed** — ${misses.join(", ")}. Costliest stage: ${big ? `${big.name} (${f(big.ms)} ms)` : "not measured"}.`,
      );
    }
  }
  const c = results.capacity;
  if (c) {
    lines.push(
      c.sessionsMax >= TARGETS.sessions30
        ? `- capacity at ${c.fps} fps: **met** (${c.sessionsMax} sessions ≥ ${TARGETS.sessions30}).`
        : `- capacity at ${c.fps} fps: **missed** — ${c.sessionsMax} sessions < ${TARGETS.sessions30}; ${c.stopReason}.`,
    );
    const perSession = cpuPerSession(c);
    lines.push(
      perSession <= TARGETS.cpuPctPerSession30
        ? `- server CPU per session at ${c.fps} fps: **met** (${f(perSession)} % of a core ≤ ${TARGETS.cpuPctPerSession30} %).`
        : `- server CPU per session at ${c.fps} fps: **missed** — ${f(perSession)} % of a core > ${TARGETS.cpuPctPerSession30} % (at ${c.sessionsMax} sessions).`,
    );
  }
  return lines;
}

/** How the figures are obtained and how far to trust them (a fixed part of the report). */
export const METHOD: readonly string[] = [
  "## Method and error bars",
  "",
  "- **Glass-to-glass** = presentation − capture, per frame. *Capture* is the frame's scheduled capture time at the generator",
  "  (its absolute schedule; drawing starts when the worker's timer fires, so the timer's lateness is inside the figure, as the",
  "  `generate` stage). *Presentation* is `performance.timeOrigin + metadata.presentationTime` from the page's",
  "  `requestVideoFrameCallback`, for the frame named by `metadata.rtpTimestamp` (= the capture time in 90 kHz ticks, so the",
  "  frame is identified exactly, 11 µs resolution). Both clocks are `timeOrigin + now()` of processes on this one machine: the",
  "  same system clock, < 0.1 ms apart. Headless Chromium has no physical display: `presentationTime` is when the frame was",
  "  handed to the compositor; on a real monitor add up to one refresh (16.7 ms at 60 Hz) plus the panel's own latency.",
  "  Beside it: g2g to the browser's `expectedDisplayTime` (headless: the end of the compositor's latest 60 Hz frame interval,",
  "  not a measured display) and g2g by the browser's own capture time (abs-capture-time, whole ms; docs/web.md).",
  "- The headline figures are the page's own samples (`window.ballstream.samples()`: frames captured inside the window whose",
  "  coordinates came back with an error report). The bench also records every presented frame with its own rVFC callback",
  "  (`receiveTime`, `presentationTime`) and reads `getStats()` before and after the window; the page is not modified (the",
  "  benchmark wraps `RTCPeerConnection` in an init script to reach `getStats()` and the receiver).",
  "- **Real-time error**: distance from the detected centre to where the ball is when the coordinates reach signaling",
  "  (exact physics). **Frame-matched error**: distance to the truth of the very frame shown (detection accuracy alone).",
  "- **Delivered** = frames decoded (`getStats` framesDecoded over the window) ÷ frames the generator drew (span of frame ids",
  "  in the window); receive fps = decoded ÷ window.",
  "- **CPU** from `/proc/<pid>/stat`: utime + stime of each process over the window (% of one core), children (ffmpeg",
  "  encoders; Chromium's renderer and GPU processes) = live descendants + reaped children. In one-process mode generator,",
  "  media and signaling are one process (`ballstream`), so only its total and its ffmpeg children can be told apart.",
  "- **Stages**: see the table; each says where its figure comes from. Stage medians do not add up exactly to the g2g median.",
  "- The machine is shared with other work (see the load average): figures vary from run to run by several ms; p95 more.",
];

/** docs/benchmarks.md. `plots` are the SVG file names next to it. */
export function renderReport(results: BenchResults, plots: { latencyOverTime: string; latencyVsSessions: string | null; latencyVsViewers?: string | null }): string {
  const m = results.machine;
  const out: string[] = [];
  out.push("# Benchmarks", "");
  out.push(
    `Written by \`bun run bench\` (scripts/bench.ts) on ${results.startedAt} in ${f(results.durationS, 0)} s. Every figure comes from real`,
    "headless Chromium sessions against the running system, in both modes: one process (`scripts/start.ts`, in-process bus) and three",
    "processes over a real nats-server. 640×480, default ball (radius 24 px, 320 px/s).",
    "",
  );
  out.push(...METHOD, "");
  out.push("## Machine", "");
  out.push(`| | |`, `|---|---|`);
  out.push(`| CPUs (nproc) | ${m.nproc} × ${m.cpuModel} |`);
  out.push(`| memory | ${f(m.memoryGiB)} GiB (${f(m.freeMemoryGiB)} GiB free at start) |`);
  out.push(`| load average (1 min) at start / end | ${f(m.loadAverage1m, 2)} / ${f(results.loadAverageEnd, 2)} (the machine is shared with other work) |`);
  out.push(`| kernel | ${m.kernel} |`);
  for (const [k, v] of Object.entries(m.versions)) out.push(`| ${k} | ${v} |`);
  out.push("");
  out.push("## Targets", "", ...targetLines(results), "");
  out.push("## Latency and errors (one Chromium session)", "");
  out.push(
    "| mode | fps | g2g p50 / p95 / p99 ms | g2g to expected display p50 / p95 ms | g2g by browser's capture time p50 / p95 ms | coords at signaling p50 / p95 ms | real-time error p50 / p95 px | frame error p50 / p95 px | frames delivered / sent | receive fps | dropped / lost | CPU, % of one core |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const r of results.runs) {
    out.push(
      `| ${r.mode}${r.variant ? ` (${r.variant})` : ""} | ${r.fps} | ${f(r.g2g.p50)} / ${f(r.g2g.p95)} / ${f(r.g2g.p99)} | ${f(r.g2gExpected.p50)} / ${f(r.g2gExpected.p95)} | ` +
        `${f(r.g2gBrowser.p50)} / ${f(r.g2gBrowser.p95)} | ${f(r.latency.p50)} / ${f(r.latency.p95)} | ` +
        `${f(r.rtError.p50, 2)} / ${f(r.rtError.p95, 2)} | ${f(r.frameError.p50, 3)} / ${f(r.frameError.p95, 3)} | ${r.framesDecoded} / ${r.framesGenerated} (${pct(r.deliveredPct)}) | ` +
        `${f(r.receiveFps)} | ${r.framesDropped} / ${r.packetsLost} | ${cpuCell(r)} |`,
    );
  }
  out.push("", `![latency over time](${plots.latencyOverTime})`, "");
  out.push("## Where the time goes (median per frame, ms)", "");
  const runs = results.runs.filter((r) => r.variant === "");
  out.push(`| stage | ${runs.map((r) => `${r.mode} ${r.fps} fps`).join(" | ")} | how |`, `|---|${runs.map(() => "---|").join("")}---|`);
  for (const [i, s] of (runs[0]?.stages ?? []).entries()) {
    out.push(`| ${s.glassToGlass ? s.name : `*${s.name}* (way back, beside glass-to-glass)`} | ${runs.map((r) => f(r.stages[i]?.ms ?? Number.NaN)).join(" | ")} | ${s.source} |`);
  }
  out.push(`| **biggest glass-to-glass stage** | ${runs.map((r) => biggestStage(r.stages)?.name ?? "–").join(" | ")} | |`, "");
  const c = results.capacity;
  if (c) {
    out.push(`## Capacity at ${c.fps} fps (${c.mode})`, "");
    out.push(
      `Extra sessions: ${c.receivers}. A step fails when fewer than 95 % of the frames are delivered (light receivers or the probe) or the`,
      `Chromium probe's glass-to-glass p95 exceeds twice its value alone (${f(c.baselineP95Ms)} ms). Largest count that held: **${c.sessionsMax}**. ${c.stopReason}.`,
      "",
      "| sessions | light delivered | light capture → last packet p50 / p95 ms | probe delivered | probe g2g p50 / p95 ms | server CPU % of a core (per session) | CPU by process | verdict |",
      "|---|---|---|---|---|---|---|---|",
    );
    for (const s of c.steps) {
      const server = serverCpuPct(s.cpu);
      out.push(
        `| ${s.sessions} | ${pct(s.lightDeliveredPct)} | ${f(s.lightLatency.p50)} / ${f(s.lightLatency.p95)} | ${pct(s.probeDeliveredPct)} | ${f(s.probeG2g.p50)} / ${f(s.probeG2g.p95)} | ` +
          `${f(server)} (${f(server / s.sessions)}) | ${cpuCell(s)} | ${s.failure ?? "held"} |`,
      );
    }
    const last = c.steps.at(-1);
    const nonServer = last ? last.cpu.filter((x) => !SERVER_TREES.includes(x.name)).reduce((sum, x) => sum + x.selfPct + x.childrenPct, 0) : Number.NaN;
    out.push(
      "",
      `Server CPU per session: ${f(cpuPerSession(c))} % of a core at ${c.sessionsMax} sessions; each added session costs ${f(marginalCpuPerSession(c))} % ` +
        `(slope between the first and last step that held). The probe Chromium and the light receivers took ${f(nonServer)} % of a core at the last step, ` +
        `on the same ${results.machine.nproc} cores as the server and other work (load average above).`,
    );
    if (plots.latencyVsSessions) out.push("", `![latency vs sessions](${plots.latencyVsSessions})`);
    out.push("");
  }
  out.push(...fanoutSection(results.fanout, results.machine.nproc, undefined, plots.latencyVsViewers ?? null));
  out.push(...netMatrix(results.network));
  out.push(...transportSection(results.transports));
  out.push("## Package benchmarks", "");
  for (const s of results.subBenchmarks) {
    out.push(`### ${s.name}`, "", `\`${s.command}\``, "");
    if (s.error) out.push(`Not measured: ${s.error}`, "");
    else out.push("```", ...s.lines, "```", "");
  }
  if (results.notes.length > 0) out.push("## Notes from this run", "", ...results.notes.map((n) => `- ${n}`), "");
  return `${out.join("\n")}\n`;
}
