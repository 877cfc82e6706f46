/** A token bucket: at most `ratePerS` events a second on average, with bursts of up to `burst`. */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #lastMs: number;

  /** `now` gives the time in ms (injectable for tests). */
  constructor(ratePerS: number, burst: number = ratePerS, now: () => number = () => performance.now()) {
    if (!(ratePerS > 0) || !(burst >= 1)) throw new RangeError(`bad token bucket: ${ratePerS}/s, burst ${burst}`);
    this.#ratePerMs = ratePerS / 1000;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#lastMs = now();
  }

  /** Takes one token: true if the event is within the rate, false if it must be refused. */
  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether the bucket has refilled to its burst: nothing was taken lately, so it may be forgotten. */
  get full(): boolean {
    this.#refill();
    return this.#tokens >= this.#burst;
  }

  #refill(): void {
    const t = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (t - this.#lastMs) * this.#ratePerMs);
    this.#lastMs = t;
  }
}

/**
 * One {@link TokenBucket} per client address (host): how fast one address may make new sessions. Buckets that
 * have refilled are forgotten once `maxAddresses` are held, so many addresses cannot grow the map for good.
 */
export class PerAddressRate {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #make: () => TokenBucket;
  readonly #maxAddresses: number;

  /** `ratePerS` and `burst` per address; `now` as for {@link TokenBucket}. */
  constructor(ratePerS: number, burst: number, maxAddresses = 10_000, now?: () => number) {
    this.#make = () => new TokenBucket(ratePerS, burst, now);
    this.#make(); // validates the settings now
    this.#maxAddresses = maxAddresses;
  }

  /** Takes one token of `host`'s bucket: true if `host` is within its rate. */
  take(host: string): boolean {
    let bucket = this.#buckets.get(host);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxAddresses) this.#forgetFull();
      bucket = this.#make();
      this.#buckets.set(host, bucket);
    }
    return bucket.take();
  }

  /** Addresses with a bucket now. */
  get size(): number {
    return this.#buckets.size;
  }

  #forgetFull(): void {
    for (const [host, bucket] of this.#buckets) if (bucket.full) this.#buckets.delete(host);
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
    if (this.full(host)) return false;
    this.#counts.set(host, this.count(host) + 1);
    return true;
  }

  /** Releases one session of `host`. */
  release(host: string): void {
    const n = (this.#counts.get(host) ?? 0) - 1;
    if (n > 0) this.#counts.set(host, n);
    else this.#counts.delete(host);
  }

  /** Whether `host` has `max` counted: {@link acquire} would refuse it (for checks made before anything is taken). */
  full(host: string): boolean {
    return this.count(host) >= this.max;
  }

  /** Sessions counted for `host` now. */
  count(host: string): number {
    return this.#counts.get(host) ?? 0;
  }
}
