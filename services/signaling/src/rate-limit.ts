/** A token bucket: at most `ratePerS` events a second on average, with bursts of up to `burst`. */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #lastMs: number;

  /** `now` gives the time in ms (injectable for tests). */
  constructor(
    ratePerS: number,
    burst: number = ratePerS,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerS > 0) || !(burst >= 1)) throw new RangeError(`bad token bucket: ${ratePerS}/s, burst ${burst}`);
    this.#ratePerMs = ratePerS / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#lastMs = now();
  }

  /** Takes one token: true if the event is within the rate, false if it must be refused. */
  take(): boolean {
    const t = this.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (t - this.#lastMs) * this.#ratePerMs);
    this.#lastMs = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Counts sessions per client address (the host part of `host:port`), refusing beyond `max` each. */
export class PerAddressCounter {
  readonly #counts = new Map<string, number>();

  constructor(readonly max: number) {}

  /** The host of a `host:port` or `[v6]:port` address. */
  static hostOf(remoteAddress: string): string {
    const colon = remoteAddress.lastIndexOf(":");
    return colon < 0 ? remoteAddress : remoteAddress.slice(0, colon);
  }

  /** Counts one more session of `host` and returns true, or returns false (nothing counted) if it has `max`. */
  acquire(host: string): boolean {
    const n = this.#counts.get(host) ?? 0;
    if (n >= this.max) return false;
    this.#counts.set(host, n + 1);
    return true;
  }

  /** Releases one session of `host`. */
  release(host: string): void {
    const n = (this.#counts.get(host) ?? 0) - 1;
    if (n > 0) this.#counts.set(host, n);
    else this.#counts.delete(host);
  }

  /** Sessions counted for `host` now. */
  count(host: string): number {
    return this.#counts.get(host) ?? 0;
  }
}
