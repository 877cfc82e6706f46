/**
 * The page's control stream seen from signaling: length-prefixed JSON messages both ways (shared
 * `ControlMessageReader` / `frameServerMessage`), validated as {@link ClientMessage} on the way in.
 */
import { type ClientMessage, ControlMessageReader, ProtocolError, type ServerMessage, frameServerMessage, parseClientMessage } from "@ballstream/shared";
import type { WebTransportBidirectionalStream } from "./webtransport/mod.ts";

/** One control stream: an async sequence of validated client messages, and a way to answer. */
export class ControlChannel {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(stream: WebTransportBidirectionalStream) {
    this.#reader = stream.readable.getReader();
    this.#writer = stream.writable.getWriter();
  }

  /**
   * The page's messages in order, until it ends the stream. Throws {@link ProtocolError} on an oversized,
   * malformed or invalid message (the stream is then unusable).
   */
  async *messages(): AsyncGenerator<ClientMessage> {
    const reader = new ControlMessageReader();
    for (let next = await this.#reader.read(); !next.done; next = await this.#reader.read()) {
      for (const value of reader.push(next.value)) yield parseClientMessage(value);
    }
    if (reader.buffered > 0) throw new ProtocolError("bad_request", `control stream ended inside a message (${reader.buffered} bytes)`);
  }

  /**
   * Sends one message; resolves once it is handed to the transport, rejects if the stream is gone. Never throws
   * synchronously: an oversized message is cut or replaced by a generic error ({@link frameServerMessage}).
   */
  async send(message: ServerMessage): Promise<void> {
    await this.#writer.write(frameServerMessage(message));
  }

  /** Stops reading and ends our direction of the stream (best effort, never rejects). */
  async close(): Promise<void> {
    await Promise.all([this.#reader.cancel().catch(() => undefined), this.#writer.close().catch(() => undefined)]);
  }
}
