/**
 * The HTTP/3 + WebTransport state machine of one connection, with no I/O (the shape of aioquic's `H3Connection`):
 * stream bytes, resets and datagrams go in; commands and events come out (h3-events.ts). It classifies streams, runs
 * the control and QPACK streams, parses requests and capsules, and routes WebTransport streams and datagrams to
 * sessions. A peer's protocol error closes the connection, or resets only the session or stream at fault.
 */
import { ByteBuffer, concatBytes } from "./bytes.ts";
import { encodeCloseSession } from "./capsule.ts";
import { ControlStream } from "./control-stream.ts";
import { H3_ERROR, Http3Error } from "./errors.ts";
import { FRAME_TYPE, encodeFrame } from "./frames.ts";
import type { H3Output } from "./h3-events.ts";
import { type HeaderField, encodeFieldSection } from "./qpack.ts";
import { RequestStream } from "./request-stream.ts";
import { encodeSettings, serverSettings } from "./settings.ts";
import { UNI_STREAM_TYPE, WT_STREAM_SIGNAL, readStreamHeader } from "./stream-header.ts";
import type { WebTransportCloseInfo } from "./types.ts";
import { encodeVarint, readVarint, varintLength } from "./varint.ts";
/** Our own unidirectional streams (control, QPACK encoder, QPACK decoder); session streams follow them. */
const SERVER_CRITICAL_STREAMS = [3, 7, 11] as const;

type StreamState =
  | { kind: "new"; buffer: ByteBuffer }
  | { kind: "control"; stream: ControlStream }
  | { kind: "discard" }
  | { kind: "request"; stream: RequestStream }
  | { kind: "wt"; sessionId: number };

/** One connection's HTTP/3 state; every input method returns what to do and what happened, in order. */
export class Http3Machine {
  readonly #maxMessageBytes: number;
  readonly #streams = new Map<number, StreamState>();
  /** Live sessions by id (their CONNECT stream id). */
  readonly #sessions = new Set<number>();
  #out: H3Output[] = [];
  #started = false;
  #closed = false;
  #peerControlStream = false;
  #nextBidi = 1;
  #nextUni = 15;

  /** `maxMessageBytes` bounds every frame payload, field section and capsule the peer may send. */
  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** Opens our control stream (SETTINGS) and QPACK streams once the handshake allows data; later calls do nothing. */
  start(): H3Output[] {
    return this.#run(() => {
      if (this.#started) return;
      this.#started = true;
      const settings = encodeFrame(FRAME_TYPE.settings, encodeSettings(serverSettings(this.#maxMessageBytes)));
      const [control, encoder, decoder] = SERVER_CRITICAL_STREAMS;
      this.#send(control, concatBytes(encodeVarint(UNI_STREAM_TYPE.control), settings), false);
      this.#send(encoder, encodeVarint(UNI_STREAM_TYPE.qpackEncoder), false);
      this.#send(decoder, encodeVarint(UNI_STREAM_TYPE.qpackDecoder), false);
    });
  }

  /** Bytes the peer sent on a stream (and its FIN). */
  receiveStream(streamId: number, bytes: Uint8Array, fin: boolean): H3Output[] {
    return this.#run(() => this.#streamData(streamId, bytes, fin));
  }

  /** The peer reset a stream (RESET_STREAM) with an HTTP/3 code. */
  receiveReset(streamId: number, code: number): H3Output[] {
    return this.#run(() => {
      const state = this.#streams.get(streamId);
      this.#streams.delete(streamId);
      if (state?.kind === "wt") this.#out.push({ type: "streamReset", streamId, code });
      else if (state?.kind === "control") throw new Http3Error(H3_ERROR.closedCriticalStream, "control stream reset");
      else if (state?.kind === "request" && this.#sessions.delete(streamId)) {
        this.#out.push({ type: "resetStream", streamId, code: H3_ERROR.requestCancelled });
        this.#out.push({ type: "sessionEnded", sessionId: streamId, info: { closeCode: 0, reason: "" }, error: null });
      }
    });
  }

  /** One QUIC DATAGRAM: quarter stream id, then the payload. A datagram of an unknown session is dropped (RFC 9297). */
  receiveDatagram(datagram: Uint8Array): H3Output[] {
    return this.#run(() => {
      const quarterId = readVarint(datagram, 0);
      if (!quarterId || typeof quarterId.value !== "number") throw new Http3Error(H3_ERROR.datagramError, "datagram without a valid quarter stream id");
      const sessionId = quarterId.value * 4;
      if (this.#sessions.has(sessionId)) this.#out.push({ type: "datagram", sessionId, payload: datagram.subarray(quarterId.bytes) });
    });
  }

  /** The QUIC DATAGRAM carrying `payload` for a live session (quarter stream id first); null once it is gone. */
  datagramFor(sessionId: number, payload: Uint8Array): Uint8Array | null {
    return this.#sessions.has(sessionId) ? concatBytes(encodeVarint(sessionId / 4), payload) : null;
  }

  /** Bytes of each datagram of `sessionId` that are not payload (its quarter stream id). */
  datagramOverhead(sessionId: number): number {
    return varintLength(sessionId / 4);
  }

  /** Answers a `connect` event: "accept" (200, the session opens) or an HTTP status from 400 to 599. */
  decide(streamId: number, decision: "accept" | number): H3Output[] {
    if (decision !== "accept" && !(Number.isInteger(decision) && decision >= 400 && decision <= 599)) throw new RangeError(`not a refusal status: ${decision}`);
    return this.#run(() => {
      const state = this.#streams.get(streamId);
      const request = state?.kind === "request" ? state.stream.answer() : null;
      if (state?.kind !== "request" || !request) return;
      if (decision === "accept") {
        this.#respond(streamId, [[":status", "200"], ["sec-webtransport-http3-draft", "draft02"]], false);
        this.#sessions.add(streamId);
        this.#out.push({ type: "sessionOpened", sessionId: streamId, request });
      } else {
        this.#respond(streamId, [[":status", String(decision)]], true);
      }
      this.#requestItems(streamId, state.stream);
    });
  }

  /** Refuses a stream of a `streamOpened` event (over the session's stream limit): H3_REQUEST_REJECTED. */
  refuseStream(streamId: number, bidirectional: boolean): H3Output[] {
    return this.#run(() => this.#refuse(streamId, bidirectional, H3_ERROR.requestRejected));
  }

  /** Allocates a stream of ours for a session and the header that must start it; the caller checks QUIC's stream credit. */
  openStream(sessionId: number, bidirectional: boolean): { streamId: number; header: Uint8Array } {
    const streamId = bidirectional ? (this.#nextBidi += 4) - 4 : (this.#nextUni += 4) - 4;
    if (bidirectional) this.#streams.set(streamId, { kind: "wt", sessionId });
    const signal = bidirectional ? WT_STREAM_SIGNAL.bidirectional : WT_STREAM_SIGNAL.unidirectional;
    return { streamId, header: concatBytes(encodeVarint(signal), encodeVarint(sessionId)) };
  }

  /** Ends a session from our side: close capsule, then FIN. Throws RangeError on a close code over 32 bits. */
  closeSession(sessionId: number, info: WebTransportCloseInfo): H3Output[] {
    const capsule = encodeFrame(FRAME_TYPE.data, encodeCloseSession(info));
    return this.#run(() => {
      if (this.#sessions.delete(sessionId)) this.#send(sessionId, capsule, true);
    });
  }

  /** Forgets a WebTransport stream whose reading the application stopped. */
  stopReading(streamId: number): void {
    if (this.#streams.get(streamId)?.kind === "wt") this.#streams.delete(streamId);
  }

  /** Received bytes held here: unfinished frames, stream headers and capsules. */
  get bufferedBytes(): number {
    let held = 0;
    for (const state of this.#streams.values()) {
      if (state.kind === "new") held += state.buffer.length;
      else if (state.kind === "control" || state.kind === "request") held += state.stream.bufferedBytes;
    }
    return held;
  }

  /** Whether the machine still follows a stream (false once it ended, was refused or was stopped). */
  tracks(streamId: number): boolean {
    return this.#streams.has(streamId);
  }

  /** Whether a stream's bytes are read only to be dropped (QPACK streams): they need not count toward a budget. */
  discards(streamId: number): boolean {
    return this.#streams.get(streamId)?.kind === "discard";
  }

  /** Whether request streams are open (sessions live, or closed but not yet finished by the peer). */
  get hasRequests(): boolean {
    for (const state of this.#streams.values()) if (state.kind === "request") return true;
    return false;
  }

  /** Sessions live now. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Runs one input; a connection-level protocol error becomes a close, after which every input is ignored. */
  #run(step: () => void): H3Output[] {
    if (this.#closed) return [];
    const out: H3Output[] = (this.#out = []);
    try {
      step();
    } catch (error) {
      if (!(error instanceof Http3Error)) throw error;
      out.push({ type: "protocolError", error }, { type: "closeConnection", code: error.code, reason: error.message });
      this.#closed = true;
      this.#streams.clear();
      this.#sessions.clear();
    }
    return out;
  }

  #send(streamId: number, data: Uint8Array, fin: boolean): void {
    this.#out.push({ type: "send", streamId, data, fin });
  }

  #respond(streamId: number, fields: readonly HeaderField[], fin: boolean): void {
    this.#send(streamId, encodeFrame(FRAME_TYPE.headers, encodeFieldSection(fields)), fin);
  }

  /** STOP_SENDING (and RESET_STREAM for a bidirectional stream) with `code`; the stream is forgotten. */
  #refuse(streamId: number, bidirectional: boolean, code: number): void {
    this.#streams.delete(streamId);
    this.#out.push({ type: "stopSending", streamId, code });
    if (bidirectional) this.#out.push({ type: "resetStream", streamId, code });
  }

  #streamData(streamId: number, bytes: Uint8Array, fin: boolean): void {
    let state = this.#streams.get(streamId);
    if (!state) {
      if (streamId % 2 === 1) return; // a stream of ours the peer may not write
      state = { kind: "new", buffer: new ByteBuffer() };
      this.#streams.set(streamId, state);
    }
    switch (state.kind) {
      case "new":
        state.buffer.push(bytes);
        this.#classify(streamId, state.buffer, fin);
        return;
      case "wt":
        this.#out.push({ type: "streamData", streamId, data: bytes.slice(), fin });
        if (fin) this.#streams.delete(streamId);
        return;
      case "control":
        return state.stream.push(bytes, fin);
      case "request":
        state.stream.push(bytes, fin);
        this.#requestItems(streamId, state.stream);
        return;
      case "discard":
        if (fin) this.#streams.delete(streamId);
        return;
    }
  }

  /** Reads the stream type (unidirectional) or signal (bidirectional) and gives the stream its state. */
  #classify(streamId: number, buffer: ByteBuffer, fin: boolean): void {
    const header = readStreamHeader(streamId, buffer.view());
    if (!header) {
      if (fin) this.#streams.delete(streamId);
      return;
    }
    const rest = buffer.view().subarray(header.bytes);
    if (header.kind === "webtransport") return this.#webTransportStream(streamId, header.sessionId, rest, fin);
    if (header.kind === "request") {
      this.#streams.set(streamId, { kind: "request", stream: new RequestStream(this.#maxMessageBytes) });
      return this.#streamData(streamId, rest, fin);
    }
    switch (header.type) {
      case UNI_STREAM_TYPE.control:
        if (this.#peerControlStream) throw new Http3Error(H3_ERROR.streamCreationError, "second control stream");
        this.#peerControlStream = true;
        this.#streams.set(streamId, { kind: "control", stream: new ControlStream(this.#maxMessageBytes) });
        return this.#streamData(streamId, rest, fin);
      case UNI_STREAM_TYPE.push:
        throw new Http3Error(H3_ERROR.streamCreationError, "push stream from a client");
      case UNI_STREAM_TYPE.qpackEncoder:
      case UNI_STREAM_TYPE.qpackDecoder:
        // Without a dynamic table there is nothing to act on; instructions that need one fail decoding later.
        this.#streams.set(streamId, { kind: "discard" });
        if (fin) throw new Http3Error(H3_ERROR.closedCriticalStream, "QPACK stream closed");
        return;
      default:
        // Unknown (GREASE) stream types are refused without harm to the connection.
        this.#refuse(streamId, false, H3_ERROR.streamCreationError);
    }
  }

  /** A peer's WebTransport stream: routed to its live session, else refused with WT_SESSION_GONE. */
  #webTransportStream(streamId: number, sessionId: number | bigint, rest: Uint8Array, fin: boolean): void {
    const bidirectional = streamId % 4 === 0;
    if (typeof sessionId !== "number" || !this.#sessions.has(sessionId)) return this.#refuse(streamId, bidirectional, H3_ERROR.wtSessionGone);
    this.#streams.set(streamId, { kind: "wt", sessionId });
    this.#out.push({ type: "streamOpened", sessionId, streamId, bidirectional });
    if (rest.length > 0 || fin) this.#streamData(streamId, rest, fin);
  }

  /** Acts on a request stream's items until it needs more bytes or a decision; its errors reset it or its session. */
  #requestItems(streamId: number, stream: RequestStream): void {
    try {
      for (let item = stream.next(this.#sessions.has(streamId)); item; item = stream.next(this.#sessions.has(streamId))) {
        if (item.kind === "connect") this.#out.push({ type: "connect", streamId, request: item.request });
        else if (item.kind === "badRequest") {
          this.#out.push({ type: "badRequest", streamId, reason: item.reason });
          this.#respond(streamId, [[":status", "400"]], true);
        } else if (item.kind === "close") this.#peerClosed(streamId, item.info);
        else {
          this.#streams.delete(streamId);
          if (!this.#sessions.has(streamId)) return;
          if (item.insideCapsule) this.#abortSession(streamId, new Http3Error(H3_ERROR.messageError, "CONNECT stream ended inside a capsule", "session"));
          else this.#peerClosed(streamId, { closeCode: 0, reason: "" });
        }
        if (this.#streams.get(streamId)?.kind !== "request") return;
      }
    } catch (error) {
      if (!(error instanceof Http3Error) || error.scope === "connection") throw error;
      this.#rejectRequest(streamId, error);
    }
  }

  /** The peer closed a session (capsule or FIN): we finish our side of its CONNECT stream. */
  #peerClosed(sessionId: number, info: WebTransportCloseInfo): void {
    this.#sessions.delete(sessionId);
    this.#send(sessionId, new Uint8Array(0), true);
    this.#out.push({ type: "sessionEnded", sessionId, info, error: null });
  }

  /** A session broke its protocol: its CONNECT stream is reset both ways with the error's code. */
  #abortSession(sessionId: number, error: Http3Error): void {
    this.#sessions.delete(sessionId);
    this.#out.push({ type: "protocolError", error });
    this.#refuse(sessionId, true, error.code);
    this.#out.push({ type: "sessionEnded", sessionId, info: { closeCode: 0, reason: error.message }, error });
  }

  /** Refuses one request stream (oversized headers and the like) without touching the connection. */
  #rejectRequest(streamId: number, error: Http3Error): void {
    if (this.#sessions.has(streamId)) return this.#abortSession(streamId, error);
    this.#out.push({ type: "protocolError", error });
    this.#refuse(streamId, true, error.code);
  }
}
