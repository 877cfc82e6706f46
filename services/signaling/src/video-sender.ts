/**
 * The WebTransport video path of one viewer: media's access units (bus subject `video`, one {@link VideoUnit}
 * each) go out on server-initiated unidirectional streams as length-prefixed records. Framing: a new stream per
 * GOP (`gop`, the default; measured in docs/web.md "Video over WebTransport") or per frame (`frame`). A keyframe
 * abandons every older stream (RESET_STREAM: what was not yet sent is dropped, late frames are never queued
 * behind a newer picture); a viewer starts on a keyframe; and what waits for stream capacity is bounded per viewer,
 * in bytes and in age: a delta frame that would exceed the byte cap, or that arrives while a unit has waited
 * longer than the age cap, is dropped with the rest of its GOP, and a keyframe is asked for once the queue has
 * drained. So a slow link or a hostile page cannot make signaling buffer without bound (at most the cap and one
 * keyframe), nor queue stale frames, and a keyframe larger than the age cap's worth of link still gets through
 * (quiche itself holds at most what the congestion window and the peer's flow control allow).
 */
import { ProtocolError, decodeVideoUnit, frameVideoRecord } from "@ballstream/protocol";
import { WebTransportError } from "./webtransport/mod.ts";

/** One stream per GOP (each begins with its keyframe) or one per frame. */
export type VideoFraming = "gop" | "frame";

/** Defaults of signaling's WT_VIDEO_FRAMING, WT_VIDEO_MAX_QUEUED_BYTES (a 2 Mbit/s stream makes 256 KiB in 1 s) and WT_VIDEO_MAX_QUEUED_MS. */
export const DEFAULT_WT_VIDEO: { readonly framing: VideoFraming; readonly maxQueuedBytes: number; readonly maxQueuedMs: number } = { framing: "gop", maxQueuedBytes: 256 * 1024, maxQueuedMs: 250 };

/** The WebTransport stream error code of a stream abandoned for a newer keyframe or over the cap. */
export const VIDEO_STREAM_ABANDONED = 1;

/** What a {@link VideoSender} needs. */
export interface VideoSenderOptions {
  /** Opens a unidirectional stream to the viewer (`WebTransportSession.createUnidirectionalStream`). */
  readonly openStream: () => Promise<WritableStream<Uint8Array>>;
  /** Asks media for a keyframe now. */
  readonly wantKeyframe: () => void;
  readonly framing: VideoFraming;
  /** Bytes that may wait for stream capacity at once (over all open streams). */
  readonly maxQueuedBytes: number;
  /** How long a unit may wait for stream capacity before the next one is dropped instead (ms). */
  readonly maxQueuedMs: number;
  /** The clock (ms). */
  readonly now: () => number;
}

/** Counters of one viewer's video path. */
export interface VideoSenderStats {
  units: number;
  sent: number;
  dropped: number;
  malformed: number;
  streams: number;
  abandoned: number;
}

interface OutStream {
  readonly writer: Promise<WritableStreamDefaultWriter<Uint8Array> | null>;
  /** Bytes handed to the writer whose write has not completed (not yet taken by quiche). */
  queued: number;
  /** When each of those writes was handed over, oldest first (they complete in order). */
  readonly since: number[];
  done: boolean;
}

/** Sends one viewer's access units; {@link close} abandons whatever is still open. */
export class VideoSender {
  readonly stats: VideoSenderStats = { units: 0, sent: 0, dropped: 0, malformed: 0, streams: 0, abandoned: 0 };
  readonly #options: VideoSenderOptions;
  readonly #open: OutStream[] = [];
  #waitingForKeyframe = true;
  /** Whether media was asked for a keyframe since the wait began. */
  #asked = false;
  #closed = false;

  constructor(options: VideoSenderOptions) {
    this.#options = options;
  }

  /** Bytes now waiting for stream capacity, over all open streams. */
  get queuedBytes(): number {
    return this.#open.reduce((n, s) => n + s.queued, 0);
  }

  /** How long the oldest unit still waiting for stream capacity has waited (ms; 0 when none waits). */
  get queuedMs(): number {
    const oldest = Math.min(...this.#open.map((s) => s.since[0] ?? Infinity));
    return Number.isFinite(oldest) ? this.#options.now() - oldest : 0;
  }

  /** Whether the next unit sent must be a keyframe (at the start, and after a drop). */
  get waitingForKeyframe(): boolean {
    return this.#waitingForKeyframe;
  }

  /**
   * Whether a keyframe should be asked for now: one is needed and nothing waits for the link any more. Asking while
   * the queue still drains would only supersede a keyframe on its way (on a slow link: for ever).
   */
  get needsKeyframe(): boolean {
    return this.#waitingForKeyframe && this.queuedBytes === 0;
  }

  /**
   * One bus message of subject `video`. A keyframe is always sent, on a new stream, abandoning the older ones; a
   * delta frame is dropped while a keyframe is needed, or when what waits is over the byte or age cap (then the
   * frames already queued still go out, and a keyframe is asked for once they have).
   */
  push(encodedUnit: Uint8Array): void {
    if (this.#closed) return;
    let keyframe: boolean;
    try {
      keyframe = decodeVideoUnit(encodedUnit).keyframe;
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.stats.malformed++;
      return;
    }
    this.stats.units++;
    const record = frameVideoRecord(encodedUnit);
    if (keyframe) {
      this.#abandonAll();
      this.#waitingForKeyframe = false;
      this.#asked = false;
      return this.#send(this.#newStream(), record);
    }
    if (this.#waitingForKeyframe) return void this.stats.dropped++;
    const queued = this.queuedBytes;
    if (queued > 0 && (queued + record.length > this.#options.maxQueuedBytes || this.queuedMs > this.#options.maxQueuedMs)) {
      this.stats.dropped++;
      this.#waitingForKeyframe = true; // the next delta frames could not decode without this one
      return;
    }
    const current = this.#open.at(-1);
    this.#send(this.#options.framing === "frame" || current === undefined ? this.#newStream() : current, record);
  }

  /** Abandons every open stream; further units are ignored. */
  close(): void {
    this.#closed = true;
    this.#abandonAll();
  }

  #send(stream: OutStream, record: Uint8Array): void {
    this.#write(stream, record);
    if (this.#options.framing === "frame") this.#finish(stream);
  }

  /** Asks media for a keyframe once per wait, when one is needed and the queue has drained. */
  #askWhenDrained(): void {
    if (this.#asked || this.#closed || !this.needsKeyframe) return;
    this.#asked = true;
    this.#options.wantKeyframe();
  }

  #newStream(): OutStream {
    this.stats.streams++;
    const writer = this.#options.openStream().then(
      (writable) => writable.getWriter(),
      () => null,
    );
    const stream: OutStream = { writer, queued: 0, since: [], done: false };
    this.#open.push(stream);
    void writer.then((w) => {
      if (w === null) this.#lost(stream);
    });
    return stream;
  }

  #write(stream: OutStream, record: Uint8Array): void {
    stream.queued += record.length;
    stream.since.push(this.#options.now());
    void stream.writer.then(async (w) => {
      try {
        if (w === null || stream.done) throw new Error("stream gone");
        await w.write(record);
        this.stats.sent++;
      } catch {
        this.#lost(stream);
      } finally {
        stream.queued -= record.length;
        stream.since.shift();
        this.#askWhenDrained();
      }
    });
  }

  /** Ends a per-frame stream with FIN once its record is written. */
  #finish(stream: OutStream): void {
    void stream.writer.then(async (w) => {
      await w?.close().catch(() => undefined);
      this.#forget(stream);
    });
  }

  /** A stream failed (peer stopped it, session gone): the frames after it cannot decode, so wait for a keyframe. */
  #lost(stream: OutStream): void {
    if (stream.done) return;
    this.#forget(stream);
    this.#waitingForKeyframe = true;
    this.#askWhenDrained();
  }

  #forget(stream: OutStream): void {
    stream.done = true;
    const i = this.#open.indexOf(stream);
    if (i >= 0) this.#open.splice(i, 1);
  }

  #abandonAll(): void {
    for (const stream of this.#open.splice(0)) {
      stream.done = true;
      this.stats.abandoned++;
      void stream.writer.then((w) => w?.abort(new WebTransportError("abandoned for a newer keyframe", "stream", VIDEO_STREAM_ABANDONED)).catch(() => undefined));
    }
  }
}
