/** What the fps-change test reads off the RTP a viewer received: frames, keyframes and bytes per second. */
import type { RtpPacket } from "werift";

/** Whether an RTP payload starts an IDR picture (single NAL, FU-A start, or STAP-A with SPS). */
export function startsKeyframe(payload: Uint8Array): boolean {
  const type = payload[0]! & 0x1f;
  if (type === 5 || type === 7) return true;
  if (type === 28) return (payload[1]! & 0x80) !== 0 && (payload[1]! & 0x1f) === 5;
  if (type === 24) return (payload[3]! & 0x1f) === 7;
  return false;
}

/** One phase of a session at one fps, as its viewer saw it. */
export interface PhaseFigures {
  readonly fps: number;
  readonly frames: number;
  readonly keyframes: number;
  /** Frames from each keyframe to the next. */
  readonly keyframeGapsFrames: number[];
  /** Seconds (RTP time) from each keyframe to the next. */
  readonly keyframeGapsS: number[];
  /** RTP payload bytes per second of RTP time, over whole keyframe intervals when there are two keyframes. */
  readonly bytesPerSecond: number;
}

/** RTP ticks from `a` to `b` (90 kHz, modulo 2³²) in seconds. */
const secondsBetween = (a: number, b: number) => ((b - a) >>> 0) / 90_000;

/** Groups the packets of a phase into frames by RTP timestamp (in arrival order) and measures them. */
export function phaseFigures(fps: number, packets: readonly RtpPacket[]): PhaseFigures {
  const frames: Array<{ timestamp: number; bytes: number; keyframe: boolean }> = [];
  for (const p of packets) {
    let last = frames.at(-1);
    if (last === undefined || last.timestamp !== p.header.timestamp) frames.push((last = { timestamp: p.header.timestamp, bytes: 0, keyframe: false }));
    last.bytes += p.payload.length;
    last.keyframe ||= startsKeyframe(p.payload);
  }
  const keys = frames.flatMap((f, i) => (f.keyframe ? [i] : []));
  const gaps = keys.slice(1).map((k, i) => k - keys[i]!);
  const [from, to] = keys.length >= 2 ? [keys[0]!, keys.at(-1)!] : [0, frames.length - 1];
  const bytes = frames.slice(from, to).reduce((sum, f) => sum + f.bytes, 0);
  const seconds = to > from ? secondsBetween(frames[from]!.timestamp, frames[to]!.timestamp) : Number.NaN;
  return {
    fps,
    frames: frames.length,
    keyframes: keys.length,
    keyframeGapsFrames: gaps,
    keyframeGapsS: keys.slice(1).map((k, i) => secondsBetween(frames[keys[i]!]!.timestamp, frames[k]!.timestamp)),
    bytesPerSecond: Math.round(bytes / seconds),
  };
}
