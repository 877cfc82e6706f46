/**
 * WebTransport routing of one connection: answers the state machine's CONNECTs with the admission policy, makes
 * accepted ones {@link Session}s, passes stream, datagram and session events to them, and counts what unread
 * streams hold, for the connection's receive budget. No I/O: what the machine answers goes back to the driver.
 */
import type { Logger } from "@ballstream/runtime";
import type { ConnectRequest, H3Event, H3Output } from "./h3-events.ts";
import type { Http3Machine } from "./h3-machine.ts";
import { Session, type SessionHost } from "./session.ts";
import type { IncomingStream } from "./streams.ts";
import type { AdmissionDecision, AdmissionPolicy, WebTransportLimits, WebTransportRefusal } from "./types.ts";

/** What routing needs from the server. */
export interface RouterContext {
  readonly limits: WebTransportLimits;
  /** Decides each well-formed CONNECT. */
  readonly accept: AdmissionPolicy;
  /** A session was accepted. */
  sessionAccepted(session: Session): void;
  /** Something was refused (for counting). */
  refused(reason: WebTransportRefusal): void;
}

/** Who the connection is: for session ids, admission and logs. */
export interface ConnectionIdentity {
  readonly traceId: string;
  readonly remoteAddress: string;
  readonly log: Logger;
}

const REFUSAL_BY_STATUS: Record<number, WebTransportRefusal> = { 400: "bad_request", 403: "forbidden", 404: "not_found", 429: "too_many_sessions" };

/** Sessions by id and the receiving halves of their streams by stream id. */
export class SessionRouter {
  readonly #host: SessionHost;
  readonly #machine: Http3Machine;
  readonly #ctx: RouterContext;
  readonly #identity: ConnectionIdentity;
  readonly #sessions = new Map<number, Session>();
  /** Every receiving half until it has ended, even after the peer's FIN: what it queues counts in the budget. */
  readonly #incoming = new Map<number, IncomingStream>();

  /** Routes for `machine`; sessions it makes use `host` (the driver). */
  constructor(host: SessionHost, machine: Http3Machine, ctx: RouterContext, identity: ConnectionIdentity) {
    this.#host = host;
    this.#machine = machine;
    this.#ctx = ctx;
    this.#identity = identity;
  }

  /** Handles one event of the machine; returns what the machine answered (to a CONNECT, a refused stream), to carry out. */
  handle(event: H3Event): H3Output[] {
    switch (event.type) {
      case "protocolError":
        this.#identity.log.warn({ err: event.error.message, code: event.error.code, scope: event.error.scope }, "HTTP/3 protocol error");
        return [];
      case "connect":
        return this.#connect(event.streamId, event.request);
      case "badRequest":
        this.#refused(400, { reason: event.reason });
        return [];
      case "sessionOpened":
        this.#open(event.sessionId, event.request);
        return [];
      case "streamOpened": {
        const incoming = this.#sessions.get(event.sessionId)?.acceptStream(event.streamId, event.bidirectional);
        if (!incoming) return this.#machine.refuseStream(event.streamId, event.bidirectional);
        this.attach(event.streamId, incoming);
        return [];
      }
      case "streamData":
        this.#incoming.get(event.streamId)?.push(event.data, event.fin);
        return [];
      case "streamReset":
        this.#incoming.get(event.streamId)?.reset(event.code);
        return [];
      case "datagram":
        this.#sessions.get(event.sessionId)?.receiveDatagram(event.payload);
        return [];
      case "sessionEnded":
        this.#sessions.get(event.sessionId)?.end(event.info);
        return [];
    }
  }

  /** Forgets an ended session. */
  remove(sessionId: number): void {
    this.#sessions.delete(sessionId);
  }

  /** Routes a stream's bytes to `incoming` (a stream our side opened). */
  attach(streamId: number, incoming: IncomingStream): void {
    this.#incoming.set(streamId, incoming);
  }

  /** Whether reading a stream should wait: its application has a full queue to read first. */
  paused(streamId: number): boolean {
    return this.#incoming.get(streamId)?.paused ?? false;
  }

  /** Bytes received on streams and not read by the application yet; forgets streams that have ended. */
  get queuedBytes(): number {
    let queued = 0;
    for (const [streamId, incoming] of this.#incoming) {
      if (incoming.ended) this.#incoming.delete(streamId);
      else queued += incoming.queuedBytes;
    }
    return queued;
  }

  /** Closes every session with code 0 and `reason` (close capsules). */
  closeAll(reason: string): void {
    for (const session of [...this.#sessions.values()]) session.close({ closeCode: 0, reason });
  }

  /** Ends every session without a capsule (the connection is going). */
  endAll(): void {
    for (const session of [...this.#sessions.values()]) session.end({ closeCode: 0, reason: "" });
  }

  /** Ends every stream still open with `error` (the connection is gone). */
  terminateStreams(error: Error): void {
    for (const incoming of this.#incoming.values()) incoming.terminate(error);
    this.#incoming.clear();
  }

  /** Asks the admission policy (a throwing policy refuses with 500) and answers the CONNECT. */
  #connect(streamId: number, request: ConnectRequest): H3Output[] {
    let decision: AdmissionDecision;
    try {
      decision = this.#ctx.accept({ ...request, remoteAddress: this.#identity.remoteAddress, connectionSessions: this.#machine.sessionCount });
    } catch (error) {
      this.#identity.log.error({ err: error }, "admission policy failed: refusing with 500");
      decision = 500;
    }
    if (decision !== "accept") this.#refused(decision, { path: request.path, origin: request.origin });
    return this.#machine.decide(streamId, decision);
  }

  #open(sessionId: number, { path, origin }: ConnectRequest): void {
    const { traceId, remoteAddress, log } = this.#identity;
    const session = new Session(this.#host, { id: `${traceId}/${sessionId}`, streamId: sessionId, path, origin, remoteAddress }, this.#ctx.limits);
    this.#sessions.set(sessionId, session);
    log.debug({ session: session.id, path, origin }, "session accepted");
    this.#ctx.sessionAccepted(session);
  }

  #refused(status: number, detail: Record<string, string>): void {
    this.#identity.log.info({ status, ...detail }, "CONNECT refused");
    this.#ctx.refused(REFUSAL_BY_STATUS[status] ?? "bad_request");
  }
}
