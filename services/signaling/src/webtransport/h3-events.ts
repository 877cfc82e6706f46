/**
 * What the I/O-free HTTP/3 state machine ({@link Http3Machine} in h3-machine.ts) hands back for each input: commands
 * for the driver to carry out on the QUIC connection, and events about requests, sessions, streams and datagrams.
 */
import type { Http3Error } from "./errors.ts";
import type { WebTransportCloseInfo } from "./types.ts";

/** A well-formed extended CONNECT for WebTransport, as the machine parsed it (admission is decided elsewhere). */
export interface ConnectRequest {
  /** `:path`, query included. */
  readonly path: string;
  /** The `origin` header, "" when absent. */
  readonly origin: string;
  readonly authority: string;
  /** Every field of the request, pseudo-headers included, in order. */
  readonly headers: readonly (readonly [name: string, value: string])[];
}

/** Something the driver must do on the QUIC connection. */
export type H3Command =
  /** Write all of `data` on a stream (then FIN when `fin`), waiting for flow control as needed. */
  | { readonly type: "send"; readonly streamId: number; readonly data: Uint8Array; readonly fin: boolean }
  /** RESET_STREAM with an HTTP/3 code. */
  | { readonly type: "resetStream"; readonly streamId: number; readonly code: number }
  /** STOP_SENDING with an HTTP/3 code; the machine has forgotten the stream. */
  | { readonly type: "stopSending"; readonly streamId: number; readonly code: number }
  /** CONNECTION_CLOSE (application) with an HTTP/3 code; the machine takes no more input. */
  | { readonly type: "closeConnection"; readonly code: number; readonly reason: string };

/** Something that happened, for the driver to pass on. */
export type H3Event =
  /** A peer's protocol error that the commands before it contain (stream or session reset, connection close): for the log. */
  | { readonly type: "protocolError"; readonly error: Http3Error }
  /** A CONNECT to decide: answer it with {@link Http3Machine.decide}. */
  | { readonly type: "connect"; readonly streamId: number; readonly request: ConnectRequest }
  /** A request the machine answered 400 itself (not a WebTransport CONNECT). */
  | { readonly type: "badRequest"; readonly streamId: number; readonly reason: string }
  /** A CONNECT was accepted: its stream id is the session id. */
  | { readonly type: "sessionOpened"; readonly sessionId: number; readonly request: ConnectRequest }
  /** The peer ended a session (close capsule, FIN or reset) or broke its protocol (`error`). */
  | { readonly type: "sessionEnded"; readonly sessionId: number; readonly info: WebTransportCloseInfo; readonly error: Http3Error | null }
  /** The peer opened a WebTransport stream of a live session; refuse it with {@link Http3Machine.refuseStream}. */
  | { readonly type: "streamOpened"; readonly sessionId: number; readonly streamId: number; readonly bidirectional: boolean }
  /** Bytes (and the end) of a WebTransport stream. */
  | { readonly type: "streamData"; readonly streamId: number; readonly data: Uint8Array; readonly fin: boolean }
  /** The peer reset a WebTransport stream with an HTTP/3 code. */
  | { readonly type: "streamReset"; readonly streamId: number; readonly code: number }
  /** A datagram payload of a live session. */
  | { readonly type: "datagram"; readonly sessionId: number; readonly payload: Uint8Array };

/** One output of the machine, in the order it must be acted on. */
export type H3Output = H3Command | H3Event;
