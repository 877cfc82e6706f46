/**
 * Bad input on the wire, from a raw QUIC client: each case ends with an HTTP/3 or WebTransport error on the
 * connection, session or stream at fault, while another client's session on the same server carries on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLogger } from "@ballstream/runtime";
import { concatBytes } from "../../src/webtransport/bytes.ts";
import { encodeCapsule } from "../../src/webtransport/capsule.ts";
import { H3_ERROR } from "../../src/webtransport/errors.ts";
import { FRAME_TYPE, encodeFrame, readFrame } from "../../src/webtransport/frames.ts";
import { admission, allowOrigins, createWebTransportServer, onPaths, type WebTransportServer, type WebTransportSession } from "../../src/webtransport/mod.ts";
import { decodeFieldSection, encodeFieldSection, type HeaderField } from "../../src/webtransport/qpack.ts";
import { encodeSettings, serverSettings } from "../../src/webtransport/settings.ts";
import { encodeVarint } from "../../src/webtransport/varint.ts";
import { iterate } from "./iterate.ts";
import { type RawClient, connectRawClient, connectFields } from "./quic-client.ts";

const log = createLogger("wt-malformed", { level: "silent", pretty: false });
let server: WebTransportServer;
const sessions: WebTransportSession[] = [];
const clients: RawClient[] = [];

const CONNECT: HeaderField[] = connectFields();

beforeAll(async () => {
  server = await createWebTransportServer({
    host: "127.0.0.1",
    port: 0,
    accept: admission(allowOrigins(["http://127.0.0.1"]), onPaths(["/wt"])),
    limits: { maxMessageBytes: 4096 },
    log,
  });
  (async () => {
    for await (const session of iterate(server.sessions)) sessions.push(session);
  })();
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server.close();
});

async function client(): Promise<RawClient> {
  const c = await connectRawClient(server.port);
  clients.push(c);
  c.send(2, concatBytes(encodeVarint(0x00), encodeFrame(FRAME_TYPE.settings, encodeSettings(serverSettings(4096)))), false);
  return c;
}

/** Opens a session on stream `streamId` and returns the response status. */
async function connect(c: RawClient, streamId: number, fields: HeaderField[] = CONNECT): Promise<string> {
  c.send(streamId, encodeFrame(FRAME_TYPE.headers, encodeFieldSection(fields)), false);
  await c.until(() => readFrame(c.read(streamId).bytes, 0, 4096) !== null);
  const frame = readFrame(c.read(streamId).bytes, 0, 4096)!;
  return decodeFieldSection(frame.frame.payload, 4096).find(([n]) => n === ":status")![1];
}

const peerError = (c: RawClient) => c.conn.peerError()?.errorCode;

describe("malformed input", () => {
  let healthy: RawClient;
  let healthySession: WebTransportSession;

  beforeAll(async () => {
    healthy = await client();
    expect(await connect(healthy, 0)).toBe("200");
    await healthy.until(() => sessions.length === 1);
    healthySession = sessions[0]!;
  });

  test("a CONNECT is answered 200, 403 (origin), 404 (path), 400 (not WebTransport)", async () => {
    const c = await client();
    expect(await connect(c, 0)).toBe("200");
    expect(await connect(c, 4, CONNECT.map(([n, v]) => [n, n === "origin" ? "https://evil.example" : v] as const))).toBe("403");
    expect(await connect(c, 8, CONNECT.map(([n, v]) => [n, n === ":path" ? "/other" : v] as const))).toBe("404");
    expect(await connect(c, 12, CONNECT.filter(([n]) => n !== ":protocol"))).toBe("400");
  });

  test("truncated SETTINGS closes that connection with H3_FRAME_ERROR", async () => {
    const c = await connectRawClient(server.port);
    clients.push(c);
    c.send(2, Uint8Array.from([0x00, FRAME_TYPE.settings, 0x01, 0x01]), false);
    await c.until(() => c.conn.isClosed() || c.conn.isDraining());
    expect(peerError(c)).toBe(H3_ERROR.frameError);
  });

  test("a control stream not starting with SETTINGS closes with H3_MISSING_SETTINGS; DATA there with H3_FRAME_UNEXPECTED", async () => {
    const a = await connectRawClient(server.port);
    clients.push(a);
    a.send(2, Uint8Array.from([0x00, ...encodeFrame(FRAME_TYPE.goaway, Uint8Array.of(0))]), false);
    await a.until(() => a.conn.isDraining() || a.conn.isClosed());
    expect(peerError(a)).toBe(H3_ERROR.missingSettings);
    const b = await client();
    b.send(2, encodeFrame(FRAME_TYPE.data, Uint8Array.of(1)), false);
    await b.until(() => b.conn.isDraining() || b.conn.isClosed());
    expect(peerError(b)).toBe(H3_ERROR.frameUnexpected);
  });

  test("bad QPACK (dynamic table reference) closes with QPACK_DECOMPRESSION_FAILED", async () => {
    const c = await client();
    c.send(0, encodeFrame(FRAME_TYPE.headers, Uint8Array.of(0x00, 0x00, 0x80)), false);
    await c.until(() => c.conn.isDraining() || c.conn.isClosed());
    expect(peerError(c)).toBe(H3_ERROR.qpackDecompressionFailed);
  });

  test("oversized headers reset only that request stream with H3_EXCESSIVE_LOAD", async () => {
    const c = await client();
    c.send(0, concatBytes(encodeVarint(FRAME_TYPE.headers), encodeVarint(100_000)), false);
    await c.until(() => c.read(0).resetCode !== null);
    expect(c.read(0).resetCode).toBe(H3_ERROR.excessiveLoad);
    // A frame under the frame limit whose decoded section (32 bytes of overhead per field) is over it.
    const many = encodeFieldSection([...CONNECT, ...Array.from({ length: 100 }, () => ["x-a", "0123456789"] as const)]);
    expect(many.length).toBeLessThan(4096);
    c.send(4, encodeFrame(FRAME_TYPE.headers, many), false);
    await c.until(() => c.read(4).resetCode !== null || c.conn.isDraining());
    expect(c.read(4).resetCode).toBe(H3_ERROR.excessiveLoad);
    expect(c.conn.isDraining() || c.conn.isClosed()).toBe(false);
    expect(await connect(c, 8)).toBe("200"); // the connection still serves
  });

  test("a malformed close capsule ends that session with H3_MESSAGE_ERROR; unknown capsules are skipped", async () => {
    const c = await client();
    const before = sessions.length;
    expect(await connect(c, 0)).toBe("200");
    await c.until(() => sessions.length === before + 1);
    const session = sessions.at(-1)!;
    c.send(0, encodeFrame(FRAME_TYPE.data, encodeCapsule(0x3f3f, Uint8Array.of(1, 2, 3))), false);
    c.send(0, encodeFrame(FRAME_TYPE.data, encodeCapsule(0x2843, Uint8Array.of(0, 1))), false);
    const info = await session.closed;
    expect(info.closeCode).toBe(0);
    await c.until(() => c.read(0).resetCode !== null);
    expect(c.read(0).resetCode).toBe(H3_ERROR.messageError);
    expect(c.conn.isDraining() || c.conn.isClosed()).toBe(false);
  });

  test("a datagram without a quarter stream id closes with H3_DATAGRAM_ERROR; garbage UDP is ignored", async () => {
    const garbage = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    for (let i = 0; i < 200; i++) garbage.send(crypto.getRandomValues(new Uint8Array(1 + (i % 1300))), server.port, "127.0.0.1");
    garbage.close();
    const c = await client();
    c.datagram(Uint8Array.of(0x40));
    await c.until(() => c.conn.isDraining() || c.conn.isClosed());
    expect(peerError(c)).toBe(H3_ERROR.datagramError);
  });

  test("a WebTransport stream for an unknown session is refused with WT_SESSION_GONE", async () => {
    const c = await client();
    c.send(0, concatBytes(encodeVarint(0x41), encodeVarint(400), Uint8Array.of(1, 2, 3)), false);
    await c.until(() => c.read(0).resetCode !== null);
    expect(c.read(0).resetCode).toBe(H3_ERROR.wtSessionGone);
  });

  test("after all that, the first client's session still echoes a bidi stream", async () => {
    const echoing = (async () => {
      for await (const stream of iterate(healthySession.incomingBidirectionalStreams)) await stream.readable.pipeTo(stream.writable);
    })();
    healthy.send(4, concatBytes(encodeVarint(0x41), encodeVarint(0), new TextEncoder().encode("alive")), true);
    await healthy.until(() => healthy.read(4).fin);
    expect(new TextDecoder().decode(healthy.read(4).bytes)).toBe("alive");
    expect(healthy.conn.isDraining() || healthy.conn.isClosed()).toBe(false);
    void echoing;
  });
});
