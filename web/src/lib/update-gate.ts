/**
 * Throttles the page's view updates: the session changes state on every frame and report (30–60 Hz), but the
 * numbers, the stats panel and the chart are redrawn at most every `intervalMs`, and only when something changed.
 */
export class UpdateGate {
  #dirty = true;
  #lastMs = Number.NEGATIVE_INFINITY;

  /** `intervalMs`: least time between two updates. */
  constructor(readonly intervalMs: number) {}

  /** Something changed since the last update. */
  mark(): void {
    this.#dirty = true;
  }

  /**
   * Whether to update now: true (and the change is then counted as shown) when something changed and at least
   * `minIntervalMs` (default: the gate's interval) passed since the last update.
   */
  take(nowMs: number, minIntervalMs = this.intervalMs): boolean {
    if (!this.#dirty || nowMs - this.#lastMs < minIntervalMs) return false;
    this.#dirty = false;
    this.#lastMs = nowMs;
    return true;
  }
}
