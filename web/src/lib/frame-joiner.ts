/**
 * Joins the two halves of what the page knows about a frame, both keyed by its RTP timestamp: the detection (from
 * the worker reading the decoded `VideoFrame`) and the presentation (requestVideoFrameCallback, when the
 * compositor showed it). A frame is released once both are known, so its coordinates carry the real presentation
 * time; a detection whose frame is never presented (the compositor skipped it, or the tab is hidden) is released
 * with `presentedAtMs: null` as soon as a later frame is presented, or after `maxWaitMs`.
 */

/** What the detector found in one frame. Times in epoch ms. */
export interface FrameDetection {
  readonly rtpTimestamp: number;
  readonly found: boolean;
  readonly x: number;
  readonly y: number;
  readonly detectMs: number;
  /** When the decoded frame reached the page's detector. */
  readonly decodedAtMs: number;
}

/** A detection with its presentation time (null: never presented). */
export interface JoinedFrame extends FrameDetection {
  readonly presentedAtMs: number | null;
}

/** True if RTP timestamp `a` is before `b` (serial-number arithmetic modulo 2^32). */
export function rtpBefore(a: number, b: number): boolean {
  const d = (b - a) >>> 0;
  return d !== 0 && d < 0x80000000;
}

/** Pairs detections with presentations; bounded memory. */
export class FrameJoiner {
  readonly #detections = new Map<number, FrameDetection>();
  readonly #presentations = new Map<number, number>();
  readonly #maxWaitMs: number;
  readonly #maxPending: number;

  constructor(maxWaitMs = 200, maxPending = 64) {
    this.#maxWaitMs = maxWaitMs;
    this.#maxPending = maxPending;
  }

  /** Adds a detection; returns the frames now complete. */
  detected(d: FrameDetection): JoinedFrame[] {
    const rtp = d.rtpTimestamp >>> 0;
    const presentedAtMs = this.#presentations.get(rtp);
    if (presentedAtMs !== undefined) {
      this.#presentations.delete(rtp);
      return [{ ...d, presentedAtMs }];
    }
    this.#detections.set(rtp, d);
    return this.#trim(this.#detections.size > this.#maxPending ? this.#detections.keys().next().value : undefined);
  }

  /** Adds a presentation; returns the frames now complete (older unpresented ones first). */
  presented(rtpTimestamp: number, presentedAtMs: number): JoinedFrame[] {
    const rtp = rtpTimestamp >>> 0;
    const out: JoinedFrame[] = [];
    for (const [key, d] of this.#detections) {
      if (rtpBefore(key, rtp)) {
        this.#detections.delete(key);
        out.push({ ...d, presentedAtMs: null });
      }
    }
    const d = this.#detections.get(rtp);
    if (d) {
      this.#detections.delete(rtp);
      out.push({ ...d, presentedAtMs });
    } else {
      this.#presentations.set(rtp, presentedAtMs);
      if (this.#presentations.size > this.#maxPending) this.#presentations.delete(this.#presentations.keys().next().value!);
    }
    return out;
  }

  /** Releases detections that waited longer than `maxWaitMs` at `nowMs` (epoch ms), unpresented. */
  expire(nowMs: number): JoinedFrame[] {
    const out: JoinedFrame[] = [];
    for (const [key, d] of this.#detections) {
      if (nowMs - d.decodedAtMs > this.#maxWaitMs) {
        this.#detections.delete(key);
        out.push({ ...d, presentedAtMs: null });
      }
    }
    return out;
  }

  /** Drops an overflowing oldest detection (returned as unpresented). */
  #trim(oldest: number | undefined): JoinedFrame[] {
    if (oldest === undefined) return [];
    const d = this.#detections.get(oldest)!;
    this.#detections.delete(oldest);
    return [{ ...d, presentedAtMs: null }];
  }
}
