/**
 * Silence this process caused itself. The session watchdog judges the generator, media and the page by how long it
 * has not heard from them, but a message is heard only while this process's event loop runs. When the loop is held
 * up (a loaded machine; in `bun start` signaling shares it with media's werift and the bus), the watchdog's tick comes
 * late, and on that late tick every peer looks silent for the whole hold-up although its messages wait in the queue
 * behind the tick (an in-process heartbeat due during the hold-up may even run after it). Counted as silence, one
 * 1 s hold-up made every session "take over" its live generator and renegotiate with its live media replica.
 */
export class OwnStalls {
  readonly #intervalMs: number;
  #lastTickMs: number;

  /** `intervalMs`: how often the watchdog ticks; `nowMs`: when it started. */
  constructor(intervalMs: number, nowMs: number) {
    this.#intervalMs = intervalMs;
    this.#lastTickMs = nowMs;
  }

  /**
   * The watchdog ticked at `nowMs`: how long, ms, the process was held up since the previous tick (the time past the
   * tick's due time), or 0 when the tick came within one more interval of it (timer jitter, a busy moment).
   */
  tick(nowMs: number): number {
    const lateMs = nowMs - this.#lastTickMs - this.#intervalMs;
    this.#lastTickMs = nowMs;
    return lateMs > this.#intervalMs ? lateMs : 0;
  }
}

/** `lastHeardMs` moved on by a hold-up of `stalledMs` (not past `nowMs`): the hold-up does not count as the peer's silence. */
export function excuse(lastHeardMs: number, stalledMs: number, nowMs: number): number {
  return stalledMs > 0 ? Math.min(nowMs, lastHeardMs + stalledMs) : lastHeardMs;
}
