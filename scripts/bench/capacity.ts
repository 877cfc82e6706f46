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

/** Packets missing from the sequence numbers ÷ packets received over all light sessions, % (NaN without packets). */
export function packetGapPct(counts: readonly FrameCount[]): number {
  const packets = counts.reduce((s, c) => s + c.packets, 0);
  return packets > 0 ? (100 * counts.reduce((s, c) => s + c.sequenceGaps, 0)) / packets : Number.NaN;
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

/** How {@link searchSteps} grows the load and measures it. */
export interface StepSearch<S extends CapacityStep> {
  /** Total counts to try, ascending (the first is normally 1: the probe alone). */
  readonly steps: readonly number[];
  /** What a count counts ("sessions", "viewers"), for the stop reason. */
  readonly unit: string;
  readonly settleMs: number;
  /** Stop adding receivers this long after `startedMs`. */
  readonly budgetMs: number;
  readonly startedMs: number;
  /** Adds `extra` light receivers; resolves with how many there are now; throws when they could not be added. */
  grow(extra: number): Promise<number>;
  /** One window with `light` light receivers, judged against `baselineP95Ms` (NaN for the first: it sets it). */
  measure(light: number, baselineP95Ms: number): Promise<S>;
  /** A step measured and its verdict. */
  log(step: S, verdict: string): void;
}

/** What {@link searchSteps} found: every step measured (a failed step's first window too), the baseline and why it stopped. */
export interface StepSearchResult<S extends CapacityStep> {
  readonly steps: S[];
  readonly baselineP95Ms: number;
  /** Largest count that held (0 if none). */
  readonly max: number;
  readonly stopReason: string;
}

/**
 * The step-up loop of the capacity and fan-out searches: grow to each count, settle, measure, and stop at the first
 * count that fails twice in a row (one window's p95 can double from a burst of other work on a shared machine).
 */
export async function searchSteps<S extends CapacityStep>(s: StepSearch<S>): Promise<StepSearchResult<S>> {
  const steps: S[] = [];
  let baselineP95Ms = Number.NaN;
  let stopReason = `stopped at the largest step tried (${s.steps.at(-1)})`;
  let light = 0;
  for (const total of s.steps) {
    if (Date.now() - s.startedMs > s.budgetMs) {
      stopReason = `time budget of ${s.budgetMs / 1000} s used up`;
      break;
    }
    if (total - 1 > light) {
      try {
        light = await s.grow(total - 1 - light);
      } catch (err) {
        stopReason = `could not start ${total} ${s.unit}: ${(err as Error).message.split("\n")[0]}`;
        break;
      }
      await Bun.sleep(s.settleMs);
    }
    let step = await s.measure(light, baselineP95Ms);
    if (steps.length === 0) baselineP95Ms = step.probeG2g.p95;
    if (step.failure) {
      s.log(step, "measuring once more");
      steps.push(step);
      step = await s.measure(light, baselineP95Ms);
    }
    steps.push(step);
    s.log(step, step.failure ?? "held");
    if (step.failure) {
      stopReason = `${step.sessions} ${s.unit} failed: ${step.failure}`;
      break;
    }
  }
  const held = steps.filter((x) => x.failure === null);
  return { steps, baselineP95Ms, max: held.length > 0 ? Math.max(...held.map((x) => x.sessions)) : 0, stopReason };
}

/** Runs the capacity steps and returns every step measured. */
export async function measureCapacity(ctx: CapacityContext, opts: CapacityOptions): Promise<CapacityResult> {
  const startedMs = Date.now();
  const fleet = startLightFleet(ctx.natsUrl);
  try {
    const probe = await openProbe(ctx.browser, ctx.url, opts.fps);
    try {
      await Bun.sleep(opts.settleMs);
      const found = await searchSteps<CapacityStep>({
        ...opts,
        unit: "sessions",
        startedMs,
        grow: (extra) => fleet.add(extra, opts.fps),
        measure: (light, baselineP95Ms) => measureStep(ctx, opts.windowMs, probe, fleet, light, baselineP95Ms),
        log: (step, verdict) => logStep(opts.log, "capacity", "sessions", step, verdict),
      });
      return {
        fps: opts.fps,
        mode: ctx.mode,
        receivers: "1 headless Chromium probe + werift light receivers in a separate Bun process (sessions started over NATS like signaling does; RTP counted by timestamp and marker bit from its header in the clear, before werift's SRTP path; not decoded, no NACKs)",
        baselineP95Ms: found.baselineP95Ms,
        steps: found.steps,
        sessionsMax: found.max,
        stopReason: found.stopReason,
      };
    } finally {
      await probe.close();
    }
  } finally {
    await fleet.stop();
  }
}

/** The probe of a search (./browser-probe.ts). */
export type Probe = Awaited<ReturnType<typeof openProbe>>;
type Fleet = ReturnType<typeof startLightFleet>;

/** One measurement window with `light` light receivers beside the probe, judged against the probe's p95 alone (NaN: this window sets it). */
export async function measureStep(ctx: CapacityContext, windowMs: number, probe: Probe, fleet: Fleet, light: number, baselineP95Ms: number): Promise<CapacityStep> {
  const cpu = new CpuWindow([...ctx.trees, ["light receivers", fleet.pid]], ctx.ticksPerSecond);
  await fleet.window();
  cpu.start();
  const w = await probe.measure(windowMs);
  const counts = await fleet.report();
  const used = cpu.stop();
  const probeG2g = summarize(w.samples.map((s) => s.glassToGlassMs));
  const partial = {
    sessions: 1 + light,
    lightSessions: light,
    lightDeliveredPct: lightDeliveredPct(counts),
    lightPacketGapPct: packetGapPct(counts),
    lightLatency: summarize(counts.flatMap((c) => c.latenciesMs)),
    probeDeliveredPct: w.framesGenerated > 0 ? Math.min(100, (100 * w.framesDecoded) / w.framesGenerated) : Number.NaN,
    probeG2g,
    cpu: used,
  };
  // The first window (the probe alone) is judged against its own p95: it sets the baseline.
  return { ...partial, failure: stepFailure(partial, Number.isNaN(baselineP95Ms) ? probeG2g.p95 : baselineP95Ms) };
}

/** A progress line of a search's step (`search`: its name, `unit`: what its count counts). */
export function logStep(log: (line: string) => void, search: string, unit: string, step: CapacityStep, verdict: string): void {
  log(
    `${search} ${step.sessions} ${unit}: light ${step.lightDeliveredPct.toFixed(1)} % delivered, probe g2g p50/p95 ` +
      `${step.probeG2g.p50.toFixed(1)}/${step.probeG2g.p95.toFixed(1)} ms, probe ${step.probeDeliveredPct.toFixed(1)} % → ${verdict}`,
  );
}
