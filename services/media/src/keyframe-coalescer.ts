/**
 * Keyframe requests (PLI, FIR, a truncated access unit) coalesced in time: a receiver whose picture is broken keeps
 * asking (Chromium repeats its PLI until a keyframe decodes), and each IDR costs several P-frames of bits. A request
 * is honoured at once when the last keyframe is at least `minGapMs` old; otherwise it is remembered and honoured
 * when the gap has passed, so a request is never lost and there is at most one keyframe per `minGapMs`.
 */
export class KeyframeCoalescer {
  readonly minGapMs: number;
  #lastMs = -Infinity;
  #pending = false;

  constructor(minGapMs: number) {
    this.minGapMs = minGapMs;
  }

  /** Whether a request waits for its turn. */
  get pending(): boolean {
    return this.#pending;
  }

  /** Records a request; {@link take} honours it. */
  request(): void {
    this.#pending = true;
  }

  /** True (and the request consumed) when a keyframe is wanted and allowed at `nowMs`; the caller then makes one. */
  take(nowMs: number): boolean {
    if (!this.#pending || !this.ready(nowMs)) return false;
    this.made(nowMs);
    return true;
  }

  /** Whether a keyframe at `nowMs` would keep the gap to the last one. */
  ready(nowMs: number): boolean {
    return nowMs - this.#lastMs >= this.minGapMs;
  }

  /** How long from `nowMs` until a keyframe keeps the gap (0: now). */
  readyInMs(nowMs: number): number {
    return Math.max(0, this.#lastMs + this.minGapMs - nowMs);
  }

  /** A keyframe was made at `nowMs` for another reason (new format, new bitrate): it answers any waiting request. */
  made(nowMs: number): void {
    this.#lastMs = nowMs;
    this.#pending = false;
  }
}
