/**
 * Splits glass-to-glass latency into pipeline stages from what is measurable: per-frame browser timestamps
 * (rVFC `receiveTime` of the frame's last packet, `presentationTime`, the decoded frame reaching the page's
 * detector, the page's detection, the coordinates handed to the datagram writer and their arrival at signaling), the
 * media service's encode histogram, the generator's pacing lateness and Chromium's `getStats()` jitter-buffer and
 * decode totals. The way back (capture → coordinates at signaling, which the real-time error is made of) is split
 * into capture → decoded at the detector, detect, detected → sent and sent → signaling.
 */
import { quantile } from "@ballstream/testing";

/** One frame's timestamps, epoch ms on this machine's clock (null where not known). */
export interface FrameTiming {
  readonly captureMs: number;
  /** Last RTP packet of the frame received by the browser (rVFC `receiveTime`). */
  readonly receiveMs: number | null;
  /** Shown by the compositor (rVFC `presentationTime`). */
  readonly presentedMs: number | null;
  /** The decoded frame reached the page's detector (the page sends the coordinates right after detecting). */
  readonly decodedMs: number | null;
  /** Detection time in the page's worker (copyTo + centroid). */
  readonly detectMs: number | null;
  /** The page handed the coordinates to the WebTransport datagram writer. */
  readonly sentMs: number | null;
  /** The coordinates datagram arrived at signaling. */
  readonly arrivalMs: number | null;
}

/** Averages measured outside the per-frame records (ms per frame; NaN when not measured). */
export interface StageAggregates {
  /** Capture time to the frame leaving the generator worker (scheduling lateness + drawing). */
  readonly generateMs: number;
  /** Raw frame handed to ffmpeg until its access unit came out (media's histogram). */
  readonly encodeMs: number;
  /** Chromium getStats: jitterBufferDelay / jitterBufferEmittedCount. */
  readonly jitterBufferMs: number;
  /** Chromium getStats: totalDecodeTime / framesDecoded. */
  readonly decodeMs: number;
}

/** One stage and its median cost. */
export interface Stage {
  readonly name: string;
  readonly ms: number;
  /** How the figure was obtained. */
  readonly source: string;
  /** Part of glass-to-glass (capture → presentation); otherwise part of the coordinates' way back. */
  readonly glassToGlass: boolean;
}

const median = (values: Iterable<number | null>) => quantile(values, 0.5);
const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
const nonNegative = (v: number) => (Number.isFinite(v) ? Math.max(0, v) : Number.NaN);

/**
 * The stages, in pipeline order. Remainders (what is left of a measured span after its measured parts) are
 * clamped at 0; every stage whose inputs are missing is NaN.
 */
export function decomposeLatency(frames: readonly FrameTiming[], agg: StageAggregates): Stage[] {
  const toReceive = median(frames.map((f) => diff(f.receiveMs, f.captureMs)));
  const receiveToPresent = median(frames.map((f) => diff(f.presentedMs, f.receiveMs)));
  const generate = agg.generateMs;
  const encode = agg.encodeMs;
  const known = (Number.isFinite(generate) ? generate : 0) + (Number.isFinite(encode) ? encode : 0);
  const browserKnown = (Number.isFinite(agg.jitterBufferMs) ? agg.jitterBufferMs : 0) + (Number.isFinite(agg.decodeMs) ? agg.decodeMs : 0);
  return [
    { name: "generate", ms: generate, source: "generator pacing lateness + raster (generator bench)", glassToGlass: true },
    { name: "encode", ms: encode, source: "media_encode_seconds histogram mean (/metrics)", glassToGlass: true },
    {
      name: "bus + packetize/send + network",
      ms: nonNegative(toReceive - known),
      source: "median(rVFC receiveTime − capture) − generate − encode",
      glassToGlass: true,
    },
    { name: "jitter buffer", ms: agg.jitterBufferMs, source: "getStats jitterBufferDelay / jitterBufferEmittedCount", glassToGlass: true },
    { name: "decode", ms: agg.decodeMs, source: "getStats totalDecodeTime / framesDecoded", glassToGlass: true },
    {
      name: "render (decoded → presented)",
      ms: nonNegative(receiveToPresent - browserKnown),
      source: "median(rVFC presentationTime − receiveTime) − jitter buffer − decode",
      glassToGlass: true,
    },
    {
      name: "capture → decoded at the detector",
      ms: median(frames.map((f) => diff(f.decodedMs, f.captureMs))),
      source: "median(decoded frame read by the page's detection worker − capture)",
      glassToGlass: false,
    },
    { name: "detect", ms: median(frames.map((f) => f.detectMs)), source: "page worker detectMs (copyTo + centroid), beside rendering", glassToGlass: false },
    {
      name: "detected → sent",
      ms: median(frames.map((f) => diff(diff(f.sentMs, f.decodedMs), f.detectMs))),
      source: "median(coordinates handed to the datagram writer − decoded − detect): the worker's own send (worker → page message + page work when not attached)",
      glassToGlass: false,
    },
    {
      name: "sent → signaling",
      ms: median(frames.map((f) => diff(f.arrivalMs, f.sentMs))),
      source: "median(arrival at signaling − handed to the datagram writer): Chromium's WebTransport, loopback, signaling's receive",
      glassToGlass: false,
    },
    {
      name: "coords back (decoded → signaling)",
      ms: median(frames.map((f) => diff(f.arrivalMs, f.decodedMs))),
      source: "median(arrival at signaling − decoded frame at the page's detector), detection included",
      glassToGlass: false,
    },
  ];
}

/** The costliest glass-to-glass stage (null when none was measured). */
export function biggestStage(stages: readonly Stage[]): Stage | null {
  let best: Stage | null = null;
  for (const s of stages) if (s.glassToGlass && Number.isFinite(s.ms) && (best === null || s.ms > best.ms)) best = s;
  return best;
}
