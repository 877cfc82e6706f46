/**
 * The recent ground truths of one session, keyed by the RTP timestamp of their capture time, so that the
 * coordinates the page found in a frame can be matched with that very frame's truth.
 */
import { type FrameTruth } from "@ballstream/runtime";
import { RTP_VIDEO_CLOCK_HZ, rtpTimestampFromCaptureTime } from "@ballstream/protocol";

const RTP_TICKS_PER_MS = RTP_VIDEO_CLOCK_HZ / 1000;

/** How long a truth stays in the ring (ms of capture time behind the newest one). */
export const TRUTH_RING_WINDOW_MS = 2000;
/** Hard cap on entries whatever the capture times say (2 s at the highest fps, with room to spare). */
export const TRUTH_RING_MAX_ENTRIES = 512;

/**
 * How long the coordinates of a frame newer than every truth held wait for that truth: over NATS a frame's
 * coordinates sometimes reach signaling before its truth (1–6 reports in 50–240 per page in e2e channel-replicas).
 */
export const TRUTH_WAIT_MS = 50;

/** How far ahead of the newest truth (ms of capture time) a frame may be for its truth to count as on its way. */
const AHEAD_MAX_MS = 1000;

/** A bounded map RTP timestamp → truth holding about the last {@link TRUTH_RING_WINDOW_MS} of frames. */
export class TruthRing {
  #byRtp = new Map<number, FrameTruth>();
  #latest: FrameTruth | undefined;

  constructor(
    private readonly windowMs = TRUTH_RING_WINDOW_MS,
    private readonly maxEntries = TRUTH_RING_MAX_ENTRIES,
  ) {}

  /** Adds a truth and evicts those older than the window (or beyond the entry cap), oldest first. */
  add(truth: FrameTruth): void {
    const key = rtpTimestampFromCaptureTime(truth.captureTimeMs);
    this.#byRtp.delete(key);
    this.#byRtp.set(key, truth);
    if (!this.#latest || truth.captureTimeMs >= this.#latest.captureTimeMs) this.#latest = truth;
    const oldest = this.#latest.captureTimeMs - this.windowMs;
    for (const [k, t] of this.#byRtp) {
      if (this.#byRtp.size <= this.maxEntries && t.captureTimeMs >= oldest) break;
      this.#byRtp.delete(k);
    }
  }

  /** The truth of the frame with this RTP timestamp, if it is still in the ring. */
  get(rtpTimestamp: number): FrameTruth | undefined {
    return this.#byRtp.get(rtpTimestamp >>> 0);
  }

  /**
   * Whether the frame with this RTP timestamp is newer than every truth seen (by at most 1 s of capture time, the
   * 32-bit wrap taken into account): its truth may still be on its way.
   */
  awaits(rtpTimestamp: number): boolean {
    if (!this.#latest) return false;
    const ahead = ((rtpTimestamp - rtpTimestampFromCaptureTime(this.#latest.captureTimeMs)) | 0) / RTP_TICKS_PER_MS;
    return ahead > 0 && ahead <= AHEAD_MAX_MS;
  }

  /** The truth with the newest capture time seen so far. */
  get latest(): FrameTruth | undefined {
    return this.#latest;
  }

  /** Number of truths held. */
  get size(): number {
    return this.#byRtp.size;
  }
}
