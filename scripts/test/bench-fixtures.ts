/** Shared fixtures of the bench's unit tests. */
import type { RunResult } from "../bench/results.ts";
import { summarize } from "@ballstream/testing";
import { decomposeLatency } from "../bench/stages.ts";

const stages = decomposeLatency([{ captureMs: 0, receiveMs: 5, presentedMs: 30, decodedMs: 29, detectMs: 0.5, arrivalMs: 32 }], { generateMs: 1, encodeMs: 3, jitterBufferMs: 15, decodeMs: 2 });

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

