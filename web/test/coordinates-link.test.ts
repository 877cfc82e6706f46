import { describe, expect, test } from "bun:test";
import { type ClientMessage, ControlPipe, type Coordinates, type ServerMessage, SERVER_END, decodeCoordinates } from "@ballstream/protocol";
import { openCoordinatesLink } from "../src/lib/coordinates-link.ts";

const SID = "S".repeat(22);
const TARGET = { url: "https://127.0.0.1:4433/wt", options: { serverCertificateHashes: [] }, sessionId: SID, token: "m.t" };
const COORDS: Coordinates = { rtpTimestamp: 7, found: true, x: 10, y: 20, decodedAtMs: 1000, detectMs: 0.25 };

/** A WebTransport whose server end answers the attach with `answer` (none: silence); records datagrams and closes. */
function fakeTransport(answer: (m: ClientMessage) => ServerMessage | null) {
  const datagrams: Uint8Array[] = [];
  const received: ClientMessage[] = [];
  let closes = 0;
  let closeTransport!: (info: { closeCode: number; reason: string }) => void;
  const closed = new Promise<{ closeCode: number; reason: string }>((resolve) => (closeTransport = resolve));
  const up = new TransformStream<Uint8Array, Uint8Array>();
  const down = new TransformStream<Uint8Array, Uint8Array>();
  const server = new ControlPipe({ readable: up.readable, writable: down.writable }, SERVER_END);
  void (async () => {
    for await (const m of server.messages()) {
      received.push(m);
      const reply = answer(m);
      if (reply) await server.send(reply);
    }
  })().catch(() => undefined);
  const transport = {
    ready: Promise.resolve(),
    closed,
    createBidirectionalStream: () => Promise.resolve({ readable: down.readable, writable: up.writable }),
    datagrams: { readable: new ReadableStream(), writable: new WritableStream<Uint8Array>({ write: (d) => void datagrams.push(d) }) },
    close: () => void closes++,
  } as unknown as WebTransport;
  return { transport, datagrams, received, closes: () => closes, serverCloses: (reason: string) => closeTransport({ closeCode: 0, reason }) };
}

describe("openCoordinatesLink", () => {
  test("attaches with the session id and token, then sends coordinates as datagrams; closed says why it ended", async () => {
    const fake = fakeTransport((m) => (m.type === "attach" ? { type: "attached", sessionId: m.sessionId } : null));
    const urls: string[] = [];
    const link = await openCoordinatesLink(TARGET, (url) => (urls.push(url), fake.transport));
    expect(urls).toEqual([TARGET.url]);
    expect(fake.received).toEqual([{ type: "attach", sessionId: SID, token: "m.t" }]);
    link.send(COORDS);
    await Bun.sleep(0);
    expect(fake.datagrams.map(decodeCoordinates)).toEqual([COORDS]);
    fake.serverCloses("its session ended");
    expect(await link.closed).toBe("closed by the server: its session ended");
    link.close();
    expect(fake.closes()).toBe(1);
  });

  test("the server's error, a silent server past the timeout, or a transport closed first: rejected, the transport closed", async () => {
    const refused = fakeTransport(() => ({ type: "error", code: "forbidden", message: "the token is not this session's" }));
    await expect(openCoordinatesLink(TARGET, () => refused.transport)).rejects.toThrow("forbidden: the token is not this session's");
    expect(refused.closes()).toBe(1);

    const silent = fakeTransport(() => null);
    const t0 = performance.now();
    await expect(openCoordinatesLink(TARGET, () => silent.transport, 50)).rejects.toThrow("no answer within 50 ms");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(50);
    expect(silent.closes()).toBe(1);

    const gone = fakeTransport(() => null);
    gone.serverCloses("the server is full");
    await expect(openCoordinatesLink(TARGET, () => gone.transport)).rejects.toThrow("closed by the server: the server is full");
  });

  test("a step that fails before the server's close reason arrives: the reason, when it comes within a moment, says why", async () => {
    const fake = fakeTransport(() => null);
    const failing = { ...fake.transport, createBidirectionalStream: () => Promise.reject(new Error("The WebTransport connection is not open.")) } as unknown as WebTransport;
    setTimeout(() => fake.serverCloses("too many sessions from your address (1)"), 20);
    await expect(openCoordinatesLink(TARGET, () => failing)).rejects.toThrow("closed by the server: too many sessions from your address (1)");
    const never = { ...fakeTransport(() => null).transport, createBidirectionalStream: () => Promise.reject(new Error("not open")) } as unknown as WebTransport;
    await expect(openCoordinatesLink(TARGET, () => never)).rejects.toThrow("not open");
  });
});
