/**
 * Capacity: one Chromium probe session plus light receivers (./light-receiver.ts) added step by step until fewer
 * than 95 % of the frames are delivered or the probe's glass-to-glass p95 doubles. A step that fails is measured
 * once more at the same count and fails only if the second window fails too: on a shared 2-core machine one
 * window's p95 (~300 frames) can double from a single burst of other work, and a capacity must not end on that.
 */
import type { Browser } from "playwright-core";
import { openProbe } from "./browser-probe.ts";
import type { FrameCount } from "./frame-counter.ts";
import { startLightFleet } from "./light-fleet.ts";
import { CpuWindow, summarize } from "@ballstream/testing";
import type { CapacityResult, CapacityStep, Mode } from "./results.ts";

/** Delivered share below which a step fails, %. */
export const MIN_DELIVERED_PCT = 95;
/** A step fails when the probe's p95 exceeds this multiple of its p95 alone. */
export const MAX_P95_GROWTH = 2;

/** Frames complete ÷ frames published over all light sessions, % (NaN without sessions). */
export function lightDeliveredPct(counts: readonly FrameCount[]): number {
  const sent = counts.reduce((s, c) => s + c.framesSent, 0);
  const done = counts.reduce((s, c) => s + Math.min(c.framesComplete, c.framesSent), 0);
  return sent > 0 ? (100 * done) / sent : Number.NaN;
}

/** Why a step fails the capacity criteria, or null if it holds. */
export function stepFailure(step: Pick<CapacityStep, "lightDeliveredPct" | "probeDeliveredPct" | "probeG2g">, baselineP95Ms: number): string | null {
  if (step.lightDeliveredPct < MIN_DELIVERED_PCT) return `light receivers got ${step.lightDeliveredPct.toFixed(1)} % of the frames`;
  if (step.probeDeliveredPct < MIN_DELIVERED_PCT) return `the probe decoded ${step.probeDeliveredPct.toFixed(1)} % of the frames`;
  if (!(step.probeG2g.p95 <= MAX_P95_GROWTH * baselineP95Ms)) return `probe g2g p95 ${step.probeG2g.p95.toFixed(1)} ms > ${MAX_P95_GROWTH} × ${baselineP95Ms.toFixed(1)} ms`;
  return null;
}

/** Where the capacity run measures. */
export interface CapacityContext {
  readonly browser: Browser;
  readonly url: string;
  readonly mode: Mode;
  readonly natsUrl: string;
  readonly trees: ReadonlyArray<readonly [string, number]>;
  readonly ticksPerSecond: number;
}

/** Options of {@link measureCapacity}. */
export interface CapacityOptions {
  readonly fps: number;
  /** Total session counts to try, ascending (the first is normally 1: the probe alone). */
  readonly steps: readonly number[];
  readonly settleMs: number;
  readonly windowMs: number;
  /** Stop adding sessions after this long. */
  readonly budgetMs: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
}

/** Runs the capacity steps and returns every step measured. */
export async function measureCapacity(ctx: CapacityContext, opts: CapacityOptions): Promise<CapacityResult> {
  const started = Date.now();
  const fleet = startLightFleet(ctx.natsUrl);
  const probe = await openProbe(ctx.browser, ctx.url, opts.fps);
  const steps: CapacityStep[] = [];
  let baselineP95Ms = Number.NaN;
  let stopReason = `stopped at the largest step tried (${opts.steps.at(-1)})`;
  try {
    await Bun.sleep(opts.settleMs);
    let light = 0;
    for (const sessions of opts.steps) {
      if (Date.now() - started > opts.budgetMs) {
        stopReason = `time budget of ${opts.budgetMs / 1000} s used up`;
        break;
      }
      if (sessions - 1 > light) {
        try {
          light = await fleet.add(sessions - 1 - light, opts.fps);
        } catch (err) {
          stopReason = `could not start ${sessions} sessions: ${(err as Error).message.split("\n")[0]}`;
          break;
        }
        await Bun.sleep(opts.settleMs);
      }
      let step = await measureStep(ctx, opts, probe, fleet, light, baselineP95Ms);
      if (steps.length === 0) baselineP95Ms = step.probeG2g.p95;
      if (step.failure) {
        log(opts, step, "measuring once more");
        steps.push(step);
        step = await measureStep(ctx, opts, probe, fleet, light, baselineP95Ms);
      }
      steps.push(step);
      log(opts, step, step.failure ?? "held");
      if (step.failure) {
        stopReason = `${step.sessions} sessions failed: ${step.failure}`;
        break;
      }
    }
  } finally {
    await probe.close();
    await fleet.stop();
  }
  const held = steps.filter((s) => s.failure === null);
  return {
    fps: opts.fps,
    mode: ctx.mode,
    receivers: "1 headless Chromium probe + werift light receivers in a separate Bun process (sessions started over NATS like signaling does; RTP counted by timestamp and marker bit, not decoded)",
    baselineP95Ms,
    steps,
    sessionsMax: held.length > 0 ? Math.max(...held.map((s) => s.sessions)) : 0,
    stopReason,
  };
}

type Probe = Awaited<ReturnType<typeof openProbe>>;
type Fleet = ReturnType<typeof startLightFleet>;

/** One measurement window at the current session count, judged against the probe's p95 alone. */
async function measureStep(ctx: CapacityContext, opts: CapacityOptions, probe: Probe, fleet: Fleet, light: number, baselineP95Ms: number): Promise<CapacityStep> {
  const cpu = new CpuWindow([...ctx.trees, ["light receivers", fleet.pid]], ctx.ticksPerSecond);
  await fleet.window();
  cpu.start();
  const w = await probe.measure(opts.windowMs);
  const counts = await fleet.report();
  const used = cpu.stop();
  const probeG2g = summarize(w.samples.map((s) => s.glassToGlassMs));
  const partial = {
    sessions: 1 + light,
    lightSessions: light,
    lightDeliveredPct: lightDeliveredPct(counts),
    lightLatency: summarize(counts.flatMap((c) => c.latenciesMs)),
    probeDeliveredPct: w.framesGenerated > 0 ? Math.min(100, (100 * w.framesDecoded) / w.framesGenerated) : Number.NaN,
    probeG2g,
    cpu: used,
  };
  // The first window (the probe alone) is judged against its own p95: it sets the baseline.
  return { ...partial, failure: stepFailure(partial, Number.isNaN(baselineP95Ms) ? probeG2g.p95 : baselineP95Ms) };
}

function log(opts: CapacityOptions, step: CapacityStep, verdict: string): void {
  opts.log(
    `capacity ${step.sessions} sessions: light ${step.lightDeliveredPct.toFixed(1)} % delivered, probe g2g p50/p95 ` +
      `${step.probeG2g.p50.toFixed(1)}/${step.probeG2g.p95.toFixed(1)} ms, probe ${step.probeDeliveredPct.toFixed(1)} % → ${verdict}`,
  );
}
