/**
 * One WebTransport session: the server-side mirror of the W3C `WebTransport` object. The connection feeds it
 * streams, datagrams and the end of the session; it owns their Web Streams and asks the connection to close it.
 */
import { WebTransportError } from "./errors.ts";
import { IncomingStream, OutgoingStream, type StreamIo } from "./streams.ts";
import type {
  WebTransportBidirectionalStream,
  WebTransportCloseInfo,
  WebTransportDatagramDuplexStream,
  WebTransportLimits,
  WebTransportSession,
} from "./types.ts";

/** Datagrams a session queues for a slow reader before dropping the oldest. */
const DATAGRAM_QUEUE_LENGTH = 128;

/** What a session needs from its connection. */
export interface SessionHost extends StreamIo {
  /** Allocates a stream of ours and the header that must start it; throws a WebTransportError when the peer allows no more. */
  openStream(sessionId: number, bidirectional: boolean): { streamId: number; header: Uint8Array };
  /** Queues a datagram of this session (payload without the quarter stream id); false when dropped. */
  sendDatagram(sessionId: number, payload: Uint8Array): boolean;
  /** Largest datagram payload of this session that fits a packet now. */
  maxDatagramPayload(sessionId: number): number;
  /** Routes the peer's bytes on a stream this session opened to `incoming`. */
  attachIncoming(streamId: number, incoming: IncomingStream): void;
  /** Sends the close capsule and FIN on the CONNECT stream; throws RangeError on a close code over 32 bits. */
  closeSession(sessionId: number, info: WebTransportCloseInfo): void;
  /** The session ended: forget it. */
  sessionEnded(sessionId: number): void;
}

/** Identity of a session, fixed when its CONNECT is accepted. */
export interface SessionInfo {
  readonly id: string;
  /** The CONNECT request's stream id (the WebTransport session id on the wire). */
  readonly streamId: number;
  readonly path: string;
  readonly origin: string;
  readonly remoteAddress: string;
}

type Terminable = { terminate(error: Error): void };

/** A WebTransport session; see {@link WebTransportSession}. */
export class Session implements WebTransportSession {
  readonly id: string;
  readonly path: string;
  readonly origin: string;
  readonly remoteAddress: string;
  readonly incomingBidirectionalStreams: ReadableStream<WebTransportBidirectionalStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  readonly datagrams: WebTransportDatagramDuplexStream;
  readonly closed: Promise<WebTransportCloseInfo>;
  /** The CONNECT stream id. */
  readonly streamId: number;

  readonly #host: SessionHost;
  readonly #limits: WebTransportLimits;
  #bidiController!: ReadableStreamDefaultController<WebTransportBidirectionalStream>;
  #uniController!: ReadableStreamDefaultController<ReadableStream<Uint8Array>>;
  #resolveClosed!: (info: WebTransportCloseInfo) => void;
  readonly #streams = new Set<Terminable>();
  #openStreams = 0;
  readonly #datagramQueue: Uint8Array[] = [];
  #wakeDatagramReader: (() => void) | undefined;
  #ended = false;
  #bidiCancelled = false;
  #uniCancelled = false;

  /** A session on `host`, identified by `info`, held to `limits`. */
  constructor(host: SessionHost, info: SessionInfo, limits: WebTransportLimits) {
    this.#host = host;
    this.#limits = limits;
    this.id = info.id;
    this.streamId = info.streamId;
    this.path = info.path;
    this.origin = info.origin;
    this.remoteAddress = info.remoteAddress;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.incomingBidirectionalStreams = new ReadableStream({
      start: (c) => void (this.#bidiController = c),
      cancel: () => void (this.#bidiCancelled = true),
    });
    this.incomingUnidirectionalStreams = new ReadableStream({
      start: (c) => void (this.#uniController = c),
      cancel: () => void (this.#uniCancelled = true),
    });
    this.datagrams = this.#createDatagrams();
  }

  // ---- the W3C-like surface ----

  async createBidirectionalStream(): Promise<WebTransportBidirectionalStream> {
    const { streamId, header } = this.#reserveStream(true);
    const stream = this.#bidirectional(streamId, header);
    this.#host.attachIncoming(streamId, stream.incoming);
    await stream.opened;
    return { readable: stream.readable, writable: stream.writable };
  }

  async createUnidirectionalStream(): Promise<WritableStream<Uint8Array>> {
    const { streamId, header } = this.#reserveStream(false);
    const outgoing = this.#outgoing(streamId, this.#streamEnd(1), header);
    await outgoing.opened;
    return outgoing.writable;
  }

  close(info: Partial<WebTransportCloseInfo> = {}): void {
    if (this.#ended) return;
    const closeInfo = { closeCode: info.closeCode ?? 0, reason: info.reason ?? "" };
    this.#host.closeSession(this.streamId, closeInfo);
    this.#terminate(closeInfo);
  }

  // ---- fed by the connection ----

  /** A peer stream of this session arrived; returns its receiving half, or null when over the stream limit. */
  acceptStream(streamId: number, bidirectional: boolean): IncomingStream | null {
    if (this.#ended || this.#openStreams >= this.#limits.maxStreamsPerSession) return null;
    // The application may have cancelled the incoming-streams readable: then it takes no more streams.
    if (bidirectional ? this.#bidiCancelled : this.#uniCancelled) return null;
    this.#openStreams++;
    if (bidirectional) {
      const stream = this.#bidirectional(streamId, null);
      this.#bidiController.enqueue({ readable: stream.readable, writable: stream.writable });
      return stream.incoming;
    }
    const incoming = this.#incoming(streamId, this.#streamEnd(1));
    this.#uniController.enqueue(incoming.readable);
    return incoming;
  }

  /** A datagram payload for this session arrived. */
  receiveDatagram(payload: Uint8Array): void {
    if (this.#ended) return;
    if (this.#datagramQueue.length >= DATAGRAM_QUEUE_LENGTH) this.#datagramQueue.shift();
    this.#datagramQueue.push(payload);
    this.#wakeDatagramReader?.();
  }

  /** Ends the session from below: the peer closed or broke it, or the connection is gone. Idempotent. */
  end(info: WebTransportCloseInfo): void {
    if (!this.#ended) this.#terminate(info);
  }

  // ---- internals ----

  #terminate(info: WebTransportCloseInfo): void {
    this.#ended = true;
    const error = new WebTransportError(`session closed (code ${info.closeCode}${info.reason ? `: ${info.reason}` : ""})`, "session");
    for (const stream of [...this.#streams]) stream.terminate(error);
    this.#streams.clear();
    if (!this.#bidiCancelled) this.#bidiController.close();
    if (!this.#uniCancelled) this.#uniController.close();
    this.#wakeDatagramReader?.();
    this.#resolveClosed(info);
    this.#host.sessionEnded(this.streamId);
  }

  #reserveStream(bidirectional: boolean): { streamId: number; header: Uint8Array } {
    if (this.#ended) throw new WebTransportError("session is closed", "session");
    if (this.#openStreams >= this.#limits.maxStreamsPerSession) {
      throw new WebTransportError(`stream limit of ${this.#limits.maxStreamsPerSession} reached`, "session");
    }
    const opened = this.#host.openStream(this.streamId, bidirectional);
    this.#openStreams++;
    return opened;
  }

  /** Counts a stream down once all of its `sides` have ended. */
  #streamEnd(sides: 1 | 2): () => void {
    let remaining = sides;
    return () => {
      if (--remaining === 0) this.#openStreams--;
    };
  }

  /** Both halves of a stream; `header` is written first on streams we open, null on the peer's. */
  #bidirectional(streamId: number, header: Uint8Array | null) {
    const end = this.#streamEnd(2);
    const incoming = this.#incoming(streamId, end);
    const outgoing = this.#outgoing(streamId, end, header ?? new Uint8Array(0));
    return { incoming, readable: incoming.readable, writable: outgoing.writable, opened: outgoing.opened };
  }

  #incoming(streamId: number, onEnd: () => void): IncomingStream {
    const stream: IncomingStream = new IncomingStream(this.#host, streamId, () => {
      this.#streams.delete(stream);
      onEnd();
    });
    this.#streams.add(stream);
    return stream;
  }

  #outgoing(streamId: number, onEnd: () => void, header: Uint8Array): OutgoingStream {
    const stream: OutgoingStream = new OutgoingStream(
      this.#host,
      streamId,
      () => {
        this.#streams.delete(stream);
        onEnd();
      },
      header,
    );
    this.#streams.add(stream);
    return stream;
  }

  #createDatagrams(): WebTransportDatagramDuplexStream {
    const readable = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (this.#datagramQueue.length === 0 && !this.#ended) {
            await new Promise<void>((resolve) => (this.#wakeDatagramReader = resolve));
          }
          this.#wakeDatagramReader = undefined;
          const next = this.#datagramQueue.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        if (this.#ended) throw new WebTransportError("session is closed", "session");
        // As in the W3C API, a datagram too large for the path is dropped, not an error.
        if (chunk.length <= this.#host.maxDatagramPayload(this.streamId)) this.#host.sendDatagram(this.streamId, chunk);
      },
    });
    const host = this.#host;
    const streamId = this.streamId;
    return {
      readable,
      writable,
      get maxDatagramSize() {
        return host.maxDatagramPayload(streamId);
      },
    };
  }
}
