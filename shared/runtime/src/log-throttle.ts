/**
 * At most one log line per interval for a repeating event (a flood of refused handshakes, dropped packets): the
 * first occurrence is logged at once, later ones within the interval are only counted, and the next line that
 * does get through says how many were suppressed. Logging each one synchronously let a flood spend the server's
 * time writing warn lines.
 */

/** Decides which occurrences of one repeating event are logged. */
export class LogThrottle {
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lastMs = -Infinity;
  #suppressed = 0;

  constructor(intervalMs: number, now: () => number = () => performance.now()) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /**
   * Calls `write(suppressed)` if the interval since the last written line has passed (suppressed = occurrences
   * skipped since then), otherwise counts this occurrence; returns whether it wrote.
   */
  hit(write: (suppressed: number) => void): boolean {
    const now = this.#now();
    if (now - this.#lastMs < this.#intervalMs) {
      this.#suppressed++;
      return false;
    }
    const suppressed = this.#suppressed;
    this.#lastMs = now;
    this.#suppressed = 0;
    write(suppressed);
    return true;
  }
}
