/**
 * The signaling service: an HTTP(S) server for the built page, its probes and its config, and a WebTransport
 * server where every browser session becomes a {@link ViewerSession}. Prometheus metrics are served on a listener of
 * their own (`config.metrics`), never on the page's port; every HTTP answer carries the security headers.
 *
 * ```ts
 * const signaling = await startSignaling({ bus, log });
 * console.log(`open ${signaling.httpUrl}`);
 * await signaling.stop(); // closes every session with CLOSE_CODES.serverShutdown
 * ```
 */
import { readFile } from "node:fs/promises";
import { type Bus, LogThrottle, type Logger, type MetricsServer, type Registry, type SessionLink, createLinkPair, defaultRegistry, inBackground, netLog, serveMetrics, SharedSubscriptions } from "@ballstream/runtime";
import { type RejectReason, createSignalingMetrics } from "./metrics.ts";
import { CLOSE_CODES, type ClientConfig, DEFAULT_SETTINGS, WT_PATH } from "@ballstream/protocol";
import { DEFAULT_SIGNALING_CONFIG, type SignalingConfig, localOrigins } from "./config.ts";
import { clientConfig } from "./http/client-config.ts";
import { healthz, readyz } from "./http/probes.ts";
import { compose, withMiddleware } from "./http/router.ts";
import { securityHeaders } from "./http/security-headers.ts";
import { staticFiles } from "./http/static-files.ts";
import { PerAddressCounter, PerAddressRate, TokenBucket } from "./rate-limit.ts";
import { ResumeTokens } from "./resume-token.ts";
import { type CoordinatesAttach, ViewerSession } from "./viewer-session.ts";
import { type CertificatePem, type WebTransportRefusal, type WebTransportServer, admission, allowOrigins, createWebTransportServer, onPaths } from "./webtransport/mod.ts";
import { CertificateRotator, certificateFacts, expiresSoon, wtCertificateChoice } from "./wt-certificate.ts";

export { createSignalingMetrics, type SignalingMetrics } from "./metrics.ts";
export { type SignalingConfig, DEFAULT_SIGNALING_CONFIG, signalingConfigFromEnv } from "./config.ts";
export { channelSessionId } from "./channel-id.ts";

/** What {@link startSignaling} needs. */
export interface SignalingOptions {
  readonly bus: Bus;
  readonly log: Logger;
  /** Overrides of {@link DEFAULT_SIGNALING_CONFIG}. */
  readonly config?: Partial<SignalingConfig>;
  /** Where the metrics go, and what the metrics listener serves (default: prom-client's global registry). */
  readonly registry?: Registry;
}

/** A running signaling service. */
export interface Signaling {
  /** The URL to open in a browser. */
  readonly httpUrl: string;
  /** The bound HTTP port. */
  readonly httpPort: number;
  /** The bound WebTransport (UDP) port. */
  readonly wtPort: number;
  /** `http://<host>:<port>/metrics` of the metrics listener, when `config.metrics` asked for one. */
  readonly metricsUrl: string | undefined;
  /** Base64 SHA-256 hashes `/config.json` lists now (none for a CA-issued configured certificate; two around a rotation). */
  readonly certificateHashes: readonly string[];
  /** Viewer sessions open now (the connections attached to them for coordinates not counted). */
  readonly sessionCount: number;
  /** QUIC connections the WebTransport server holds now. */
  readonly connectionCount: number;
  /** Closes every session (code `serverShutdown`), then both servers. Does not drain the bus. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the HTTP(S) and WebTransport servers; rejects (with nothing left listening) if either cannot start. */
export async function startSignaling(options: SignalingOptions): Promise<Signaling> {
  const config: SignalingConfig = { ...DEFAULT_SIGNALING_CONFIG, ...options.config };
  const { bus } = options;
  const log = options.log.child({ component: "signaling" });
  const certificate = config.tls ? await readCertificate(config.tls) : undefined;
  const configured = certificate && (await certificateFacts(certificate));
  const wtChoice = wtCertificateChoice(configured, config.wtCertificate);
  const rotator = wtChoice === "own" ? await CertificateRotator.create(config.wtCertValidityMs, log) : undefined;
  /** The certificate WebTransport presents now: signaling's own (rotating) or the configured one. */
  const wtCertificate = () => rotator?.presented ?? configured!;
  const certificateHashes = (): string[] => (rotator ? rotator.hashes() : wtChoice === "configured-hash" ? [configured!.hash] : []);
  const sessions = new Set<ViewerSession>();
  /** The sessions that hold a viewer's slot, by their page's address (an attached connection gives its slot back). */
  const slots = new Map<ViewerSession, string>();
  const perIp = new PerAddressCounter(config.maxSessionsPerIp);
  const registry = options.registry ?? defaultRegistry;
  const metrics = createSignalingMetrics(registry);
  let wt: WebTransportServer | undefined;
  let wtListening = false;

  const http = Bun.serve({
    hostname: config.httpHost,
    port: config.httpPort,
    ...(certificate ? { tls: { cert: certificate.certPem, key: certificate.keyPem } } : {}),
    fetch: withMiddleware(
      compose(
        [
          healthz(),
          readyz({ bus: () => !bus.closed, webtransport: () => wtListening, certificate: () => !expiresSoon(wtCertificate(), Date.now()) }),
          clientConfig((): ClientConfig => ({ wtPort: wt?.port ?? 0, wtPath: WT_PATH, certificateHashes: certificateHashes(), defaults: DEFAULT_SETTINGS })),
          staticFiles(config.webDist),
        ],
        log,
      ),
      [securityHeaders(() => wt?.port ?? 0)],
    ),
    error: () => new Response("internal error\n", { status: 500 }),
  });
  const scheme = certificate ? "https" : "http";
  const httpPort = http.port as number;

  /** Sessions' own emulated links by the page's address (their network setting), read by the server per packet. */
  const peerLinks = new Map<string, SessionLink>();
  const resumeTokens = new ResumeTokens(config.resumeSecret);
  const channelSubjects = new SharedSubscriptions(bus, log);
  try {
    wt = await createWebTransportServer({
      host: config.wtHost,
      port: config.wtPort,
      certificate: wtCertificate().pem,
      accept: admission(allowOrigins(config.allowedOrigins.length > 0 ? config.allowedOrigins : localOrigins(scheme, httpPort)), onPaths([WT_PATH])),
      limits: {
        idleTimeoutMs: config.wtIdleTimeoutMs,
        maxConnections: config.wtMaxConnections,
        maxConnectionsPerAddress: config.wtMaxConnectionsPerIp,
        handshakeTimeoutMs: config.wtHandshakeTimeoutMs,
      },
      addressValidation: config.wtRetry,
      log: options.log,
      onRefused: (reason) => metrics.reject("connection", REJECT_REASON[reason]),
      links: createLinkPair(config.net, metrics.net.observer),
      peerLinks,
    });
    metrics.net.inForce(config.net);
  } catch (err) {
    await http.stop(true);
    throw err;
  }
  const server = wt;
  let metricsServer: MetricsServer | undefined;
  try {
    metricsServer = config.metrics && serveMetrics({ ...config.metrics, registry, beforeScrape: () => metrics.quicConnections.set(server.connectionCount) });
  } catch (err) {
    await server.close();
    await http.stop(true);
    throw err;
  }
  const metricsUrl = config.metrics && metricsServer && `http://${displayHost(config.metrics.host)}:${metricsServer.port}/metrics`;
  wtListening = true;
  rotator?.start(server);
  const presented = wtCertificate();
  log.info({ wtCertificate: wtChoice, notAfter: new Date(presented.notAfterMs).toISOString(), hashes: certificateHashes().length }, "WebTransport certificate");
  if (expiresSoon(presented, Date.now())) log.warn({ notAfter: new Date(presented.notAfterMs).toISOString() }, "the configured certificate expires soon: /readyz fails until it is replaced");

  const newSessions = new TokenBucket(config.sessionRatePerS, SESSION_BURST_S * config.sessionRatePerS);
  const newSessionsPerIp = new PerAddressRate(config.sessionRatePerIpPerS, SESSION_BURST_S * config.sessionRatePerIpPerS);
  const refusalLog = new LogThrottle(1000);
  /** Why a new session from `host` is refused (counted reason, close reason), or null: admitted, its slot taken. */
  const refusal = (host: string): { reason: RejectReason; text: string } | null => {
    if (slots.size >= config.maxSessions) return { reason: "limit_exceeded", text: `the server is full (${config.maxSessions} sessions)` };
    if (perIp.full(host)) return { reason: "limit_exceeded", text: `too many sessions from your address (${config.maxSessionsPerIp})` };
    if (!newSessionsPerIp.take(host)) return { reason: "rate_limited", text: `too many new sessions from your address (over ${config.sessionRatePerIpPerS} a second)` };
    if (!newSessions.take()) return { reason: "rate_limited", text: `the server is starting too many sessions (over ${config.sessionRatePerS} a second)` };
    perIp.acquire(host);
    return null;
  };

  /** Gives a session's slot back (an attach took, or it ended). */
  const releaseSlot = (session: ViewerSession) => {
    const host = slots.get(session);
    if (host === undefined) return;
    slots.delete(session);
    perIp.release(host);
    metrics.activeSessions.set(slots.size);
  };
  const attach: CoordinatesAttach = {
    find: (sessionId) => [...sessions].find((s) => s.sessionId === sessionId),
    attached: releaseSlot,
  };

  const accepting = (async () => {
    const reader = server.sessions.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      const wtSession = next.value;
      const host = PerAddressCounter.hostOf(wtSession.remoteAddress);
      const refused = refusal(host);
      if (refused) {
        refusalLog.hit((suppressed) => log.warn({ remote: wtSession.remoteAddress, reason: refused.reason, suppressed }, `refusing a viewer: ${refused.text}`));
        metrics.reject("session", refused.reason);
        wtSession.close({ closeCode: CLOSE_CODES.limitExceeded, reason: refused.text });
        continue;
      }
      const session = new ViewerSession(wtSession, {
        bus,
        log,
        metrics,
        requestTimeoutMs: config.requestTimeoutMs,
        offerTimeoutMs: config.offerTimeoutMs,
        controlRatePerS: config.controlRatePerS,
        datagramRatePerS: config.datagramRatePerS,
        truthTimeoutMs: config.truthTimeoutMs,
        videoTimeoutMs: config.videoTimeoutMs,
        ...(config.generatorTakeoverMs > 0 ? { takeoverAfterMs: config.generatorTakeoverMs } : {}),
        ...(config.mediaTakeoverMs > 0 ? { mediaTakeoverAfterMs: config.mediaTakeoverMs } : {}),
        resumeTokens,
        channelSubjects,
        peerLinks,
        wtVideo: config.wtVideo,
        attach,
      });
      sessions.add(session);
      slots.set(session, host);
      metrics.activeSessions.set(slots.size);
      inBackground(log, "releasing a viewer session", session.done.then(() => {
        sessions.delete(session);
        releaseSlot(session);
      }));
    }
  })().catch((err) => log.error({ err }, "accepting WebTransport sessions failed"));

  const httpUrl = `${scheme}://${displayHost(config.httpHost)}:${httpPort}/`;
  log.info({ httpUrl, wtPort: server.port, metricsUrl, ...netLog(config.net) }, "signaling listening");

  let stopping: Promise<void> | undefined;
  return {
    httpUrl,
    httpPort,
    wtPort: server.port,
    metricsUrl,
    get certificateHashes() {
      return certificateHashes();
    },
    get sessionCount() {
      return slots.size;
    },
    get connectionCount() {
      return server.connectionCount;
    },
    stop: () =>
      (stopping ??= (async () => {
        wtListening = false;
        rotator?.stop();
        // resumable: the pages may take their sessions over on another replica (media and generator keep them meanwhile)
        await Promise.all([...sessions].map((s) => s.end(CLOSE_CODES.serverShutdown, "the server is shutting down", true)));
        await server.close();
        await accepting;
        await Promise.all([http.stop(true), metricsServer?.stop()]);
      })()),
  };
}

/** New-session rate limits allow bursts of this many seconds' worth of their rate (a page reload is one session). */
const SESSION_BURST_S = 5;

/** How each WebTransport refusal is counted in `messages_rejected_total{kind="connection"}`. */
const REJECT_REASON: Record<WebTransportRefusal, RejectReason> = {
  forbidden: "forbidden",
  not_found: "not_found",
  bad_request: "bad_request",
  too_many_sessions: "limit_exceeded",
  connection_limit: "limit_exceeded",
  address_connection_limit: "limit_exceeded",
  handshake_timeout: "idle_timeout",
  idle_timeout: "idle_timeout",
};

async function readCertificate(tls: NonNullable<SignalingConfig["tls"]>): Promise<CertificatePem> {
  const [certPem, keyPem] = await Promise.all([readFile(tls.certFile, "utf8"), readFile(tls.keyFile, "utf8")]);
  return { certPem, keyPem };
}

/**
 * The host to print in the URL: the address itself, `127.0.0.1` for the wildcards. Never `localhost`: Chromium
 * tries `::1` first for QUIC and does not fall back, so a page on `localhost` cannot reach a WebTransport server
 * bound to 127.0.0.1 (measured: `QUIC_PACKET_WRITE_ERROR`, -102).
 */
function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
