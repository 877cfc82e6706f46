/** The error maths: how far the page's detected centre is from the truth, now and in the frame it saw. */
import { type Coordinates, type ErrorReport, ballAt, distance } from "@ballstream/protocol";
import { ballStateOf } from "@ballstream/runtime";
import type { TruthRing } from "./truth-ring.ts";

/**
 * The verdict on one coordinates datagram that arrived at `arrivalMs` (epoch ms):
 * - real-time error: distance to where the ball is at `arrivalMs`, by exact physics from the latest truth;
 * - frame-matched error: distance to the truth of the frame with the datagram's RTP timestamp;
 * - latency: `arrivalMs` minus that frame's capture time.
 * Frame fields are NaN when the frame is no longer (or not yet) in the ring, error distances NaN when the page
 * found no ball. Returns undefined before the session's first truth.
 */
export function buildErrorReport(c: Coordinates, arrivalMs: number, ring: TruthRing): ErrorReport | undefined {
  const latest = ring.latest;
  if (!latest) return undefined;
  const now = ballAt(ballStateOf(latest), arrivalMs);
  const frame = ring.get(c.rtpTimestamp);
  const errorTo = (x: number, y: number) => (c.found ? distance(c.x, c.y, x, y) : Number.NaN);
  return {
    ...(c.path === undefined ? {} : { path: c.path }),
    frameMatched: frame !== undefined,
    found: c.found,
    frameId: frame?.frameId ?? 0,
    rtpTimestamp: c.rtpTimestamp,
    detectedX: c.x,
    detectedY: c.y,
    frameTruthX: frame?.x ?? Number.NaN,
    frameTruthY: frame?.y ?? Number.NaN,
    nowTruthX: now.x,
    nowTruthY: now.y,
    realtimeErrorPx: errorTo(now.x, now.y),
    frameErrorPx: frame ? errorTo(frame.x, frame.y) : Number.NaN,
    latencyMs: frame ? arrivalMs - frame.captureTimeMs : Number.NaN,
    captureTimeMs: frame?.captureTimeMs ?? Number.NaN,
    arrivalMs,
  };
}
