/**
 * The server: one UDP socket (Bun), quiche configuration, the table of connections by connection id, and the
 * stream of accepted sessions.
 */
import type { Host } from "@matrixai/quic/native/index.js";
import { quiche } from "@matrixai/quic/native/index.js";
import { certificateHashes, generateSelfSignedCertificate } from "./cert.ts";
import { type ConnectionContext, Http3Connection } from "./connection.ts";
import { resolveLimits } from "./limits.ts";
import type { Session } from "./session.ts";
import type { CertificatePem, WebTransportLimits, WebTransportServer, WebTransportServerOptions, WebTransportSession } from "./types.ts";

/** How long `close()` waits for peers to finish closed sessions. */
const CLOSE_GRACE_MS = 1000;
/**
 * How long `close()` then lets connections drain. CONNECTION_CLOSE leaves at once; quiche's draining period
 * (3 PTO) only absorbs late packets, so waiting it out in full made SIGTERM with 10 sessions take ~2 s.
 */
const DRAIN_GRACE_MS = 250;
/** Flow-control windows: per stream and per connection (quiche grows them up to its maxima). */
const STREAM_WINDOW = 1024 * 1024;
const CONNECTION_WINDOW = 16 * 1024 * 1024;

/** Binds a UDP socket and serves HTTP/3 WebTransport on it; resolves once the socket is bound. */
export async function createWebTransportServer(options: WebTransportServerOptions): Promise<WebTransportServer> {
  const limits = resolveLimits(options.limits);
  const certificate = options.certificate ?? (await generateSelfSignedCertificate());
  const hashes = await certificateHashes(certificate.certPem);
  const config = quicheConfig(certificate, limits);
  const log = options.log.child({ component: "webtransport" });
  const connections = new Map<string, Http3Connection>();
  const idsOf = new Map<Http3Connection, string[]>();
  let sessionsController!: ReadableStreamDefaultController<WebTransportSession>;
  const sessions = new ReadableStream<WebTransportSession>({ start: (c) => void (sessionsController = c) });
  let closing = false;

  const socket = await Bun.udpSocket({
    hostname: options.host,
    port: options.port,
    socket: {
      data: (_socket, data, port, address) => receive(data, { host: address, port }),
      // Without this handler an ICMP port-unreachable (ECONNREFUSED) would crash the process.
      error: (_socket, error) => log.debug({ err: String(error?.message ?? error) }, "UDP socket error (ignored)"),
    },
  });
  const local: Host = { host: options.host, port: socket.port };

  const context: ConnectionContext = {
    limits,
    allowedOrigins: options.allowedOrigins,
    paths: options.paths,
    log,
    sendPacket: (packet, to) => {
      if (socket.closed) return;
      try {
        socket.send(packet, to.port, to.host);
      } catch (error) {
        log.debug({ err: (error as Error).message }, "UDP send failed"); // e.g. ECONNREFUSED after ICMP; QUIC retransmits
      }
    },
    sessionAccepted: (session: Session) => {
      if (closing) session.close({ closeCode: 0, reason: "server closing" });
      else sessionsController.enqueue(session);
    },
    refused: (reason) => options.onRefused?.(reason),
    connectionClosed: (connection) => {
      for (const id of idsOf.get(connection) ?? []) connections.delete(id);
      idsOf.delete(connection);
    },
  };

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
    if (idsOf.size >= limits.maxConnections) {
      log.warn({ from, max: limits.maxConnections }, "connection limit reached: handshake ignored");
      context.refused("connection_limit");
      return;
    }
    const scid = crypto.getRandomValues(new Uint8Array(quiche.MAX_CONN_ID_LEN));
    let connection: Http3Connection;
    try {
      connection = new Http3Connection(quiche.Connection.accept(scid, null, local, from, config), local, from, context);
    } catch (error) {
      log.debug({ err: (error as Error).message }, "quiche refused a handshake");
      return;
    }
    const ids = [connectionKey(scid), connectionKey(header.dcid)];
    for (const id of ids) connections.set(id, connection);
    idsOf.set(connection, ids);
    connection.receive(data, from);
  }

  log.info({ host: options.host, port: socket.port }, "WebTransport server listening");
  return {
    port: socket.port,
    get connectionCount() {
      return idsOf.size;
    },
    certificateHashes: hashes,
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

function connectionKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString("hex");
}
