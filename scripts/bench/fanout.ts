/**
 * Fan-out: viewers of one broadcast channel (one generator worker, one encoder) stepping up beside a Chromium probe
 * that joined the channel through the page (`?channel=`, so it created the channel and owns it), until fewer than
 * 95 % of the frames are delivered or the probe's g2g p95 doubles against its value alone in the channel (the
 * capacity search's criteria and loop, ./capacity.ts). Viewers are light werift receivers in a separate process
 * (./light-receiver.ts) joining on the bus as signaling does, in batches of bounded concurrency. First the same probe
 * is measured once in a private session of its own, alone: the reference a channel viewer's latency is held to.
 */
import { channelSessionId } from "@ballstream/signaling";
import { summarize } from "@ballstream/testing";
import { openProbe } from "./browser-probe.ts";
import { type CapacityContext, type CapacityOptions, logStep, measureStep, searchSteps } from "./capacity.ts";
import { JOIN_CONCURRENCY, startLightFleet } from "./light-fleet.ts";
import { sourceDroppedPct } from "./fanout-report.ts";
import { scrapeMetrics } from "./scenario.ts";
import type { AddReply } from "./light-receiver.ts";
import type { FanoutResult, FanoutStep } from "./results.ts";

/** Per viewer that got both: connected → first complete frame (its wait for the channel's next keyframe, plus that frame's delivery), ms. */
export function keyframeWaits(r: Pick<AddReply, "connectedMs" | "firstFrameMs">): number[] {
  return r.firstFrameMs.flatMap((first, i) => {
    const connected = r.connectedMs[i];
    return first === null || connected === null || connected === undefined ? [] : [first - connected];
  });
}

/** Runs the fan-out steps on a nats system and returns every step measured (`opts.steps`: viewers, the probe included, from 1). */
export async function measureFanout(ctx: CapacityContext & { readonly metricsUrls: readonly string[]; readonly mediaReplicas: number }, opts: CapacityOptions): Promise<FanoutResult> {
  const startedMs = Date.now();
  const channel = `bench-${Math.random().toString(36).slice(2, 10)}`;
  const source = channelSessionId(channel);
  const fleet = startLightFleet(ctx.natsUrl);
  try {
    const own = await openProbe(ctx.browser, ctx.url, opts.fps);
    let privateWindow;
    try {
      await Bun.sleep(opts.settleMs);
      privateWindow = await own.measure(opts.windowMs);
    } finally {
      await own.close();
    }
    const privateG2g = summarize(privateWindow.samples.map((s) => s.glassToGlassMs));
    opts.log(`fan-out: private session alone g2g p50/p95 ${privateG2g.p50.toFixed(1)}/${privateG2g.p95.toFixed(1)} ms; channel ${channel} (source ${source})`);
    const probe = await openProbe(ctx.browser, ctx.url, opts.fps, { channel });
    const joinFirstFrame: Array<number | null> = [];
    const keyframeWait: number[] = [];
    let joinsFailed = 0;
    try {
      await Bun.sleep(opts.settleMs);
      let batch: Pick<AddReply, "answeredMs" | "connectedMs" | "firstFrameMs"> = { answeredMs: [], connectedMs: [], firstFrameMs: [] };
      const found = await searchSteps<FanoutStep>({
        ...opts,
        unit: "viewers",
        startedMs,
        grow: async (extra) => {
          const r = await fleet.join(extra, source);
          batch = r;
          joinFirstFrame.push(...r.firstFrameMs);
          keyframeWait.push(...keyframeWaits(r));
          joinsFailed += r.failures.length;
          if (r.failures.length > 0) throw new Error(`${r.failures.length} of ${extra} joins failed: ${r.failures[0]}`);
          return r.sessions;
        },
        measure: async (light, baselineP95Ms) => {
          const before = await scrapeMetrics(ctx.metricsUrls);
          const step = await measureStep(ctx, opts.windowMs, probe, fleet, light, baselineP95Ms);
          return { ...step, sourceDroppedPct: sourceDroppedPct(before, await scrapeMetrics(ctx.metricsUrls)),
          joinAnswered: summarize(batch.answeredMs),
          joinConnected: summarize(batch.connectedMs),
          joinFirstFrame: summarize(batch.firstFrameMs) };
        },
        log: (step, verdict) => {
          logStep(opts.log, "fan-out", "viewers", step, `${verdict} (source dropped ${step.sourceDroppedPct.toFixed(1)} %)`);
          if (step.joinFirstFrame.n > 0) opts.log(`  joins: answer p50/p95 ${step.joinAnswered.p50.toFixed(0)}/${step.joinAnswered.p95.toFixed(0)} ms, connected ${step.joinConnected.p50.toFixed(0)}/${step.joinConnected.p95.toFixed(0)} ms, first frame p50/p95 ${step.joinFirstFrame.p50.toFixed(0)}/${step.joinFirstFrame.p95.toFixed(0)} ms`);
        },
      });
      return {
        fps: opts.fps,
        mode: ctx.mode,
        channel,
        source,
        receivers: `1 headless Chromium probe joined through the page (?channel=${channel}) + werift light viewers in a separate Bun process (joined over NATS like signaling does, ${JOIN_CONCURRENCY} joins at a time; RTP counted by timestamp and marker bit from its header in the clear, before werift's SRTP path; not decoded, no NACKs)`,
        mediaReplicas: ctx.mediaReplicas,
        privateG2g,
        privateDeliveredPct: privateWindow.framesGenerated > 0 ? Math.min(100, (100 * privateWindow.framesDecoded) / privateWindow.framesGenerated) : Number.NaN,
        baselineP95Ms: found.baselineP95Ms,
        steps: found.steps,
        viewersMax: found.max,
        stopReason: found.stopReason,
        joinFirstFrame: summarize(joinFirstFrame),
        keyframeWait: summarize(keyframeWait),
        joinsFailed,
      };
    } finally {
      await probe.close();
    }
  } finally {
    await fleet.stop();
  }
}
