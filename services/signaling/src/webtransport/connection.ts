/**
 * One QUIC connection speaking HTTP/3 with WebTransport: drives quiche (receive, send, one timer), runs the HTTP/3
 * control and QPACK streams, accepts extended CONNECT requests as sessions, and routes WebTransport streams and
 * datagrams to them. A protocol error closes this connection (or only the stream or session at fault) and nothing else.
 */
import type { Logger } from "@ballstream/shared";
import type { Connection, Host } from "@matrixai/quic/native/index.js";
import { quiche } from "@matrixai/quic/native/index.js";
import { ByteBuffer } from "./bytes.ts";
import { H3_ERROR, Http3Error, WebTransportError, http3CodeToWebTransport } from "./errors.ts";
import { FRAME_TYPE, encodeFrame, readFrame } from "./frames.ts";
import { type HeaderField, decodeFieldSection, encodeFieldSection } from "./qpack.ts";
import { Session, type SessionHost, WT_STREAM_SIGNAL } from "./session.ts";
import { decodeSettings, encodeSettings, serverSettings, type Settings } from "./settings.ts";
import { type IncomingStream, writeAll } from "./streams.ts";
import type { WebTransportLimits, WebTransportRefusal } from "./types.ts";
import { concatBytes } from "./bytes.ts";
import { encodeVarint, readVarint } from "./varint.ts";

/** Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2). */
const UNI_STREAM_TYPE = { control: 0x00, push: 0x01, qpackEncoder: 0x02, qpackDecoder: 0x03 } as const;
/** Our own unidirectional streams: control, QPACK encoder, QPACK decoder. */
const SERVER_CONTROL_STREAM = 3;
const SERVER_QPACK_STREAMS = [7, 11] as const;

/** What a connection needs from its server. */
export interface ConnectionContext {
  readonly limits: WebTransportLimits;
  readonly allowedOrigins: readonly string[];
  readonly paths: readonly string[] | undefined;
  readonly log: Logger;
  /** Sends one UDP datagram. */
  sendPacket(packet: Uint8Array, to: Host): void;
  /** A session was accepted. */
  sessionAccepted(session: Session): void;
  /** The connection is closed for good and can be forgotten. */
  connectionClosed(connection: Http3Connection): void;
  /** Something was refused (for counting). */
  refused(reason: WebTransportRefusal): void;
}

const REFUSAL_BY_STATUS: Record<number, WebTransportRefusal> = { 400: "bad_request", 403: "forbidden", 404: "not_found", 429: "too_many_sessions" };

type StreamState =
  | { kind: "new"; buffer: ByteBuffer }
  | { kind: "control"; buffer: ByteBuffer; settings: Settings | null }
  | { kind: "discard" }
  | { kind: "request"; buffer: ByteBuffer; session: Session | null; answered: boolean }
  | { kind: "wt"; incoming: IncomingStream };

type Waiter = { resolve: () => void; reject: (error: Error) => void };

/** An HTTP/3 connection; the server creates one per accepted QUIC connection and feeds it packets. */
export class Http3Connection implements SessionHost {
  /** quiche's trace id, for logs and session ids. */
  readonly traceId: string;
  private readonly streams = new Map<number, StreamState>();
  private readonly sessions = new Map<number, Session>();
  private readonly writers = new Map<number, Waiter[]>();
  /** Every WebTransport stream's receiving half until it has ended: what they queue counts in the receive budget. */
  private readonly receivers = new Set<IncomingStream>();
  private readonly recvBuffer = new Uint8Array(64 * 1024);
  private readonly sendBuffer: Uint8Array;
  private readonly log: Logger;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Closes the connection unless its handshake and first CONNECT arrive in time; cleared by the first CONNECT. */
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private h3Started = false;
  private peerControlStream = false;
  private nextBidiStream = 1;
  private nextUniStream = 15;
  private finished = false;

  constructor(
    private readonly conn: Connection,
    private readonly local: Host,
    private readonly remote: Host,
    private readonly ctx: ConnectionContext,
  ) {
    this.traceId = conn.traceId();
    this.log = ctx.log.child({ connection: this.traceId });
    this.sendBuffer = new Uint8Array(quiche.MAX_DATAGRAM_SIZE);
    this.handshakeTimer = setTimeout(() => this.handshakeTimedOut(), ctx.limits.handshakeTimeoutMs);
  }

  /** The peer's IP address. */
  get remoteHost(): string {
    return this.remote.host;
  }

  /** `host:port` of the peer. */
  get remoteAddress(): string {
    return this.remote.host.includes(":") ? `[${this.remote.host}]:${this.remote.port}` : `${this.remote.host}:${this.remote.port}`;
  }

  /** Feeds one UDP datagram from the peer. Never throws. */
  receive(packet: Uint8Array, from: Host): void {
    if (this.finished) return;
    try {
      this.conn.recv(packet, { from, to: this.local });
    } catch (error) {
      this.log.debug({ err: (error as Error).message }, "quiche rejected a packet");
    }
    this.process();
  }

  /** Closes every session (code 0, `reason`); the peer then finishes their CONNECT streams. */
  closeSessions(reason: string): void {
    for (const session of [...this.sessions.values()]) session.close({ closeCode: 0, reason });
  }

  /** Whether CONNECT streams are still open (sessions live, or closed but not yet finished by the peer). */
  get hasOpenRequests(): boolean {
    return [...this.streams.values()].some((state) => state.kind === "request");
  }

  /** Closes the connection (H3_NO_ERROR); sessions still open end without a capsule. */
  close(reason: string): void {
    this.closeConnection(H3_ERROR.noError, reason);
  }

  /** Whether quiche considers the connection closed (draining done). */
  get isClosed(): boolean {
    return this.finished;
  }

  // ---- SessionHost / StreamIo ----

  send(streamId: number, data: Uint8Array, fin: boolean): number | null {
    if (this.finished) throw new WebTransportError("connection closed", "session");
    let taken: number | null;
    try {
      taken = this.conn.streamSend(streamId, data, fin);
    } catch (error) {
      throw this.streamError(error);
    }
    if (taken !== null) this.flush();
    return taken;
  }

  waitWritable(streamId: number): Promise<void> {
    if (this.finished) return Promise.reject(new WebTransportError("connection closed", "session"));
    return new Promise((resolve, reject) => {
      const waiters = this.writers.get(streamId) ?? [];
      waiters.push({ resolve, reject });
      this.writers.set(streamId, waiters);
    });
  }

  resetStream(streamId: number, h3Code: number): void {
    this.shutdown(streamId, quiche.Shutdown.Write, h3Code);
  }

  stopSending(streamId: number, h3Code: number): void {
    this.shutdown(streamId, quiche.Shutdown.Read, h3Code);
    if (this.streams.get(streamId)?.kind === "wt") this.streams.delete(streamId);
  }

  /** Reads `streamId` again, then every other stream with data waiting: the budget may have room again for them. */
  resumeRead(streamId: number): void {
    if (this.finished) return;
    this.guard(() => {
      this.readStream(streamId);
      for (const other of [...this.conn.readable()]) this.readStream(other);
    });
    this.flush();
  }

  openStream(bidirectional: boolean): number {
    if (this.finished) throw new WebTransportError("connection closed", "session");
    const left = bidirectional ? this.conn.peerStreamsLeftBidi() : this.conn.peerStreamsLeftUni();
    if (left <= 0) throw new WebTransportError("the peer allows no more streams now", "session");
    const streamId = bidirectional ? this.nextBidiStream : this.nextUniStream;
    if (bidirectional) this.nextBidiStream += 4;
    else this.nextUniStream += 4;
    return streamId;
  }

  attachIncoming(streamId: number, incoming: IncomingStream): void {
    this.streams.set(streamId, { kind: "wt", incoming });
    this.receivers.add(incoming);
  }

  sendDatagram(sessionId: number, payload: Uint8Array): boolean {
    if (this.finished) return false;
    try {
      this.conn.dgramSend(concatBytes(encodeVarint(sessionId / 4), payload));
    } catch {
      return false; // send queue full or datagrams not negotiated: datagrams are unreliable
    }
    this.flush();
    return true;
  }

  maxDatagramPayload(sessionId: number): number {
    const writable = this.finished ? null : this.conn.dgramMaxWritableLen();
    if (writable === null) return 0;
    return Math.max(0, Math.min(this.ctx.limits.maxDatagramBytes, writable - encodeVarint(sessionId / 4).length));
  }

  sessionEnded(sessionId: number): void {
    this.sessions.delete(sessionId);
  }

  // ---- the event loop of one connection ----

  private process(): void {
    this.guard(() => {
      if (!this.h3Started && (this.conn.isEstablished() || this.conn.isInEarlyData())) this.startHttp3();
      for (const streamId of [...this.conn.readable()]) this.readStream(streamId);
      this.receiveDatagrams();
      this.wakeWriters();
    });
    this.flush();
  }

  /** Runs `step`; a protocol error closes the connection, anything else is logged and closes it as internal. */
  private guard(step: () => void): void {
    try {
      step();
    } catch (error) {
      if (error instanceof Http3Error) {
        this.log.warn({ err: error.message, code: error.code }, "HTTP/3 protocol error: closing the connection");
        this.closeConnection(error.code, error.message);
      } else {
        this.log.error({ err: error }, "internal error: closing the connection");
        this.closeConnection(H3_ERROR.internalError, "internal error");
      }
    }
  }

  private startHttp3(): void {
    this.h3Started = true;
    const settings = encodeFrame(FRAME_TYPE.settings, encodeSettings(serverSettings(this.ctx.limits.maxMessageBytes)));
    const opening: [number, Uint8Array][] = [
      [SERVER_CONTROL_STREAM, concatBytes(encodeVarint(UNI_STREAM_TYPE.control), settings)],
      [SERVER_QPACK_STREAMS[0], encodeVarint(UNI_STREAM_TYPE.qpackEncoder)],
      [SERVER_QPACK_STREAMS[1], encodeVarint(UNI_STREAM_TYPE.qpackDecoder)],
    ];
    for (const [streamId, bytes] of opening) {
      writeAll(this, streamId, bytes, false).catch((error) => this.log.debug({ err: error.message }, "critical stream not opened"));
    }
  }

  private flush(): void {
    if (this.finished) return;
    for (;;) {
      let sent: ReturnType<Connection["send"]>;
      try {
        sent = this.conn.send(this.sendBuffer);
      } catch (error) {
        this.log.debug({ err: (error as Error).message }, "quiche send failed");
        break;
      }
      if (!sent) break;
      this.ctx.sendPacket(this.sendBuffer.subarray(0, sent[0]), sent[1].to);
    }
    this.armTimer();
  }

  private armTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.conn.isClosed()) {
      this.finish();
      return;
    }
    const timeout = this.conn.timeout();
    if (timeout === null) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.conn.onTimeout();
      this.process();
    }, Math.ceil(timeout));
  }

  private closeConnection(h3Code: number, reason: string): void {
    for (const session of [...this.sessions.values()]) session.abort(null);
    try {
      this.conn.close(true, h3Code, new TextEncoder().encode(reason.slice(0, 100)));
    } catch {
      // already closing
    }
    this.flush();
  }

  /**
   * A peer that has not finished its handshake and sent a CONNECT in time is dropped at once (no draining period:
   * it never had a session whose late packets matter), so half-open handshakes cannot hold connection slots.
   */
  private handshakeTimedOut(): void {
    if (this.finished) return;
    this.log.info({ remote: this.remoteAddress, handshakeTimeoutMs: this.ctx.limits.handshakeTimeoutMs }, "handshake timeout: connection dropped");
    this.ctx.refused("handshake_timeout");
    try {
      this.conn.close(false, 0x0, new Uint8Array(0));
    } catch {
      // already closing
    }
    this.flush();
    this.finish();
  }

  /** Frees everything once quiche reports the connection closed. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    clearTimeout(this.handshakeTimer);
    for (const session of [...this.sessions.values()]) session.abort(null);
    const gone = new WebTransportError("connection closed", "session");
    for (const waiters of this.writers.values()) for (const waiter of waiters) waiter.reject(gone);
    this.writers.clear();
    for (const receiver of this.receivers) receiver.terminate(gone);
    this.receivers.clear();
    this.streams.clear();
    const peerError = this.conn.peerError();
    if (this.conn.isTimedOut()) {
      this.log.info({ remote: this.remoteAddress, idleTimeoutMs: this.ctx.limits.idleTimeoutMs }, "connection idle timeout");
      this.ctx.refused("idle_timeout");
    }
    this.log.debug({ timedOut: this.conn.isTimedOut(), peerError: peerError?.errorCode }, "connection closed");
    this.ctx.connectionClosed(this);
  }

  private wakeWriters(): void {
    for (const [streamId, waiters] of [...this.writers]) {
      let ready: boolean;
      try {
        ready = this.conn.streamCapacity(streamId) > 0;
      } catch (error) {
        const failure = this.streamError(error);
        for (const waiter of waiters) waiter.reject(failure);
        this.writers.delete(streamId);
        continue;
      }
      if (ready) {
        this.writers.delete(streamId);
        for (const waiter of waiters) waiter.resolve();
      }
    }
  }

  private shutdown(streamId: number, direction: number, h3Code: number): void {
    if (this.finished) return;
    try {
      this.conn.streamShutdown(streamId, direction, h3Code);
    } catch {
      // stream already gone
    }
    this.flush();
  }

  /** Maps a quiche send failure ("StreamStopped(n)" and others) to a WebTransportError. */
  private streamError(error: unknown): WebTransportError {
    const message = (error as Error).message ?? String(error);
    const h3Code = parseQuicheStreamCode(message);
    if (h3Code === null) return new WebTransportError(`stream failed: ${message}`, "stream");
    const code = http3CodeToWebTransport(h3Code);
    return new WebTransportError(`stream stopped by peer (code ${code ?? `h3 0x${h3Code.toString(16)}`})`, "stream", code);
  }

  // ---- receiving ----

  private receiveDatagrams(): void {
    for (;;) {
      const datagram = this.conn.dgramRecvVec();
      if (!datagram) return;
      const quarterId = readVarint(datagram, 0);
      if (!quarterId || typeof quarterId.value !== "number") {
        throw new Http3Error(H3_ERROR.datagramError, "datagram without a valid quarter stream id");
      }
      // A datagram of an unknown or ended session is dropped (RFC 9297 allows it).
      this.sessions.get(quarterId.value * 4)?.receiveDatagram(datagram.subarray(quarterId.bytes));
    }
  }

  /** Received bytes held in this connection's buffers now: unfinished frames and unread WebTransport stream data. */
  private heldBytes(): number {
    let held = 0;
    for (const state of this.streams.values()) if (state.kind !== "wt" && state.kind !== "discard") held += state.buffer.length;
    for (const receiver of this.receivers) {
      if (receiver.ended) this.receivers.delete(receiver);
      else held += receiver.queuedBytes;
    }
    return held;
  }

  private readStream(streamId: number): void {
    let state = this.streams.get(streamId);
    if (!state) {
      if (streamId % 2 === 1) return; // a stream of ours the peer may not write (yet)
      state = { kind: "new", buffer: new ByteBuffer() };
      this.streams.set(streamId, state);
    }
    for (;;) {
      if (state.kind === "wt" && state.incoming.paused) return;
      // Once the budget is spent the bytes stay in quiche, whose fixed flow-control windows then hold the peer back.
      const room = state.kind === "discard" ? this.recvBuffer.length : this.ctx.limits.receiveBudgetBytes - this.heldBytes();
      if (room <= 0) return;
      let result: [number, boolean] | null;
      try {
        result = this.conn.streamRecv(streamId, this.recvBuffer.subarray(0, Math.min(room, this.recvBuffer.length)));
      } catch (error) {
        const code = parseQuicheStreamCode((error as Error).message ?? "");
        if (code !== null) this.streamReset(streamId, state, code);
        return;
      }
      if (!result) return;
      const [length, fin] = result;
      this.streamData(streamId, state, this.recvBuffer.subarray(0, length), fin);
      const next = this.streams.get(streamId);
      if (!next || fin) return;
      state = next;
    }
  }

  private streamReset(streamId: number, state: StreamState, h3Code: number): void {
    this.streams.delete(streamId);
    if (state.kind === "wt") state.incoming.reset(h3Code);
    else if (state.kind === "control") throw new Http3Error(H3_ERROR.closedCriticalStream, "control stream reset");
    else if (state.kind === "request") state.session?.abort(null, H3_ERROR.requestCancelled);
  }

  private streamData(streamId: number, state: StreamState, bytes: Uint8Array, fin: boolean): void {
    switch (state.kind) {
      case "new":
        state.buffer.push(bytes);
        this.classifyStream(streamId, state.buffer, fin);
        return;
      case "wt":
        state.incoming.push(bytes.slice(), fin);
        if (fin) this.streams.delete(streamId);
        return;
      case "control":
        state.buffer.push(bytes);
        this.controlFrames(state);
        if (fin) throw new Http3Error(H3_ERROR.closedCriticalStream, "control stream closed");
        return;
      case "request":
        state.buffer.push(bytes);
        this.requestFrames(streamId, state);
        if (fin) {
          this.streams.delete(streamId);
          state.session?.peerClosed();
        }
        return;
      case "discard":
        if (fin) this.streams.delete(streamId);
        return;
    }
  }

  /** Reads the stream type (unidirectional) or signal (bidirectional) and hands the stream to its handler. */
  private classifyStream(streamId: number, buffer: ByteBuffer, fin: boolean): void {
    const bidirectional = streamId % 4 === 0;
    const view = buffer.view();
    const first = readVarint(view, 0);
    if (!first) {
      if (fin) this.streams.delete(streamId);
      return;
    }
    const wtSignal = bidirectional ? WT_STREAM_SIGNAL.bidirectional : WT_STREAM_SIGNAL.unidirectional;
    if (first.value === wtSignal) {
      const sessionId = readVarint(view, first.bytes);
      if (!sessionId) {
        if (fin) this.streams.delete(streamId);
        return;
      }
      buffer.consume(first.bytes + sessionId.bytes);
      this.routeWebTransportStream(streamId, bidirectional, sessionId.value, buffer.view().slice(), fin);
      return;
    }
    if (bidirectional) {
      const state: StreamState = { kind: "request", buffer, session: null, answered: false };
      this.streams.set(streamId, state);
      this.streamData(streamId, state, new Uint8Array(0), fin);
      return;
    }
    buffer.consume(first.bytes);
    switch (first.value) {
      case UNI_STREAM_TYPE.control: {
        if (this.peerControlStream) throw new Http3Error(H3_ERROR.streamCreationError, "second control stream");
        this.peerControlStream = true;
        const state: StreamState = { kind: "control", buffer, settings: null };
        this.streams.set(streamId, state);
        this.streamData(streamId, state, new Uint8Array(0), fin);
        return;
      }
      case UNI_STREAM_TYPE.push:
        throw new Http3Error(H3_ERROR.streamCreationError, "push stream from a client");
      case UNI_STREAM_TYPE.qpackEncoder:
      case UNI_STREAM_TYPE.qpackDecoder:
        // Without a dynamic table there is nothing to act on; instructions that need one fail decoding later.
        this.streams.set(streamId, { kind: "discard" });
        if (fin) throw new Http3Error(H3_ERROR.closedCriticalStream, "QPACK stream closed");
        return;
      default:
        // Unknown (GREASE) stream types are refused without harm to the connection.
        this.streams.set(streamId, { kind: "discard" });
        this.shutdown(streamId, quiche.Shutdown.Read, H3_ERROR.streamCreationError);
        this.streams.delete(streamId);
    }
  }

  private routeWebTransportStream(streamId: number, bidirectional: boolean, sessionId: number | bigint, rest: Uint8Array, fin: boolean): void {
    const session = typeof sessionId === "number" ? this.sessions.get(sessionId) : undefined;
    const incoming = session?.acceptStream(streamId, bidirectional) ?? null;
    if (!incoming) {
      const code = session ? H3_ERROR.requestRejected : H3_ERROR.wtSessionGone;
      this.streams.delete(streamId);
      this.shutdown(streamId, quiche.Shutdown.Read, code);
      if (bidirectional) this.shutdown(streamId, quiche.Shutdown.Write, code);
      return;
    }
    this.attachIncoming(streamId, incoming);
    this.streamData(streamId, { kind: "wt", incoming }, rest, fin);
  }

  private controlFrames(state: Extract<StreamState, { kind: "control" }>): void {
    for (;;) {
      const read = readFrame(state.buffer.view(), 0, this.ctx.limits.maxMessageBytes);
      if (!read) return;
      state.buffer.consume(read.bytes);
      const { type, payload } = read.frame;
      if (state.settings === null) {
        if (type !== FRAME_TYPE.settings) throw new Http3Error(H3_ERROR.missingSettings, "control stream must start with SETTINGS");
        state.settings = decodeSettings(payload);
        continue;
      }
      if (type === FRAME_TYPE.settings || type === FRAME_TYPE.data || type === FRAME_TYPE.headers || type === FRAME_TYPE.pushPromise) {
        throw new Http3Error(H3_ERROR.frameUnexpected, `frame 0x${type.toString(16)} on the control stream`);
      }
      // GOAWAY, MAX_PUSH_ID, CANCEL_PUSH and unknown frames need no action from this server.
    }
  }

  private requestFrames(streamId: number, state: Extract<StreamState, { kind: "request" }>): void {
    for (;;) {
      let read: ReturnType<typeof readFrame>;
      try {
        read = readFrame(state.buffer.view(), 0, this.ctx.limits.maxMessageBytes);
      } catch (error) {
        if (error instanceof Http3Error && error.code === H3_ERROR.excessiveLoad) {
          this.rejectRequest(streamId, state, error);
          return;
        }
        throw error;
      }
      if (!read) return;
      state.buffer.consume(read.bytes);
      const { type, payload } = read.frame;
      if (type === FRAME_TYPE.settings || type === FRAME_TYPE.goaway || type === FRAME_TYPE.maxPushId || type === FRAME_TYPE.cancelPush || type === FRAME_TYPE.pushPromise) {
        throw new Http3Error(H3_ERROR.frameUnexpected, `frame 0x${type.toString(16)} on a request stream`);
      }
      if (!state.answered) {
        if (type === FRAME_TYPE.data) throw new Http3Error(H3_ERROR.frameUnexpected, "DATA before HEADERS");
        if (type === FRAME_TYPE.headers) this.connectRequest(streamId, state, payload);
        continue;
      }
      if (type === FRAME_TYPE.data && state.session) {
        try {
          state.session.receiveCapsuleBytes(payload);
        } catch (error) {
          if (!(error instanceof Http3Error)) throw error;
          state.session.abort(error);
          this.streams.set(streamId, { kind: "discard" });
          return;
        }
      }
      // Trailers, unknown frames and anything after a rejection are ignored.
    }
  }

  private connectRequest(streamId: number, state: Extract<StreamState, { kind: "request" }>, block: Uint8Array): void {
    let fields: HeaderField[];
    try {
      fields = decodeFieldSection(block, this.ctx.limits.maxMessageBytes);
    } catch (error) {
      if (error instanceof Http3Error && error.scope === "stream") {
        this.rejectRequest(streamId, state, error);
        return;
      }
      throw error;
    }
    state.answered = true;
    clearTimeout(this.handshakeTimer);
    const header = (name: string) => fields.find(([n]) => n === name)?.[1];
    const path = header(":path") ?? "";
    const origin = header("origin") ?? "";
    const status = this.connectStatus(fields, path, origin);
    if (status !== 200) {
      this.log.info({ status, path, origin }, "CONNECT refused");
      this.ctx.refused(REFUSAL_BY_STATUS[status] ?? "bad_request");
      this.respond(streamId, [[":status", String(status)]], true);
      return;
    }
    this.respond(streamId, [[":status", "200"], ["sec-webtransport-http3-draft", "draft02"]], false);
    const session = new Session(this, { id: `${this.traceId}/${streamId}`, streamId, path, origin, remoteAddress: this.remoteAddress }, this.ctx.limits, this.log);
    state.session = session;
    this.sessions.set(streamId, session);
    this.log.debug({ session: session.id, path, origin }, "session accepted");
    this.ctx.sessionAccepted(session);
  }

  /** The HTTP status a CONNECT deserves: 200 to accept it. */
  private connectStatus(fields: readonly HeaderField[], path: string, origin: string): number {
    const pseudo = fields.filter(([name]) => name.startsWith(":"));
    const value = (name: string) => pseudo.find(([n]) => n === name)?.[1];
    if (new Set(pseudo.map(([name]) => name)).size !== pseudo.length) return 400;
    if (value(":method") !== "CONNECT" || value(":protocol") !== "webtransport") return 400;
    if (value(":scheme") !== "https" || !value(":authority") || !path.startsWith("/")) return 400;
    const { allowedOrigins, paths, limits } = this.ctx;
    if (!allowedOrigins.includes("*") && !allowedOrigins.includes(origin)) return 403;
    if (paths && !paths.includes(path.split("?")[0] ?? "")) return 404;
    if (this.sessions.size >= limits.maxSessionsPerConnection) return 429;
    return 200;
  }

  private respond(streamId: number, fields: readonly HeaderField[], fin: boolean): void {
    const frame = encodeFrame(FRAME_TYPE.headers, encodeFieldSection(fields));
    writeAll(this, streamId, frame, fin).catch((error) => this.log.debug({ err: error.message }, "response not sent"));
  }

  /** Refuses one request stream (oversized headers and the like) without touching the connection. */
  private rejectRequest(streamId: number, state: Extract<StreamState, { kind: "request" }>, error: Http3Error): void {
    this.log.warn({ err: error.message, code: error.code }, "request stream refused");
    state.session?.abort(null);
    this.streams.delete(streamId);
    this.shutdown(streamId, quiche.Shutdown.Read, error.code);
    this.shutdown(streamId, quiche.Shutdown.Write, error.code);
  }
}

/** Extracts n from quiche's "StreamReset(n)" / "StreamStopped(n)" error messages; null for other errors. */
export function parseQuicheStreamCode(message: string): number | null {
  const match = /Stream(?:Reset|Stopped)\((\d{1,16})\)/.exec(message);
  return match ? Number(match[1]) : null;
}
