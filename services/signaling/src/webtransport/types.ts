/**
 * Public types of the WebTransport server. A session mirrors the W3C `WebTransport` object a page uses, seen
 * from the server side: the same stream and datagram surface, the same close semantics.
 */
import type { LinkPair, Logger, SessionLink } from "@ballstream/runtime";
import type { ConnectRequest } from "./h3-events.ts";

/** Resource limits of a server; every field has a default ({@link DEFAULT_LIMITS}). */
export interface WebTransportLimits {
  /** WebTransport sessions one QUIC connection may hold at once: further CONNECTs get 429 before the policy runs. */
  readonly maxSessionsPerConnection: number;
  /** QUIC connections the server holds at once (further handshakes are refused). */
  readonly maxConnections: number;
  /** QUIC connections one client IP address may hold at once (further handshakes from it are refused). */
  readonly maxConnectionsPerAddress: number;
  /** Streams (both directions, both openers) one session may hold at once; excess peer streams are reset. */
  readonly maxStreamsPerSession: number;
  /** Largest HTTP/3 frame payload (HEADERS, SETTINGS) and capsule accepted from a peer, in bytes. */
  readonly maxMessageBytes: number;
  /** Largest datagram payload accepted or sent, in bytes (also bounded by the path: see `maxDatagramSize`). */
  readonly maxDatagramBytes: number;
  /**
   * Received bytes one connection may hold in the server's buffers (unfinished frames, streams the application has
   * not read yet); once spent the server stops reading its streams, so QUIC flow control holds the peer back.
   */
  readonly receiveBudgetBytes: number;
  /** A connection that has not finished its QUIC handshake and sent its first CONNECT by then is closed, in ms. */
  readonly handshakeTimeoutMs: number;
  /** A connection with no packets for this long is closed (QUIC idle timeout), in ms. */
  readonly idleTimeoutMs: number;
}

/** A PEM certificate chain and its PEM private key. */
export interface CertificatePem {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Options of `createWebTransportServer`. */
export interface WebTransportServerOptions {
  /** UDP bind address, e.g. `127.0.0.1`, `0.0.0.0` or `::`. */
  readonly host: string;
  /** UDP port; 0 picks a free one (see {@link WebTransportServer.port}). */
  readonly port: number;
  /** TLS certificate; when absent a self-signed ECDSA P-256 certificate valid 14 days is generated. */
  readonly certificate?: CertificatePem;
  /** Decides every well-formed CONNECT: see admission.ts (`admission(allowOrigins(…), onPaths(…))`). */
  readonly accept: AdmissionPolicy;
  readonly limits?: Partial<WebTransportLimits>;
  readonly log: Logger;
  /**
   * Validate client addresses with QUIC Retry before keeping any state for them (default true): costs one round
   * trip per connection, and a flood of Initials then takes no connection-table slot.
   */
  readonly addressValidation?: boolean;
  /** Told about every refusal (CONNECT answered 403/404/429/400, handshake over a connection limit or too slow, idle timeout). */
  readonly onRefused?: (reason: WebTransportRefusal) => void;
  /** Emulated link on the UDP socket: every packet sent goes through `egress`, every packet received through `ingress`; closed with the server. */
  readonly links?: LinkPair;
  /**
   * Peers' own emulated links by `remoteAddress` (a session's network setting), read for every packet to or from
   * that address, in series with `links`; the application keeps the map.
   */
  readonly peerLinks?: ReadonlyMap<string, SessionLink>;
}

/** A WebTransport CONNECT to admit or refuse: the request and where it comes from. */
export interface WebTransportRequest extends ConnectRequest {
  /** `host:port` of the peer (IPv6 hosts in brackets). */
  readonly remoteAddress: string;
  /** Sessions the peer's QUIC connection holds already. */
  readonly connectionSessions: number;
}

/** What admission answers: "accept", or the HTTP status (400–599) to refuse with (403, 404, 429 are counted by name). */
export type AdmissionDecision = "accept" | number;

/** Decides whether a CONNECT becomes a session; the application passes one to the server. */
export type AdmissionPolicy = (request: WebTransportRequest) => AdmissionDecision;

/** One admission check: the status to refuse with, or undefined to let the next check decide. */
export type AdmissionCheck = (request: WebTransportRequest) => number | undefined;

/** Why the server refused or dropped a peer, for counting. */
export type WebTransportRefusal =
  | "forbidden"
  | "not_found"
  | "bad_request"
  | "too_many_sessions"
  | "connection_limit"
  | "address_connection_limit"
  | "handshake_timeout"
  | "idle_timeout";

/** A running server. */
export interface WebTransportServer {
  /** The bound UDP port. */
  readonly port: number;
  /** QUIC connections held now (handshaking, open or closing). */
  readonly connectionCount: number;
  /** SHA-256 of the DER of each certificate served to new connections, for a page's `serverCertificateHashes`. */
  readonly certificateHashes: readonly Uint8Array[];
  /** Serves `certificate` to connections made from now on; open ones keep theirs. Rejects (keeping the old) on a bad pair. */
  setCertificate(certificate: CertificatePem): Promise<void>;
  /**
   * Every accepted session, in order. Read it continuously: sessions wait here until read. The stream closes
   * when the server closes.
   */
  readonly sessions: ReadableStream<WebTransportSession>;
  /** Closes every session (code 0, reason "server closing"), then every connection, then the socket. Idempotent. */
  close(): Promise<void>;
}

/** A stream both sides can read and write, as in the W3C API. */
export interface WebTransportBidirectionalStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** Datagrams of a session; unreliable, unordered, latest wins. */
export interface WebTransportDatagramDuplexStream {
  /** Incoming datagram payloads; when the reader lags, the oldest are dropped. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Outgoing payloads; one larger than {@link maxDatagramSize} errors the write. */
  readonly writable: WritableStream<Uint8Array>;
  /** Largest payload that fits one datagram now. */
  readonly maxDatagramSize: number;
}

/** How a session ended: the peer's or our code and reason (code 0, reason "" when it ended without a capsule). */
export interface WebTransportCloseInfo {
  readonly closeCode: number;
  readonly reason: string;
}

/** A WebTransport session accepted from a browser. */
export interface WebTransportSession {
  /** Unique within the server (connection trace id + session stream id). */
  readonly id: string;
  /** The CONNECT `:path`. */
  readonly path: string;
  /** The CONNECT `origin` header (admitted by the policy). */
  readonly origin: string;
  /** `host:port` of the peer (IPv6 hosts in brackets). */
  readonly remoteAddress: string;
  /** Streams the peer opens in both directions. */
  readonly incomingBidirectionalStreams: ReadableStream<WebTransportBidirectionalStream>;
  /** Streams the peer opens to send to us. */
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  /** Opens a stream to the peer; rejects when the session is closed or the stream limit is reached. */
  createBidirectionalStream(): Promise<WebTransportBidirectionalStream>;
  /** Opens a send-only stream to the peer; rejects when the session is closed or the stream limit is reached. */
  createUnidirectionalStream(): Promise<WritableStream<Uint8Array>>;
  readonly datagrams: WebTransportDatagramDuplexStream;
  /** Resolves once when the session ends, whoever ended it; never rejects. */
  readonly closed: Promise<WebTransportCloseInfo>;
  /** Ends the session with a close capsule (code default 0, reason default "", truncated to 1024 bytes). Idempotent. */
  close(info?: Partial<WebTransportCloseInfo>): void;
}
