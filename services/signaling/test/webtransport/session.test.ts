/** Session logic against an in-memory host (pure logic; the real host is the quiche driver). */
import { describe, expect, test } from "bun:test";
import { resolveLimits } from "../../src/webtransport/limits.ts";
import { Session } from "../../src/webtransport/session.ts";
import { FakeHost, SESSION_INFO } from "./fake-host.ts";

function newSession(limits = {}) {
  const host = new FakeHost();
  return { host, session: new Session(host, SESSION_INFO, resolveLimits(limits)) };
}

describe("Session", () => {
  test("close() asks the connection for the close capsule, resolves closed, and is idempotent", async () => {
    const { host, session } = newSession();
    session.close({ closeCode: 5, reason: "bye" });
    expect(await session.closed).toEqual({ closeCode: 5, reason: "bye" });
    expect(host.closes).toEqual([{ closeCode: 5, reason: "bye" }]);
    expect(host.ended).toEqual([0]);
    session.close({ closeCode: 6 });
    session.end({ closeCode: 7, reason: "" });
    expect(host.closes.length).toBe(1);
    expect(host.ended).toEqual([0]);
  });

  test("end() (peer closed, or the connection went) resolves closed with its info and ends the streams", async () => {
    const { host, session } = newSession();
    const reader = session.incomingBidirectionalStreams.getReader();
    session.end({ closeCode: 9, reason: "peer" });
    expect(await session.closed).toEqual({ closeCode: 9, reason: "peer" });
    expect((await reader.read()).done).toBe(true);
    expect(host.closes).toEqual([]);
    await expect(session.createBidirectionalStream()).rejects.toThrow("session is closed");
  });

  test("peer streams beyond maxStreamsPerSession are refused; a cancelled incoming readable takes none", async () => {
    const { session } = newSession({ maxStreamsPerSession: 2 });
    expect(session.acceptStream(4, true)).not.toBeNull();
    expect(session.acceptStream(8, true)).not.toBeNull();
    expect(session.acceptStream(12, true)).toBeNull();
    await session.incomingUnidirectionalStreams.cancel();
    const other = newSession().session;
    await other.incomingBidirectionalStreams.cancel();
    expect(other.acceptStream(4, true)).toBeNull();
    other.close(); // must not throw on the cancelled readable
    await expect(session.createBidirectionalStream()).rejects.toThrow("stream limit");
  });

  test("created streams start with the WebTransport signal and session id", async () => {
    const { host, session } = newSession();
    await session.createUnidirectionalStream();
    await session.createBidirectionalStream();
    expect(host.written.get(15)).toEqual([0x40, 0x54, 0x00]); // after our control and QPACK streams
    expect(host.written.get(1)).toEqual([0x40, 0x41, 0x00]);
  });

  test("datagrams: oldest dropped when the reader lags, too-large ones dropped silently", async () => {
    const { host, session } = newSession();
    for (let i = 0; i < 130; i++) session.receiveDatagram(Uint8Array.of(i));
    const reader = session.datagrams.readable.getReader();
    expect(Array.from((await reader.read()).value ?? [])).toEqual([2]);
    const writer = session.datagrams.writable.getWriter();
    await writer.write(new Uint8Array(50));
    await writer.write(new Uint8Array(101));
    expect(host.datagrams.map((d) => d.length)).toEqual([50]);
    expect(session.datagrams.maxDatagramSize).toBe(100);
    session.close();
    expect((await reader.read()).done).toBe(false); // queued ones are still delivered
  });
});
