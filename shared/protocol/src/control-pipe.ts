/**
 * The control stream's message pipe, one class for both ends: length-prefixed JSON messages (wt-protocol.ts) over
 * one bidirectional byte stream, typed by direction — `In` is read and validated, `Out` framed and written. The
 * page's end ({@link PAGE_END}) and signaling's end ({@link SERVER_END}) differ only in that direction.
 * Browser-safe: streams and the wt-protocol codecs only.
 */
import { ProtocolError } from "./errors.ts";
import {
  type ClientMessage,
  ControlMessageReader,
  type ServerMessage,
  frameControlMessage,
  frameServerMessage,
  parseClientMessage,
  parseServerMessage,
} from "./wt-protocol.ts";

/** A bidirectional byte stream, as WebTransport's `createBidirectionalStream()` and incoming streams are. */
export interface ByteStreamPair {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** One end's direction: how an incoming message is validated and an outgoing one becomes bytes. */
export interface PipeDirection<In, Out> {
  /** Validates one parsed JSON message; throws {@link ProtocolError}. */
  readonly parse: (value: unknown) => In;
  /** One message as bytes on the stream (length prefix + JSON). */
  readonly frame: (message: Out) => Uint8Array;
}

/** The page's end: reads {@link ServerMessage}s, writes {@link ClientMessage}s. */
export const PAGE_END: PipeDirection<ServerMessage, ClientMessage> = { parse: parseServerMessage, frame: frameControlMessage };

/** Signaling's end: reads {@link ClientMessage}s, writes {@link ServerMessage}s (never throwing on a reply). */
export const SERVER_END: PipeDirection<ClientMessage, ServerMessage> = { parse: parseClientMessage, frame: frameServerMessage };

/** Length-prefixed JSON messages both ways on one stream: an async sequence of validated `In`s, and `send(Out)`. */
export class ControlPipe<In, Out> {
  readonly #direction: PipeDirection<In, Out>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(stream: ByteStreamPair, direction: PipeDirection<In, Out>) {
    this.#direction = direction;
    this.#reader = stream.readable.getReader();
    this.#writer = stream.writable.getWriter();
  }

  /**
   * The other end's messages in order, until it ends the stream (read once). Throws {@link ProtocolError} on an
   * oversized, malformed or invalid message, or a stream that ends inside one (the pipe is then unusable).
   */
  async *messages(): AsyncGenerator<In> {
    const reader = new ControlMessageReader();
    for (let next = await this.#reader.read(); !next.done; next = await this.#reader.read()) {
      for (const value of reader.push(next.value)) yield this.#direction.parse(value);
    }
    if (reader.buffered > 0) throw new ProtocolError("bad_request", `control stream ended inside a message (${reader.buffered} bytes)`);
  }

  /** Sends one message; resolves once the stream accepted it, rejects if the stream is gone. */
  async send(message: Out): Promise<void> {
    await this.#writer.write(this.#direction.frame(message));
  }

  /** Stops reading and ends our direction of the stream (the other end sees FIN); best effort, never rejects. */
  async close(): Promise<void> {
    await Promise.all([this.#reader.cancel().catch(() => undefined), this.#writer.close().catch(() => undefined)]);
  }
}
