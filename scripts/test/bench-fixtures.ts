/** Shared fixtures of the bench's unit tests. */
import type { FanoutResult, FanoutStep, RunResult } from "../bench/results.ts";
import { summarize } from "@ballstream/testing";
import { decomposeLatency } from "../bench/stages.ts";

const stages = decomposeLatency([{ captureMs: 0, receiveMs: 5, presentedMs: 30, decodedMs: 29, detectMs: 0.5, sentMs: 29.7, arrivalMs: 32 }], { generateMs: 1, encodeMs: 3, jitterBufferMs: 15, decodeMs: 2 });

/** A measured run of `mode` at `fps` with these glass-to-glass figures (the rest fixed). */
export function run(mode: RunResult["mode"], fps: number, g2g: number[], variant = ""): RunResult {
  return {
    mode, fps, variant, seconds: 15,
    g2g: summarize(g2g), g2gExpected: summarize(g2g.map((v) => v + 16)), g2gBrowser: summarize(g2g.map((v) => v + 0.25)), latency: summarize(g2g.map((v) => v + 2)), rtError: summarize([9, 10]), frameError: summarize([0.2, 0.4]),
    framesGenerated: 450, framesDecoded: 449, framesPresented: 440, framesDropped: 0, packetsLost: 0, deliveredPct: 99.8, receiveFps: 29.9, freezesPerMin: 0, senderKbps: 140, ended: null,
    cpu: [{ name: "ballstream", selfPct: 10, childrenPct: 4 }, { name: "chromium", selfPct: 30, childrenPct: 20 }],
    stages, series: [[0, 20], [0.03, 21]],
  };
}

/** A fan-out window at `viewers` with media at `media` % of a core and these probe g2g figures. */
const fanoutStep = (viewers: number, media: number, g2g: number[], failure: string | null = null): FanoutStep => ({
  sessions: viewers, lightSessions: viewers - 1, lightDeliveredPct: viewers > 1 ? 99 : Number.NaN, lightLatency: summarize([4, 6]), probeDeliveredPct: 100, probeG2g: summarize(g2g),
  cpu: [{ name: "generator", selfPct: 3, childrenPct: 0 }, { name: "media", selfPct: media, childrenPct: 5 }, { name: "signaling", selfPct: 2, childrenPct: 0 }, { name: "nats-server", selfPct: 7, childrenPct: 0 }, { name: "light receivers", selfPct: viewers / 2, childrenPct: 0 }],
  failure,
  joinAnswered: summarize(viewers > 1 ? [50, 70] : []), joinConnected: summarize(viewers > 1 ? [200, 300] : []), joinFirstFrame: summarize(viewers > 1 ? [600, 900] : []), sourceDroppedPct: viewers > 100 ? 4 : 0,
});

/** A fan-out run: held up to 100 viewers, 200 failed twice on the probe's p95 (media near a core). */
export const fanout: FanoutResult = {
  fps: 30, mode: "nats", channel: "bench-x", source: "s".repeat(22), receivers: "1 probe + light viewers", mediaReplicas: 2,
  privateG2g: summarize([4, 8]), privateDeliveredPct: 100, baselineP95Ms: 8,
  steps: [fanoutStep(1, 10, [4, 8]), fanoutStep(10, 12, [4, 9]), fanoutStep(100, 30, [5, 11]), fanoutStep(200, 95, [9, 20], "probe g2g p95 20.0 ms > 2 × 8.0 ms"), fanoutStep(200, 96, [9, 21], "probe g2g p95 21.0 ms > 2 × 8.0 ms")],
  viewersMax: 100, stopReason: "200 viewers failed: probe g2g p95 21.0 ms > 2 × 8.0 ms",
  joinFirstFrame: summarize([500, 600, 2000]), keyframeWait: summarize([100, 300, 450]), joinsFailed: 0,
};
