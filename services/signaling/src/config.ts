/** Signaling's settings, from the environment, with defaults for the one-command start. */
import { join } from "node:path";
import { DEFAULT_METRICS_PORTS, type MetricsEndpoint, type NetConditions, intEnv, listEnv, metricsEndpointFromEnv, netConditionsFromEnv, stringEnv } from "@ballstream/runtime";
import { SESSION_TIMING } from "@ballstream/protocol";
import { MAX_SELF_SIGNED_VALIDITY_MS } from "./webtransport/mod.ts";
import { WT_CERTIFICATE_MODES, type WtCertificateMode } from "./wt-certificate.ts";
import { DEFAULT_WT_VIDEO, type VideoFraming } from "./video-sender.ts";

/** Everything `startSignaling` can be told. */
export interface SignalingConfig {
  /** TCP address of the HTTP(S) server. */
  readonly httpHost: string;
  /** TCP port of the HTTP(S) server; 0 picks a free one. */
  readonly httpPort: number;
  /** PEM files: HTTPS with this certificate; WebTransport's certificate follows `wtCertificate` (wt-certificate.ts). */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** Which certificate WebTransport presents: `auto`, `tls` or `own` (docs/deploy.md "Certificates"). */
  readonly wtCertificate: WtCertificateMode;
  /** Validity of signaling's own WebTransport certificate; it is replaced at half its life. */
  readonly wtCertValidityMs: number;
  /** UDP address of the WebTransport server. */
  readonly wtHost: string;
  /** UDP port of the WebTransport server; 0 picks a free one. */
  readonly wtPort: number;
  /** Page origins allowed to open WebTransport sessions; empty = the HTTP server's own localhost origins. */
  readonly allowedOrigins: readonly string[];
  /** Directory of the built web client. */
  readonly webDist: string;
  /** How long to wait for the generator and media replies. */
  readonly requestTimeoutMs: number;
  /** How long a page may take from opening WebTransport to sending its offer. */
  readonly offerTimeoutMs: number;
  /** Viewer sessions served at once; further ones are closed with `limitExceeded`. */
  readonly maxSessions: number;
  /** Viewer sessions one client address may hold at once; further ones are closed with `limitExceeded`. */
  readonly maxSessionsPerIp: number;
  /**
   * New WebTransport sessions per second over all addresses (bursts of 5 s' worth; a page opens two, its own and its
   * detection worker's); more are closed with `limitExceeded`.
   */
  readonly sessionRatePerS: number;
  /** New WebTransport sessions per second from one address (bursts of 5 s' worth; two a page); more: `limitExceeded`. */
  readonly sessionRatePerIpPerS: number;
  /** Control messages a session may send per second (bursts up to the same number); more end it. */
  readonly controlRatePerS: number;
  /** Datagrams a session may send per second (bursts up to the same number); more are dropped and counted. */
  readonly datagramRatePerS: number;
  /** A QUIC connection without packets for this long is closed (tab gone, network cut). */
  readonly wtIdleTimeoutMs: number;
  /** QUIC connections held at once; further handshakes are ignored. */
  readonly wtMaxConnections: number;
  /** QUIC connections one client address may hold at once (default: three per allowed session, at least 8: a page holds two, one more while it resumes). */
  readonly wtMaxConnectionsPerIp: number;
  /** A QUIC connection that has not finished its handshake and sent its CONNECT by then is dropped. */
  readonly wtHandshakeTimeoutMs: number;
  /** Validate client addresses with QUIC Retry before keeping any state (one more round trip per connection). */
  readonly wtRetry: boolean;
  /** A streaming session whose generator sent no truth for this long is ended (generator or bus down). */
  readonly truthTimeoutMs: number;
  /** After this long without a truth, another generator replica is asked to take the session over; 0: never. */
  readonly generatorTakeoverMs: number;
  /** After this long without a word from a session's media replica, the page is asked to renegotiate with another; 0: never. */
  readonly mediaTakeoverMs: number;
  /** The secret every signaling replica shares for session resumption tokens (≥ 16 bytes); undefined: a random one of this process. */
  readonly resumeSecret: string | undefined;
  /** A session whose page sent coordinates and then none for this long is ended (video stalled: media down). */
  readonly videoTimeoutMs: number;
  /** `/metrics` on a listener of its own (never the page's port); undefined: none (the process serves it elsewhere). */
  readonly metrics: MetricsEndpoint | undefined;
  /** The WebTransport video path: a stream per GOP or per frame, and the bytes that may wait per viewer. */
  readonly wtVideo: { readonly framing: VideoFraming; readonly maxQueuedBytes: number; readonly maxQueuedMs: number };
  /** Emulated link conditions on the WebTransport (QUIC) socket, each direction; none by default (docs/network-lab.md). */
  readonly net: NetConditions;
}

/** The built client beside the services in this repository. */
export const DEFAULT_WEB_DIST = join(import.meta.dir, "../../../web/dist");

/** Defaults of every field. */
export const DEFAULT_SIGNALING_CONFIG: SignalingConfig = {
  httpHost: "127.0.0.1",
  httpPort: 8080,
  tls: undefined,
  wtCertificate: "auto",
  wtCertValidityMs: MAX_SELF_SIGNED_VALIDITY_MS - 120_000,
  wtHost: "127.0.0.1",
  wtPort: 4433,
  allowedOrigins: [],
  webDist: DEFAULT_WEB_DIST,
  requestTimeoutMs: SESSION_TIMING.requestTimeoutMs,
  offerTimeoutMs: 10_000,
  maxSessions: 32,
  maxSessionsPerIp: 8,
  sessionRatePerS: 20,
  sessionRatePerIpPerS: 4,
  controlRatePerS: 20,
  datagramRatePerS: 500,
  wtIdleTimeoutMs: 30_000,
  wtMaxConnections: 256,
  wtMaxConnectionsPerIp: 24,
  wtHandshakeTimeoutMs: 5000,
  wtRetry: true,
  truthTimeoutMs: 3000,
  videoTimeoutMs: 10_000,
  generatorTakeoverMs: 1000,
  mediaTakeoverMs: 1000,
  resumeSecret: undefined,
  metrics: undefined,
  wtVideo: DEFAULT_WT_VIDEO,
  net: {},
};

/**
 * Reads HTTP_HOST, HTTP_PORT, TLS_CERT + TLS_KEY (both or neither), WT_CERTIFICATE (auto, tls, own), WT_CERT_VALIDITY_S
 * (10 s – 14 days − 1 min), WT_HOST (default: HTTP_HOST), WT_PORT,
 * ALLOWED_ORIGINS (comma-separated), WEB_DIST, REQUEST_TIMEOUT_MS, OFFER_TIMEOUT_MS, MAX_SESSIONS, MAX_SESSIONS_PER_IP,
 * SESSION_RATE_PER_S, SESSION_RATE_PER_IP_PER_S, CONTROL_RATE_PER_S, DATAGRAM_RATE_PER_S, WT_IDLE_TIMEOUT_MS,
 * WT_MAX_CONNECTIONS, WT_MAX_CONNECTIONS_PER_IP (default max(8, 3 × MAX_SESSIONS_PER_IP)), WT_HANDSHAKE_TIMEOUT_MS,
 * WT_RETRY (1 or 0), WT_VIDEO_FRAMING (gop or frame), WT_VIDEO_MAX_QUEUED_BYTES, WT_VIDEO_MAX_QUEUED_MS, TRUTH_TIMEOUT_MS,
 * GENERATOR_TAKEOVER_MS (0: never), MEDIA_TAKEOVER_MS (0: never), SESSION_RESUME_SECRET, VIDEO_TIMEOUT_MS, the metrics listener's METRICS_HOST (default: HTTP_HOST), METRICS_PORT
 * (default 9466) and METRICS_TOKEN, and the QUIC socket's emulated link SIGNALING_NET_EGRESS / SIGNALING_NET_INGRESS
 * (default NET_EGRESS / NET_INGRESS). Throws naming the variable on bad values.
 */
export function signalingConfigFromEnv(env: Record<string, string | undefined>): SignalingConfig {
  const d = DEFAULT_SIGNALING_CONFIG;
  const certFile = stringEnv(env, "TLS_CERT", "");
  const keyFile = stringEnv(env, "TLS_KEY", "");
  if ((certFile === "") !== (keyFile === "")) throw new Error("TLS_CERT and TLS_KEY must be set together");
  const httpHost = stringEnv(env, "HTTP_HOST", d.httpHost);
  const maxSessionsPerIp = intEnv(env, "MAX_SESSIONS_PER_IP", d.maxSessionsPerIp, 1, 10_000);
  const retry = stringEnv(env, "WT_RETRY", "1");
  const wtCertificate = stringEnv(env, "WT_CERTIFICATE", d.wtCertificate);
  if (!(WT_CERTIFICATE_MODES as readonly string[]).includes(wtCertificate)) throw new Error(`WT_CERTIFICATE must be one of ${WT_CERTIFICATE_MODES.join(", ")}, got ${JSON.stringify(wtCertificate.slice(0, 20))}`);
  if (retry !== "1" && retry !== "0") throw new Error(`WT_RETRY must be 1 or 0, got ${JSON.stringify(retry.slice(0, 20))}`);
  const framing = stringEnv(env, "WT_VIDEO_FRAMING", d.wtVideo.framing);
  if (framing !== "gop" && framing !== "frame") throw new Error(`WT_VIDEO_FRAMING must be gop or frame, got ${JSON.stringify(framing.slice(0, 20))}`);
  return {
    httpHost,
    httpPort: intEnv(env, "HTTP_PORT", d.httpPort, 0, 65535),
    tls: certFile ? { certFile, keyFile } : undefined,
    wtCertificate: wtCertificate as WtCertificateMode,
    wtCertValidityMs: 1000 * intEnv(env, "WT_CERT_VALIDITY_S", Math.round(d.wtCertValidityMs / 1000), 10, Math.floor((MAX_SELF_SIGNED_VALIDITY_MS - 60_000) / 1000)),
    wtHost: stringEnv(env, "WT_HOST", httpHost),
    wtPort: intEnv(env, "WT_PORT", d.wtPort, 0, 65535),
    allowedOrigins: listEnv(env, "ALLOWED_ORIGINS", d.allowedOrigins),
    webDist: stringEnv(env, "WEB_DIST", d.webDist),
    requestTimeoutMs: intEnv(env, "REQUEST_TIMEOUT_MS", d.requestTimeoutMs, 100, 120_000),
    offerTimeoutMs: intEnv(env, "OFFER_TIMEOUT_MS", d.offerTimeoutMs, 100, 600_000),
    maxSessions: intEnv(env, "MAX_SESSIONS", d.maxSessions, 1, 10_000),
    maxSessionsPerIp,
    sessionRatePerS: intEnv(env, "SESSION_RATE_PER_S", d.sessionRatePerS, 1, 10_000),
    sessionRatePerIpPerS: intEnv(env, "SESSION_RATE_PER_IP_PER_S", d.sessionRatePerIpPerS, 1, 10_000),
    controlRatePerS: intEnv(env, "CONTROL_RATE_PER_S", d.controlRatePerS, 1, 10_000),
    datagramRatePerS: intEnv(env, "DATAGRAM_RATE_PER_S", d.datagramRatePerS, 1, 1_000_000),
    wtIdleTimeoutMs: intEnv(env, "WT_IDLE_TIMEOUT_MS", d.wtIdleTimeoutMs, 1000, 600_000),
    wtMaxConnections: intEnv(env, "WT_MAX_CONNECTIONS", d.wtMaxConnections, 1, 100_000),
    wtMaxConnectionsPerIp: intEnv(env, "WT_MAX_CONNECTIONS_PER_IP", Math.max(8, 3 * maxSessionsPerIp), 1, 100_000),
    wtHandshakeTimeoutMs: intEnv(env, "WT_HANDSHAKE_TIMEOUT_MS", d.wtHandshakeTimeoutMs, 100, 60_000),
    wtRetry: retry === "1",
    truthTimeoutMs: intEnv(env, "TRUTH_TIMEOUT_MS", d.truthTimeoutMs, 500, 600_000),
    generatorTakeoverMs: intEnv(env, "GENERATOR_TAKEOVER_MS", d.generatorTakeoverMs, 0, 600_000),
    mediaTakeoverMs: intEnv(env, "MEDIA_TAKEOVER_MS", d.mediaTakeoverMs, 0, 600_000),
    resumeSecret: stringEnv(env, "SESSION_RESUME_SECRET", "") || undefined,
    videoTimeoutMs: intEnv(env, "VIDEO_TIMEOUT_MS", d.videoTimeoutMs, 500, 600_000),
    metrics: metricsEndpointFromEnv(env, { host: httpHost, port: DEFAULT_METRICS_PORTS.signaling }),
    wtVideo: {
      framing,
      maxQueuedBytes: intEnv(env, "WT_VIDEO_MAX_QUEUED_BYTES", d.wtVideo.maxQueuedBytes, 16 * 1024, 64 * 1024 * 1024),
      maxQueuedMs: intEnv(env, "WT_VIDEO_MAX_QUEUED_MS", d.wtVideo.maxQueuedMs, 10, 60_000),
    },
    net: netConditionsFromEnv(env, "SIGNALING"),
  };
}

/** The origins a page served by our own HTTP server has: `localhost`, `127.0.0.1` and `[::1]` at its port. */
export function localOrigins(scheme: "http" | "https", port: number): string[] {
  return ["localhost", "127.0.0.1", "[::1]"].map((host) => `${scheme}://${host}:${port}`);
}
