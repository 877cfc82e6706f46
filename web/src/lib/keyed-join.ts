/**
 * A bounded join of two halves that reach the page separately under one key (a frame's RTP timestamp), in either
 * order. The *left* half always comes out: joined with its right half, or alone (`right: null`) when it waited
 * longer than `maxWaitMs`, overflowed `maxPending`, or a later key was released. A *right* half only completes a
 * left one and is dropped silently when it waits too long or overflows. Used twice: detection + presentation
 * (frame-joiner.ts) and error report + the page's frame record (samples.ts).
 */

/** A left half with its right half (null: never known). */
export interface Joined<L, R> {
  readonly left: L;
  readonly right: R | null;
}

/** True if RTP timestamp `a` is before `b` (serial-number arithmetic modulo 2^32). */
export function rtpBefore(a: number, b: number): boolean {
  const d = (b - a) >>> 0;
  return d !== 0 && d < 0x80000000;
}

interface Waiting<T> {
  readonly value: T;
  /** When it started waiting (epoch ms). */
  readonly sinceMs: number;
}

/** Pairs left and right halves by a 32-bit key; at most `maxPending` of each side wait. */
export class KeyedJoin<L, R> {
  readonly #lefts = new Map<number, Waiting<L>>();
  readonly #rights = new Map<number, Waiting<R>>();
  readonly #maxWaitMs: number;
  readonly #maxPending: number;

  constructor(maxWaitMs: number, maxPending: number) {
    this.#maxWaitMs = maxWaitMs;
    this.#maxPending = maxPending;
  }

  /** Adds a left half at `nowMs`; returns what is now released (a repeated key replaces the waiting one). */
  left(key: number, value: L, nowMs: number): Joined<L, R>[] {
    const k = key >>> 0;
    const right = this.#rights.get(k);
    if (right) {
      this.#rights.delete(k);
      return [{ left: value, right: right.value }];
    }
    this.#lefts.set(k, { value, sinceMs: nowMs });
    if (this.#lefts.size <= this.#maxPending) return [];
    const [oldest, waiting] = this.#lefts.entries().next().value!;
    this.#lefts.delete(oldest);
    return [{ left: waiting.value, right: null }];
  }

  /** Adds a right half at `nowMs`; returns the left it completes, if it was waiting. */
  right(key: number, value: R, nowMs: number): Joined<L, R>[] {
    const k = key >>> 0;
    const left = this.#lefts.get(k);
    if (left) {
      this.#lefts.delete(k);
      return [{ left: left.value, right: value }];
    }
    this.#rights.set(k, { value, sinceMs: nowMs });
    if (this.#rights.size > this.#maxPending) this.#rights.delete(this.#rights.keys().next().value!);
    return [];
  }

  /** Releases alone the waiting lefts whose key is before `key` in RTP order (their right half will not come). */
  releaseBefore(key: number): Joined<L, R>[] {
    const out: Joined<L, R>[] = [];
    for (const [k, waiting] of this.#lefts) {
      if (!rtpBefore(k, key >>> 0)) continue;
      this.#lefts.delete(k);
      out.push({ left: waiting.value, right: null });
    }
    return out;
  }

  /** Releases alone the lefts that waited longer than `maxWaitMs` at `nowMs`; drops such rights. */
  expire(nowMs: number): Joined<L, R>[] {
    const out: Joined<L, R>[] = [];
    for (const [k, waiting] of this.#lefts) {
      if (nowMs - waiting.sinceMs <= this.#maxWaitMs) continue;
      this.#lefts.delete(k);
      out.push({ left: waiting.value, right: null });
    }
    for (const [k, waiting] of this.#rights) if (nowMs - waiting.sinceMs > this.#maxWaitMs) this.#rights.delete(k);
    return out;
  }
}
