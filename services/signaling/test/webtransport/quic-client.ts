/**
 * Test helper: a raw QUIC client on the quiche binding, to put bytes on the wire that no browser would send
 * (malformed frames, bad QPACK, oversized headers, garbage datagrams) and observe how the server answers.
 */
import type { Connection, Host } from "@matrixai/quic/native/index.js";
import { quiche } from "@matrixai/quic/native/index.js";
import type { HeaderField } from "../../src/webtransport/qpack.ts";

/** A handshaken client connection; drive it with {@link RawClient.send} and inspect the result. */
export interface RawClient {
  readonly conn: Connection;
  /** Writes bytes on a stream (opening it) and flushes. */
  send(streamId: number, data: Uint8Array, fin: boolean): void;
  /** Writes as much of `data` as the server's flow control allows now, flushes, and returns how much that was. */
  offer(streamId: number, data: Uint8Array): number;
  /** Sends one QUIC DATAGRAM frame. */
  datagram(data: Uint8Array): void;
  /** Reads what the server wrote on a stream so far: bytes, whether it ended, and its reset code if any. */
  read(streamId: number): { bytes: Uint8Array; fin: boolean; resetCode: number | null };
  /** Waits until `condition` holds (polling the connection), or throws after `timeoutMs`. */
  until(condition: () => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
  /** Goes silent without telling the server, as a cut network would: timers stopped, socket closed. */
  abandon(): void;
}

/** A client configuration: ALPN h3, certificate not verified, generous limits of its own. */
function clientConfig() {
  const config = quiche.Config.withBoringSslCtx(false, false, null, null, null, null);
  config.setApplicationProtos(["h3"]);
  config.setMaxIdleTimeout(10_000);
  config.setInitialMaxData(10_000_000);
  config.setInitialMaxStreamDataBidiLocal(1_000_000);
  config.setInitialMaxStreamDataBidiRemote(1_000_000);
  config.setInitialMaxStreamDataUni(1_000_000);
  config.setInitialMaxStreamsBidi(100);
  config.setInitialMaxStreamsUni(100);
  config.enableDgram(true, 100, 100);
  return config;
}

/**
 * The first packet (a client Initial) of a fresh connection attempt to 127.0.0.1:`port` from `local`: what a
 * handshake flood sends, one new connection id each.
 */
export function clientInitial(port: number, local: Host): Uint8Array {
  const conn = quiche.Connection.connect("localhost", crypto.getRandomValues(new Uint8Array(20)), local, { host: "127.0.0.1", port }, clientConfig());
  const out = new Uint8Array(quiche.MAX_DATAGRAM_SIZE);
  const sent = conn.send(out);
  if (!sent) throw new Error("quiche produced no Initial");
  return out.slice(0, sent[0]);
}

/**
 * Connects to a server on 127.0.0.1:`port` with ALPN h3, not verifying its certificate, from `localHost` (another
 * loopback address such as 127.0.0.2 plays a second client machine). Throws if the handshake does not finish
 * within `timeoutMs`.
 */
export async function connectRawClient(port: number, localHost = "127.0.0.1", timeoutMs = 5000): Promise<RawClient> {
  const config = clientConfig();
  const remote: Host = { host: "127.0.0.1", port };
  const received = new Map<number, { chunks: number[]; fin: boolean; resetCode: number | null }>();
  const buffer = new Uint8Array(65536);
  let conn!: Connection;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let abandoned = false;
  const socket = await Bun.udpSocket({
    hostname: localHost,
    port: 0,
    socket: {
      data: (_s, data) => {
        try {
          conn.recv(data, { from: remote, to: local });
        } catch {
          // ignore undecryptable packets
        }
        drain();
        flush();
      },
      error: () => {},
    },
  });
  const local: Host = { host: localHost, port: socket.port };
  conn = quiche.Connection.connect("localhost", crypto.getRandomValues(new Uint8Array(20)), local, remote, config);

  function drain(): void {
    for (const id of [...conn.readable()]) {
      const state = received.get(id) ?? { chunks: [], fin: false, resetCode: null };
      received.set(id, state);
      for (;;) {
        try {
          const result = conn.streamRecv(id, buffer);
          if (!result) break;
          state.chunks.push(...buffer.subarray(0, result[0]));
          if (result[1]) state.fin = true;
        } catch (error) {
          const match = /StreamReset\((\d+)\)/.exec((error as Error).message);
          if (match) state.resetCode = Number(match[1]);
          break;
        }
      }
    }
  }

  function flush(): void {
    const out = new Uint8Array(quiche.MAX_DATAGRAM_SIZE);
    for (;;) {
      let sent: ReturnType<Connection["send"]>;
      try {
        sent = conn.send(out);
      } catch {
        break;
      }
      if (!sent) break;
      try {
        if (!socket.closed) socket.send(out.subarray(0, sent[0]), sent[1].to.port, sent[1].to.host);
      } catch {
        // ECONNREFUSED after an ICMP unreachable: the server is gone; QUIC's own timers end the connection
      }
    }
    clearTimeout(timer);
    const timeout = conn.timeout();
    if (timeout !== null && !conn.isClosed() && !abandoned) {
      timer = setTimeout(() => {
        conn.onTimeout();
        flush();
      }, Math.ceil(timeout));
    }
  }

  const client: RawClient = {
    conn,
    send(streamId, data, fin) {
      conn.streamSend(streamId, data, fin);
      flush();
    },
    offer(streamId, data) {
      let taken: number | null;
      try {
        taken = conn.streamSend(streamId, data, false);
      } catch {
        taken = null; // stream blocked or stopped
      }
      flush();
      return taken ?? 0;
    },
    datagram(data) {
      conn.dgramSend(data);
      flush();
    },
    read(streamId) {
      drain();
      const state = received.get(streamId) ?? { chunks: [], fin: false, resetCode: null };
      return { bytes: Uint8Array.from(state.chunks), fin: state.fin, resetCode: state.resetCode };
    },
    async until(condition, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error("condition not met in time");
        await Bun.sleep(5);
      }
    },
    close() {
      clearTimeout(timer);
      try {
        conn.close(true, 0x100, new Uint8Array(0));
        flush();
      } catch {
        // already closed
      }
      clearTimeout(timer);
      socket.close();
    },
    abandon() {
      abandoned = true;
      clearTimeout(timer);
      socket.close();
    },
  };
  flush();
  try {
    await client.until(() => conn.isEstablished() || conn.isClosed(), timeoutMs);
  } catch {
    // reported below
  }
  if (!conn.isEstablished()) {
    client.close();
    throw new Error("handshake failed");
  }
  return client;
}

/** The header fields of a browser's WebTransport CONNECT (Chromium's, without its optional extra headers). */
export function connectFields(origin = "http://127.0.0.1", path = "/wt", authority = "127.0.0.1"): HeaderField[] {
  return [
    [":method", "CONNECT"],
    [":protocol", "webtransport"],
    [":scheme", "https"],
    [":authority", authority],
    [":path", path],
    ["origin", origin],
  ];
}
