/**
 * Web Streams over quiche streams: a readable fed by the connection with back-pressure (reading pauses while the
 * consumer's queue is full, so QUIC flow control holds the peer back), and a writable that only hands quiche as
 * much as the stream's capacity takes and waits for more.
 */
import { WebTransportError, http3CodeToWebTransport, webTransportCodeToHttp3, H3_ERROR } from "./errors.ts";

/** What the streams need from the connection that owns them. */
export interface StreamIo {
  /**
   * Hands quiche as much of `data` (and FIN with its last byte) as fits now: the count taken, or null when nothing
   * could be taken. Throws a WebTransportError when the peer stopped the stream or the connection is gone.
   */
  send(streamId: number, data: Uint8Array, fin: boolean): number | null;
  /** Resolves when the stream can take more bytes; rejects when the peer stopped it, we reset it, or the connection ended. */
  waitWritable(streamId: number): Promise<void>;
  /** Resets the sending side (RESET_STREAM) with an HTTP/3 code. */
  resetStream(streamId: number, h3Code: number): void;
  /** Asks the peer to stop sending (STOP_SENDING) with an HTTP/3 code. */
  stopSending(streamId: number, h3Code: number): void;
  /** The consumer wants more: read the stream again. */
  resumeRead(streamId: number): void;
}

/** Bytes a readable queues before reading from quiche pauses. */
const READABLE_HIGH_WATER_BYTES = 256 * 1024;

/** Writes all of `data` (then FIN when `fin`), waiting for stream capacity as needed. */
export async function writeAll(io: StreamIo, streamId: number, data: Uint8Array, fin: boolean): Promise<void> {
  let offset = 0;
  for (;;) {
    const taken = io.send(streamId, data.subarray(offset), fin); // quiche sets FIN only with the last byte
    if (taken !== null) {
      offset += taken;
      if (offset >= data.length) return;
    }
    await io.waitWritable(streamId);
  }
}

/** The application code carried by an abort/cancel reason: a WebTransportError's code, else 0. */
export function reasonToWebTransportCode(reason: unknown): number {
  return reason instanceof WebTransportError && reason.streamErrorCode !== null ? reason.streamErrorCode : 0;
}

/**
 * The receiving half of a stream: the connection pushes bytes in, the application reads `readable`. The bytes wait
 * in a queue of our own, counted exactly, until the application reads them; the stream counts as open (toward the
 * session's stream limit and the connection's receive budget) until then, even after the peer's FIN, so a peer
 * cannot pile up finished streams nobody reads.
 */
export class IncomingStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly #io: StreamIo;
  readonly #onEnd: () => void;
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #fin = false;
  #done = false;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #wake: (() => void) | undefined;

  /** A receiving half of `streamId`; `onEnd` runs once when the stream is over. */
  constructor(
    io: StreamIo,
    readonly streamId: number,
    onEnd: () => void,
  ) {
    this.#io = io;
    this.#onEnd = onEnd;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => this.#pull(),
        cancel: (reason) => {
          if (this.#finish()) io.stopSending(streamId, webTransportCodeToHttp3(reasonToWebTransportCode(reason)));
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Delivers bytes (and the end of the stream); returns false when the queue is full (stop reading). */
  push(chunk: Uint8Array, fin: boolean): boolean {
    if (this.#done) return true;
    if (chunk.length > 0) {
      this.#queue.push(chunk);
      this.#queued += chunk.length;
    }
    if (fin) this.#fin = true;
    this.#wake?.();
    return !this.paused;
  }

  /** The peer reset the stream with an HTTP/3 code. */
  reset(h3Code: number): void {
    const code = http3CodeToWebTransport(h3Code);
    this.#fail(new WebTransportError(`stream reset by peer (code ${code ?? `h3 0x${h3Code.toString(16)}`})`, "stream", code));
  }

  /** Ends the stream with an error (session or connection gone); tells the peer to stop sending. */
  terminate(error: Error): void {
    if (this.#fail(error)) this.#io.stopSending(this.streamId, H3_ERROR.wtSessionGone);
  }

  /** Bytes received and not yet read by the application. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /** Whether reading from quiche should wait: the application has a full queue to read first. */
  get paused(): boolean {
    return !this.#done && this.#queued >= READABLE_HIGH_WATER_BYTES;
  }

  /** Whether the stream is over: read to its end, cancelled, reset or terminated. */
  get ended(): boolean {
    return this.#done;
  }

  async #pull(): Promise<void> {
    for (;;) {
      if (this.#done) return;
      const chunk = this.#queue.shift();
      if (chunk) {
        this.#queued -= chunk.length;
        this.#controller.enqueue(chunk);
        this.#io.resumeRead(this.streamId); // room again, here and in the connection's budget
        return;
      }
      if (this.#fin) {
        this.#controller.close();
        this.#finish();
        return;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  #fail(error: Error): boolean {
    if (this.#done) return false;
    this.#controller.error(error);
    return this.#finish();
  }

  #finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#queue.length = 0;
    this.#queued = 0;
    this.#wake?.();
    this.#onEnd();
    return true;
  }
}

/** The sending half of a stream: `writable` writes through {@link writeAll}; `prefix` goes first (stream header). */
export class OutgoingStream {
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once the stream header is written; rejects when that fails. */
  readonly opened: Promise<void>;
  readonly #io: StreamIo;
  readonly #onEnd: () => void;
  #done = false;

  /** Writes `prefix` on `streamId` at once; `onEnd` runs once when the stream is over. */
  constructor(
    io: StreamIo,
    readonly streamId: number,
    onEnd: () => void,
    prefix: Uint8Array,
  ) {
    this.#io = io;
    this.#onEnd = onEnd;
    this.opened = writeAll(io, streamId, prefix, false);
    this.opened.catch(() => this.#finish());
    this.writable = new WritableStream<Uint8Array>({
      // An abort resets the stream at once, even while a write waits for capacity (the sink's abort would run only
      // after that write): an abandoned video stream must stop costing the link now (docs/web.md).
      start: (controller) => {
        controller.signal.addEventListener("abort", () => {
          if (this.#finish()) io.resetStream(streamId, webTransportCodeToHttp3(reasonToWebTransportCode(controller.signal.reason)));
        });
      },
      write: async (chunk) => {
        await this.opened;
        if (this.#done) throw new WebTransportError("stream is closed", "stream");
        await this.#guard(writeAll(io, streamId, toBytes(chunk), false));
      },
      close: async () => {
        await this.opened;
        if (this.#done) throw new WebTransportError("stream is closed", "stream");
        await this.#guard(writeAll(io, streamId, new Uint8Array(0), true));
        this.#finish();
      },
    });
  }

  /** Ends the stream because its session or connection is gone; resets it. */
  terminate(): void {
    if (this.#finish()) this.#io.resetStream(this.streamId, H3_ERROR.wtSessionGone);
  }

  async #guard(write: Promise<void>): Promise<void> {
    try {
      await write;
    } catch (error) {
      this.#finish();
      throw error;
    }
  }

  #finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#onEnd();
    return true;
  }
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new TypeError("stream chunks must be BufferSource");
}
