/**
 * Denial of service at the QUIC layer, on real sockets: Initial floods (Retry keeps no state for them), the
 * per-address connection cap, the handshake timeout, and the receive budget that stops reading a connection's
 * streams so QUIC flow control holds the peer back. A second loopback address (127.0.0.2) plays the attacker's
 * machine; every case ends with an honest client from 127.0.0.1 still served.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createLogger } from "@ballstream/runtime";
import { concatBytes } from "../../src/webtransport/bytes.ts";
import { H3_ERROR } from "../../src/webtransport/errors.ts";
import { FRAME_TYPE, encodeFrame, readFrame } from "../../src/webtransport/frames.ts";
import { SESSIONLESS_CLOSE_MS } from "../../src/webtransport/quiche-driver.ts";
import { type WebTransportLimits, type WebTransportRefusal, type WebTransportServer, type WebTransportSession, admission, allowOrigins, createWebTransportServer, onPaths } from "../../src/webtransport/mod.ts";
import { decodeFieldSection, encodeFieldSection, type HeaderField } from "../../src/webtransport/qpack.ts";
import { encodeSettings, serverSettings } from "../../src/webtransport/settings.ts";
import { encodeVarint } from "../../src/webtransport/varint.ts";
import { iterate } from "./iterate.ts";
import { ATTACKER_HOST, floodInitials, unfinishedHeaders } from "./attacks.ts";
import { type RawClient, connectRawClient, connectFields } from "./quic-client.ts";

const log = createLogger("wt-admission", { level: "silent", pretty: false });
const CONNECT: HeaderField[] = connectFields();

let server: WebTransportServer | undefined;
const clients: RawClient[] = [];
const refusals: WebTransportRefusal[] = [];

async function start(limits: Partial<WebTransportLimits> = {}): Promise<WebTransportServer> {
  server = await createWebTransportServer({
    host: "127.0.0.1",
    port: 0,
    accept: admission(allowOrigins(["http://127.0.0.1"]), onPaths(["/wt"])),
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

describe("admission at the QUIC layer", () => {
  test("1,000 Initials without a token each get a Retry and take no connection slot; a real client then connects", async () => {
    const s = await start();
    const flood = await floodInitials(s.port, 5000, 200);
    expect(flood.sent).toBe(1000);
    expect(flood.retries).toBeGreaterThan(900);
    expect(flood.others).toBe(0);
    expect(s.connectionCount).toBe(0);
    expect(await connect(await connected(s.port))).toBe("200");
  });

  test("a client IP holds at most maxConnectionsPerAddress connections; others and freed slots are served", async () => {
    const s = await start({ maxConnectionsPerAddress: 2 });
    const first = await connected(s.port, ATTACKER_HOST);
    await connected(s.port, ATTACKER_HOST);
    await expect(connectRawClient(s.port, ATTACKER_HOST, 1000)).rejects.toThrow("handshake failed");
    expect(refusals).toContain("address_connection_limit");
    expect(await connect(await connected(s.port))).toBe("200");
    first.close();
    await first.until(() => s.connectionCount === 2, 5000);
    expect(await connect(await connected(s.port, ATTACKER_HOST))).toBe("200");
  });

  test("a connection without a CONNECT within handshakeTimeoutMs is dropped; one that sent it in time stays", async () => {
    const s = await start({ handshakeTimeoutMs: 300 });
    const silent = await connected(s.port, ATTACKER_HOST);
    const honest = await connected(s.port);
    expect(await connect(honest)).toBe("200");
    await silent.until(() => s.connectionCount === 1, 3000);
    expect(refusals).toEqual(["handshake_timeout"]);
    await Bun.sleep(400);
    expect(honest.conn.isClosed()).toBe(false);
    expect(s.connectionCount).toBe(1);
  });

  test("a connection whose last session the server closed is closed SESSIONLESS_CLOSE_MS later (H3_NO_ERROR); a new CONNECT in time keeps it; one whose session the client ended stays", async () => {
    const sessions: WebTransportSession[] = [];
    const s = (server = await createWebTransportServer({ host: "127.0.0.1", port: 0, accept: admission(allowOrigins(["http://127.0.0.1"]), onPaths(["/wt"])), log, onRefused: (r) => refusals.push(r) }));
    void (async () => {
      for await (const session of iterate(s.sessions)) sessions.push(session);
    })();
    const [done, again, peer] = [await connected(s.port), await connected(s.port), await connected(s.port)];
    for (const [i, client] of [done, again, peer].entries()) {
      expect(await connect(client)).toBe("200");
      await client.until(() => sessions.length === i + 1, 3000);
    }
    sessions[0]!.close({ closeCode: 7, reason: "not now" });
    sessions[1]!.close({ closeCode: 7, reason: "not now" });
    for (const client of [done, again]) {
      await client.until(() => client.read(0).fin, 3000); // the close capsule and FIN
      client.send(0, new Uint8Array(0), true); // the peer finishes its side, as Chromium does
    }
    peer.send(0, new Uint8Array(0), true); // this one the client ends itself: the connection is its own to reuse
    await peer.until(() => peer.read(0).fin, 3000);
    await Bun.sleep(SESSIONLESS_CLOSE_MS / 2);
    again.send(4, encodeFrame(FRAME_TYPE.headers, encodeFieldSection(CONNECT)), false);
    const ended = performance.now();
    await done.until(() => done.conn.isClosed() || done.conn.isDraining(), SESSIONLESS_CLOSE_MS + 2000);
    expect(performance.now() - ended).toBeGreaterThanOrEqual(SESSIONLESS_CLOSE_MS / 2 - 50);
    expect(done.conn.peerError()).toMatchObject({ isApp: true, errorCode: H3_ERROR.noError });
    await Bun.sleep(SESSIONLESS_CLOSE_MS);
    for (const open of [again, peer]) expect(open.conn.isClosed() || open.conn.isDraining()).toBe(false);
    expect(s.connectionCount).toBe(2);
    expect(refusals).toEqual([]);
  });

  test("unfinished HEADERS on 200 streams: the server stops reading at its budget, flow control holds the rest back", async () => {
    const budget = 256 * 1024;
    const s = await start({ receiveBudgetBytes: budget });
    const { clients: attackers, accepted } = await unfinishedHeaders(s.port, 1, 200, 4000);
    clients.push(...attackers);
    // Without the budget the server read everything offered (measured: all 11.8 MB with a 64 MiB budget); now
    // the connection window (2 MiB) plus the budget is all a peer can make the server hold.
    expect(accepted).toBeLessThan(2 * 1024 * 1024 + budget + 64 * 1024);
    expect(await connect(await connected(s.port))).toBe("200");
  });
});
