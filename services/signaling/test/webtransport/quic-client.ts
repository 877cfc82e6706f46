/**
 * Test helper: a raw QUIC client on the quiche binding, to put bytes on the wire that no browser would send
 * (malformed frames, bad QPACK, oversized headers, garbage datagrams) and observe how the server answers.
 */
import type { Connection, Host } from "@matrixai/quic/native/index.js";
import { quiche } from "@matrixai/quic/native/index.js";

/** A handshaken client connection; drive it with {@link RawClient.send} and inspect the result. */
export interface RawClient {
  readonly conn: Connection;
  /** Writes bytes on a stream (opening it) and flushes. */
  send(streamId: number, data: Uint8Array, fin: boolean): void;
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

/** Connects to a server on 127.0.0.1:`port` with ALPN h3, not verifying its certificate. */
export async function connectRawClient(port: number): Promise<RawClient> {
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
  const remote: Host = { host: "127.0.0.1", port };
  const received = new Map<number, { chunks: number[]; fin: boolean; resetCode: number | null }>();
  const buffer = new Uint8Array(65536);
  let conn!: Connection;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let abandoned = false;
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
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
  const local: Host = { host: "127.0.0.1", port: socket.port };
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
      if (!socket.closed) socket.send(out.subarray(0, sent[0]), sent[1].to.port, sent[1].to.host);
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
  await client.until(() => conn.isEstablished() || conn.isClosed());
  if (!conn.isEstablished()) throw new Error("handshake failed");
  return client;
}
