/**
 * Frame pacing from an absolute schedule: frame k is due at `anchor + k / fps`, whatever time the previous frames
 * took, so timer lateness never accumulates into drift. A frame taken late keeps its scheduled capture time; if
 * the producer is a whole interval or more behind, the frames whose time has passed are skipped (counted), not
 * burst out. Pure: the caller passes the time in, so tests drive it with a fake clock.
 */

/** One frame to produce now. */
export interface ScheduledFrame {
  /** The frame's capture time (epoch ms): its slot on the schedule, not the moment it was taken. */
  readonly captureTimeMs: number;
  /** How long after its slot the frame is being produced. */
  readonly lateMs: number;
  /** Frames skipped just before this one. */
  readonly skipped: number;
}

/** The pacing schedule of one session. */
export class FrameSchedule {
  #anchorMs: number;
  #intervalMs: number;
  #index = 0;
  #lastCaptureMs: number | undefined;
  #frames = 0;
  #skipped = 0;

  /** A schedule whose first frame is due at `startMs`. */
  constructor(startMs: number, fps: number) {
    this.#anchorMs = startMs;
    this.#intervalMs = FrameSchedule.#interval(fps);
  }

  static #interval(fps: number): number {
    if (!(fps > 0) || !Number.isFinite(fps)) throw new Error(`fps must be a positive number, got ${fps}`);
    return 1000 / fps;
  }

  /** Milliseconds between frames. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** When the next frame is due (epoch ms). */
  get nextDueMs(): number {
    return this.#anchorMs + this.#index * this.#intervalMs;
  }

  /** Frames taken so far. */
  get frames(): number {
    return this.#frames;
  }

  /** Frames skipped so far because the producer fell a whole interval behind. */
  get skipped(): number {
    return this.#skipped;
  }

  /** Takes the frame due at or before `nowMs`, skipping slots that are entirely past; undefined if none is due. */
  take(nowMs: number): ScheduledFrame | undefined {
    if (nowMs < this.nextDueMs) return undefined;
    const latest = Math.floor((nowMs - this.#anchorMs) / this.#intervalMs);
    const skipped = Math.max(0, latest - this.#index);
    this.#index += skipped;
    this.#skipped += skipped;
    const captureTimeMs = this.nextDueMs;
    this.#index++;
    this.#frames++;
    this.#lastCaptureMs = captureTimeMs;
    return { captureTimeMs, lateMs: nowMs - captureTimeMs, skipped };
  }

  /**
   * Changes the rate from now on: the next frame is due one new interval after the last one taken (or at
   * `nowMs` if none was), so consecutive capture times are always at least one interval apart.
   */
  setFps(fps: number, nowMs: number): void {
    this.#intervalMs = FrameSchedule.#interval(fps);
    this.#anchorMs = this.#lastCaptureMs === undefined ? nowMs : this.#lastCaptureMs + this.#intervalMs;
    this.#index = 0;
  }
}
