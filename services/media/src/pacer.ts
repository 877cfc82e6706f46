/**
 * Send-side pacing: the packets of a frame leave at a byte rate (`PACING_FACTOR` × the encoder's target) instead of
 * in one burst, as libwebrtc's pacer does, so a bottleneck queue sees a frame spread over a fraction of the frame
 * interval (a frame at the target's per-frame share takes 1 / PACING_FACTOR of it). The first packet of a frame
 * goes at once when nothing is waiting, so a one-packet P-frame gains no delay. The pacer also tells the session
 * when it holds more than the frame it is sending (`backlogged`): the session then drops raw frames before the
 * encoder (drop, never queue; the reference chain stays whole). A keyframe is never dropped: it replaces frames that
 * are waiting and not yet started (an IDR makes them useless), and frames are packetized only when they start,
 * so dropping one leaves no sequence-number gap for the receiver to NACK.
 */

/** Pacing rate as a multiple of the target bitrate (libwebrtc's default is 2.5). */
export const PACING_FACTOR = 2.5;

/** What the pacer needs to know of a frame. */
export interface PacedFrame {
  readonly keyframe: boolean;
}

/** Callbacks and settings of a {@link Pacer}. */
export interface PacerOptions<F extends PacedFrame, P> {
  /** Turns a frame into its packets when its turn comes. */
  packetize(frame: F): P[];
  /** Bytes of a packet on the wire (payload is enough: the rate is approximate). */
  bytes(packet: P): number;
  /** Puts a packet on the wire. */
  send(packet: P): void;
  /** Current pacing rate in bytes per millisecond. */
  bytesPerMs(): number;
  /** Milliseconds now (monotonic). */
  now(): number;
}

/** Counters of a {@link Pacer}. */
export interface PacerStats {
  framesSent: number;
  /** Frames discarded, not started, because a keyframe came after them. */
  framesSuperseded: number;
  packetsSent: number;
}

/** Sends frames' packets at a byte rate, one frame after another; see the module comment. */
export class Pacer<F extends PacedFrame, P> {
  readonly stats: PacerStats = { framesSent: 0, framesSuperseded: 0, packetsSent: 0 };
  readonly #o: PacerOptions<F, P>;
  readonly #waiting: F[] = [];
  #packets: P[] = [];
  /** Time the next packet may leave. */
  #nextAtMs = -Infinity;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  constructor(options: PacerOptions<F, P>) {
    this.#o = options;
  }

  /** True while a frame waits behind the one being sent: more than about a frame is held. */
  get backlogged(): boolean {
    return this.#waiting.length > 0;
  }

  /** Queues a frame; a keyframe discards the frames still waiting (never one being sent). */
  push(frame: F): void {
    if (this.#stopped) return;
    if (frame.keyframe) this.stats.framesSuperseded += this.#waiting.splice(0).length;
    this.#waiting.push(frame);
    this.#pump();
  }

  /** Drops everything held and stops the timer. */
  stop(): void {
    this.#stopped = true;
    this.#waiting.length = 0;
    this.#packets = [];
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #pump(): void {
    if (this.#timer !== null || this.#stopped) return;
    for (;;) {
      if (this.#packets.length === 0) {
        const next = this.#waiting.shift();
        if (next === undefined) return;
        this.#packets = this.#o.packetize(next);
        this.stats.framesSent++;
      }
      const now = this.#o.now();
      if (now < this.#nextAtMs) {
        this.#timer = setTimeout(() => {
          this.#timer = null;
          this.#pump();
        }, this.#nextAtMs - now);
        return;
      }
      const packet = this.#packets.shift()!;
      this.#o.send(packet);
      this.stats.packetsSent++;
      this.#nextAtMs = Math.max(now, this.#nextAtMs) + this.#o.bytes(packet) / this.#o.bytesPerMs();
    }
  }
}
