/** Session logic against an in-memory host (pure logic; the real host is the quiche connection). */
import { describe, expect, test } from "bun:test";
import { createLogger } from "@ballstream/shared";
import { CAPSULE_TYPE, encodeCapsule, encodeCloseSession, readCapsule } from "../../src/webtransport/capsule.ts";
import { H3_ERROR, Http3Error } from "../../src/webtransport/errors.ts";
import { FRAME_TYPE, readFrame } from "../../src/webtransport/frames.ts";
import { resolveLimits } from "../../src/webtransport/limits.ts";
import { Session, type SessionHost } from "../../src/webtransport/session.ts";
import type { IncomingStream } from "../../src/webtransport/streams.ts";

class FakeHost implements SessionHost {
  written = new Map<number, number[]>();
  fins = new Set<number>();
  resets: [number, number][] = [];
  datagrams: Uint8Array[] = [];
  ended: number[] = [];
  nextId = 1;
  send(id: number, data: Uint8Array, fin: boolean): number {
    this.written.set(id, [...(this.written.get(id) ?? []), ...data]);
    if (fin) this.fins.add(id);
    return data.length;
  }
  waitWritable(): Promise<void> {
    return Promise.resolve();
  }
  resetStream(id: number, code: number): void {
    this.resets.push([id, code]);
  }
  stopSending(): void {}
  resumeRead(): void {}
  openStream(): number {
    return (this.nextId += 4);
  }
  attachIncoming(_id: number, _incoming: IncomingStream): void {}
  sendDatagram(_session: number, payload: Uint8Array): boolean {
    this.datagrams.push(payload);
    return true;
  }
  maxDatagramPayload(): number {
    return 100;
  }
  sessionEnded(id: number): void {
    this.ended.push(id);
  }
}

const log = createLogger("session-test", { level: "silent", pretty: false });
const info = { id: "c/0", streamId: 0, path: "/wt", origin: "http://x", remoteAddress: "127.0.0.1:1" };

function newSession(limits = {}) {
  const host = new FakeHost();
  return { host, session: new Session(host, info, resolveLimits(limits), log) };
}

describe("Session", () => {
  test("close() sends the close capsule in a DATA frame with FIN and resolves closed", async () => {
    const { host, session } = newSession();
    session.close({ closeCode: 5, reason: "bye" });
    expect(await session.closed).toEqual({ closeCode: 5, reason: "bye" });
    await Bun.sleep(1);
    const frame = readFrame(Uint8Array.from(host.written.get(0) ?? []), 0, 4096)!;
    expect(frame.frame.type).toBe(FRAME_TYPE.data);
    expect(readCapsule(frame.frame.payload, 0, 4096)?.capsule.type).toBe(CAPSULE_TYPE.closeSession);
    expect(host.fins.has(0)).toBe(true);
    expect(host.ended).toEqual([0]);
    session.close({ closeCode: 6 }); // idempotent
    expect(host.ended).toEqual([0]);
  });

  test("a peer close capsule (after unknown ones, split across pieces) ends the session and finishes our side", async () => {
    const { host, session } = newSession();
    const bytes = Uint8Array.from([...encodeCapsule(0x4444, Uint8Array.of(1)), ...encodeCloseSession({ closeCode: 9, reason: "peer" })]);
    session.receiveCapsuleBytes(bytes.subarray(0, 5));
    session.receiveCapsuleBytes(bytes.subarray(5));
    expect(await session.closed).toEqual({ closeCode: 9, reason: "peer" });
    await Bun.sleep(1);
    expect(host.fins.has(0)).toBe(true);
  });

  test("a malformed capsule throws a session-scoped error; abort resets the CONNECT stream", async () => {
    const { host, session } = newSession();
    let error: unknown;
    try {
      session.receiveCapsuleBytes(encodeCapsule(CAPSULE_TYPE.closeSession, Uint8Array.of(1)));
    } catch (e) {
      error = e;
    }
    expect((error as Http3Error).scope).toBe("session");
    session.abort(error as Http3Error);
    expect(host.resets).toContainEqual([0, H3_ERROR.messageError]);
    expect((await session.closed).closeCode).toBe(0);
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
    expect(host.written.get(5)).toEqual([0x40, 0x54, 0x00]);
    expect(host.written.get(9)).toEqual([0x40, 0x41, 0x00]);
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
