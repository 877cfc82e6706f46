/**
 * `bun run bench`: the root benchmark. Runs the package benchmarks, then starts ballstream in each mode (one
 * process, then three processes over nats-server) and measures real headless Chromium sessions at 30 and 60 fps
 * (glass-to-glass latency, errors, delivery, CPU per process from /proc, latency stages), a receiver-hint variant,
 * capacity at 30 fps over NATS with light receivers, and the network matrix (one process behind the link emulator,
 * scripts/bench/network.ts). Writes docs/benchmarks.md with SVG plots and prints
 * `BENCH {json}` last. `--quick` shortens every window (a smoke run, not for the docs: use `--out` elsewhere);
 * `--no-sub` skips the package benchmarks, `--no-net` the network matrix, `--no-wt` the WebRTC vs WebTransport
 * comparison (scripts/bench/transports.ts), `--no-fanout` the channel fan-out (scripts/bench/fanout.ts: viewers of one
 * channel stepping up beside a Chromium probe in it, on a fresh nats system); `--only=transports` runs that comparison
 * alone (its section goes to bench-results/transports.md, docs/benchmarks.md is left as it is); `--only=fanout` runs
 * the fan-out alone (a few minutes): its section goes to bench-results/fanout.md and replaces the "Channels: fan-out"
 * section of docs/benchmarks.md (or `--out`), the rest of that page is left as it is. `--fanout-replicas=N` (1–4,
 * default 2) sets the media replicas the fan-out's viewers are spread over.
 * Bounded: about 15 minutes on 2 cores.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, relative } from "node:path";
import { type CapacityResult, type FanoutResult, type NetRow, type RunResult, type SubBenchmark, type BenchResults, type Mode } from "./bench/results.ts";
import { measureCapacity } from "./bench/capacity.ts";
import { measureFanout } from "./bench/fanout.ts";
import { fanoutJson, fanoutSection, replaceSection } from "./bench/fanout-report.ts";
import { machineInfo } from "./bench/machine.ts";
import { clockTicksPerSecond } from "@ballstream/testing";
import { BEFORE_VARIANT, benchJson, latencyOverTimeSvg, latencyVsSessionsSvg, renderReport } from "./bench/report.ts";
import { type RunContext, measureRun } from "./bench/scenario.ts";
import { BLACKOUT_MS, NET_CONDITIONS, halfCapKbit, recoveryMs } from "./bench/network.ts";
import type { ProbeWindow } from "./bench/browser-probe.ts";
import { runSubBenchmarks } from "./bench/sub-benchmarks.ts";
import { TRANSPORT_CONDITIONS, type TransportRow, WT_VARIANT, transportEnv, transportJson, transportSection } from "./bench/transports.ts";
import { startBenchSystem, startBrowser } from "./bench/system.ts";

const ROOT = join(import.meta.dir, "..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const outArg = args.find((a) => a.startsWith("--out="))?.slice(6);
const outFile = join(ROOT, outArg ?? "docs/benchmarks.md");
const only = args.find((a) => a.startsWith("--only="))?.slice(7);
if (only !== undefined && only !== "transports" && only !== "fanout") throw new Error(`--only= takes "transports" or "fanout", got ${JSON.stringify(only)}`);
const skipSubs = args.includes("--no-sub") || only !== undefined;
/** Media replicas of the fan-out's system (`--fanout-replicas=N`, default 2: one per core here, the edges the issue scales viewers with). */
const fanoutReplicas = Number(args.find((a) => a.startsWith("--fanout-replicas="))?.slice(18) ?? "2");
if (!Number.isInteger(fanoutReplicas) || fanoutReplicas < 1 || fanoutReplicas > 4) throw new Error(`--fanout-replicas= takes 1 to 4, got ${fanoutReplicas}`);

const T = quick
  ? { warmupMs: 1500, windowMs: 4000, netWindowMs: 4000, wtWindowMs: 4000, capSettleMs: 1500, capWindowMs: 4000, capBudgetMs: 60_000, fanBudgetMs: 90_000, subTimeoutMs: 60_000, subBudgetMs: 90_000 }
  : { warmupMs: 3000, windowMs: 15_000, netWindowMs: 12_000, wtWindowMs: 10_000, capSettleMs: 2500, capWindowMs: 8000, capBudgetMs: 200_000, fanBudgetMs: 300_000, subTimeoutMs: 90_000, subBudgetMs: 150_000 };
const CAPACITY_STEPS = [1, 4, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40];
/** Viewers of one channel, the probe included. */
const FANOUT_STEPS = [1, 10, 25, 50, 100, 150, 200, 250, 300, 400];

const started = Date.now();
const log = (line: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`);
const notes: string[] = [];

function summaryLine(r: RunResult): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–");
  return (
    `${r.mode} ${r.fps} fps${r.variant ? ` [${r.variant}]` : ""}: g2g p50 ${f(r.g2g.p50)} p95 ${f(r.g2g.p95)} ms (n=${r.g2g.n}), rt error p50 ${f(r.rtError.p50)} px, ` +
    `frame error p50 ${r.frameError.p50.toFixed(3)} px, delivered ${r.framesDecoded}/${r.framesGenerated}, ${f(r.receiveFps)} fps, ` +
    `freezes ${f(r.freezesPerMin)}/min, sender ${f(r.senderKbps)} kbit/s, ` +
    `CPU ${r.cpu.map((c) => `${c.name} ${f(c.selfPct + c.childrenPct)}`).join(", ")}`
  );
}

const machine = machineInfo();
log(`machine: ${machine.nproc} × ${machine.cpuModel}, load ${machine.loadAverage1m.toFixed(2)}`);
log("building the web client");
const build = Bun.spawnSync(["bun", "run", "build"], { cwd: join(ROOT, "web"), stdout: "pipe", stderr: "pipe" });
if (build.exitCode !== 0) {
  console.error(build.stderr.toString());
  process.exit(1);
}

const subBenchmarks: SubBenchmark[] = skipSubs ? [] : await runSubBenchmarks({ timeoutMs: T.subTimeoutMs, budgetMs: T.subBudgetMs, log });
const generateMs = subBenchmarks.find((s) => s.figures.pacingP50Ms !== undefined)?.figures.pacingP50Ms ?? Number.NaN;

const ticksPerSecond = clockTicksPerSecond();
const runs: RunResult[] = [];
let capacity: CapacityResult | null = null;

/** WebRTC, then WebTransport, on one fresh one-process system per condition (scripts/bench/transports.ts). */
async function measureTransports(): Promise<TransportRow[]> {
  const rows: TransportRow[] = [];
  log("WebRTC vs WebTransport + WebCodecs (one process, both paths per condition)");
  let chromium: Awaited<ReturnType<typeof startBrowser>> | undefined;
  try {
    chromium = await startBrowser();
    for (const c of TRANSPORT_CONDITIONS) {
      let system: Awaited<ReturnType<typeof startBenchSystem>> | undefined;
      const measured: Record<"webrtc" | "webtransport", RunResult | null> = { webrtc: null, webtransport: null };
      try {
        system = await startBenchSystem("one-process", transportEnv(c));
        const ctx = { browser: chromium.browser, url: system.url, mode: "one-process" as const, trees: [...system.trees, ["chromium", chromium.pid] as const], metricsUrls: system.metricsUrls, ticksPerSecond, generateMs };
        for (const path of ["webrtc", "webtransport"] as const) {
          try {
            const variant = path === "webtransport" ? WT_VARIANT : `webrtc (${c.label})`;
            const run = await measureRun(ctx, c.fps, { warmupMs: T.warmupMs, windowMs: T.wtWindowMs, variant, ...(path === "webtransport" ? { transport: "webtransport" } : {}) });
            measured[path] = run;
            log(`${c.label}: ${summaryLine(run)}`);
          } catch (err) {
            notes.push(`transport comparison, ${c.label} ${c.fps} fps, ${path} failed: ${(err as Error).message.split("\n")[0]}`);
            log(`transport run failed: ${(err as Error).message}`);
          }
        }
      } catch (err) {
        notes.push(`transport comparison, ${c.label}: the system did not start: ${(err as Error).message.split("\n")[0]}`);
      } finally {
        await system?.running.cleanup().catch(() => undefined);
      }
      rows.push({ condition: c, ...measured });
    }
  } catch (err) {
    notes.push(`transport comparison: the browser did not start: ${(err as Error).message.split("\n")[0]}`);
  } finally {
    await chromium?.browser.close().catch(() => undefined);
  }
  return rows;
}

/** The channel fan-out on a fresh nats system and browser (null when it could not run: see the notes). */
async function runFanout(): Promise<FanoutResult | null> {
  log("channel fan-out (nats, a fresh system)");
  let system: Awaited<ReturnType<typeof startBenchSystem>> | undefined;
  let chromium: Awaited<ReturnType<typeof startBrowser>> | undefined;
  try {
    [system, chromium] = await Promise.all([startBenchSystem("nats", {}, fanoutReplicas), startBrowser()]);
    if (!system.natsUrl) throw new Error("the nats system has no NATS URL");
    return await measureFanout(
      { browser: chromium.browser, url: system.url, mode: "nats", natsUrl: system.natsUrl, trees: [...system.trees, ["chromium", chromium.pid] as const], ticksPerSecond, metricsUrls: system.metricsUrls, mediaReplicas: fanoutReplicas },
      { fps: 30, steps: FANOUT_STEPS, settleMs: T.capSettleMs, windowMs: T.capWindowMs, budgetMs: T.fanBudgetMs, log },
    );
  } catch (err) {
    notes.push(`channel fan-out failed: ${(err as Error).message.split("\n")[0]}`);
    log(`fan-out failed: ${(err as Error).message}`);
    return null;
  } finally {
    await chromium?.browser.close().catch(() => undefined);
    await system?.running.cleanup().catch(() => undefined);
  }
}

if (only === "fanout") {
  const fanout = await runFanout();
  const alone = { startedAt: new Date(started).toISOString(), loadAverage1m: machine.loadAverage1m };
  const plot = `${outFile.replace(/\.md$/, "")}-latency-vs-viewers.svg`;
  if (fanout) writeFileSync(plot, latencyVsSessionsSvg(fanout, "viewers"));
  const section = [...fanoutSection(fanout, machine.nproc, alone, fanout ? relative(dirname(outFile), plot) : null), ...notes.map((n) => `- ${n}`)];
  mkdirSync(join(ROOT, "bench-results"), { recursive: true });
  writeFileSync(join(ROOT, "bench-results", "fanout.md"), `${section.join("\n")}\n`);
  writeFileSync(join(ROOT, "bench-results", "fanout.json"), `${JSON.stringify(fanout, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 1)}\n`);
  if (fanout) {
    const current = existsSync(outFile) ? readFileSync(outFile, "utf8") : "# Benchmarks\n";
    writeFileSync(outFile, replaceSection(current, "## Channels: fan-out", section, "## Network matrix"));
    log(`wrote bench-results/fanout.md and its section of ${relative(ROOT, outFile)}`);
  }
  console.log(`BENCH ${JSON.stringify({ ...fanoutJson(fanout), nproc: machine.nproc, duration_s: Math.round((Date.now() - started) / 1000) })}`);
  process.exit(fanout ? 0 : 1);
}

if (only === "transports") {
  const rows = await measureTransports();
  mkdirSync(join(ROOT, "bench-results"), { recursive: true });
  writeFileSync(join(ROOT, "bench-results", "transports.md"), `${transportSection(rows).join("\n")}\n${notes.map((n) => `- ${n}`).join("\n")}\n`);
  log("wrote bench-results/transports.md");
  console.log(`BENCH ${JSON.stringify({ ...transportJson(rows), nproc: machine.nproc, duration_s: Math.round((Date.now() - started) / 1000) })}`);
  process.exit(0);
}

/** One-process runs at 30 and 60 fps with the ffmpeg encoder, beside the baseline's, for the before/after table. */
async function measureBefore(ctx: RunContext): Promise<void> {
  let before: Awaited<ReturnType<typeof startBenchSystem>> | undefined;
  try {
    before = await startBenchSystem("one-process", { ENCODER: "ffmpeg" });
    const trees = [...before.trees, ...ctx.trees.filter(([name]) => name === "chromium")];
    for (const fps of [30, 60]) {
      const r = await measureRun({ ...ctx, url: before.url, trees, metricsUrls: before.metricsUrls }, fps, { warmupMs: T.warmupMs, windowMs: T.windowMs, variant: BEFORE_VARIANT });
      runs.push(r);
      log(summaryLine(r));
    }
  } catch (err) {
    notes.push(`one-process with ENCODER=ffmpeg failed: ${(err as Error).message.split("\n")[0]}`);
    log(`before-runs failed: ${(err as Error).message}`);
  } finally {
    await before?.running.cleanup().catch(() => undefined);
  }
}

for (const mode of ["one-process", "nats"] as Mode[]) {
  log(`starting ballstream (${mode})`);
  let system: Awaited<ReturnType<typeof startBenchSystem>> | undefined;
  let chromium: Awaited<ReturnType<typeof startBrowser>> | undefined;
  try {
    [system, chromium] = await Promise.all([startBenchSystem(mode), startBrowser()]);
    const trees = [...system.trees, ["chromium", chromium.pid] as const];
    const ctx = { browser: chromium.browser, url: system.url, mode, trees, metricsUrls: system.metricsUrls, ticksPerSecond, generateMs };
    const variants: Array<{ fps: number; variant?: string; hints?: { jitterBufferTarget?: number; playoutDelayHint?: number } }> = [{ fps: 30 }, { fps: 60 }];
    if (mode === "one-process") variants.push({ fps: 30, variant: "receiver hints: jitterBufferTarget 0, playoutDelayHint 0", hints: { jitterBufferTarget: 0, playoutDelayHint: 0 } });
    for (const v of variants) {
      try {
        const r = await measureRun(ctx, v.fps, { warmupMs: T.warmupMs, windowMs: T.windowMs, variant: v.variant, hints: v.hints });
        runs.push(r);
        log(summaryLine(r));
      } catch (err) {
        notes.push(`${mode} ${v.fps} fps${v.variant ? ` (${v.variant})` : ""} failed: ${(err as Error).message.split("\n")[0]}`);
        log(`run failed: ${(err as Error).message}`);
      }
    }
    if (mode === "one-process") await measureBefore(ctx);
    if (mode === "nats" && system.natsUrl) {
      try {
        capacity = await measureCapacity(
          { browser: chromium.browser, url: system.url, mode, natsUrl: system.natsUrl, trees, ticksPerSecond },
          { fps: 30, steps: CAPACITY_STEPS, settleMs: T.capSettleMs, windowMs: T.capWindowMs, budgetMs: T.capBudgetMs, log },
        );
      } catch (err) {
        notes.push(`capacity run failed: ${(err as Error).message.split("\n")[0]}`);
        log(`capacity failed: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    notes.push(`${mode}: the system did not start: ${(err as Error).message.split("\n")[0]}`);
    log(`${mode} failed to start: ${(err as Error).message}`);
  } finally {
    await chromium?.browser.close().catch(() => undefined);
    await system?.running.cleanup().catch(() => undefined);
  }
}

const fanout = args.includes("--no-fanout") ? null : await runFanout();

const network: NetRow[] = [];
if (!args.includes("--no-net")) {
  log("network matrix (one process behind the link emulator)");
  let chromium: Awaited<ReturnType<typeof startBrowser>> | undefined;
  try {
    chromium = await startBrowser();
    for (const c of NET_CONDITIONS) {
      const env = c.env(halfCapKbit(network.find((r) => r.id === "noise")?.run.senderKbps ?? Number.NaN));
      let system: Awaited<ReturnType<typeof startBenchSystem>> | undefined;
      try {
        system = await startBenchSystem("one-process", env);
        const ctx = { browser: chromium.browser, url: system.url, mode: "one-process" as const, trees: [...system.trees, ["chromium", chromium.pid] as const], metricsUrls: system.metricsUrls, ticksPerSecond, generateMs };
        let window: ProbeWindow | undefined;
        const run = await measureRun(ctx, 30, {
          warmupMs: c.warmupMs ?? T.warmupMs,
          windowMs: c.windowMs ?? T.netWindowMs,
          variant: c.label,
          scene: c.scene,
          streamingOnly: c.streamingOnly,
          onWindow: (w) => void (window = w),
        });
        const recoverMs = c.id === "blackout1s" && window ? recoveryMs(window.timings, BLACKOUT_MS) : Number.NaN;
        network.push({ id: c.id, label: c.label, env, run, recoverMs });
        log(`${summaryLine(run)}${Number.isFinite(recoverMs) ? `, recovery ${recoverMs.toFixed(0)} ms` : ""}${run.ended ? `, session ended: ${run.ended}` : ""}`);
      } catch (err) {
        notes.push(`network row "${c.label}" failed: ${(err as Error).message.split("\n")[0]}`);
        log(`network row failed: ${(err as Error).message}`);
      } finally {
        await system?.running.cleanup().catch(() => undefined);
      }
    }
  } catch (err) {
    notes.push(`network matrix: the browser did not start: ${(err as Error).message.split("\n")[0]}`);
  } finally {
    await chromium?.browser.close().catch(() => undefined);
  }
}

const transports = args.includes("--no-wt") ? [] : await measureTransports();

const results: BenchResults = {
  startedAt: new Date(started).toISOString(),
  durationS: (Date.now() - started) / 1000,
  machine,
  loadAverageEnd: loadavg()[0] ?? Number.NaN,
  runs,
  capacity,
  fanout,
  network,
  transports,
  subBenchmarks,
  notes,
};
const docsDir = dirname(outFile);
mkdirSync(docsDir, { recursive: true });
const base = outFile.replace(/\.md$/, "");
const overTime = `${base}-latency-over-time.svg`;
const vsSessions = capacity ? `${base}-latency-vs-sessions.svg` : null;
writeFileSync(overTime, latencyOverTimeSvg(results));
if (capacity && vsSessions) writeFileSync(vsSessions, latencyVsSessionsSvg(capacity));
const vsViewers = fanout ? `${base}-latency-vs-viewers.svg` : null;
if (fanout && vsViewers) writeFileSync(vsViewers, latencyVsSessionsSvg(fanout, "viewers"));
writeFileSync(outFile, renderReport(results, { latencyOverTime: relative(docsDir, overTime), latencyVsSessions: vsSessions && relative(docsDir, vsSessions), latencyVsViewers: vsViewers && relative(docsDir, vsViewers) }));
mkdirSync(join(ROOT, "bench-results"), { recursive: true });
writeFileSync(join(ROOT, "bench-results", "results.json"), `${JSON.stringify(results, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 1)}\n`);
log(`wrote ${relative(ROOT, outFile)}`);
console.log(`BENCH ${JSON.stringify(benchJson(results))}`);
process.exit(0);
