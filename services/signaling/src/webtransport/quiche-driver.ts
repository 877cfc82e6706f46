/**
 * The quiche driver of one QUIC connection: moves packets between the UDP socket and quiche, stream bytes and
 * datagrams between quiche and the HTTP/3 state machine (h3-machine.ts), runs quiche's timer and the handshake
 * timeout, carries out the machine's commands and hands its events to the session router. It keeps the receive
 * budget: once unfinished frames and unread streams hold `receiveBudgetBytes`, streams stay unread in quiche, whose
 * fixed flow-control windows then hold the peer back.
 */
import type { Logger } from "@ballstream/runtime";
import type { Connection, Host } from "@matrixai/quic/native/index.js";
import { quiche } from "@matrixai/quic/native/index.js";
import { H3_ERROR, WebTransportError } from "./errors.ts";
import type { H3Output } from "./h3-events.ts";
import { Http3Machine } from "./h3-machine.ts";
import { parseQuicheStreamCode, streamFailure } from "./quiche-errors.ts";
import type { SessionHost } from "./session.ts";
import { type RouterContext, SessionRouter } from "./session-router.ts";
import { type IncomingStream, writeAll } from "./streams.ts";
import type { WebTransportCloseInfo } from "./types.ts";
import { WriteWaiters } from "./write-waiters.ts";

/**
 * How long a connection may stay open with no CONNECT stream left once the server closed its last session. Chromium
 * keeps a WebTransport connection whose session the server closed open until the idle timeout (30 s): a page that
 * retries leaves one behind per try, and a few retrying tabs fill the per-address connection cap
 * (docs/reliability.md). A refused CONNECT counts as closed by the server; a connection whose last session the client
 * ended is the client's to close or reuse (Chromium may open its next session on it).
 */
export const SESSIONLESS_CLOSE_MS = 1000;

/** What a connection needs from its server. */
export interface ConnectionContext extends RouterContext {
  readonly log: Logger;
  /** Sends one UDP datagram. */
  sendPacket(packet: Uint8Array, to: Host): void;
  /** The connection is closed for good and can be forgotten. */
  connectionClosed(connection: QuicheDriver): void;
}

/** One QUIC connection speaking HTTP/3; the server creates one per accepted handshake and feeds it packets. */
export class QuicheDriver implements SessionHost {
  /** quiche's trace id, for logs and session ids. */
  readonly traceId: string;
  readonly #conn: Connection;
  readonly #local: Host;
  readonly #remote: Host;
  readonly #ctx: ConnectionContext;
  readonly #log: Logger;
  readonly #machine: Http3Machine;
  readonly #router: SessionRouter;
  readonly #writers = new WriteWaiters();
  readonly #recvBuffer = new Uint8Array(64 * 1024);
  readonly #sendBuffer = new Uint8Array(quiche.MAX_DATAGRAM_SIZE);
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Drops the connection unless its handshake and first CONNECT arrive in time; cleared by the first CONNECT. */
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Closes the connection once no CONNECT stream has been open for {@link SESSIONLESS_CLOSE_MS}, after the first CONNECT. */
  #sessionlessTimer: ReturnType<typeof setTimeout> | undefined;
  #hadRequest = false;
  /** Whether the last request here ended by the peer ending its session (then the connection is the peer's to close or reuse). */
  #peerEndedLast = false;
  #finished = false;
  /** A {@link #flushSoon} is queued. */
  #flushQueued = false;

  /** Drives `conn` (accepted by quiche) between `local` and `remote`. */
  constructor(conn: Connection, local: Host, remote: Host, ctx: ConnectionContext) {
    this.#conn = conn;
    this.#local = local;
    this.#remote = remote;
    this.#ctx = ctx;
    this.traceId = conn.traceId();
    this.#log = ctx.log.child({ connection: this.traceId });
    this.#machine = new Http3Machine(ctx.limits.maxMessageBytes);
    this.#router = new SessionRouter(this, this.#machine, ctx, { traceId: this.traceId, remoteAddress: this.remoteAddress, log: this.#log });
    this.#handshakeTimer = setTimeout(() => this.#handshakeTimedOut(), ctx.limits.handshakeTimeoutMs);
  }

  /** The peer's IP address. */
  get remoteHost(): string {
    return this.#remote.host;
  }

  /** `host:port` of the peer. */
  get remoteAddress(): string {
    return addressOf(this.#remote);
  }

  /** Feeds one UDP datagram from the peer. Never throws. */
  receive(packet: Uint8Array, from: Host): void {
    if (this.#finished) return;
    try {
      this.#conn.recv(packet, { from, to: this.#local });
    } catch (error) {
      this.#log.debug({ err: (error as Error).message }, "quiche rejected a packet");
    }
    this.#handle();
    this.#flushSoon();
  }

  /** Closes every session (code 0, `reason`); the peer then finishes their CONNECT streams. */
  closeSessions(reason: string): void {
    this.#router.closeAll(reason);
  }

  /** Whether CONNECT streams are still open (sessions live, or closed but not yet finished by the peer). */
  get hasOpenRequests(): boolean {
    return this.#machine.hasRequests;
  }

  /** Closes the connection (H3_NO_ERROR); sessions still open end without a capsule. */
  close(reason: string): void {
    this.#closeConnection(H3_ERROR.noError, reason);
  }

  /** Whether quiche considers the connection closed (draining done). */
  get isClosed(): boolean {
    return this.#finished;
  }

  // SessionHost: the streams, datagrams and close of the sessions on this connection.

  send(streamId: number, data: Uint8Array, fin: boolean): number | null {
    if (this.#finished) throw new WebTransportError("connection closed", "session");
    let taken: number | null;
    try {
      taken = this.#conn.streamSend(streamId, data, fin);
    } catch (error) {
      throw streamFailure(error);
    }
    if (taken !== null) this.#flush();
    return taken;
  }

  waitWritable(streamId: number): Promise<void> {
    if (this.#finished) return Promise.reject(new WebTransportError("connection closed", "session"));
    return this.#writers.wait(streamId);
  }

  resetStream(streamId: number, h3Code: number): void {
    this.#shutdown(streamId, quiche.Shutdown.Write, h3Code);
    this.#writers.reject(streamId, new WebTransportError("stream reset", "stream"));
  }

  stopSending(streamId: number, h3Code: number): void {
    this.#shutdown(streamId, quiche.Shutdown.Read, h3Code);
    this.#machine.stopReading(streamId);
  }

  /** Reads `streamId` again, then every other stream with data waiting: the budget may have room again for them. */
  resumeRead(streamId: number): void {
    if (this.#finished) return;
    this.#guard(() => {
      this.#readStream(streamId);
      for (const other of [...this.#conn.readable()]) this.#readStream(other);
    });
    this.#flush();
  }

  openStream(sessionId: number, bidirectional: boolean): { streamId: number; header: Uint8Array } {
    if (this.#finished) throw new WebTransportError("connection closed", "session");
    const left = bidirectional ? this.#conn.peerStreamsLeftBidi() : this.#conn.peerStreamsLeftUni();
    if (left <= 0) throw new WebTransportError("the peer allows no more streams now", "session");
    return this.#machine.openStream(sessionId, bidirectional);
  }

  attachIncoming(streamId: number, incoming: IncomingStream): void {
    this.#router.attach(streamId, incoming);
  }

  sendDatagram(sessionId: number, payload: Uint8Array): boolean {
    const datagram = this.#finished ? null : this.#machine.datagramFor(sessionId, payload);
    if (!datagram) return false;
    try {
      this.#conn.dgramSend(datagram);
    } catch {
      return false; // send queue full or datagrams not negotiated: datagrams are unreliable
    }
    this.#flush();
    return true;
  }

  maxDatagramPayload(sessionId: number): number {
    const writable = this.#finished ? null : this.#conn.dgramMaxWritableLen();
    if (writable === null) return 0;
    return Math.max(0, Math.min(this.#ctx.limits.maxDatagramBytes, writable - this.#machine.datagramOverhead(sessionId)));
  }

  closeSession(sessionId: number, info: WebTransportCloseInfo): void {
    this.#peerEndedLast = false;
    this.#apply(this.#machine.closeSession(sessionId, info));
  }

  sessionEnded(sessionId: number): void {
    this.#router.remove(sessionId);
  }

  /** Handles what quiche has for us, then sends what that and quiche make. */
  #process(): void {
    this.#handle();
    this.#flush();
  }

  /**
   * A received packet's flush waits until the microtasks its data started have run (a session reading a datagram
   * answers in them): the answer then leaves in the packet that carries the ACK, instead of an ACK-only packet
   * first (0.10 ms p50 of quiche send and socket write before every coordinates datagram was read; docs/web.md).
   */
  #flushSoon(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setImmediate(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  /** Hands quiche's news (handshake done, readable streams, datagrams) to the HTTP/3 layer and applies its events. */
  #handle(): void {
    this.#guard(() => {
      if (this.#conn.isEstablished() || this.#conn.isInEarlyData()) this.#apply(this.#machine.start());
      for (const streamId of [...this.#conn.readable()]) this.#readStream(streamId);
      for (let datagram = this.#conn.dgramRecvVec(); datagram && !this.#finished; datagram = this.#conn.dgramRecvVec()) {
        this.#apply(this.#machine.receiveDatagram(datagram));
      }
      this.#writers.wake((streamId) => this.#conn.streamCapacity(streamId), streamFailure);
      this.#watchSessionless();
    });
  }

  /** Arms the close of a connection whose requests have all ended, the last not by its peer ending it; disarms it on a new one. */
  #watchSessionless(): void {
    if (this.#finished || !this.#hadRequest) return;
    if (this.#machine.hasRequests || this.#peerEndedLast) {
      clearTimeout(this.#sessionlessTimer);
      this.#sessionlessTimer = undefined;
    } else if (!this.#sessionlessTimer) {
      this.#sessionlessTimer = setTimeout(() => {
        this.#sessionlessTimer = undefined;
        if (this.#finished || this.#machine.hasRequests) return;
        this.#log.debug({ afterMs: SESSIONLESS_CLOSE_MS }, "no session left: closing the connection");
        this.#closeConnection(H3_ERROR.noError, "no session left");
      }, SESSIONLESS_CLOSE_MS);
    }
  }

  /** Runs `step`; anything it throws (the machine turns protocol errors into commands) is a bug: internal error. */
  #guard(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.#log.error({ err: error }, "internal error: closing the connection");
      this.#closeConnection(H3_ERROR.internalError, "internal error");
    }
  }

  /** Carries out the machine's commands and hands its events to the router, in order. */
  #apply(outputs: readonly H3Output[]): void {
    for (const out of outputs) {
      if (out.type === "send") writeAll(this, out.streamId, out.data, out.fin).catch((error) => this.#log.debug({ err: error.message, stream: out.streamId }, "stream write failed"));
      else if (out.type === "resetStream") this.resetStream(out.streamId, out.code);
      else if (out.type === "stopSending") this.#shutdown(out.streamId, quiche.Shutdown.Read, out.code);
      else if (out.type === "closeConnection") this.#closeConnection(out.code, out.reason);
      else {
        if (out.type === "connect" || out.type === "badRequest") {
          clearTimeout(this.#handshakeTimer);
          this.#hadRequest = true;
          this.#peerEndedLast = false;
        } else if (out.type === "sessionEnded") this.#peerEndedLast = true;
        this.#apply(this.#router.handle(out));
      }
    }
  }

  #flush(): void {
    if (this.#finished) return;
    for (;;) {
      let sent: ReturnType<Connection["send"]>;
      try {
        sent = this.#conn.send(this.#sendBuffer);
      } catch (error) {
        this.#log.debug({ err: (error as Error).message }, "quiche send failed");
        break;
      }
      if (!sent) break;
      this.#ctx.sendPacket(this.#sendBuffer.subarray(0, sent[0]), sent[1].to);
    }
    this.#armTimer();
  }

  #armTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#conn.isClosed()) return this.#finish();
    const timeout = this.#conn.timeout();
    if (timeout === null) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#conn.onTimeout();
      this.#process();
    }, Math.ceil(timeout));
  }

  #closeConnection(h3Code: number, reason: string): void {
    this.#router.endAll();
    try {
      this.#conn.close(true, h3Code, new TextEncoder().encode(reason.slice(0, 100)));
    } catch {
      // already closing
    }
    this.#flush();
  }

  /**
   * A peer that has not finished its handshake and sent a CONNECT in time is dropped at once (no draining period:
   * it never had a session whose late packets matter), so half-open handshakes cannot hold connection slots.
   */
  #handshakeTimedOut(): void {
    if (this.#finished) return;
    this.#log.info({ remote: this.remoteAddress, handshakeTimeoutMs: this.#ctx.limits.handshakeTimeoutMs }, "handshake timeout: connection dropped");
    this.#ctx.refused("handshake_timeout");
    try {
      this.#conn.close(false, 0x0, new Uint8Array(0));
    } catch {
      // already closing
    }
    this.#flush();
    this.#finish();
  }

  /** Frees everything once quiche reports the connection closed. */
  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#handshakeTimer);
    clearTimeout(this.#sessionlessTimer);
    this.#router.endAll();
    const gone = new WebTransportError("connection closed", "session");
    this.#writers.rejectAll(gone);
    this.#router.terminateStreams(gone);
    if (this.#conn.isTimedOut()) {
      this.#log.info({ remote: this.remoteAddress, idleTimeoutMs: this.#ctx.limits.idleTimeoutMs }, "connection idle timeout");
      this.#ctx.refused("idle_timeout");
    }
    this.#log.debug({ timedOut: this.#conn.isTimedOut(), peerError: this.#conn.peerError()?.errorCode }, "connection closed");
    this.#ctx.connectionClosed(this);
  }

  #shutdown(streamId: number, direction: number, h3Code: number): void {
    if (this.#finished) return;
    try {
      this.#conn.streamShutdown(streamId, direction, h3Code);
    } catch {
      // stream already gone
    }
    this.#flush();
  }

  /** Reads a stream into the machine while the budget has room and the stream's reader is not full. */
  #readStream(streamId: number): void {
    for (;;) {
      if (this.#finished || this.#router.paused(streamId)) return;
      // Dropped bytes hold nothing: only other streams spend the budget (and only they pay for summing it).
      const room = this.#machine.discards(streamId)
        ? this.#recvBuffer.length
        : this.#ctx.limits.receiveBudgetBytes - this.#machine.bufferedBytes - this.#router.queuedBytes;
      if (room <= 0) return;
      let result: [number, boolean] | null;
      try {
        result = this.#conn.streamRecv(streamId, this.#recvBuffer.subarray(0, Math.min(room, this.#recvBuffer.length)));
      } catch (error) {
        const code = parseQuicheStreamCode((error as Error).message ?? "");
        if (code !== null) this.#apply(this.#machine.receiveReset(streamId, code));
        return;
      }
      if (!result) return;
      const [length, fin] = result;
      this.#apply(this.#machine.receiveStream(streamId, this.#recvBuffer.subarray(0, length), fin));
      if (fin || !this.#machine.tracks(streamId)) return;
    }
  }
}

/** `host:port` of a peer (IPv6 hosts in brackets): a session's `remoteAddress`, and the key of its own link. */
export function addressOf(peer: Host): string {
  return peer.host.includes(":") ? `[${peer.host}]:${peer.port}` : `${peer.host}:${peer.port}`;
}
