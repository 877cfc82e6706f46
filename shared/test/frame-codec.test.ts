import { describe, expect, test } from "bun:test";
import { ProtocolError } from "../src/errors.ts";
import {
  type Frame,
  type FrameTruth,
  MAX_SESSION_ID_LENGTH,
  ballStateOf,
  decodeFrame,
  decodeTruth,
  encodeFrame,
  encodeTruth,
  encodedFrameByteLength,
  i420ByteLength,
} from "../src/frame-codec.ts";
import { ballAt } from "../src/physics.ts";
import { pattern } from "./helpers.ts";

const truth: FrameTruth = {
  sessionId: "abcdefghijABCDEFGHIJ_-",
  frameId: 4_000_000_000,
  captureTimeMs: 1_764_000_000_123.456,
  x: 31.25,
  y: 17.125,
  vx: -320.5,
  vy: 12.75,
  width: 64,
  height: 48,
  radius: 10.5,
};
const frame: Frame = { ...truth, pixelFormat: "I420", pixels: pattern(i420ByteLength(64, 48)) };

function rejects(fn: () => unknown, code: ProtocolError["code"], message?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(code);
    if (message) expect((err as ProtocolError).message).toMatch(message);
    return;
  }
  throw new Error("expected a ProtocolError");
}

describe("sizes", () => {
  test("I420 is 1.5 bytes per pixel; a frame adds a 64-byte header and the id", () => {
    expect(i420ByteLength(640, 480)).toBe(460_800);
    expect(i420ByteLength(2, 2)).toBe(6);
    expect(encodedFrameByteLength(640, 480, 22)).toBe(460_800 + 64 + 22);
    expect(encodeFrame(frame).length).toBe(encodedFrameByteLength(64, 48, 22));
  });
});

describe("truth", () => {
  test("round-trips every field exactly (radius as f32)", () => {
    const bytes = encodeTruth(truth);
    expect(bytes.length).toBe(64 + 22);
    expect(decodeTruth(bytes)).toEqual(truth);
    const odd = { ...truth, radius: 0.1 };
    expect(decodeTruth(encodeTruth(odd)).radius).toBeCloseTo(0.1, 6);
  });

  test("decodes from a view at an offset inside a larger buffer", () => {
    const bytes = encodeTruth(truth);
    const big = new Uint8Array(bytes.length + 13);
    big.set(bytes, 7);
    expect(decodeTruth(big.subarray(7, 7 + bytes.length))).toEqual(truth);
  });

  test("refuses values the layout cannot hold", () => {
    rejects(() => encodeTruth({ ...truth, sessionId: "" }), "bad_request", /session id/);
    rejects(() => encodeTruth({ ...truth, sessionId: "x".repeat(MAX_SESSION_ID_LENGTH + 1) }), "bad_request");
    rejects(() => encodeTruth({ ...truth, sessionId: "has space" }), "bad_request");
    rejects(() => encodeTruth({ ...truth, sessionId: "é" }), "bad_request");
    rejects(() => encodeTruth({ ...truth, frameId: -1 }), "bad_request", /frame id/);
    rejects(() => encodeTruth({ ...truth, frameId: 2 ** 32 }), "bad_request");
    rejects(() => encodeTruth({ ...truth, frameId: 1.5 }), "bad_request");
    rejects(() => encodeTruth({ ...truth, width: 63 }), "bad_request", /dimension/);
    rejects(() => encodeTruth({ ...truth, height: 0 }), "bad_request");
    rejects(() => encodeTruth({ ...truth, width: 4098 }), "bad_request");
  });

  test("rejects truncated, garbled, trailing and wrong-kind input", () => {
    const bytes = encodeTruth(truth);
    for (const n of [0, 1, 63, 64, bytes.length - 1]) rejects(() => decodeTruth(bytes.subarray(0, n)), "bad_request");
    rejects(() => decodeTruth(new Uint8Array([...bytes, 0])), "bad_request", /trailing/);
    const badMagic = bytes.slice();
    badMagic[0] = 0x58;
    rejects(() => decodeTruth(badMagic), "bad_request", /magic/);
    const badVersion = bytes.slice();
    badVersion[4] = 9;
    rejects(() => decodeTruth(badVersion), "unsupported", /version 9/);
    const zeroId = bytes.slice();
    zeroId[6] = 0;
    rejects(() => decodeTruth(zeroId), "bad_request", /session id length/);
    const nan = bytes.slice();
    new DataView(nan.buffer).setFloat64(24, Number.NaN, true);
    rejects(() => decodeTruth(nan), "bad_request", /non-finite/);
    const oddSize = bytes.slice();
    new DataView(oddSize.buffer).setUint16(12, 65, true);
    rejects(() => decodeTruth(oddSize), "bad_request", /bad size/);
    rejects(() => decodeTruth(encodeFrame(frame)), "bad_request", /magic/);
    rejects(() => decodeFrame(bytes), "bad_request", /magic/);
  });
});

describe("frame", () => {
  test("round-trips header and pixels; pixels are a view into the message", () => {
    const bytes = encodeFrame(frame);
    const decoded = decodeFrame(bytes);
    const { pixels, ...rest } = decoded;
    const { pixels: original, ...expected } = frame;
    expect(rest).toEqual(expected);
    expect(Buffer.from(pixels).equals(Buffer.from(original))).toBe(true);
    expect(pixels.buffer).toBe(bytes.buffer);
  });

  test("a 640x480 frame fits a default 1 MiB max_payload", () => {
    const big: Frame = { ...truth, width: 640, height: 480, pixelFormat: "I420", pixels: new Uint8Array(460_800) };
    expect(encodeFrame(big).length).toBeLessThan(1024 * 1024);
  });

  test("refuses pixels of the wrong size", () => {
    rejects(() => encodeFrame({ ...frame, pixels: new Uint8Array(10) }), "bad_request", /needs 4608 bytes, got 10/);
  });

  test("rejects truncated, oversized and garbled frames", () => {
    const bytes = encodeFrame(frame);
    rejects(() => decodeFrame(bytes.subarray(0, bytes.length - 1)), "bad_request", /pixel bytes/);
    rejects(() => decodeFrame(new Uint8Array([...bytes, 1, 2])), "bad_request", /pixel bytes/);
    rejects(() => decodeFrame(bytes.subarray(0, 40)), "bad_request", /truncated/);
    const badFormat = bytes.slice();
    badFormat[5] = 7;
    rejects(() => decodeFrame(badFormat), "unsupported", /pixel format 7/);
    const lyingLength = bytes.slice();
    new DataView(lyingLength.buffer).setUint32(60, 99, true);
    rejects(() => decodeFrame(lyingLength), "bad_request");
    const lyingSize = bytes.slice();
    new DataView(lyingSize.buffer).setUint16(12, 128, true);
    rejects(() => decodeFrame(lyingSize), "bad_request");
    const longId = bytes.slice();
    longId[6] = 200;
    rejects(() => decodeFrame(longId), "bad_request", /session id length/);
  });

  test("corrupted headers either decode or throw ProtocolError, never anything else", () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const valid = encodeFrame(frame);
    for (let i = 0; i < 300; i++) {
      const g = valid.slice();
      for (let k = 0; k < 4; k++) g[Math.floor(rand() * 64)] = Math.floor(rand() * 256);
      try {
        decodeFrame(g);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
      expect(() => decodeTruth(g.subarray(0, 86))).toThrow(ProtocolError);
    }
  });
});

describe("ballStateOf", () => {
  test("gives the physics state of a truth, to project it to another time", () => {
    const s = ballStateOf(truth);
    expect(s).toEqual({ x: 31.25, y: 17.125, vx: -320.5, vy: 12.75, timeMs: truth.captureTimeMs, width: 64, height: 48, radius: 10.5 });
    expect(ballAt(s, truth.captureTimeMs).x).toBeCloseTo(truth.x, 9);
  });
});
