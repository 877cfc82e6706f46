/**
 * What happens to each frame on the page, as pure logic (page-session.ts wires it to the detection source and the
 * WebTransport datagrams): a detection leaves at once as {@link Coordinates}, so the real-time error measures what
 * the viewer sees, not the wait for the next rendering opportunity; the frame's presentation (rVFC, none at all in
 * a hidden tab) and signaling's error report are joined with the detection afterwards, in any order, into a
 * {@link Sample}.
 */
import type { Coordinates, ErrorReport } from "@ballstream/protocol";
import type { Presentation } from "./display-times.ts";
import { FrameJoiner, type JoinedFrame } from "./frame-joiner.ts";
import { type Sample, SampleLog } from "./samples.ts";

/** Where the flow's results go. */
export interface FrameFlowOutput {
  /** A frame's coordinates, to send now (`sentByWorker`: the detection worker sent them already; to count only). */
  send(coordinates: Coordinates, sentByWorker: boolean): void;
  /** A complete sample (report joined with the page's record of its frame, when known). */
  sample(sample: Sample): void;
}

/** A frame's detection as {@link Coordinates} (centre 0, 0 when the ball was not found; the detector says NaN). */
export function coordinatesOf(rtpTimestamp: number, ball: { found: boolean; x: number; y: number }, decodedAtMs: number, detectMs: number): Coordinates {
  return { rtpTimestamp, found: ball.found, x: ball.found ? ball.x : 0, y: ball.found ? ball.y : 0, decodedAtMs, detectMs };
}

/** Per-frame bookkeeping of one session; bounded memory (see {@link FrameJoiner} and {@link SampleLog}). */
export class FrameFlow {
  readonly #out: FrameFlowOutput;
  readonly #joiner: FrameJoiner;
  readonly #log: SampleLog;

  constructor(out: FrameFlowOutput, joiner = new FrameJoiner(), log = new SampleLog()) {
    this.#out = out;
    this.#joiner = joiner;
    this.#log = log;
  }

  /**
   * The worker's detection of a frame: its coordinates are sent now (`nowMs`, its sample's `sentAtMs`), unless the
   * worker sent them itself at `sentAtMs`; its sample waits for presentation.
   */
  detected(d: Coordinates, nowMs: number, sentAtMs?: number): void {
    this.#out.send(d, sentAtMs !== undefined);
    this.#finished(this.#joiner.detected({ ...d, sentAtMs: sentAtMs ?? nowMs }), nowMs);
  }

  /** The compositor presented a frame (rVFC). */
  presented(rtpTimestamp: number, presentation: Presentation, nowMs: number): void {
    this.#finished(this.#joiner.presented(rtpTimestamp, presentation), nowMs);
  }

  /** Main-thread fallback: the frame was detected in its own presentation callback. */
  detectedAtPresentation(d: Coordinates, presentation: Presentation, nowMs: number): void {
    this.#out.send(d, false);
    this.#finished([{ ...d, sentAtMs: nowMs, ...presentation }], nowMs);
  }

  /** Signaling's error report for a frame's coordinates. */
  report(report: ErrorReport, nowMs: number): void {
    this.#emit(this.#log.report(report, nowMs));
  }

  /** Releases what waited too long: first unpresented frames, then reports without a frame (so a report never
   * goes out before the frame it waited for). */
  expire(nowMs: number): void {
    this.#finished(this.#joiner.expire(nowMs), nowMs);
    this.#emit(this.#log.expire(nowMs));
  }

  /** The samples so far (a copy). */
  samples(): Sample[] {
    return this.#log.samples();
  }

  #finished(frames: readonly JoinedFrame[], nowMs: number): void {
    for (const f of frames) this.#emit(this.#log.frame(f, nowMs));
  }

  #emit(samples: readonly Sample[]): void {
    for (const s of samples) this.#out.sample(s);
  }
}
