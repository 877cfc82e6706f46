/**
 * The page's end of the control stream: length-prefixed JSON (shared `frameControlMessage` /
 * `ControlMessageReader`) over one WebTransport bidirectional stream. Sends {@link ClientMessage}s and yields
 * validated {@link ServerMessage}s.
 */
import { type ClientMessage, ControlMessageReader, type ServerMessage, frameControlMessage, parseServerMessage } from "@ballstream/shared/wt-protocol";

/** A bidirectional byte stream, as `WebTransport.createBidirectionalStream()` returns it. */
export interface ByteStreamPair {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** Sends and receives control messages on one stream. */
export class ControlStream {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #readable: ReadableStream<Uint8Array>;

  constructor(stream: ByteStreamPair) {
    this.#writer = stream.writable.getWriter();
    this.#readable = stream.readable;
  }

  /** Writes one message (resolves when the stream accepted it). */
  async send(message: ClientMessage): Promise<void> {
    await this.#writer.write(frameControlMessage(message));
  }

  /** Closes the sending side (the server sees FIN). Never throws. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => undefined);
  }

  /** The server's messages in order, until the stream ends; throws on a malformed or invalid message. */
  async *messages(): AsyncGenerator<ServerMessage> {
    const reader = new ControlMessageReader();
    const source = this.#readable.getReader();
    try {
      for (;;) {
        const { done, value } = await source.read();
        if (done) return;
        for (const m of reader.push(value)) yield parseServerMessage(m);
      }
    } finally {
      source.releaseLock();
    }
  }
}
