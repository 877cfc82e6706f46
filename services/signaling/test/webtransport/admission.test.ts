/**
 * Denial of service at the QUIC layer, on real sockets: Initial floods (Retry keeps no state for them), the
 * per-address connection cap, the handshake timeout, and the receive budget that stops reading a connection's
 * streams so QUIC flow control holds the peer back. A second loopback address (127.0.0.2) plays the attacker's
 * machine; every case ends with an honest client from 127.0.0.1 still served.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createLogger } from "@ballstream/shared";
import { concatBytes } from "../../src/webtransport/bytes.ts";
import { FRAME_TYPE, encodeFrame, readFrame } from "../../src/webtransport/frames.ts";
import { type WebTransportLimits, type WebTransportRefusal, type WebTransportServer, createWebTransportServer } from "../../src/webtransport/mod.ts";
import { decodeFieldSection, encodeFieldSection, type HeaderField } from "../../src/webtransport/qpack.ts";
import { encodeSettings, serverSettings } from "../../src/webtransport/settings.ts";
import { encodeVarint } from "../../src/webtransport/varint.ts";
import { iterate } from "./iterate.ts";
import { type RawClient, clientInitial, connectRawClient } from "./quic-client.ts";

const log = createLogger("wt-admission", { level: "silent", pretty: false });
const ATTACKER = "127.0.0.2";
const CONNECT: HeaderField[] = [
  [":method", "CONNECT"],
  [":protocol", "webtransport"],
  [":scheme", "https"],
  [":authority", "127.0.0.1"],
  [":path", "/wt"],
  ["origin", "http://127.0.0.1"],
];

let server: WebTransportServer | undefined;
const clients: RawClient[] = [];
const refusals: WebTransportRefusal[] = [];

async function start(limits: Partial<WebTransportLimits> = {}): Promise<WebTransportServer> {
  server = await createWebTransportServer({
    host: "127.0.0.1",
    port: 0,
    allowedOrigins: ["http://127.0.0.1"],
    paths: ["/wt"],
    limits,
    log,
    onRefused: (reason) => refusals.push(reason),
  });
  void (async () => {
    for await (const session of iterate(server!.sessions)) void session;
  })();
  return server;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  refusals.length = 0;
  await server?.close();
  server = undefined;
});

async function connected(port: number, from = "127.0.0.1", timeoutMs = 5000): Promise<RawClient> {
  const client = await connectRawClient(port, from, timeoutMs);
  clients.push(client);
  return client;
}

/** Opens the HTTP/3 control stream and sends a CONNECT on stream 0; resolves to the `:status`. */
async function connect(client: RawClient): Promise<string> {
  client.send(2, concatBytes(encodeVarint(0x00), encodeFrame(FRAME_TYPE.settings, encodeSettings(serverSettings(65536)))), false);
  client.send(0, encodeFrame(FRAME_TYPE.headers, encodeFieldSection(CONNECT)), false);
  await client.until(() => readFrame(client.read(0).bytes, 0, 65536) !== null);
  const frame = readFrame(client.read(0).bytes, 0, 65536)!;
  return decodeFieldSection(frame.frame.payload, 65536).find(([name]) => name === ":status")![1];
}

/** Packets from the server to a bare UDP socket of the attacker: what came back for its Initials. */
async function attackerSocket() {
  const received: Uint8Array[] = [];
  const socket = await Bun.udpSocket({ hostname: ATTACKER, port: 0, socket: { data: (_s, data) => void received.push(data.slice()), error: () => {} } });
  return { socket, received, local: { host: ATTACKER, port: socket.port } };
}

describe("admission at the QUIC layer", () => {
  test("1,000 Initials without a token each get a Retry and take no connection slot; a real client then connects", async () => {
    const s = await start();
    const attacker = await attackerSocket();
    for (let i = 0; i < 1000; i++) {
      attacker.socket.send(clientInitial(s.port, attacker.local), s.port, "127.0.0.1");
      if (i % 100 === 99) await Bun.sleep(1);
    }
    await Bun.sleep(200);
    // Long header, type Retry (RFC 9000 §17.2.5: first byte 0b1111xxxx).
    const retries = attacker.received.filter((packet) => (packet[0]! & 0xf0) === 0xf0).length;
    expect(retries).toBeGreaterThan(900);
    expect(s.connectionCount).toBe(0);
    attacker.socket.close();
    expect(await connect(await connected(s.port))).toBe("200");
  });

  test("a client IP holds at most maxConnectionsPerAddress connections; others and freed slots are served", async () => {
    const s = await start({ maxConnectionsPerAddress: 2 });
    const first = await connected(s.port, ATTACKER);
    await connected(s.port, ATTACKER);
    await expect(connectRawClient(s.port, ATTACKER, 1000)).rejects.toThrow("handshake failed");
    expect(refusals).toContain("address_connection_limit");
    expect(await connect(await connected(s.port))).toBe("200");
    first.close();
    await first.until(() => s.connectionCount === 2, 5000);
    expect(await connect(await connected(s.port, ATTACKER))).toBe("200");
  });

  test("a connection without a CONNECT within handshakeTimeoutMs is dropped; one that sent it in time stays", async () => {
    const s = await start({ handshakeTimeoutMs: 300 });
    const silent = await connected(s.port, ATTACKER);
    const honest = await connected(s.port);
    expect(await connect(honest)).toBe("200");
    await silent.until(() => s.connectionCount === 1, 3000);
    expect(refusals).toEqual(["handshake_timeout"]);
    await Bun.sleep(400);
    expect(honest.conn.isClosed()).toBe(false);
    expect(s.connectionCount).toBe(1);
  });

  test("unfinished HEADERS on 200 streams: the server stops reading at its budget, flow control holds the rest back", async () => {
    const budget = 256 * 1024;
    const s = await start({ receiveBudgetBytes: budget });
    const attacker = await connected(s.port, ATTACKER);
    const streams = Array.from({ length: 200 }, (_, i) => 4 * i);
    const opening = concatBytes(encodeVarint(FRAME_TYPE.headers), encodeVarint(60_000)); // declares 60,000 bytes, sends fewer
    let accepted = 0;
    for (const id of streams) accepted += attacker.offer(id, opening);
    const sent = new Map(streams.map((id) => [id, 0]));
    const deadline = Date.now() + 4000;
    let lastProgress = Date.now();
    for (let round = 0; round < 400 && Date.now() < deadline && Date.now() - lastProgress < 500; round++) {
      for (const id of streams) {
        const taken = attacker.offer(id, new Uint8Array(59_000 - sent.get(id)!));
        sent.set(id, sent.get(id)! + taken);
        accepted += taken;
        if (taken > 0) lastProgress = Date.now();
      }
      await Bun.sleep(5);
    }
    // Without the budget the server read everything offered (measured: all 11.8 MB with a 64 MiB budget); now
    // the connection window (2 MiB) plus the budget is all a peer can make the server hold.
    expect(accepted).toBeLessThan(2 * 1024 * 1024 + budget + 64 * 1024);
    expect(await connect(await connected(s.port))).toBe("200");
  });
});
