/** The pure parts the state machine is built from: stream headers, the control stream, request streams, write waiters. */
import { describe, expect, test } from "bun:test";
import { concatBytes } from "../../src/webtransport/bytes.ts";
import { encodeCapsule, encodeCloseSession } from "../../src/webtransport/capsule.ts";
import { ControlStream } from "../../src/webtransport/control-stream.ts";
import { H3_ERROR, type Http3Error } from "../../src/webtransport/errors.ts";
import { FRAME_TYPE, encodeFrame } from "../../src/webtransport/frames.ts";
import { encodeFieldSection } from "../../src/webtransport/qpack.ts";
import { RequestStream } from "../../src/webtransport/request-stream.ts";
import { encodeSettings } from "../../src/webtransport/settings.ts";
import { readStreamHeader } from "../../src/webtransport/stream-header.ts";
import { encodeVarint } from "../../src/webtransport/varint.ts";
import { WriteWaiters } from "../../src/webtransport/write-waiters.ts";

const thrown = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error as Http3Error;
  }
  throw new Error("did not throw");
};

describe("readStreamHeader", () => {
  test("WebTransport streams, requests and unidirectional types; null until the header is complete", () => {
    expect(readStreamHeader(0, concatBytes(encodeVarint(0x41), encodeVarint(8), Uint8Array.of(1)))).toEqual({ kind: "webtransport", sessionId: 8, bytes: 3 });
    expect(readStreamHeader(2, concatBytes(encodeVarint(0x54), encodeVarint(0)))).toEqual({ kind: "webtransport", sessionId: 0, bytes: 3 });
    expect(readStreamHeader(0, encodeVarint(0x41))).toBeNull();
    expect(readStreamHeader(0, Uint8Array.of(0x01))).toEqual({ kind: "request", bytes: 0 });
    expect(readStreamHeader(2, Uint8Array.of(0x02, 9))).toEqual({ kind: "unidirectional", type: 2, bytes: 1 });
    expect(readStreamHeader(2, new Uint8Array(0))).toBeNull();
  });
});

describe("ControlStream", () => {
  test("SETTINGS first (split in pieces), unknown frames skipped; violations and FIN throw connection errors", () => {
    const control = new ControlStream(4096);
    const settings = encodeFrame(FRAME_TYPE.settings, encodeSettings(new Map([[0x33, 1]])));
    control.push(settings.subarray(0, 2), false);
    expect(control.bufferedBytes).toBe(2);
    control.push(concatBytes(settings.subarray(2), encodeFrame(0x21, Uint8Array.of(1))), false);
    expect(control.settings?.get(0x33)).toBe(1);
    expect(thrown(() => control.push(encodeFrame(FRAME_TYPE.headers, new Uint8Array(0)), false)).code).toBe(H3_ERROR.frameUnexpected);
    expect(thrown(() => new ControlStream(4096).push(encodeFrame(FRAME_TYPE.goaway, Uint8Array.of(0)), false)).code).toBe(H3_ERROR.missingSettings);
    expect(thrown(() => new ControlStream(4096).push(settings, true)).code).toBe(H3_ERROR.closedCriticalStream);
  });
});

describe("RequestStream", () => {
  const connect = encodeFrame(
    FRAME_TYPE.headers,
    encodeFieldSection([
      [":method", "CONNECT"],
      [":protocol", "webtransport"],
      [":scheme", "https"],
      [":authority", "a"],
      [":path", "/wt"],
    ]),
  );

  test("CONNECT, a pause until answered, then capsules only while live, then the end", () => {
    const stream = new RequestStream(4096);
    stream.push(concatBytes(connect, encodeFrame(FRAME_TYPE.data, concatBytes(encodeCapsule(0x3f, Uint8Array.of(1)), encodeCloseSession({ closeCode: 4, reason: "x" })))), true);
    expect(stream.next(false)).toMatchObject({ kind: "connect", request: { path: "/wt" } });
    expect(stream.next(true)).toBeNull(); // deciding
    expect(stream.answer()?.path).toBe("/wt");
    expect(stream.answer()).toBeNull();
    expect(stream.next(true)).toEqual({ kind: "close", info: { closeCode: 4, reason: "x" } });
    expect(stream.next(true)).toEqual({ kind: "end", insideCapsule: false });
    expect(stream.next(true)).toBeNull();
  });

  test("a request that is no WebTransport CONNECT; errors by scope", () => {
    const bad = new RequestStream(4096);
    bad.push(encodeFrame(FRAME_TYPE.headers, encodeFieldSection([[":method", "GET"]])), false);
    expect(bad.next(false)).toEqual({ kind: "badRequest", reason: "not a WebTransport CONNECT" });
    const big = new RequestStream(4096);
    big.push(concatBytes(encodeVarint(FRAME_TYPE.headers), encodeVarint(5000)), false);
    expect(thrown(() => big.next(false))).toMatchObject({ code: H3_ERROR.excessiveLoad, scope: "stream" });
    const early = new RequestStream(4096);
    early.push(encodeFrame(FRAME_TYPE.data, Uint8Array.of(1)), false);
    expect(thrown(() => early.next(false))).toMatchObject({ code: H3_ERROR.frameUnexpected, scope: "connection" });
    const capsule = new RequestStream(4096);
    capsule.push(concatBytes(connect, encodeFrame(FRAME_TYPE.data, encodeCapsule(0x2843, Uint8Array.of(1)))), false);
    capsule.next(true);
    capsule.answer();
    expect(thrown(() => capsule.next(true))).toMatchObject({ code: H3_ERROR.messageError, scope: "session" });
  });
});

describe("WriteWaiters", () => {
  test("writers wake when their stream has capacity, fail with their stream or all at once", async () => {
    const waiters = new WriteWaiters();
    const ready = waiters.wait(0);
    const later = waiters.wait(4);
    const broken = waiters.wait(8);
    const capacity = new Map([[0, 10], [4, 0]]);
    waiters.wake((id) => {
      if (!capacity.has(id)) throw new Error("StreamStopped(1)");
      return capacity.get(id)!;
    }, (error) => new Error(`failed: ${(error as Error).message}`));
    await ready;
    await expect(broken).rejects.toThrow("failed: StreamStopped(1)");
    const reset = waiters.wait(12);
    waiters.reject(12, new Error("stream reset"));
    await expect(reset).rejects.toThrow("stream reset");
    waiters.rejectAll(new Error("connection closed"));
    await expect(later).rejects.toThrow("connection closed");
  });
});
