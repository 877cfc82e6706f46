import { describe, expect, test } from "bun:test";
import { ProtocolError, ballAt } from "@ballstream/protocol";
import {
  FRAME_COMPRESSIONS,
  type Frame,
  FrameAssembler,
  MIN_FRAME_MESSAGE_BYTES,
  type FrameTruth,
  MAX_SESSION_ID_LENGTH,
  ballStateOf,
  resumeAfter,
  decodeFrame,
  decodeTruth,
  decompressPixels,
  type FlatRegion,
  PixelCanvas,
  encodeFrame,
  encodeTruth,
  encodedFrameByteLength,
  i420ByteLength,
  splitFrame,
} from "../src/frame-codec.ts";
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
const frame: Frame = { ...truth, fps: 120, pixelFormat: "I420", pixels: pattern(i420ByteLength(64, 48)) };

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

  test("carries its frame rate in header byte 7 (truths carry 0); an impossible rate is refused both ways", () => {
    for (const fps of [1, 30, 120, 255]) expect(decodeFrame(encodeFrame({ ...frame, fps })).fps).toBe(fps);
    expect(encodeFrame(frame)[7]).toBe(120);
    expect(encodeTruth(truth)[7]).toBe(0);
    for (const fps of [0, 256, 29.97]) rejects(() => encodeFrame({ ...frame, fps }), "bad_request", /frame rate/);
    const zero = encodeFrame(frame);
    zero[7] = 0;
    rejects(() => decodeFrame(zero), "bad_request", /frame rate 0/);
  });

  test("a 640x480 frame fits a default 1 MiB max_payload", () => {
    const big: Frame = { ...frame, width: 640, height: 480, pixels: new Uint8Array(460_800) };
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

describe("compressed frame (I420 + zstd)", () => {
  /** A mostly flat picture with a bright disc, like the generator draws. */
  const flat = new Uint8Array(i420ByteLength(64, 48)).fill(16);
  for (let j = 10; j < 20; j++) flat.fill(235, j * 64 + 20, j * 64 + 30);
  const flatFrame: Frame = { ...frame, pixels: flat };
  const body = (bytes: Uint8Array) => bytes.subarray(64 + 22);
  /** A compressed message whose payload is replaced by `payload` (header length field kept consistent). */
  function withPayload(payload: Uint8Array): Uint8Array {
    const head = encodeFrame(flatFrame, "zstd").subarray(0, 64 + 22);
    const out = new Uint8Array(head.length + payload.length);
    out.set(head);
    out.set(payload, head.length);
    new DataView(out.buffer).setUint32(60, payload.length, true);
    return out;
  }

  test("round-trips to plain I420: the header's pixel length is the compressed length", () => {
    const bytes = encodeFrame(flatFrame, "zstd");
    expect(bytes[5]).toBe(2);
    expect(bytes.length).toBeLessThan(encodedFrameByteLength(64, 48, 22) / 10);
    expect(new DataView(bytes.buffer).getUint32(60, true)).toBe(bytes.length - 64 - 22);
    const { pixels, ...rest } = decodeFrame(bytes);
    const { pixels: original, ...expected } = flatFrame;
    expect(rest).toEqual(expected);
    expect(Buffer.from(pixels).equals(Buffer.from(original))).toBe(true);
    expect(pixels).toBeInstanceOf(Uint8Array);
  });

  test("a 640x480 flat frame shrinks to a few KB", () => {
    const big: Frame = { ...frame, width: 640, height: 480, pixels: new Uint8Array(460_800).fill(16) };
    const bytes = encodeFrame(big, "zstd");
    expect(bytes.length).toBeLessThan(4096);
    expect(decodeFrame(bytes).pixels.length).toBe(460_800);
  });

  test("`none` (the default) sends raw; pixels that do not compress are sent raw too", () => {
    expect(FRAME_COMPRESSIONS).toEqual(["none", "zstd", "patch"]);
    expect(encodeFrame(flatFrame, "none")).toEqual(encodeFrame(flatFrame));
    expect(encodeFrame(flatFrame)[5]).toBe(1);
    const noise: Frame = { ...frame, pixels: crypto.getRandomValues(new Uint8Array(i420ByteLength(64, 48))) };
    const bytes = encodeFrame(noise, "zstd");
    expect([bytes[5], bytes.length]).toEqual([1, encodedFrameByteLength(64, 48, 22)]);
    expect(Buffer.from(decodeFrame(bytes).pixels).equals(Buffer.from(noise.pixels))).toBe(true);
  });

  test("rejects truncated, garbled and empty compressed payloads", () => {
    const packed = body(encodeFrame(flatFrame, "zstd"));
    for (const n of [1, 4, packed.length - 1]) rejects(() => decodeFrame(withPayload(packed.subarray(0, n))), "bad_request");
    rejects(() => decodeFrame(withPayload(new Uint8Array([1, 2, 3, 4, 5, 6]))), "bad_request", /do not decode/);
    rejects(() => decodeFrame(withPayload(new Uint8Array(0))), "bad_request", /compressed pixel length 0/);
    const bytes = encodeFrame(flatFrame, "zstd");
    rejects(() => decodeFrame(bytes.subarray(0, bytes.length - 1)), "bad_request", /compressed pixel length/);
    rejects(() => decodeFrame(new Uint8Array([...bytes, 0])), "bad_request", /compressed pixel length/);
  });

  test("decodes into a canvas's picture of the right size (reused frame after frame), into a fresh one otherwise", () => {
    const canvas = new PixelCanvas();
    canvas.pixels = new Uint8Array(i420ByteLength(64, 48)).fill(99);
    const kept = canvas.pixels;
    expect(decodeFrame(encodeFrame(flatFrame, "zstd"), canvas).pixels).toBe(kept);
    expect(Buffer.from(kept).equals(Buffer.from(flat))).toBe(true);
    const wrongSize = new Uint8Array(100);
    canvas.pixels = wrongSize;
    const fresh = decodeFrame(encodeFrame(flatFrame, "zstd"), canvas).pixels;
    expect(fresh).not.toBe(wrongSize);
    expect(canvas.pixels).toBe(fresh);
    expect(Buffer.from(fresh).equals(Buffer.from(flat))).toBe(true);
    expect(wrongSize.every((b) => b === 0)).toBe(true);
    expect(decodeFrame(encodeFrame(flatFrame, "zstd")).pixels).not.toBe(fresh);
  });

  test("without libzstd node:zlib decompresses, with the same checks and the same cap", () => {
    const packed = body(encodeFrame(flatFrame, "zstd"));
    expect(Buffer.from(decompressPixels(packed, flat.length, undefined, null)).equals(Buffer.from(flat))).toBe(true);
    rejects(() => decompressPixels(Bun.zstdCompressSync(new Uint8Array(64 * 1024 * 1024)), flat.length, undefined, null), "too_large");
    rejects(() => decompressPixels(Bun.zstdCompressSync(flat.subarray(1)), flat.length, undefined, null), "bad_request", /expand to 4607/);
    rejects(() => decompressPixels(new Uint8Array([1, 2, 3, 4, 5, 6]), flat.length, undefined, null), "bad_request", /do not decode/);
  });

  test("rejects pixels that decompress to the wrong size, and caps a zip bomb at the I420 size", () => {
    const short = Bun.zstdCompressSync(flat.subarray(0, flat.length - 1));
    rejects(() => decodeFrame(withPayload(short)), "bad_request", /expand to 4607 bytes, I420 needs 4608/);
    const long = Bun.zstdCompressSync(new Uint8Array(flat.length + 1));
    rejects(() => decodeFrame(withPayload(long)), "too_large", /beyond the 4608 bytes/);
    const bomb = Bun.zstdCompressSync(new Uint8Array(64 * 1024 * 1024), { level: 19 });
    expect(bomb.length).toBeLessThan(4608);
    rejects(() => decodeFrame(withPayload(bomb)), "too_large");
    const twice = new Uint8Array([...body(encodeFrame(flatFrame, "zstd")), ...body(encodeFrame(flatFrame, "zstd"))]);
    rejects(() => decodeFrame(withPayload(twice)), "too_large");
  });

  test("a compressed length the raw size would cover is refused before decompressing", () => {
    const lying = encodeFrame(flatFrame, "zstd");
    new DataView(lying.buffer).setUint32(60, 4608, true);
    rejects(() => decodeFrame(lying), "bad_request", /must be below 4608/);
  });

  test("random corruption of a compressed frame either decodes or throws ProtocolError", () => {
    let seed = 999;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const valid = encodeFrame(flatFrame, "zstd");
    for (let i = 0; i < 500; i++) {
      const g = valid.slice();
      for (let k = 0; k < 3; k++) g[64 + 22 + Math.floor(rand() * (g.length - 86))] = Math.floor(rand() * 256);
      try {
        expect(decodeFrame(g).pixels.length).toBe(4608);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
    }
  });
});

describe("patch frame (flat background + one rectangle)", () => {
  const W = 64;
  const H = 48;
  const BG = { y: 40, u: 120, v: 130 };
  /** A picture that is `bg` outside `r` and a pattern seeded by `seed` inside it, with its region. */
  function picture(r: Omit<FlatRegion, "background">, seed: number, bg = BG): { frame: Frame; region: FlatRegion } {
    const pixels = new Uint8Array(i420ByteLength(W, H));
    pixels.fill(bg.y, 0, W * H).fill(bg.u, W * H, W * H * 1.25).fill(bg.v, W * H * 1.25);
    const planes = [
      [0, W, 1],
      [W * H, W / 2, 2],
      [W * H * 1.25, W / 2, 2],
    ] as const;
    for (const [base, stride, sub] of planes) {
      for (let j = r.y0 / sub; j < r.y1 / sub; j++) for (let i = r.x0 / sub; i < r.x1 / sub; i++) pixels[base + j * stride + i] = (i * 7 + j * 13 + seed) & 0xff;
    }
    return { frame: { ...frame, width: W, height: H, frameId: seed, pixels }, region: { background: bg, ...r } };
  }
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

  test("round-trips: format 3, only the rectangle travels; `none` ignores the region and sends raw", () => {
    const { frame: f, region } = picture({ x0: 10, y0: 6, x1: 30, y1: 20 }, 1);
    const bytes = encodeFrame(f, "zstd", region);
    expect(bytes[5]).toBe(3);
    expect(bytes.length).toBe(64 + 22 + 12 + 20 * 14 * 1.5);
    expect(same(decodeFrame(bytes).pixels, f.pixels)).toBe(true);
    expect(encodeFrame(f, "none", region)).toEqual(encodeFrame(f, "none"));
  });

  test("a decoded patch says its region (what an encoder may treat as unchanged outside); a raw or compressed frame says none", () => {
    const { frame: f, region } = picture({ x0: 10, y0: 6, x1: 30, y1: 20 }, 3);
    expect(decodeFrame(encodeFrame(f, "patch", region)).flat).toEqual(region);
    expect(decodeFrame(encodeFrame(f, "patch", region), new PixelCanvas()).flat).toEqual(region);
    expect(decodeFrame(encodeFrame(f, "none", region)).flat).toBeUndefined();
    const noisy = { ...f, pixels: f.pixels.map((v, i) => (v + i) & 0xff) };
    expect(decodeFrame(encodeFrame(noisy, "zstd")).flat).toBeUndefined();
  });

  test("`patch` sends a flat frame as the same patch as `zstd`, and a frame without a region raw, never compressed", () => {
    const { frame: f, region } = picture({ x0: 10, y0: 6, x1: 30, y1: 20 }, 4);
    expect(encodeFrame(f, "patch", region)).toEqual(encodeFrame(f, "zstd", region));
    expect(encodeFrame(f, "patch")).toEqual(encodeFrame(f, "none"));
    const whole = picture({ x0: 0, y0: 0, x1: W, y1: H }, 5);
    expect(encodeFrame(whole.frame, "patch", whole.region)).toEqual(encodeFrame(whole.frame, "none"));
  });

  test("a rectangle of the whole picture goes compressed, not as a patch larger than the picture", () => {
    const { frame: f, region } = picture({ x0: 0, y0: 0, x1: W, y1: H }, 2);
    const bytes = encodeFrame(f, "zstd", region);
    expect(bytes[5]).not.toBe(3);
    expect(bytes.length).toBeLessThanOrEqual(encodedFrameByteLength(W, H, 22));
    expect(same(decodeFrame(bytes).pixels, f.pixels)).toBe(true);
  });

  test("on a canvas, moving rectangles, a new background and a zstd frame in between all decode exactly", () => {
    const assembler = new FrameAssembler();
    const boxes = [
      { x0: 0, y0: 0, x1: 20, y1: 16 },
      { x0: 10, y0: 8, x1: 30, y1: 24 },
      { x0: 44, y0: 32, x1: 64, y1: 48 },
      { x0: 40, y0: 30, x1: 62, y1: 46 },
    ];
    let first: Uint8Array | undefined;
    for (const [k, box] of boxes.entries()) {
      const { frame: f, region } = picture(box, k);
      const decoded = assembler.push(encodeFrame(f, "zstd", region))!.pixels;
      first ??= decoded;
      expect(decoded).toBe(first);
      expect(same(decoded, f.pixels)).toBe(true);
    }
    const other = picture({ x0: 2, y0: 2, x1: 12, y1: 12 }, 9, { y: 200, u: 60, v: 70 });
    expect(same(assembler.push(encodeFrame(other.frame, "zstd", other.region))!.pixels, other.frame.pixels)).toBe(true);
    const whole = picture({ x0: 20, y0: 20, x1: 40, y1: 40 }, 5);
    expect(same(assembler.push(encodeFrame(whole.frame, "zstd"))!.pixels, whole.frame.pixels)).toBe(true);
    const after = picture({ x0: 4, y0: 4, x1: 14, y1: 14 }, 6);
    expect(same(assembler.push(encodeFrame(after.frame, "zstd", after.region))!.pixels, after.frame.pixels)).toBe(true);
  });

  test("refuses odd, empty or outside rectangles when encoding and when decoding, and payloads of another length", () => {
    const { frame: f, region } = picture({ x0: 10, y0: 6, x1: 30, y1: 20 }, 1);
    for (const bad of [{ x0: 11 }, { x1: 10 }, { y1: 50 }, { x0: -2 }, { y1: 6 }]) rejects(() => encodeFrame(f, "zstd", { ...region, ...bad }), "bad_request", /patch rectangle/);
    const bytes = encodeFrame(f, "zstd", region);
    const at = 64 + 22;
    const forged = (offset: number, value: number) => {
      const g = bytes.slice();
      new DataView(g.buffer).setUint16(at + offset, value, true);
      return g;
    };
    rejects(() => decodeFrame(forged(4, 11)), "bad_request", /patch rectangle/);
    rejects(() => decodeFrame(forged(8, 66)), "bad_request", /patch rectangle/);
    rejects(() => decodeFrame(forged(10, 22)), "bad_request", /its rectangle needs/);
    const reserved = bytes.slice();
    reserved[at + 3] = 1;
    rejects(() => decodeFrame(reserved), "bad_request", /reserved/);
    rejects(() => decodeFrame(bytes.subarray(0, bytes.length - 1)), "bad_request", /patch length/);
    const short = bytes.slice(0, at + 5);
    new DataView(short.buffer).setUint32(60, 5, true);
    rejects(() => decodeFrame(short), "bad_request", /patch of 5 bytes/);
  });

  test("random corruption of a patch either decodes or throws ProtocolError, and a bad one leaves the canvas usable", () => {
    let seed = 4242;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const { frame: f, region } = picture({ x0: 10, y0: 6, x1: 30, y1: 20 }, 3);
    const valid = encodeFrame(f, "zstd", region);
    const assembler = new FrameAssembler();
    for (let i = 0; i < 300; i++) {
      const g = valid.slice();
      for (let k = 0; k < 2; k++) g[64 + 22 + Math.floor(rand() * 16)] = Math.floor(rand() * 256);
      try {
        expect(assembler.push(g)!.pixels.length).toBe(i420ByteLength(W, H));
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
      expect(same(assembler.push(valid)!.pixels, f.pixels)).toBe(true);
    }
  });
});

describe("chunked frame (splitFrame + FrameAssembler)", () => {
  const big: Frame = { ...frame, width: 1920, height: 1080, pixels: pattern(i420ByteLength(1920, 1080)) };
  const MIB = 1024 * 1024;

  test("a frame that fits is one message, itself; a 1920x1080 frame becomes 3 chunks of at most 1 MiB", () => {
    const small = encodeFrame(frame);
    expect(splitFrame(small, small.length)).toEqual([small]);
    expect(splitFrame(small, small.length)[0]).toBe(small);
    const message = encodeFrame(big);
    const chunks = splitFrame(message, MIB);
    expect(chunks.map((c) => c.length)).toEqual([MIB, MIB, message.length - 2 * (MIB - 20) + 20]);
    const assembler = new FrameAssembler();
    expect(assembler.push(chunks[0]!)).toBeUndefined();
    expect(assembler.push(chunks[1]!)).toBeUndefined();
    const out = assembler.push(chunks[2]!)!;
    expect({ ...out, pixels: undefined }).toEqual({ ...big, pixels: undefined });
    expect(out.pixels).toEqual(big.pixels);
    expect(assembler.push(small)).toMatchObject({ width: 64, height: 48 }); // whole messages pass straight through
  });

  test("a compressed frame that is small stays whole; frames after a lost chunk still assemble", () => {
    const flat: Frame = { ...big, pixels: new Uint8Array(i420ByteLength(1920, 1080)).fill(16) };
    expect(splitFrame(encodeFrame(flat, "zstd"), MIB)).toHaveLength(1);
    const a = splitFrame(encodeFrame({ ...big, frameId: 1 }), MIB);
    const b = splitFrame(encodeFrame({ ...big, frameId: 2 }), MIB);
    const assembler = new FrameAssembler();
    assembler.push(a[0]!);
    rejects(() => assembler.push(a[2]!), "bad_request", /chunk 3 of 3 \(frame 1\) out of sequence/);
    assembler.push(a[0]!);
    assembler.push(a[1]!);
    expect(assembler.push(b[0]!)).toBeUndefined(); // a[2] lost: the new frame starts over
    rejects(() => assembler.push(a[2]!), "bad_request", /out of sequence/);
    expect(assembler.push(b[0]!)).toBeUndefined();
    expect(assembler.push(b[1]!)).toBeUndefined();
    expect(assembler.push(b[2]!)!.frameId).toBe(2);
  });

  test("compressed frames are decompressed into one reused buffer; raw ones stay views of their message", () => {
    const assembler = new FrameAssembler();
    const shaded = (shade: number): Frame => ({ ...frame, frameId: shade, pixels: new Uint8Array(i420ByteLength(64, 48)).fill(shade) });
    const first = assembler.push(encodeFrame(shaded(20), "zstd"))!.pixels;
    const second = assembler.push(encodeFrame(shaded(30), "zstd"))!.pixels;
    expect(second).toBe(first);
    expect(second.every((b) => b === 30)).toBe(true);
    const raw = encodeFrame(shaded(40));
    const view = assembler.push(raw)!.pixels;
    expect(view.buffer).toBe(raw.buffer);
    expect(assembler.push(encodeFrame(shaded(50), "zstd"))!.pixels).toBe(first);
    expect(first.every((b) => b === 50)).toBe(true);
  });

  test("refuses to split below MIN_FRAME_MESSAGE_BYTES or anything that is not a frame message", () => {
    rejects(() => splitFrame(encodeFrame(big), MIN_FRAME_MESSAGE_BYTES - 1), "too_large");
    expect(splitFrame(encodeFrame(big), MIN_FRAME_MESSAGE_BYTES).length).toBe(Math.ceil(encodeFrame(big).length / (MIN_FRAME_MESSAGE_BYTES - 20)));
    rejects(() => splitFrame(encodeTruth(truth).slice(0, 64), 10), "bad_request", /not a frame message/);
  });

  test("forged chunks are refused with ProtocolError: oversized total, overflowing or short pieces, wrong frame id", () => {
    const chunks = splitFrame(encodeFrame(big), MIB);
    const forged = (i: number, offset: number, value: number, size: 16 | 32 = 32) => {
      const c = chunks[i]!.slice();
      const v = new DataView(c.buffer);
      if (size === 16) v.setUint16(offset, value, true);
      else v.setUint32(offset, value, true);
      return c;
    };
    rejects(() => new FrameAssembler().push(forged(0, 16, 0xffffffff)), "bad_request", /at most/);
    rejects(() => new FrameAssembler().push(forged(0, 8, 1, 16)), "bad_request", /at most/);
    const short = new FrameAssembler();
    short.push(forged(0, 16, chunks[0]!.length + 100));
    rejects(() => short.push(forged(1, 16, chunks[0]!.length + 100)), "bad_request", /does not fit/);
    const idSwap = new FrameAssembler();
    idSwap.push(forged(0, 12, 7));
    idSwap.push(forged(1, 12, 7));
    rejects(() => idSwap.push(forged(2, 12, 7)), "bad_request", /carry frame/);
    rejects(() => new FrameAssembler().push(forged(0, 4, 9, 16)), "unsupported");
    for (let i = 0; i < 300; i++) {
      const c = chunks[i % 3]!.slice(0, 64 + (i % 40));
      c[i % 40] = c[i % 40]! ^ 0xff;
      try {
        new FrameAssembler().push(c);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
    }
  });
});

describe("resumeAfter", () => {
  test("continues from the truth's state with the next frame id, wrapping at 2^32", () => {
    expect(resumeAfter(truth)).toEqual({ ball: ballStateOf(truth), nextFrameId: truth.frameId + 1 });
    expect(resumeAfter({ ...truth, frameId: 2 ** 32 - 1 }).nextFrameId).toBe(0);
  });
});

describe("ballStateOf", () => {
  test("gives the physics state of a truth, to project it to another time", () => {
    const s = ballStateOf(truth);
    expect(s).toEqual({ x: 31.25, y: 17.125, vx: -320.5, vy: 12.75, timeMs: truth.captureTimeMs, width: 64, height: 48, radius: 10.5 });
    expect(ballAt(s, truth.captureTimeMs).x).toBeCloseTo(truth.x, 9);
  });
});
