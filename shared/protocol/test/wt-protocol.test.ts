import { describe, expect, test } from "bun:test";
import { ProtocolError } from "../src/errors.ts";
import { DEFAULT_SETTINGS } from "../src/messages.ts";
import {
  COORDINATES_BYTES,
  type ClientMessage,
  ControlMessageReader,
  type Coordinates,
  ERROR_REPORT_BYTES,
  type ErrorReport,
  MAX_CONTROL_MESSAGE_BYTES,
  MAX_SERVER_TEXT_CHARS,
  type ServerMessage,
  decodeCoordinates,
  decodeErrorReport,
  encodeCoordinates,
  encodeErrorReport,
  frameControlMessage,
  frameServerMessage,
  parseClientMessage,
  parseServerMessage,
  MAX_RESUME_TOKEN_CHARS,
} from "../src/wt-protocol.ts";

const SID = "AAAAAAAAAAAAAAAAAAAAAA";

describe("parseClientMessage", () => {
  test("accepts offer (with and without settings), control and stop", () => {
    expect(parseClientMessage({ type: "offer", sdp: "v=0" })).toEqual({ type: "offer", sdp: "v=0" });
    const withSettings = parseClientMessage({ type: "offer", sdp: "v=0", settings: { fps: 60 } });
    expect(withSettings).toEqual({ type: "offer", sdp: "v=0", settings: { ...DEFAULT_SETTINGS, fps: 60 } });
    expect(parseClientMessage({ type: "control", fps: 10, speed: 5, extra: 1 })).toEqual({ type: "control", fps: 10, speed: 5 });
    expect(parseClientMessage({ type: "stop" })).toEqual({ type: "stop" });
  });

  test("resume: a session id and its token (URL-safe characters, bounded)", () => {
    expect(parseClientMessage({ type: "resume", sessionId: SID, token: "a.b_c-9" })).toEqual({ type: "resume", sessionId: SID, token: "a.b_c-9" });
    expect(parseClientMessage({ type: "resume", sessionId: SID, token: "t", wtVideo: true })).toEqual({ type: "resume", sessionId: SID, token: "t", wtVideo: true });
    expect(() => parseClientMessage({ type: "resume", sessionId: "short", token: "t" })).toThrow(ProtocolError);
    expect(() => parseClientMessage({ type: "resume", sessionId: SID, token: "x".repeat(MAX_RESUME_TOKEN_CHARS + 1) })).toThrow(ProtocolError);
    expect(() => parseClientMessage({ type: "resume", sessionId: SID, token: "a b" })).toThrow(ProtocolError);
  });

  test("attach: a session id and its token, nothing else kept", () => {
    expect(parseClientMessage({ type: "attach", sessionId: SID, token: "m.x", channel: "lobby", sdp: "v=0" })).toEqual({ type: "attach", sessionId: SID, token: "m.x" });
    expect(() => parseClientMessage({ type: "attach", sessionId: SID })).toThrow(ProtocolError);
    expect(() => parseClientMessage({ type: "attach", sessionId: "short", token: "t" })).toThrow(ProtocolError);
    expect(() => parseClientMessage({ type: "attach", sessionId: SID, token: "x".repeat(MAX_RESUME_TOKEN_CHARS + 1) })).toThrow(ProtocolError);
  });

  test("an offer names its video paths: sdp, wtVideo or both", () => {
    expect(parseClientMessage({ type: "offer", wtVideo: true })).toEqual({ type: "offer", wtVideo: true });
    expect(parseClientMessage({ type: "offer", sdp: "v=0", wtVideo: true })).toEqual({ type: "offer", sdp: "v=0", wtVideo: true });
    expect(parseClientMessage({ type: "offer", sdp: "v=0", wtVideo: false })).toEqual({ type: "offer", sdp: "v=0" });
    expect(() => parseClientMessage({ type: "offer", wtVideo: false })).toThrow(ProtocolError);
  });

  test("rejects unknown types, bad fields and non-objects", () => {
    for (const bad of [null, [], "offer", { type: "nope" }, { type: "offer" }, { type: "offer", sdp: "" }, { type: "control", fps: 0 }, { type: "control", fps: 1.5 }, { type: "offer", sdp: "x".repeat(40_000) }, { type: "offer", sdp: "v", settings: { width: 63 } }]) {
      expect(() => parseClientMessage(bad)).toThrow(ProtocolError);
    }
  });
});

describe("parseServerMessage", () => {
  test("accepts every server message", () => {
    const msgs: ServerMessage[] = [
      { type: "session", sessionId: SID, settings: DEFAULT_SETTINGS },
      { type: "answer", sdp: "v=0" },
      { type: "settings", settings: DEFAULT_SETTINGS },
      { type: "event", source: "media", message: "encoder restarted", fatal: false },
      { type: "renegotiate", reason: "the media replica went silent" },
      { type: "attached", sessionId: SID },
      { type: "session", sessionId: SID, settings: DEFAULT_SETTINGS, resumeToken: "bWVk.aGFzaA" },
      { type: "error", code: "timeout", message: "no generator" },
    ];
    for (const m of msgs) expect(parseServerMessage(JSON.parse(JSON.stringify(m)))).toEqual(m);
  });

  test("rejects bad ids, sources and types", () => {
    expect(() => parseServerMessage({ type: "session", sessionId: "short", settings: {} })).toThrow(ProtocolError);
    expect(() => parseServerMessage({ type: "event", source: "x", message: "m" })).toThrow(/event.source/);
    expect(() => parseServerMessage({ type: "error", code: "", message: "m" })).toThrow(ProtocolError);
    expect(() => parseServerMessage({ type: 5 })).toThrow(/unknown message type/);
    expect(() => parseServerMessage({ type: "renegotiate", reason: 5 })).toThrow(ProtocolError);
    expect(() => parseServerMessage({ type: "session", sessionId: SID, settings: {}, resumeToken: "no spaces" })).toThrow(ProtocolError);
  });
});

describe("control stream framing", () => {
  const messages: Array<ClientMessage | ServerMessage> = [
    { type: "offer", sdp: "v=0\r\n".repeat(500) },
    { type: "stop" },
    { type: "event", source: "generator", message: "ünïcödé ✓", fatal: true },
  ];
  const stream = new Uint8Array(messages.flatMap((m) => [...frameControlMessage(m)]));

  test("a message is a 4-byte big-endian length then UTF-8 JSON", () => {
    const f = frameControlMessage({ type: "stop" });
    expect(new DataView(f.buffer).getUint32(0)).toBe(f.length - 4);
    expect(JSON.parse(new TextDecoder().decode(f.subarray(4)))).toEqual({ type: "stop" });
  });

  test("reassembles across every chunk size, including 1-byte chunks", () => {
    for (const size of [1, 2, 3, 5, 7, 64, 1000, stream.length]) {
      const reader = new ControlMessageReader();
      const out: unknown[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...reader.push(stream.subarray(i, i + size)));
      expect(out).toEqual(messages);
      expect(reader.buffered).toBe(0);
    }
  });

  test("keeps a partial message buffered until the rest arrives", () => {
    const reader = new ControlMessageReader();
    expect(reader.push(stream.subarray(0, 10))).toEqual([]);
    expect(reader.buffered).toBe(10);
  });

  test("refuses an oversized message, framing or reading", () => {
    expect(() => frameControlMessage({ type: "offer", sdp: "x".repeat(MAX_CONTROL_MESSAGE_BYTES) })).toThrow(/control message of/);
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, MAX_CONTROL_MESSAGE_BYTES + 1);
    try {
      new ControlMessageReader().push(header);
      throw new Error("no error");
    } catch (err) {
      expect((err as ProtocolError).code).toBe("too_large");
    }
  });

  test("an unknown type of 65,500 characters gives an error text that fits a frame (it once overflowed the 64 KiB limit)", () => {
    const type = "x".repeat(65_500);
    expect(frameControlMessage({ type } as unknown as ClientMessage).length).toBeLessThanOrEqual(4 + MAX_CONTROL_MESSAGE_BYTES);
    let message = "";
    try {
      parseClientMessage({ type });
    } catch (err) {
      message = (err as ProtocolError).message;
    }
    expect(message).toBe(`unknown message type "${"x".repeat(31)}…"`);
  });

  test("frameServerMessage never throws: texts are cut to what the page accepts, an oversized message becomes a generic error", () => {
    const [long] = new ControlMessageReader().push(frameServerMessage({ type: "error", code: "bad_request", message: "z".repeat(70_000) }));
    const parsed = parseServerMessage(long);
    expect(parsed.type === "error" && parsed.message.length).toBe(MAX_SERVER_TEXT_CHARS);
    const [event] = new ControlMessageReader().push(frameServerMessage({ type: "event", source: "media", message: "e".repeat(5000), fatal: true }));
    expect(parseServerMessage(event)).toEqual({ type: "event", source: "media", message: `${"e".repeat(MAX_SERVER_TEXT_CHARS - 1)}…`, fatal: true });
    const [replaced] = new ControlMessageReader().push(frameServerMessage({ type: "answer", sdp: "a".repeat(MAX_CONTROL_MESSAGE_BYTES) }));
    expect(parseServerMessage(replaced)).toEqual({ type: "error", code: "internal", message: "the server's answer message was too large to send" });
    const ok: ServerMessage = { type: "answer", sdp: "v=0" };
    expect(frameServerMessage(ok)).toEqual(frameControlMessage(ok));
  });

  test("refuses a malformed JSON body", () => {
    const bad = new Uint8Array([0, 0, 0, 3, 0x7b, 0x7b, 0x7b]);
    expect(() => new ControlMessageReader().push(bad)).toThrow(/not valid UTF-8 JSON/);
  });
});

describe("datagrams", () => {
  const coords: Coordinates = { rtpTimestamp: 0xfffffff0, found: true, x: 123.5, y: 45.25, decodedAtMs: 1_764_000_000_000.5, detectMs: 1.5 };

  test("coordinates round-trip in 28 bytes (x, y, detectMs as f32)", () => {
    const d = encodeCoordinates(coords);
    expect(d.length).toBe(COORDINATES_BYTES);
    expect(decodeCoordinates(d)).toEqual(coords);
    expect(decodeCoordinates(encodeCoordinates({ ...coords, found: false })).found).toBe(false);
    expect(decodeCoordinates(encodeCoordinates({ ...coords, path: "webtransport" }))).toEqual({ ...coords, path: "webtransport" });
  });

  test("coordinates reject wrong size, wrong type and non-finite values", () => {
    const d = encodeCoordinates(coords);
    expect(() => decodeCoordinates(d.subarray(0, 27))).toThrow(/must be 28 bytes/);
    const t = d.slice();
    t[0] = 2;
    expect(() => decodeCoordinates(t)).toThrow(/type 2/);
    expect(() => decodeCoordinates(encodeCoordinates({ ...coords, x: Number.NaN }))).toThrow(ProtocolError);
    expect(() => decodeCoordinates(encodeCoordinates({ ...coords, detectMs: -1 }))).toThrow(ProtocolError);
  });

  test("error reports round-trip in 64 bytes", () => {
    const r: ErrorReport = {
      frameMatched: true,
      found: false,
      frameId: 42,
      rtpTimestamp: 123456,
      detectedX: 1.5,
      detectedY: 2.5,
      frameTruthX: 3.5,
      frameTruthY: 4.5,
      nowTruthX: 5.5,
      nowTruthY: 6.5,
      realtimeErrorPx: 7.5,
      frameErrorPx: 8.5,
      latencyMs: 9.5,
      captureTimeMs: 1_764_000_000_000.25,
      arrivalMs: 1_764_000_000_100.75,
    };
    const d = encodeErrorReport(r);
    expect(d.length).toBe(ERROR_REPORT_BYTES);
    expect(decodeErrorReport(d)).toEqual(r);
    expect(decodeErrorReport(encodeErrorReport({ ...r, path: "webtransport" })).path).toBe("webtransport");
    expect(decodeErrorReport(encodeErrorReport(r)).path).toBeUndefined();
    const unmatched = decodeErrorReport(encodeErrorReport({ ...r, frameMatched: false, found: true, frameTruthX: Number.NaN }));
    expect([unmatched.frameMatched, unmatched.found, Number.isNaN(unmatched.frameTruthX)]).toEqual([false, true, true]);
    expect(() => decodeErrorReport(encodeCoordinates(coords))).toThrow(/must be 64 bytes/);
  });
});
