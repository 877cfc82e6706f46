/**
 * The server: one UDP socket (Bun), quiche configuration, the table of connections by connection id, and the
 * stream of accepted sessions.
 */
import { LogThrottle, type SessionLink, closeLinkPair, throughLink } from "@ballstream/runtime";
import type { Host } from "@matrixai/quic/native/index.js";
import { quiche } from "@matrixai/quic/native/index.js";
import { certificateHashes, generateSelfSignedCertificate } from "./cert.ts";
import { maxSessionsPerConnection } from "./admission.ts";
import { type ConnectionContext, QuicheDriver, addressOf } from "./quiche-driver.ts";
import { PerAddressCounter } from "../rate-limit.ts";
import { resolveLimits } from "./limits.ts";
import { mintRetryToken, newRetryKey, openRetryToken } from "./retry-token.ts";
import type { Session } from "./session.ts";
import type { CertificatePem, WebTransportLimits, WebTransportServer, WebTransportServerOptions, WebTransportSession } from "./types.ts";

/** How long `close()` waits for peers to finish closed sessions. */
const CLOSE_GRACE_MS = 1000;
/**
 * How long `close()` then lets connections drain. CONNECTION_CLOSE leaves at once; quiche's draining period
 * (3 PTO) only absorbs late packets, so waiting it out in full made SIGTERM with 10 sessions take ~2 s.
 */
const DRAIN_GRACE_MS = 250;
/**
 * Flow-control windows, per stream and per connection, fixed (quiche's auto-tuning would grow them to 16/24 MiB):
 * they bound what a peer can make quiche hold for streams the server does not read. Pages send only small control
 * messages; a 4 MiB echo still runs at loopback speed.
 */
const STREAM_WINDOW = 256 * 1024;
const CONNECTION_WINDOW = 2 * 1024 * 1024;
/** How long a Retry token is accepted after it was minted: a handshake round trip with room for slow links. */
const RETRY_TOKEN_MAX_AGE_MS = 10_000;

/** Binds a UDP socket and serves HTTP/3 WebTransport on it; resolves once the socket is bound. */
export async function createWebTransportServer(options: WebTransportServerOptions): Promise<WebTransportServer> {
  const limits = resolveLimits(options.limits);
  const certificate = options.certificate ?? (await generateSelfSignedCertificate());
  let hashes = await certificateHashes(certificate.certPem);
  let config = quicheConfig(certificate, limits);
  const log = options.log.child({ component: "webtransport" });
  const connections = new Map<string, QuicheDriver>();
  const idsOf = new Map<QuicheDriver, string[]>();
  const perAddress = new PerAddressCounter(limits.maxConnectionsPerAddress);
  const addressValidation = options.addressValidation ?? true;
  const retryKey = newRetryKey();
  let sessionsController!: ReadableStreamDefaultController<WebTransportSession>;
  const sessions = new ReadableStream<WebTransportSession>({ start: (c) => void (sessionsController = c) });
  let closing = false;

  const links = options.links ?? {};
  const peerLinks = options.peerLinks;
  /** After the socket's link, a peer's own (its session's network setting), when it has one. */
  const fromPeer =
    peerLinks === undefined
      ? receive
      : (data: Uint8Array, from: Host) => {
          const link = peerLinks.size === 0 ? undefined : peerLinks.get(addressOf(from));
          if (link === undefined) receive(data, from);
          else link.ingress.pass(data, (copy) => receive(copy, from));
        };
  const received = throughLink(links.ingress, fromPeer);
  const socket = await Bun.udpSocket({
    hostname: options.host,
    port: options.port,
    socket: {
      data: (_socket, data, port, address) => received(data, { host: address, port }),
      // Without this handler an ICMP port-unreachable (ECONNREFUSED) would crash the process.
      error: (_socket, error) => log.debug({ err: String(error?.message ?? error) }, "UDP socket error (ignored)"),
    },
  });
  const local: Host = { host: options.host, port: socket.port };

  // The per-connection session cap is a resource limit of this layer: it runs before the application's policy.
  const perConnection = maxSessionsPerConnection(limits.maxSessionsPerConnection);
  const context: ConnectionContext = {
    limits,
    accept: (request) => perConnection(request) ?? options.accept(request),
    log,
    sendPacket: toPeer(peerLinks, throughLink(links.egress, (packet: Uint8Array, to: Host) => {
      if (socket.closed) return;
      try {
        socket.send(packet, to.port, to.host);
      } catch (error) {
        log.debug({ err: (error as Error).message }, "UDP send failed"); // e.g. ECONNREFUSED after ICMP; QUIC retransmits
      }
    })),
    sessionAccepted: (session: Session) => {
      if (closing) session.close({ closeCode: 0, reason: "server closing" });
      else sessionsController.enqueue(session);
    },
    refused: (reason) => options.onRefused?.(reason),
    connectionClosed: (connection) => {
      const ids = idsOf.get(connection);
      if (!ids) return;
      for (const id of ids) connections.delete(id);
      idsOf.delete(connection);
      perAddress.release(connection.remoteHost);
    },
  };

  /** Refusals of handshakes are logged at most once a second each (a flood used to write one warn line per Initial). */
  const throttles = { full: new LogThrottle(1000), address: new LogThrottle(1000), token: new LogThrottle(1000) };

  function receive(data: Uint8Array, from: Host): void {
    let header: ReturnType<typeof quiche.Header.fromSlice>;
    try {
      header = quiche.Header.fromSlice(data, quiche.MAX_CONN_ID_LEN);
    } catch {
      return; // not QUIC
    }
    const existing = connections.get(connectionKey(header.dcid));
    if (existing) {
      existing.receive(data, from);
      return;
    }
    if (closing || header.ty !== quiche.Type.Initial) return;
    if (!quiche.versionIsSupported(header.version)) {
      const out = new Uint8Array(quiche.MAX_DATAGRAM_SIZE);
      const length = quiche.negotiateVersion(header.scid, header.dcid, out);
      context.sendPacket(out.subarray(0, length), from);
      return;
    }
    if (!admit(from)) return;
    let scid: Uint8Array;
    let odcid: Uint8Array | null = null;
    if (addressValidation) {
      if (!header.token || header.token.length === 0) {
        sendRetry(header, from);
        return;
      }
      odcid = openRetryToken(retryKey, header.token, hostPort(from), Date.now(), RETRY_TOKEN_MAX_AGE_MS);
      if (!odcid || header.dcid.length !== quiche.MAX_CONN_ID_LEN) {
        throttles.token.hit((suppressed) => log.warn({ from: hostPort(from), suppressed }, "Initial with an invalid Retry token ignored"));
        context.refused("bad_request");
        return;
      }
      scid = header.dcid; // the id our Retry gave the client
    } else {
      scid = crypto.getRandomValues(new Uint8Array(quiche.MAX_CONN_ID_LEN));
    }
    let connection: QuicheDriver;
    try {
      connection = new QuicheDriver(quiche.Connection.accept(scid, odcid, local, from, config), local, from, context);
    } catch (error) {
      log.debug({ err: (error as Error).message }, "quiche refused a handshake");
      return;
    }
    const ids = [...new Set([connectionKey(scid), connectionKey(header.dcid)])];
    for (const id of ids) connections.set(id, connection);
    idsOf.set(connection, ids);
    perAddress.acquire(from.host);
    connection.receive(data, from);
  }

  /** Whether a new connection from `from` fits the global and per-address caps; counts and logs refusals. */
  function admit(from: Host): boolean {
    if (idsOf.size >= limits.maxConnections) {
      throttles.full.hit((suppressed) => log.warn({ from: hostPort(from), max: limits.maxConnections, suppressed }, "connection limit reached: handshake ignored"));
      context.refused("connection_limit");
      return false;
    }
    if (perAddress.full(from.host)) {
      throttles.address.hit((suppressed) =>
        log.warn({ from: hostPort(from), max: limits.maxConnectionsPerAddress, suppressed }, "per-address connection limit reached: handshake ignored"),
      );
      context.refused("address_connection_limit");
      return false;
    }
    return true;
  }

  /** Answers an Initial without a token with a Retry whose token proves, when it comes back, the client's address. */
  function sendRetry(header: ReturnType<typeof quiche.Header.fromSlice>, from: Host): void {
    const newScid = crypto.getRandomValues(new Uint8Array(quiche.MAX_CONN_ID_LEN));
    const token = mintRetryToken(retryKey, hostPort(from), header.dcid, Date.now());
    const out = new Uint8Array(quiche.MAX_DATAGRAM_SIZE);
    let length: number;
    try {
      length = quiche.retry(header.scid, header.dcid, newScid, token, header.version, out);
    } catch (error) {
      log.debug({ err: (error as Error).message }, "Retry not built");
      return;
    }
    context.sendPacket(out.subarray(0, length), from);
  }

  log.info({ host: options.host, port: socket.port }, "WebTransport server listening");
  return {
    port: socket.port,
    get connectionCount() {
      return idsOf.size;
    },
    get certificateHashes() {
      return hashes;
    },
    async setCertificate(next: CertificatePem) {
      const nextHashes = await certificateHashes(next.certPem);
      config = quicheConfig(next, limits); // throws on a bad pair: the old one stays
      hashes = nextHashes;
      log.info("WebTransport certificate replaced for new connections");
    },
    sessions,
    async close() {
      if (closing) return;
      closing = true;
      // Close capsules first, and give the peers a moment to finish their side, so pages see a clean close.
      for (const connection of idsOf.keys()) connection.closeSessions("server closing");
      await until(() => ![...idsOf.keys()].some((connection) => connection.hasOpenRequests), CLOSE_GRACE_MS / 2);
      for (const connection of idsOf.keys()) connection.close("server closing");
      await until(() => idsOf.size === 0, DRAIN_GRACE_MS);
      for (const connection of [...idsOf.keys()]) context.connectionClosed(connection);
      closeLinkPair(links);
      socket.close();
      sessionsController.close();
      log.info("WebTransport server closed");
    },
  };
}

function quicheConfig(certificate: CertificatePem, limits: WebTransportLimits) {
  const encoder = new TextEncoder();
  const config = quiche.Config.withBoringSslCtx(false, false, null, [encoder.encode(certificate.keyPem)], [encoder.encode(certificate.certPem)], null);
  config.setApplicationProtos(["h3"]);
  config.setMaxIdleTimeout(limits.idleTimeoutMs);
  config.setMaxRecvUdpPayloadSize(quiche.MAX_DATAGRAM_SIZE);
  config.setMaxSendUdpPayloadSize(quiche.MAX_DATAGRAM_SIZE);
  config.setInitialMaxData(CONNECTION_WINDOW);
  config.setInitialMaxStreamDataBidiLocal(STREAM_WINDOW);
  config.setInitialMaxStreamDataBidiRemote(STREAM_WINDOW);
  config.setInitialMaxStreamDataUni(STREAM_WINDOW);
  config.setMaxStreamWindow(STREAM_WINDOW);
  config.setMaxConnectionWindow(CONNECTION_WINDOW);
  const streamsPerConnection = limits.maxSessionsPerConnection * (limits.maxStreamsPerSession + 1);
  config.setInitialMaxStreamsBidi(streamsPerConnection);
  config.setInitialMaxStreamsUni(streamsPerConnection + 3);
  config.setDisableActiveMigration(true);
  config.enableDgram(true, 1024, 1024);
  config.grease(false);
  return config;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await Bun.sleep(5);
}

/** `send` behind each peer's own link (its session's network setting) when it has one, before the socket's link. */
function toPeer(peerLinks: ReadonlyMap<string, SessionLink> | undefined, send: (packet: Uint8Array, to: Host) => void): (packet: Uint8Array, to: Host) => void {
  if (peerLinks === undefined) return send;
  return (packet, to) => {
    const link = peerLinks.size === 0 ? undefined : peerLinks.get(addressOf(to));
    if (link === undefined) send(packet, to);
    else link.egress.pass(packet, (copy) => send(copy, to));
  };
}

/** `host:port` of a peer, as bound into its Retry token. */
function hostPort(host: Host): string {
  return `${host.host}:${host.port}`;
}

function connectionKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString("hex");
}
