/** One measured run: a Chromium probe session at one fps, with CPU from /proc and the services' /metrics. */
import type { Browser } from "playwright-core";
import { type ProbeOptions, type ProbeWindow, openProbe } from "./browser-probe.ts";
import { type PromSample, histogramDelta, histogramMean, histogramOf, parsePrometheusText } from "./prom.ts";
import { CpuWindow, type TreeCpu, summarize } from "@ballstream/testing";
import type { Mode, RunResult } from "./results.ts";
import { decomposeLatency } from "./stages.ts";

/** Scrapes every URL and concatenates the samples (an unreachable endpoint contributes none). */
export async function scrapeMetrics(urls: readonly string[]): Promise<PromSample[]> {
  const texts = await Promise.all(
    urls.map((u) =>
      fetch(u, { signal: AbortSignal.timeout(3000) })
        .then((r) => (r.ok ? r.text() : ""))
        .catch(() => ""),
    ),
  );
  return texts.flatMap(parsePrometheusText);
}

/** Mean encode time (ms) between two scrapes, from media's histogram. */
export function encodeMsBetween(before: readonly PromSample[], after: readonly PromSample[]): number {
  const a = histogramOf(after, "ballstream_media_encode_seconds");
  return a ? 1000 * histogramMean(histogramDelta(histogramOf(before, "ballstream_media_encode_seconds"), a)) : Number.NaN;
}

/** Everything a run needs besides the probe settings. */
export interface RunContext {
  readonly browser: Browser;
  readonly url: string;
  readonly mode: Mode;
  readonly trees: ReadonlyArray<readonly [string, number]>;
  readonly metricsUrls: readonly string[];
  readonly ticksPerSecond: number;
  /** Capture → frame leaving the generator (ms), from the generator's pacing benchmark. */
  readonly generateMs: number;
}

/** Turns a probe window, its CPU and encode figures into a {@link RunResult}. */
export function runResult(ctx: Pick<RunContext, "mode" | "generateMs">, fps: number, variant: string, w: ProbeWindow, cpu: TreeCpu[], encodeMs: number): RunResult {
  const matched = w.samples.filter((s) => s.found && s.frameId !== null);
  return {
    mode: ctx.mode,
    fps,
    variant,
    seconds: w.seconds,
    g2g: summarize(w.samples.map((s) => s.glassToGlassMs)),
    g2gExpected: summarize(w.samples.map((s) => s.glassToGlassExpectedMs)),
    g2gBrowser: summarize(w.samples.map((s) => s.glassToGlassBrowserMs)),
    latency: summarize(matched.map((s) => s.latencyMs)),
    rtError: summarize(w.samples.filter((s) => s.found).map((s) => s.realtimeErrorPx)),
    frameError: summarize(matched.map((s) => s.frameErrorPx)),
    framesGenerated: w.framesGenerated,
    framesDecoded: w.framesDecoded,
    framesPresented: w.framesPresented,
    framesDropped: w.framesDropped,
    packetsLost: w.packetsLost,
    deliveredPct: w.framesGenerated > 0 ? Math.min(100, (100 * w.framesDecoded) / w.framesGenerated) : Number.NaN,
    receiveFps: w.framesDecoded / w.seconds,
    freezesPerMin: (60 * w.freezes) / w.seconds,
    senderKbps: w.senderKbps,
    ended: w.ended,
    cpu,
    stages: decomposeLatency(w.timings, { generateMs: ctx.generateMs, encodeMs, jitterBufferMs: w.jitterBufferMs, decodeMs: w.decodeMs }),
    series: w.timings.filter((t) => t.presentedMs !== null).map((t) => [(t.presentedMs! - w.startMs) / 1000, t.presentedMs! - t.captureMs] as const),
  };
}

/** Opens a probe at `fps` (with `opts`' probe options), lets it settle for `warmupMs`, measures `windowMs`, closes it; `onWindow` also gets the raw window. */
export async function measureRun(
  ctx: RunContext,
  fps: number,
  opts: ProbeOptions & { warmupMs: number; windowMs: number; variant?: string; onWindow?: (w: ProbeWindow) => void },
): Promise<RunResult> {
  const probe = await openProbe(ctx.browser, ctx.url, fps, opts);
  try {
    await Bun.sleep(opts.warmupMs);
    const cpu = new CpuWindow(ctx.trees, ctx.ticksPerSecond);
    const before = await scrapeMetrics(ctx.metricsUrls);
    cpu.start();
    const w = await probe.measure(opts.windowMs);
    const used = cpu.stop();
    const after = await scrapeMetrics(ctx.metricsUrls);
    opts.onWindow?.(w);
    return runResult(ctx, fps, opts.variant ?? "", w, used, encodeMsBetween(before, after));
  } finally {
    await probe.close();
  }
}
