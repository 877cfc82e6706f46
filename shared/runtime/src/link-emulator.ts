/**
 * A link emulator for one direction of a UDP path, applied where packets leave or enter a socket: blackout (link
 * down), a bottleneck queue at a bandwidth cap (store-and-forward at the rate, tail drop beyond the queue's size,
 * as a router has), random or Gilbert–Elliott bursty loss, and one-way delay with jitter, in that order (a packet
 * lost after the bottleneck still used its transmission time). Deterministic under a seed: the clock, the random
 * source and the timer are injected, so the unit tests run with no real time. See docs/network-lab.md.
 */
import type { LinkConditions } from "@ballstream/protocol";

/** What happened to a packet: delivered, or dropped by loss, by a full queue (tail drop) or by a blackout. */
export type LinkOutcome = "delivered" | "lost" | "queue_full" | "blackout";

/** Told about every packet's fate: its outcome, size and the time it waited in the bottleneck queue (ms). */
export type LinkObserver = (outcome: LinkOutcome, bytes: number, queueDelayMs: number) => void;

/** Time and timers the emulator runs on; real ones by default, a fake one in tests. */
export interface LinkClock {
  /** Current time (ms, monotonic). */
  now(): number;
  /** Calls `fn` after `ms` milliseconds; returns a handle for {@link LinkClock.clear}. */
  set(fn: () => void, ms: number): unknown;
  /** Cancels a timer made by {@link LinkClock.set}. */
  clear(handle: unknown): void;
}

/** The real clock: `performance.now()` and unref'd timers (a packet in flight keeps no process alive). */
export const REAL_LINK_CLOCK: LinkClock = {
  now: () => performance.now(),
  set: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    return timer;
  },
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Options of a {@link LinkEmulator} beyond its conditions. */
export interface LinkEmulatorOptions {
  /** Time and timers; {@link REAL_LINK_CLOCK} by default. */
  readonly clock?: LinkClock;
  /** Uniform random numbers in [0, 1); default a PRNG seeded with `conditions.seed`. */
  readonly random?: () => number;
  /** Told about every packet's fate (metrics). */
  readonly observer?: LinkObserver;
  /**
   * Bytes the link may hold in flight (delayed, not yet delivered); more are dropped as `queue_full`. Bounds the
   * memory a link with a long delay holds when the sender (a hostile peer, say) does not slow down. Default: no bound.
   */
  readonly maxInFlightBytes?: number;
}

/** Counts of packets by outcome since the link was made. */
export type LinkStats = Record<LinkOutcome, number>;

/** mulberry32: a small, fast, seedable PRNG giving uniform numbers in [0, 1); the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A packet waiting to be delivered. */
interface InFlight {
  readonly dueMs: number;
  readonly bytes: number;
  readonly queueDelayMs: number;
  readonly deliver: () => void;
}

/** One direction of an emulated link: {@link LinkEmulator.send} each packet with what delivers it. */
export class LinkEmulator {
  /** The conditions this link emulates (fixed for its life). */
  readonly conditions: LinkConditions;
  readonly #clock: LinkClock;
  readonly #random: () => number;
  readonly #observer: LinkObserver | undefined;
  readonly #startMs: number;
  readonly #stats: LinkStats = { delivered: 0, lost: 0, queue_full: 0, blackout: 0 };
  /** Departure (end of transmission) times and sizes of packets still in the bottleneck queue, oldest first. */
  readonly #queue: Array<{ doneMs: number; bytes: number }> = [];
  #queuedBytes = 0;
  /** When the bottleneck finishes transmitting what it holds. */
  #busyUntilMs = 0;
  /** Packets scheduled for delivery, ordered by due time, then by when they were sent. */
  readonly #inFlight: InFlight[] = [];
  #inFlightBytes = 0;
  readonly #maxInFlightBytes: number;
  #lastDueMs = -Infinity;
  #bad = false;
  #timer: unknown = undefined;
  #timerDueMs = Infinity;
  #closed = false;

  constructor(conditions: LinkConditions, options: LinkEmulatorOptions = {}) {
    this.conditions = conditions;
    this.#clock = options.clock ?? REAL_LINK_CLOCK;
    this.#random = options.random ?? seededRandom(conditions.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.#observer = options.observer;
    this.#maxInFlightBytes = options.maxInFlightBytes ?? Infinity;
    this.#startMs = this.#clock.now();
  }

  /** Packets by outcome so far (delivered counts only packets already handed on). */
  get stats(): Readonly<LinkStats> {
    return { ...this.#stats };
  }

  /** Whether no packet is in flight (nothing left to deliver). */
  get idle(): boolean {
    return this.#inFlight.length === 0;
  }

  /** Bytes in the bottleneck queue now (the packet in transmission included). */
  get queuedBytes(): number {
    this.#drainQueue(this.#clock.now());
    return this.#queuedBytes;
  }

  /** Whether the link is down at `atMs` (clock time) by its blackout schedule. */
  isDown(atMs: number = this.#clock.now()): boolean {
    const b = this.conditions.blackout;
    if (b === undefined) return false;
    const t = atMs - this.#startMs - b.atMs;
    if (t < 0) return false;
    return (b.everyMs === undefined ? t : t % b.everyMs) < b.durationMs;
  }

  /**
   * Offers one packet of `bytes` to the link; `deliver` runs when (and if) it comes out the far end. Returns its
   * fate if decided now (`delivered` at once, or why it was dropped), else `in_flight`.
   */
  send(bytes: number, deliver: () => void): LinkOutcome | "in_flight" {
    if (this.#closed) return this.#drop("blackout", bytes);
    const now = this.#clock.now();
    if (this.isDown(now)) return this.#drop("blackout", bytes);
    if (this.#inFlightBytes + bytes > this.#maxInFlightBytes) return this.#drop("queue_full", bytes);
    let departMs = now;
    let queueDelayMs = 0;
    const { rateBps, queueBytes } = this.conditions;
    if (rateBps !== undefined) {
      this.#drainQueue(now);
      if (queueBytes !== undefined && this.#queuedBytes + bytes > queueBytes) return this.#drop("queue_full", bytes);
      const startMs = Math.max(now, this.#busyUntilMs);
      queueDelayMs = startMs - now;
      departMs = startMs + (bytes * 8 * 1000) / rateBps;
      this.#busyUntilMs = departMs;
      this.#queue.push({ doneMs: departMs, bytes });
      this.#queuedBytes += bytes;
    }
    if (this.#lost()) return this.#drop("lost", bytes, queueDelayMs);
    let dueMs = departMs + this.#delayMs();
    if (!this.conditions.reorder) dueMs = Math.max(dueMs, this.#lastDueMs);
    this.#lastDueMs = Math.max(this.#lastDueMs, dueMs);
    if (dueMs <= now && this.#inFlight.length === 0) {
      this.#delivered(bytes, queueDelayMs, deliver);
      return "delivered";
    }
    this.#insert({ dueMs, bytes, queueDelayMs, deliver });
    this.#inFlightBytes += bytes;
    this.#arm();
    return "in_flight";
  }

  /** Stops the link: packets in flight are never delivered and later ones are dropped. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clear(this.#timer);
    this.#timer = undefined;
    this.#inFlight.length = 0;
    this.#inFlightBytes = 0;
  }

  #drop(outcome: Exclude<LinkOutcome, "delivered">, bytes: number, queueDelayMs = 0): LinkOutcome {
    this.#stats[outcome]++;
    this.#observer?.(outcome, bytes, queueDelayMs);
    return outcome;
  }

  #delivered(bytes: number, queueDelayMs: number, deliver: () => void): void {
    this.#stats.delivered++;
    this.#observer?.("delivered", bytes, queueDelayMs);
    deliver();
  }

  #drainQueue(now: number): void {
    while (this.#queue.length > 0 && (this.#queue[0] as { doneMs: number }).doneMs <= now) {
      this.#queuedBytes -= (this.#queue.shift() as { bytes: number }).bytes;
    }
  }

  /** One loss decision: Gilbert–Elliott (state moves first, then that state's loss) or independent. */
  #lost(): boolean {
    const ge = this.conditions.gilbertElliott;
    if (ge !== undefined) {
      this.#bad = this.#bad ? this.#random() >= ge.r : this.#random() < ge.p;
      const p = this.#bad ? ge.lossBad : ge.lossGood;
      return p > 0 && this.#random() < p;
    }
    const loss = this.conditions.loss ?? 0;
    return loss > 0 && this.#random() < loss;
  }

  #delayMs(): number {
    const delay = this.conditions.delayMs ?? 0;
    const jitter = this.conditions.jitterMs ?? 0;
    return jitter > 0 ? Math.max(0, delay + (this.#random() * 2 - 1) * jitter) : delay;
  }

  /** Inserts after every packet due no later (ties keep send order); without reordering that is the end. */
  #insert(packet: InFlight): void {
    let i = this.#inFlight.length;
    while (i > 0 && (this.#inFlight[i - 1] as InFlight).dueMs > packet.dueMs) i--;
    this.#inFlight.splice(i, 0, packet);
  }

  /** Keeps one timer, for the earliest packet in flight. */
  #arm(): void {
    const next = this.#inFlight[0];
    if (next === undefined || next.dueMs >= this.#timerDueMs) return;
    if (this.#timer !== undefined) this.#clock.clear(this.#timer);
    this.#timerDueMs = next.dueMs;
    this.#timer = this.#clock.set(() => this.#fire(), Math.max(0, next.dueMs - this.#clock.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerDueMs = Infinity;
    const now = this.#clock.now();
    while (!this.#closed && this.#inFlight.length > 0 && (this.#inFlight[0] as InFlight).dueMs <= now) {
      const packet = this.#inFlight.shift() as InFlight;
      this.#inFlightBytes -= packet.bytes;
      this.#delivered(packet.bytes, packet.queueDelayMs, packet.deliver);
    }
    if (!this.#closed) this.#arm();
  }
}
