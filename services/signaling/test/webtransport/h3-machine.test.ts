/**
 * The HTTP/3 + WebTransport state machine on byte sequences, no socket: every malformed case of malformed.test.ts
 * (which sends them over real QUIC) and more, plus the normal flow of sessions, streams and datagrams.
 */
import { describe, expect, test } from "bun:test";
import { concatBytes } from "../../src/webtransport/bytes.ts";
import { encodeCapsule, encodeCloseSession, readCapsule } from "../../src/webtransport/capsule.ts";
import { H3_ERROR } from "../../src/webtransport/errors.ts";
import { FRAME_TYPE, encodeFrame, readFrame } from "../../src/webtransport/frames.ts";
import type { H3Output } from "../../src/webtransport/h3-events.ts";
import { Http3Machine } from "../../src/webtransport/h3-machine.ts";
import { type HeaderField, decodeFieldSection, encodeFieldSection } from "../../src/webtransport/qpack.ts";
import { SETTING, decodeSettings, encodeSettings, serverSettings } from "../../src/webtransport/settings.ts";
import { encodeVarint } from "../../src/webtransport/varint.ts";
import { connectFields } from "./quic-client.ts";

const CONNECT: HeaderField[] = connectFields("http://127.0.0.1", "/wt?x=1");
const headers = (fields: readonly HeaderField[] = CONNECT) => encodeFrame(FRAME_TYPE.headers, encodeFieldSection(fields));
const controlStream = () => concatBytes(encodeVarint(0x00), encodeFrame(FRAME_TYPE.settings, encodeSettings(serverSettings(4096))));
const wtStream = (signal: number, sessionId: number, ...rest: number[]) => concatBytes(encodeVarint(signal), encodeVarint(sessionId), Uint8Array.from(rest));

/** A started machine whose peer opened its control stream. */
function machine(): Http3Machine {
  const m = new Http3Machine(4096);
  m.start();
  expect(m.receiveStream(2, controlStream(), false)).toEqual([]);
  return m;
}

/** A machine with a session on stream 0. */
function withSession(): Http3Machine {
  const m = machine();
  m.receiveStream(0, headers(), false);
  m.decide(0, "accept");
  return m;
}

const types = (out: H3Output[]) => out.map((o) => o.type);
const closeCode = (out: H3Output[]) => out.find((o) => o.type === "closeConnection") as { code: number } | undefined;
const statusOf = (out: H3Output[]) => {
  const send = out.find((o) => o.type === "send") as { data: Uint8Array; fin: boolean };
  return { status: decodeFieldSection(readFrame(send.data, 0, 4096)!.frame.payload, 4096).find(([n]) => n === ":status")![1], fin: send.fin };
};

describe("Http3Machine: the normal flow", () => {
  test("start() opens control (SETTINGS with WebTransport), QPACK encoder and decoder streams, once", () => {
    const m = new Http3Machine(4096);
    const out = m.start() as { type: string; streamId: number; data: Uint8Array }[];
    expect(out.map((o) => [o.type, o.streamId])).toEqual([["send", 3], ["send", 7], ["send", 11]]);
    const settings = decodeSettings(readFrame(out[0]!.data, 1, 4096)!.frame.payload);
    expect(settings.get(SETTING.enableWebTransportDraft02)).toBe(1);
    expect(Array.from(out[1]!.data)).toEqual([0x02]);
    expect(m.start()).toEqual([]);
  });

  test("a CONNECT (split byte by byte) waits for a decision; accept answers 200 and opens the session", () => {
    const m = machine();
    const bytes = headers();
    for (let i = 0; i < bytes.length - 1; i++) expect(m.receiveStream(0, bytes.subarray(i, i + 1), false)).toEqual([]);
    expect(m.bufferedBytes).toBe(bytes.length - 1);
    const [event] = m.receiveStream(0, bytes.subarray(-1), false);
    expect(event).toMatchObject({ type: "connect", streamId: 0, request: { path: "/wt?x=1", origin: "http://127.0.0.1", authority: "127.0.0.1" } });
    const out = m.decide(0, "accept");
    expect(types(out)).toEqual(["send", "sessionOpened"]);
    expect(statusOf(out)).toEqual({ status: "200", fin: false });
    expect(m.sessionCount).toBe(1);
    expect(m.decide(0, "accept")).toEqual([]); // answered already
  });

  test("a refused CONNECT gets its status with FIN and no session; later frames on it are ignored", () => {
    const m = machine();
    m.receiveStream(0, headers(), false);
    expect(statusOf(m.decide(0, 403))).toEqual({ status: "403", fin: true });
    expect(m.sessionCount).toBe(0);
    expect(m.receiveStream(0, encodeFrame(FRAME_TYPE.data, encodeCloseSession({ closeCode: 1, reason: "" })), true)).toEqual([]);
    expect(m.hasRequests).toBe(false);
    expect(() => m.decide(4, 200)).toThrow(RangeError);
  });

  test("a CONNECT with FIN opens, then ends at once, once accepted", () => {
    const m = machine();
    expect(types(m.receiveStream(0, headers(), true))).toEqual(["connect"]);
    expect(types(m.decide(0, "accept"))).toEqual(["send", "sessionOpened", "send", "sessionEnded"]);
  });

  test("WebTransport streams of a live session: opened, data, end; reset; refused; datagrams", () => {
    const m = withSession();
    expect(m.receiveStream(4, wtStream(0x41, 0, 1, 2), false)).toEqual([
      { type: "streamOpened", sessionId: 0, streamId: 4, bidirectional: true },
      { type: "streamData", streamId: 4, data: Uint8Array.of(1, 2), fin: false },
    ]);
    expect(m.receiveStream(4, Uint8Array.of(3), true)).toEqual([{ type: "streamData", streamId: 4, data: Uint8Array.of(3), fin: true }]);
    expect(m.tracks(4)).toBe(false);
    expect(types(m.receiveStream(6, wtStream(0x54, 0), false))).toEqual(["streamOpened"]);
    expect(m.receiveReset(6, 0x52e4a40fa8db)).toEqual([{ type: "streamReset", streamId: 6, code: 0x52e4a40fa8db }]);
    m.receiveStream(8, wtStream(0x41, 0), false);
    expect(m.refuseStream(8, true)).toEqual([
      { type: "stopSending", streamId: 8, code: H3_ERROR.requestRejected },
      { type: "resetStream", streamId: 8, code: H3_ERROR.requestRejected },
    ]);
    expect(m.receiveDatagram(Uint8Array.of(0x00, 7, 8))).toEqual([{ type: "datagram", sessionId: 0, payload: Uint8Array.of(7, 8) }]);
    expect(m.receiveDatagram(Uint8Array.of(0x05, 7))).toEqual([]); // session 20 does not exist: dropped
    expect(m.datagramFor(0, Uint8Array.of(7))).toEqual(Uint8Array.of(0x00, 7));
    expect(m.datagramFor(20, Uint8Array.of(7))).toBeNull();
    expect([m.datagramOverhead(0), m.datagramOverhead(256)]).toEqual([1, 2]);
  });

  test("streams we open carry the signal and session id; the peer's bytes on our bidi streams are routed", () => {
    const m = withSession();
    expect(m.openStream(0, false)).toEqual({ streamId: 15, header: Uint8Array.of(0x40, 0x54, 0x00) });
    expect(m.openStream(0, true)).toEqual({ streamId: 1, header: Uint8Array.of(0x40, 0x41, 0x00) });
    expect(m.openStream(0, true).streamId).toBe(5);
    expect(m.receiveStream(1, Uint8Array.of(9), false)).toEqual([{ type: "streamData", streamId: 1, data: Uint8Array.of(9), fin: false }]);
    m.stopReading(1);
    expect(m.tracks(1)).toBe(false);
    expect(m.receiveStream(3, Uint8Array.of(9), false)).toEqual([]); // our own unidirectional stream: ignored
  });

  test("the peer's close capsule (after unknown ones, split in pieces) ends the session and we FIN our side", () => {
    const m = withSession();
    const bytes = encodeFrame(FRAME_TYPE.data, concatBytes(encodeCapsule(0x4444, Uint8Array.of(1)), encodeCloseSession({ closeCode: 9, reason: "peer" })));
    expect(m.receiveStream(0, bytes.subarray(0, 5), false)).toEqual([]);
    expect(m.receiveStream(0, bytes.subarray(5), false)).toEqual([
      { type: "send", streamId: 0, data: new Uint8Array(0), fin: true },
      { type: "sessionEnded", sessionId: 0, info: { closeCode: 9, reason: "peer" }, error: null },
    ]);
    expect(m.sessionCount).toBe(0);
    expect(m.hasRequests).toBe(true); // until the peer's FIN
    expect(m.receiveStream(0, new Uint8Array(0), true)).toEqual([]);
    expect(m.hasRequests).toBe(false);
  });

  test("FIN of a CONNECT stream ends its session with code 0; a CONNECT stream reset ends it with REQUEST_CANCELLED", () => {
    const a = withSession();
    expect(types(a.receiveStream(0, new Uint8Array(0), true))).toEqual(["send", "sessionEnded"]);
    const b = withSession();
    expect(b.receiveReset(0, 0x100)).toEqual([
      { type: "resetStream", streamId: 0, code: H3_ERROR.requestCancelled },
      { type: "sessionEnded", sessionId: 0, info: { closeCode: 0, reason: "" }, error: null },
    ]);
  });

  test("closeSession() sends the close capsule with FIN; the session's datagrams and streams are then refused", () => {
    const m = withSession();
    const [send] = m.closeSession(0, { closeCode: 5, reason: "bye" }) as { type: "send"; data: Uint8Array; fin: boolean }[];
    expect(send!.fin).toBe(true);
    expect(readCapsule(readFrame(send!.data, 0, 4096)!.frame.payload, 0, 4096)!.capsule.type).toBe(0x2843);
    expect(m.receiveDatagram(Uint8Array.of(0x00, 1))).toEqual([]);
    expect(m.receiveStream(4, wtStream(0x41, 0), false)[0]).toEqual({ type: "stopSending", streamId: 4, code: H3_ERROR.wtSessionGone });
    expect(m.closeSession(0, { closeCode: 5, reason: "" })).toEqual([]);
    expect(() => m.closeSession(0, { closeCode: 2 ** 32, reason: "" })).toThrow(RangeError);
  });

  test("QPACK streams are read and dropped; GREASE and HTTP/2 unknowns are harmless", () => {
    const m = machine();
    expect(m.receiveStream(6, Uint8Array.of(0x02, 1, 2, 3), false)).toEqual([]);
    expect(m.discards(6)).toBe(true);
    expect(m.receiveStream(10, Uint8Array.of(0x21, 1), false)).toEqual([{ type: "stopSending", streamId: 10, code: H3_ERROR.streamCreationError }]);
    expect(m.receiveStream(2, encodeFrame(0x21, Uint8Array.of(1)), false)).toEqual([]); // unknown frame on control
    expect(m.receiveStream(14, new Uint8Array(0), true)).toEqual([]); // empty stream
  });
});

describe("Http3Machine: malformed input", () => {
  test("a request that is not a WebTransport CONNECT is answered 400 by the machine", () => {
    const m = machine();
    const out = m.receiveStream(0, headers(CONNECT.filter(([n]) => n !== ":protocol")), false);
    expect(out[0]).toEqual({ type: "badRequest", streamId: 0, reason: "not a WebTransport CONNECT" });
    expect(statusOf(out)).toEqual({ status: "400", fin: true });
  });

  test("truncated SETTINGS closes with H3_FRAME_ERROR; a closed machine ignores all input", () => {
    const m = new Http3Machine(4096);
    const out = m.receiveStream(2, Uint8Array.from([0x00, FRAME_TYPE.settings, 0x01, 0x01]), false);
    expect(types(out)).toEqual(["protocolError", "closeConnection"]);
    expect(closeCode(out)?.code).toBe(H3_ERROR.frameError);
    expect(m.receiveStream(0, headers(), false)).toEqual([]);
    expect(m.receiveDatagram(Uint8Array.of(0x40))).toEqual([]);
  });

  test("control stream: not SETTINGS first → MISSING_SETTINGS; DATA → FRAME_UNEXPECTED; FIN or reset → CLOSED_CRITICAL_STREAM", () => {
    expect(closeCode(new Http3Machine(4096).receiveStream(2, Uint8Array.of(0x00, ...encodeFrame(FRAME_TYPE.goaway, Uint8Array.of(0))), false))?.code).toBe(H3_ERROR.missingSettings);
    expect(closeCode(machine().receiveStream(2, encodeFrame(FRAME_TYPE.data, Uint8Array.of(1)), false))?.code).toBe(H3_ERROR.frameUnexpected);
    expect(closeCode(machine().receiveStream(2, new Uint8Array(0), true))?.code).toBe(H3_ERROR.closedCriticalStream);
    expect(closeCode(machine().receiveReset(2, 0))?.code).toBe(H3_ERROR.closedCriticalStream);
  });

  test("a second control stream or a push stream → STREAM_CREATION_ERROR; a QPACK stream FIN → CLOSED_CRITICAL_STREAM", () => {
    expect(closeCode(machine().receiveStream(6, controlStream(), false))?.code).toBe(H3_ERROR.streamCreationError);
    expect(closeCode(machine().receiveStream(6, Uint8Array.of(0x01), false))?.code).toBe(H3_ERROR.streamCreationError);
    expect(closeCode(machine().receiveStream(6, Uint8Array.of(0x03), true))?.code).toBe(H3_ERROR.closedCriticalStream);
  });

  test("bad QPACK (a dynamic table reference) closes with QPACK_DECOMPRESSION_FAILED", () => {
    expect(closeCode(machine().receiveStream(0, encodeFrame(FRAME_TYPE.headers, Uint8Array.of(0x00, 0x00, 0x80)), false))?.code).toBe(H3_ERROR.qpackDecompressionFailed);
  });

  test("oversized headers (declared, or decoded over the limit) reset only that request stream with EXCESSIVE_LOAD", () => {
    const m = machine();
    const refused = (streamId: number): H3Output[] => [
      { type: "stopSending", streamId, code: H3_ERROR.excessiveLoad },
      { type: "resetStream", streamId, code: H3_ERROR.excessiveLoad },
    ];
    expect(m.receiveStream(0, concatBytes(encodeVarint(FRAME_TYPE.headers), encodeVarint(100_000)), false).slice(1)).toEqual(refused(0));
    const many = encodeFieldSection([...CONNECT, ...Array.from({ length: 100 }, () => ["x-a", "0123456789"] as const)]);
    expect(many.length).toBeLessThan(4096);
    expect(m.receiveStream(4, encodeFrame(FRAME_TYPE.headers, many), false).slice(1)).toEqual(refused(4));
    expect(types(m.receiveStream(8, headers(), false))).toEqual(["connect"]); // the connection still serves
  });

  test("an oversized DATA frame on a live session's CONNECT stream aborts that session only", () => {
    const m = withSession();
    const out = m.receiveStream(0, concatBytes(encodeVarint(FRAME_TYPE.data), encodeVarint(100_000)), false);
    expect(types(out)).toEqual(["protocolError", "stopSending", "resetStream", "sessionEnded"]);
    expect(m.sessionCount).toBe(0);
  });

  test("a malformed close capsule ends that session with MESSAGE_ERROR (unknown capsules skipped); so does a FIN inside a capsule", () => {
    const m = withSession();
    expect(m.receiveStream(0, encodeFrame(FRAME_TYPE.data, encodeCapsule(0x3f3f, Uint8Array.of(1, 2, 3))), false)).toEqual([]);
    const out = m.receiveStream(0, encodeFrame(FRAME_TYPE.data, encodeCapsule(0x2843, Uint8Array.of(0, 1))), false);
    expect(out.slice(1, 3)).toEqual([
      { type: "stopSending", streamId: 0, code: H3_ERROR.messageError },
      { type: "resetStream", streamId: 0, code: H3_ERROR.messageError },
    ]);
    expect(out[3]).toMatchObject({ type: "sessionEnded", sessionId: 0, info: { closeCode: 0 } });
    expect(closeCode(out)).toBeUndefined();
    const n = withSession();
    n.receiveStream(0, encodeFrame(FRAME_TYPE.data, Uint8Array.of(0x40)), false); // half a capsule type
    expect(n.bufferedBytes).toBe(1);
    expect((n.receiveStream(0, new Uint8Array(0), true).at(-1) as { error: { code: number } }).error.code).toBe(H3_ERROR.messageError);
  });

  test("a datagram without a quarter stream id closes with H3_DATAGRAM_ERROR", () => {
    expect(closeCode(withSession().receiveDatagram(Uint8Array.of(0x40)))?.code).toBe(H3_ERROR.datagramError);
    expect(closeCode(machine().receiveDatagram(new Uint8Array(0)))?.code).toBe(H3_ERROR.datagramError);
  });

  test("a WebTransport stream for an unknown session is refused with WT_SESSION_GONE", () => {
    expect(machine().receiveStream(0, wtStream(0x41, 400, 1, 2, 3), false)).toEqual([
      { type: "stopSending", streamId: 0, code: H3_ERROR.wtSessionGone },
      { type: "resetStream", streamId: 0, code: H3_ERROR.wtSessionGone },
    ]);
    expect(machine().receiveStream(2 + 4, wtStream(0x54, 400), false)).toEqual([{ type: "stopSending", streamId: 6, code: H3_ERROR.wtSessionGone }]);
    expect(machine().receiveStream(0, concatBytes(encodeVarint(0x41), encodeVarint(2n ** 60n)), false)[0]).toMatchObject({ code: H3_ERROR.wtSessionGone });
  });

  test("DATA before HEADERS, SETTINGS on a request stream and HTTP/2 frame types close with FRAME_UNEXPECTED", () => {
    expect(closeCode(machine().receiveStream(0, encodeFrame(FRAME_TYPE.data, Uint8Array.of(1)), false))?.code).toBe(H3_ERROR.frameUnexpected);
    expect(closeCode(withSession().receiveStream(0, encodeFrame(FRAME_TYPE.settings, new Uint8Array(0)), false))?.code).toBe(H3_ERROR.frameUnexpected);
    expect(closeCode(machine().receiveStream(0, encodeFrame(0x02, new Uint8Array(0)), false))?.code).toBe(H3_ERROR.frameUnexpected);
  });
});
