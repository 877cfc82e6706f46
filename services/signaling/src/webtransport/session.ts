/**
 * One WebTransport session: the server-side mirror of the W3C `WebTransport` object. The connection feeds it
 * streams, datagrams and the bytes of its CONNECT stream; it owns their Web Streams and its close handshake.
 */
import type { Logger } from "@ballstream/shared";
import { ByteBuffer } from "./bytes.ts";
import { CAPSULE_TYPE, decodeCloseSession, encodeCloseSession, readCapsule } from "./capsule.ts";
import { H3_ERROR, Http3Error, WebTransportError } from "./errors.ts";
import { FRAME_TYPE, encodeFrame } from "./frames.ts";
import { IncomingStream, OutgoingStream, type StreamIo, writeAll } from "./streams.ts";
import type {
  WebTransportBidirectionalStream,
  WebTransportCloseInfo,
  WebTransportDatagramDuplexStream,
  WebTransportLimits,
  WebTransportSession,
} from "./types.ts";
import { concatBytes } from "./bytes.ts";
import { encodeVarint } from "./varint.ts";

/** Stream signal (bidirectional) and stream type (unidirectional) that open WebTransport streams, draft-02. */
export const WT_STREAM_SIGNAL = { bidirectional: 0x41, unidirectional: 0x54 } as const;

/** Datagrams a session queues for a slow reader before dropping the oldest. */
const DATAGRAM_QUEUE_LENGTH = 128;

/** What a session needs from its connection. */
export interface SessionHost extends StreamIo {
  /** Allocates the id of a new server-initiated stream; throws a WebTransportError when the peer allows no more. */
  openStream(bidirectional: boolean): number;
  /** Queues a datagram of this session (payload without the quarter stream id); false when dropped. */
  sendDatagram(sessionId: number, payload: Uint8Array): boolean;
  /** Largest datagram payload of this session that fits a packet now. */
  maxDatagramPayload(sessionId: number): number;
  /** Routes the peer's bytes on a stream this session opened to `incoming`. */
  attachIncoming(streamId: number, incoming: IncomingStream): void;
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

  private bidiController!: ReadableStreamDefaultController<WebTransportBidirectionalStream>;
  private uniController!: ReadableStreamDefaultController<ReadableStream<Uint8Array>>;
  private resolveClosed!: (info: WebTransportCloseInfo) => void;
  private readonly streams = new Set<Terminable>();
  private openStreams = 0;
  private readonly capsules = new ByteBuffer();
  private readonly datagramQueue: Uint8Array[] = [];
  private wakeDatagramReader: (() => void) | undefined;
  private ended = false;
  private sentFin = false;
  private bidiCancelled = false;
  private uniCancelled = false;

  constructor(
    private readonly host: SessionHost,
    info: SessionInfo,
    private readonly limits: WebTransportLimits,
    private readonly log: Logger,
  ) {
    this.id = info.id;
    this.streamId = info.streamId;
    this.path = info.path;
    this.origin = info.origin;
    this.remoteAddress = info.remoteAddress;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.incomingBidirectionalStreams = new ReadableStream({
      start: (c) => void (this.bidiController = c),
      cancel: () => void (this.bidiCancelled = true),
    });
    this.incomingUnidirectionalStreams = new ReadableStream({
      start: (c) => void (this.uniController = c),
      cancel: () => void (this.uniCancelled = true),
    });
    this.datagrams = this.createDatagrams();
  }

  // ---- the W3C-like surface ----

  async createBidirectionalStream(): Promise<WebTransportBidirectionalStream> {
    const streamId = this.reserveStream(true);
    const stream = this.bidirectional(streamId, true);
    this.host.attachIncoming(streamId, stream.incoming);
    await stream.opened;
    return { readable: stream.readable, writable: stream.writable };
  }

  async createUnidirectionalStream(): Promise<WritableStream<Uint8Array>> {
    const streamId = this.reserveStream(false);
    const outgoing = this.outgoing(streamId, this.streamEnd(1), WT_STREAM_SIGNAL.unidirectional);
    await outgoing.opened;
    return outgoing.writable;
  }

  close(info: Partial<WebTransportCloseInfo> = {}): void {
    if (this.ended) return;
    const closeInfo = { closeCode: info.closeCode ?? 0, reason: info.reason ?? "" };
    const capsule = encodeFrame(FRAME_TYPE.data, encodeCloseSession(closeInfo));
    this.sentFin = true;
    writeAll(this.host, this.streamId, capsule, true).catch((error) => this.log.debug({ err: error }, "close capsule not sent"));
    this.terminate(closeInfo);
  }

  // ---- fed by the connection ----

  /** A peer stream of this session arrived; returns its receiving half, or null when over the stream limit. */
  acceptStream(streamId: number, bidirectional: boolean): IncomingStream | null {
    if (this.ended || this.openStreams >= this.limits.maxStreamsPerSession) return null;
    // The application may have cancelled the incoming-streams readable: then it takes no more streams.
    if (bidirectional ? this.bidiCancelled : this.uniCancelled) return null;
    this.openStreams++;
    if (bidirectional) {
      const stream = this.bidirectional(streamId, false);
      this.bidiController.enqueue({ readable: stream.readable, writable: stream.writable });
      return stream.incoming;
    }
    const incoming = this.incoming(streamId, this.streamEnd(1));
    this.uniController.enqueue(incoming.readable);
    return incoming;
  }

  /** A datagram payload for this session arrived. */
  receiveDatagram(payload: Uint8Array): void {
    if (this.ended) return;
    if (this.datagramQueue.length >= DATAGRAM_QUEUE_LENGTH) this.datagramQueue.shift();
    this.datagramQueue.push(payload);
    this.wakeDatagramReader?.();
  }

  /**
   * Bytes of DATA frames on the CONNECT stream: capsules. Throws {@link Http3Error} (session scope) on a capsule
   * that is too large or malformed; unknown capsule types are skipped (RFC 9297).
   */
  receiveCapsuleBytes(bytes: Uint8Array): void {
    this.capsules.push(bytes);
    for (;;) {
      const read = readCapsule(this.capsules.view(), 0, this.limits.maxMessageBytes);
      if (!read) return;
      this.capsules.consume(read.bytes);
      if (read.capsule.type === CAPSULE_TYPE.closeSession) {
        this.peerClosed(decodeCloseSession(read.capsule.value));
        return;
      }
      if (read.capsule.type === CAPSULE_TYPE.drainSession) this.log.debug({ session: this.id }, "peer asks to drain the session");
    }
  }

  /** The peer ended the session: CLOSE capsule, or FIN of the CONNECT stream (code 0). Finishes our side too. */
  peerClosed(info: WebTransportCloseInfo = { closeCode: 0, reason: "" }): void {
    if (this.ended) return;
    if (this.capsules.length > 0 && info.closeCode === 0 && info.reason === "") {
      this.abort(new Http3Error(H3_ERROR.messageError, "CONNECT stream ended inside a capsule", "session"));
      return;
    }
    if (!this.sentFin) {
      this.sentFin = true;
      writeAll(this.host, this.streamId, new Uint8Array(0), true).catch(() => {});
    }
    this.terminate(info);
  }

  /** Ends the session because of a protocol error, or because its CONNECT stream or connection is gone. */
  abort(error: Http3Error | null, resetCode: number = H3_ERROR.noError): void {
    if (this.ended) return;
    if (error) {
      this.log.warn({ session: this.id, err: error.message, code: error.code }, "session aborted");
      this.host.resetStream(this.streamId, error.code);
      this.host.stopSending(this.streamId, error.code);
    } else if (resetCode !== H3_ERROR.noError) {
      this.host.resetStream(this.streamId, resetCode);
    }
    this.terminate({ closeCode: 0, reason: error?.message ?? "" });
  }

  // ---- internals ----

  private terminate(info: WebTransportCloseInfo): void {
    this.ended = true;
    const error = new WebTransportError(`session closed (code ${info.closeCode}${info.reason ? `: ${info.reason}` : ""})`, "session");
    for (const stream of [...this.streams]) stream.terminate(error);
    this.streams.clear();
    if (!this.bidiCancelled) this.bidiController.close();
    if (!this.uniCancelled) this.uniController.close();
    this.wakeDatagramReader?.();
    this.resolveClosed(info);
    this.host.sessionEnded(this.streamId);
  }

  private reserveStream(bidirectional: boolean): number {
    if (this.ended) throw new WebTransportError("session is closed", "session");
    if (this.openStreams >= this.limits.maxStreamsPerSession) {
      throw new WebTransportError(`stream limit of ${this.limits.maxStreamsPerSession} reached`, "session");
    }
    const streamId = this.host.openStream(bidirectional);
    this.openStreams++;
    return streamId;
  }

  /** Counts a stream down once all of its `sides` have ended. */
  private streamEnd(sides: 1 | 2): () => void {
    let remaining = sides;
    return () => {
      if (--remaining === 0) this.openStreams--;
    };
  }

  private bidirectional(streamId: number, local: boolean) {
    const end = this.streamEnd(2);
    const incoming = this.incoming(streamId, end);
    const outgoing = this.outgoing(streamId, end, local ? WT_STREAM_SIGNAL.bidirectional : null);
    return { incoming, readable: incoming.readable, writable: outgoing.writable, opened: outgoing.opened };
  }

  private incoming(streamId: number, onEnd: () => void): IncomingStream {
    const stream: IncomingStream = new IncomingStream(this.host, streamId, () => {
      this.streams.delete(stream);
      onEnd();
    });
    this.streams.add(stream);
    return stream;
  }

  private outgoing(streamId: number, onEnd: () => void, signal: number | null): OutgoingStream {
    const prefix = signal === null ? new Uint8Array(0) : concatBytes(encodeVarint(signal), encodeVarint(this.streamId));
    const stream: OutgoingStream = new OutgoingStream(
      this.host,
      streamId,
      () => {
        this.streams.delete(stream);
        onEnd();
      },
      prefix,
    );
    this.streams.add(stream);
    return stream;
  }

  private createDatagrams(): WebTransportDatagramDuplexStream {
    const readable = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (this.datagramQueue.length === 0 && !this.ended) {
            await new Promise<void>((resolve) => (this.wakeDatagramReader = resolve));
          }
          this.wakeDatagramReader = undefined;
          const next = this.datagramQueue.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        if (this.ended) throw new WebTransportError("session is closed", "session");
        // As in the W3C API, a datagram too large for the path is dropped, not an error.
        if (chunk.length <= this.host.maxDatagramPayload(this.streamId)) this.host.sendDatagram(this.streamId, chunk);
      },
    });
    const host = this.host;
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
