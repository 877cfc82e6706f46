/**
 * Compact binary codec for what the generator publishes: the ground truth of a frame (small, on its own subject)
 * and the frame itself (the same header followed by I420 pixels). Little-endian layout:
 *
 * | off | size | field                                  |
 * |-----|------|----------------------------------------|
 * | 0   | 4    | magic `BST1` (truth) or `BSF1` (frame) |
 * | 4   | 1    | version (1)                            |
 * | 5   | 1    | pixel format (0 none, 1 I420, 2 zstd, 3 patch) |
 * | 6   | 1    | session id length in bytes (1–64)      |
 * | 7   | 1    | frame rate (1–255 fps; 0 in truths)    |
 * | 8   | 4    | frame id (u32)                         |
 * | 12  | 2+2  | width, height (px)                     |
 * | 16  | 8    | capture time (epoch ms, f64)           |
 * | 24  | 8+8  | true centre x, y (px, f64)             |
 * | 40  | 8+8  | velocity vx, vy (px/s, f64)            |
 * | 56  | 4    | ball radius (px, f32)                  |
 * | 60  | 4    | pixel byte length as sent (u32)        |
 * | 64  | n    | session id (ASCII)                     |
 * | 64+n| …    | pixels (I420, or one zstd frame of it) |
 *
 * A frame carries the rate it was drawn at (it lasts 1/fps s, as pion's `media.Sample` carries its `Duration`), so
 * media follows a live fps change from the frames themselves: keyframe interval and bitrate stay per second.
 *
 * Format 2 carries the I420 pixels zstd-compressed (level 1: a mostly flat 640×480 frame shrinks ~500×);
 * `decodeFrame` decompresses it, at most to the I420 size of the header's width × height, so readers always get
 * plain I420 and a forged payload cannot make them allocate more.
 *
 * Format 3, a **patch**, is a whole picture said shortly: one background colour and one rectangle of pixels (the
 * `flat` scene's ball box, {@link FlatRegion}); everything outside the rectangle is the background. Payload: Y, U, V
 * of the background, a zero byte, the rectangle x0, y0, x1, y1 (u16 luma px, even, non-empty, inside the picture),
 * then its luma rows, its U rows and its V rows. Still one frame on its own (a lost one costs nothing later); a
 * {@link PixelCanvas} that already holds the last patch only repaints the old and new rectangles.
 *
 * A frame message larger than the bus's max payload (1920×1080 I420 is 3.1 MB; the bus default is 1 MiB, see
 * docs/generator.md) travels as chunks (`splitFrame`): each is a 20-byte header followed by the next piece of the
 * frame message above, and {@link FrameAssembler} rebuilds it:
 *
 * | off | size | field                          |
 * |-----|------|--------------------------------|
 * | 0   | 4    | magic `BSC1`                   |
 * | 4   | 1    | version (1)                    |
 * | 5   | 1    | reserved (0)                   |
 * | 6   | 2+2  | chunk index, chunk count (≥ 2) |
 * | 10  | 2    | reserved (0)                   |
 * | 12  | 4    | frame id (u32)                 |
 * | 16  | 4    | whole frame message bytes      |
 * | 20  | …    | piece of the frame message     |
 */
import zlib from "node:zlib";
import type { BallState, SessionResume } from "@ballstream/protocol";
import { ProtocolError } from "@ballstream/protocol";
import { ZSTD_DST_TOO_SMALL, type ZstdInto, loadZstdInto } from "./zstd-into.ts";

/** Ground truth of one frame: where the ball's centre really was at the frame's capture time. */
export interface FrameTruth {
  readonly sessionId: string;
  readonly frameId: number;
  readonly captureTimeMs: number;
  readonly x: number;
  readonly y: number;
  readonly vx: number;
  readonly vy: number;
  readonly width: number;
  readonly height: number;
  readonly radius: number;
}

/** Pixel layouts a frame can carry. I420: planar Y, then U and V at half resolution. */
export type PixelFormat = "I420";

/**
 * How a frame's pixels travel on the bus: as they are (`none`), zstd-compressed (`zstd`; over NATS, where every
 * byte is copied through the server), or as they are except that a frame with a flat region goes as a patch
 * (`patch`; on the in-process bus: no compression to pay for, and the worker neither allocates nor copies 460 KB a
 * frame). `zstd` sends such a frame as a patch too.
 */
export type FrameCompression = "none" | "zstd" | "patch";

/** The values of {@link FrameCompression}, e.g. to validate configuration. */
export const FRAME_COMPRESSIONS: readonly FrameCompression[] = ["none", "zstd", "patch"];

/** A drawn frame with its truth. `pixels` may be a view into the received message: copy it to keep it. */
export interface Frame extends FrameTruth {
  /** The session's frame rate when this frame was drawn: the frame lasts 1/fps s. */
  readonly fps: number;
  readonly pixelFormat: PixelFormat;
  readonly pixels: Uint8Array;
  /**
   * Set when the frame came as a patch: outside this rectangle the picture is all `background`. What lets an
   * encoder know which macroblocks did not change since the last such frame (x264's `mb_info`, media's x264.ts).
   */
  readonly flat?: FlatRegion;
}

const MAGIC_TRUTH = 0x31545342; // "BST1" little-endian
const MAGIC_FRAME = 0x31465342; // "BSF1" little-endian
const MAGIC_CHUNK = 0x31435342; // "BSC1" little-endian
const CHUNK_HEADER_BYTES = 20;
const VERSION = 1;
const HEADER_BYTES = 64;
/** Longest session id the codec carries. */
export const MAX_SESSION_ID_LENGTH = 64;
/** Largest width or height the codec accepts. */
export const MAX_DIMENSION = 4096;
const FORMAT_I420 = 1;
const FORMAT_I420_ZSTD = 2;
const FORMAT_I420_PATCH = 3;
/** Background Y, U, V, a zero byte, then x0, y0, x1, y1 as u16. */
const PATCH_HEADER_BYTES = 12;
/** Highest frame rate the header's byte holds. */
const MAX_FPS = 255;
/** Smallest bus payload frames can be split for: 1,920×1,080 takes 760 chunks of it, below the u16 chunk count. */
export const MIN_FRAME_MESSAGE_BYTES = 4096;
/** zstd level 1: the fastest level that already takes a flat frame to ~1 KB; higher levels only cost time. */
const ZSTD_LEVEL = 1;
/** node:zlib's smallest output chunk. */
const MIN_ZLIB_CHUNK = 64;

/** Bytes of an I420 picture of the given size (width and height must be even). */
export function i420ByteLength(width: number, height: number): number {
  return width * height + 2 * ((width / 2) * (height / 2));
}

/** Bytes an encoded frame of this size takes on the bus (header + id + pixels). */
export function encodedFrameByteLength(width: number, height: number, sessionIdLength: number): number {
  return HEADER_BYTES + sessionIdLength + i420ByteLength(width, height);
}

function checkTruth(t: FrameTruth): Uint8Array {
  const id = new TextEncoder().encode(t.sessionId);
  if (id.length < 1 || id.length > MAX_SESSION_ID_LENGTH || !/^[\x21-\x7e]+$/.test(t.sessionId)) {
    throw new ProtocolError("bad_request", `session id must be 1–${MAX_SESSION_ID_LENGTH} printable ASCII bytes`);
  }
  if (!Number.isInteger(t.frameId) || t.frameId < 0 || t.frameId > 0xffffffff) {
    throw new ProtocolError("bad_request", `frame id ${t.frameId} is not a u32`);
  }
  for (const d of [t.width, t.height]) {
    if (!Number.isInteger(d) || d < 2 || d > MAX_DIMENSION || d % 2 !== 0) {
      throw new ProtocolError("bad_request", `frame dimension ${d} must be an even integer in 2–${MAX_DIMENSION}`);
    }
  }
  return id;
}

function writeHeader(view: DataView, magic: number, format: number, t: FrameTruth, idLength: number, pixelBytes: number, fps: number): void {
  view.setUint32(0, magic, true);
  view.setUint8(4, VERSION);
  view.setUint8(5, format);
  view.setUint8(6, idLength);
  view.setUint8(7, fps);
  view.setUint32(8, t.frameId, true);
  view.setUint16(12, t.width, true);
  view.setUint16(14, t.height, true);
  view.setFloat64(16, t.captureTimeMs, true);
  view.setFloat64(24, t.x, true);
  view.setFloat64(32, t.y, true);
  view.setFloat64(40, t.vx, true);
  view.setFloat64(48, t.vy, true);
  view.setFloat32(56, t.radius, true);
  view.setUint32(60, pixelBytes, true);
}

/** A picture that is one colour outside one rectangle: what the `flat` scene's raster knows of every frame it draws. */
export interface FlatRegion {
  /** The background in Y'CbCr (each 0–255). */
  readonly background: { readonly y: number; readonly u: number; readonly v: number };
  /** The rectangle that may differ from it, luma px, `x0` ≤ x < `x1`; all four even. */
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** A patch's rectangle, checked against a `width`×`height` picture; throws {@link ProtocolError}. */
function checkRegion(r: FlatRegion, width: number, height: number): void {
  const even = [r.x0, r.y0, r.x1, r.y1].every((n) => Number.isInteger(n) && n % 2 === 0);
  if (!even || r.x0 < 0 || r.y0 < 0 || r.x1 > width || r.y1 > height || r.x0 >= r.x1 || r.y0 >= r.y1) {
    throw new ProtocolError("bad_request", `patch rectangle ${r.x0},${r.y0}–${r.x1},${r.y1} must be even, non-empty and inside ${width}x${height}`);
  }
}

/** Bytes of a patch payload for rectangle `r`. */
function patchBytes(r: FlatRegion): number {
  const w = r.x1 - r.x0;
  const h = r.y1 - r.y0;
  return PATCH_HEADER_BYTES + w * h + (w * h) / 2;
}

/** Copies rectangle `r` between an I420 picture and packed rows (`toRows`: picture → rows), plane by plane. */
function copyRegion(picture: Uint8Array, rows: Uint8Array, width: number, height: number, r: FlatRegion, toRows: boolean): void {
  let at = 0;
  const planes = [
    [0, width, r.x0, r.y0, r.x1, r.y1],
    [width * height, width / 2, r.x0 / 2, r.y0 / 2, r.x1 / 2, r.y1 / 2],
    [width * height + (width * height) / 4, width / 2, r.x0 / 2, r.y0 / 2, r.x1 / 2, r.y1 / 2],
  ] as const;
  for (const [base, stride, x0, y0, x1, y1] of planes) {
    for (let j = y0; j < y1; j++) {
      const from = base + j * stride + x0;
      if (toRows) rows.set(picture.subarray(from, from + x1 - x0), at);
      else picture.set(rows.subarray(at, at + x1 - x0), from);
      at += x1 - x0;
    }
  }
}

/** Fills rectangle `r` (or the whole picture without one) of an I420 picture with `bg`. */
function fillRegion(picture: Uint8Array, width: number, height: number, bg: FlatRegion["background"], r?: FlatRegion): void {
  const luma = width * height;
  if (r === undefined) {
    picture.fill(bg.y, 0, luma).fill(bg.u, luma, luma + luma / 4).fill(bg.v, luma + luma / 4);
    return;
  }
  for (let j = r.y0; j < r.y1; j++) picture.fill(bg.y, j * width + r.x0, j * width + r.x1);
  const cw = width / 2;
  for (let j = r.y0 / 2; j < r.y1 / 2; j++) {
    picture.fill(bg.u, luma + j * cw + r.x0 / 2, luma + j * cw + r.x1 / 2);
    picture.fill(bg.v, luma + luma / 4 + j * cw + r.x0 / 2, luma + luma / 4 + j * cw + r.x1 / 2);
  }
}

/** Encodes a frame's truth (no pixels). Throws {@link ProtocolError} on values the layout cannot hold. */
export function encodeTruth(t: FrameTruth): Uint8Array {
  const id = checkTruth(t);
  const out = new Uint8Array(HEADER_BYTES + id.length);
  writeHeader(new DataView(out.buffer), MAGIC_TRUTH, 0, t, id.length, 0, 0);
  out.set(id, HEADER_BYTES);
  return out;
}

/**
 * Encodes a frame: header, session id, then the pixels, copied once into the message, or with `compression`
 * `zstd` compressed (sent raw instead if compressing would not make them smaller). With `zstd` or `patch` and a `flat` region
 * (the pixels are its background outside its rectangle, as the raster of the flat scene knows) the frame goes as a
 * patch instead: only the rectangle is copied, nothing is compressed (0.09 ms of zstd a 640×480 frame saved);
 * unless the rectangle is about the whole picture, where a patch would not be smaller than the picture itself.
 */
export function encodeFrame(f: Frame, compression: FrameCompression = "none", flat?: FlatRegion): Uint8Array {
  const id = checkTruth(f);
  if (!Number.isInteger(f.fps) || f.fps < 1 || f.fps > MAX_FPS) throw new ProtocolError("bad_request", `frame rate ${f.fps} must be an integer in 1–${MAX_FPS}`);
  const expected = i420ByteLength(f.width, f.height);
  if (f.pixels.length !== expected) {
    throw new ProtocolError("bad_request", `I420 ${f.width}x${f.height} needs ${expected} bytes, got ${f.pixels.length}`);
  }
  if (compression !== "none" && flat !== undefined && patchBytes(flat) < expected) return encodePatch(f, id, flat);
  const packed = compression === "zstd" ? Bun.zstdCompressSync(f.pixels, { level: ZSTD_LEVEL }) : undefined;
  const [format, body] = packed && packed.length < expected ? [FORMAT_I420_ZSTD, packed] : [FORMAT_I420, f.pixels];
  const out = new Uint8Array(HEADER_BYTES + id.length + body.length);
  writeHeader(new DataView(out.buffer), MAGIC_FRAME, format, f, id.length, body.length, f.fps);
  out.set(id, HEADER_BYTES);
  out.set(body, HEADER_BYTES + id.length);
  return out;
}

function encodePatch(f: Frame, id: Uint8Array, r: FlatRegion): Uint8Array {
  checkRegion(r, f.width, f.height);
  const bytes = patchBytes(r);
  const out = new Uint8Array(HEADER_BYTES + id.length + bytes);
  const view = new DataView(out.buffer);
  writeHeader(view, MAGIC_FRAME, FORMAT_I420_PATCH, f, id.length, bytes, f.fps);
  out.set(id, HEADER_BYTES);
  const at = HEADER_BYTES + id.length;
  out.set([r.background.y, r.background.u, r.background.v, 0], at);
  [r.x0, r.y0, r.x1, r.y1].forEach((n, k) => view.setUint16(at + 4 + 2 * k, n, true));
  copyRegion(f.pixels, out.subarray(at + PATCH_HEADER_BYTES), f.width, f.height, r, true);
  return out;
}

function readHeader(data: Uint8Array, magic: number, what: string): { truth: FrameTruth; format: number; fps: number; pixelBytes: number; end: number } {
  if (data.length < HEADER_BYTES) throw new ProtocolError("bad_request", `${what} truncated: ${data.length} bytes`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0, true) !== magic) throw new ProtocolError("bad_request", `${what}: bad magic`);
  if (view.getUint8(4) !== VERSION) throw new ProtocolError("unsupported", `${what}: version ${view.getUint8(4)}`);
  const idLength = view.getUint8(6);
  const end = HEADER_BYTES + idLength;
  if (idLength < 1 || idLength > MAX_SESSION_ID_LENGTH || data.length < end) {
    throw new ProtocolError("bad_request", `${what}: bad session id length ${idLength}`);
  }
  const width = view.getUint16(12, true);
  const height = view.getUint16(14, true);
  const truth: FrameTruth = {
    sessionId: new TextDecoder("ascii").decode(data.subarray(HEADER_BYTES, end)),
    frameId: view.getUint32(8, true),
    width,
    height,
    captureTimeMs: view.getFloat64(16, true),
    x: view.getFloat64(24, true),
    y: view.getFloat64(32, true),
    vx: view.getFloat64(40, true),
    vy: view.getFloat64(48, true),
    radius: view.getFloat32(56, true),
  };
  if (![truth.captureTimeMs, truth.x, truth.y, truth.vx, truth.vy, truth.radius].every(Number.isFinite)) {
    throw new ProtocolError("bad_request", `${what}: non-finite number`);
  }
  if (width < 2 || height < 2 || width % 2 || height % 2 || width > MAX_DIMENSION || height > MAX_DIMENSION) {
    throw new ProtocolError("bad_request", `${what}: bad size ${width}x${height}`);
  }
  return { truth, format: view.getUint8(5), fps: view.getUint8(7), pixelBytes: view.getUint32(60, true), end };
}

/** Decodes a truth message. Throws {@link ProtocolError} on truncated, garbled or trailing bytes. */
export function decodeTruth(data: Uint8Array): FrameTruth {
  const { truth, pixelBytes, end } = readHeader(data, MAGIC_TRUTH, "truth");
  if (pixelBytes !== 0 || data.length !== end) throw new ProtocolError("bad_request", "truth: unexpected trailing bytes");
  return truth;
}

/** libzstd, loaded on the first compressed frame; null when the system has none (node:zlib then, allocating). */
let systemZstd: ZstdInto | null | undefined;

/**
 * Decompresses zstd-compressed I420 pixels into `into` when it is given with exactly `expected` bytes (else into a
 * fresh buffer), refusing to produce more than `expected` bytes; throws {@link ProtocolError}. `zstd` is libzstd
 * (the system's by default); with null, node:zlib decompresses into a buffer of its own (`into` unused).
 */
export function decompressPixels(packed: Uint8Array, expected: number, into?: Uint8Array, zstd: ZstdInto | null = (systemZstd ??= loadZstdInto())): Uint8Array {
  if (zstd !== null) {
    const out = into?.length === expected ? into : new Uint8Array(expected);
    const r = zstd(packed, out);
    if (!r.ok && r.code === ZSTD_DST_TOO_SMALL) throw new ProtocolError("too_large", `frame: compressed pixels expand beyond the ${expected} bytes of their I420 size`);
    if (!r.ok) throw new ProtocolError("bad_request", `frame: compressed pixels do not decode (zstd error ${r.code})`);
    if (r.bytes !== expected) throw new ProtocolError("bad_request", `frame: compressed pixels expand to ${r.bytes} bytes, I420 needs ${expected}`);
    return out;
  }
  return decompressWithZlib(packed, expected);
}

/** {@link decompressPixels} through node:zlib: a new buffer per frame. */
function decompressWithZlib(packed: Uint8Array, expected: number): Uint8Array {
  let pixels: Buffer;
  try {
    // One output chunk of the whole picture: no chunk list to concatenate (measured ~2× faster than the default).
    pixels = zlib.zstdDecompressSync(packed, { maxOutputLength: expected, chunkSize: Math.max(MIN_ZLIB_CHUNK, expected) });
  } catch (err) {
    const tooLarge = (err as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE";
    throw new ProtocolError(
      tooLarge ? "too_large" : "bad_request",
      tooLarge ? `frame: compressed pixels expand beyond the ${expected} bytes of their I420 size` : `frame: compressed pixels do not decode (${(err as Error).message})`,
    );
  }
  if (pixels.length !== expected) {
    throw new ProtocolError("bad_request", `frame: compressed pixels expand to ${pixels.length} bytes, I420 needs ${expected}`);
  }
  return new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length);
}

/**
 * A reusable I420 picture that compressed frames and patches are decoded into (one per frames subscription), and
 * what it is known to hold: after a patch, that patch, so the next one of the same background repaints only the
 * old and the new rectangle (a 640×480 ball: ~10 KB written instead of 460 KB).
 */
export class PixelCanvas {
  /** The picture, as the last frame decoded into it left it. */
  pixels: Uint8Array | undefined;
  /** The last patch drawn on it, with its picture size; undefined when its content came otherwise. */
  patch: { readonly region: FlatRegion; readonly width: number; readonly height: number } | undefined;
}

/** Draws a patch payload onto `canvas` (or a fresh picture) after checking all of it, and says its region; throws {@link ProtocolError}. */
function decodePatch(payload: Uint8Array, width: number, height: number, canvas: PixelCanvas = new PixelCanvas()): { pixels: Uint8Array; region: FlatRegion } {
  if (payload.length < PATCH_HEADER_BYTES) throw new ProtocolError("bad_request", `frame: patch of ${payload.length} bytes`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (payload[3] !== 0) throw new ProtocolError("bad_request", "frame: patch reserved byte not 0");
  const [x0, y0, x1, y1] = [0, 1, 2, 3].map((k) => view.getUint16(4 + 2 * k, true)) as [number, number, number, number];
  const region: FlatRegion = { background: { y: payload[0]!, u: payload[1]!, v: payload[2]! }, x0, y0, x1, y1 };
  checkRegion(region, width, height);
  if (payload.length !== patchBytes(region)) throw new ProtocolError("bad_request", `frame: patch of ${payload.length} bytes, its rectangle needs ${patchBytes(region)}`);
  const expected = i420ByteLength(width, height);
  const known = canvas.pixels?.length === expected ? canvas.patch : undefined;
  const bg = region.background;
  const sameBackground = known !== undefined && known.width === width && known.height === height && ["y", "u", "v"].every((c) => known.region.background[c as "y"] === bg[c as "y"]);
  const pixels = canvas.pixels?.length === expected ? canvas.pixels : new Uint8Array(expected);
  fillRegion(pixels, width, height, bg, sameBackground ? known.region : undefined);
  copyRegion(pixels, payload.subarray(PATCH_HEADER_BYTES), width, height, region, false);
  canvas.pixels = pixels;
  canvas.patch = { region, width, height };
  return { pixels, region };
}

/**
 * Decodes a frame into plain I420 whatever its wire format: `pixels` is a view into `data` (no copy) for raw
 * frames; compressed frames and patches are drawn into `canvas` when given (its picture reused frame after frame:
 * valid until the next decode into it), else into a fresh buffer. Throws {@link ProtocolError} on bad input.
 */
export function decodeFrame(data: Uint8Array, canvas?: PixelCanvas): Frame {
  const { truth, format, fps, pixelBytes, end } = readHeader(data, MAGIC_FRAME, "frame");
  if (fps === 0) throw new ProtocolError("bad_request", "frame: frame rate 0");
  const expected = i420ByteLength(truth.width, truth.height);
  const sent = data.length - end;
  if (format === FORMAT_I420) {
    if (pixelBytes !== expected || sent !== expected) {
      throw new ProtocolError("bad_request", `frame: ${truth.width}x${truth.height} I420 needs ${expected} pixel bytes, got ${sent}`);
    }
    return { ...truth, fps, pixelFormat: "I420", pixels: data.subarray(end) };
  }
  if (format === FORMAT_I420_ZSTD) {
    if (pixelBytes !== sent || sent < 1 || sent >= expected) {
      throw new ProtocolError("bad_request", `frame: compressed pixel length ${pixelBytes} does not fit ${sent} bytes sent (and must be below ${expected})`);
    }
    if (canvas === undefined) return { ...truth, fps, pixelFormat: "I420", pixels: decompressPixels(data.subarray(end), expected) };
    canvas.patch = undefined;
    canvas.pixels = decompressPixels(data.subarray(end), expected, canvas.pixels);
    return { ...truth, fps, pixelFormat: "I420", pixels: canvas.pixels };
  }
  if (format === FORMAT_I420_PATCH) {
    if (pixelBytes !== sent) throw new ProtocolError("bad_request", `frame: patch length ${pixelBytes} does not fit ${sent} bytes sent`);
    const { pixels, region } = decodePatch(data.subarray(end), truth.width, truth.height, canvas);
    return { ...truth, fps, pixelFormat: "I420", pixels, flat: region };
  }
  throw new ProtocolError("unsupported", `frame: pixel format ${format}`);
}

/**
 * The bus messages that carry an encoded frame message (from {@link encodeFrame}) within `maxMessageBytes` each:
 * the message itself if it fits (no copy), otherwise chunks (see the layout above; one copy of the frame).
 */
export function splitFrame(message: Uint8Array, maxMessageBytes: number): Uint8Array[] {
  if (message.length <= maxMessageBytes) return [message];
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  if (message.length < HEADER_BYTES || view.getUint32(0, true) !== MAGIC_FRAME) throw new ProtocolError("bad_request", "splitFrame: not a frame message");
  const piece = maxMessageBytes - CHUNK_HEADER_BYTES;
  const count = Math.ceil(message.length / piece);
  if (maxMessageBytes < MIN_FRAME_MESSAGE_BYTES || count > 0xffff) {
    throw new ProtocolError("too_large", `a ${message.length}-byte frame cannot be split into messages of ${maxMessageBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const part = message.subarray(index * piece, (index + 1) * piece);
    const chunk = new Uint8Array(CHUNK_HEADER_BYTES + part.length);
    const v = new DataView(chunk.buffer);
    v.setUint32(0, MAGIC_CHUNK, true);
    v.setUint8(4, VERSION);
    v.setUint16(6, index, true);
    v.setUint16(8, count, true);
    v.setUint32(12, view.getUint32(8, true), true);
    v.setUint32(16, message.length, true);
    chunk.set(part, CHUNK_HEADER_BYTES);
    chunks.push(chunk);
  }
  return chunks;
}

/**
 * Rebuilds frames from one frames subscription's messages, whole or chunked ({@link splitFrame}), in arrival
 * order (NATS keeps one publisher's order on a subject). A chunk out of sequence (one was lost) drops its frame.
 * Compressed frames and patches are drawn on one {@link PixelCanvas} reused frame after frame: a frame's `pixels`
 * are valid until the next `push` (media writes them to its encoder at once; Bun's pipe to ffmpeg copies what it
 * cannot write now).
 */
export class FrameAssembler {
  #buffer: Uint8Array | null = null;
  readonly #canvas = new PixelCanvas();
  #frameId = 0;
  #next = 0;
  #count = 0;
  #filled = 0;

  /**
   * The frame this message completes, or undefined while chunks are still missing. Throws {@link ProtocolError}
   * on a malformed message or a chunk out of sequence (the partial frame is dropped).
   */
  push(data: Uint8Array): Frame | undefined {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.length < CHUNK_HEADER_BYTES || view.getUint32(0, true) !== MAGIC_CHUNK) {
      this.#buffer = null;
      return decodeFrame(data, this.#canvas);
    }
    if (view.getUint8(4) !== VERSION) throw new ProtocolError("unsupported", `frame chunk: version ${view.getUint8(4)}`);
    const index = view.getUint16(6, true);
    const count = view.getUint16(8, true);
    const frameId = view.getUint32(12, true);
    const total = view.getUint32(16, true);
    const piece = data.subarray(CHUNK_HEADER_BYTES);
    if (index === 0) this.#begin(piece, count, frameId, total);
    else if (this.#buffer === null || frameId !== this.#frameId || index !== this.#next || count !== this.#count || total !== this.#buffer.length) {
      this.#buffer = null;
      throw new ProtocolError("bad_request", `frame chunk ${index + 1} of ${count} (frame ${frameId}) out of sequence: frame dropped`);
    }
    const buffer = this.#buffer!;
    const last = index === count - 1;
    if (this.#filled + piece.length > total || (last && this.#filled + piece.length !== total) || (!last && piece.length === 0)) {
      this.#buffer = null;
      throw new ProtocolError("bad_request", `frame chunk ${index + 1} of ${count} (frame ${frameId}) does not fit its ${total}-byte frame`);
    }
    buffer.set(piece, this.#filled);
    this.#filled += piece.length;
    this.#next++;
    if (!last) return undefined;
    this.#buffer = null;
    const frame = decodeFrame(buffer, this.#canvas);
    if (frame.frameId !== frameId) throw new ProtocolError("bad_request", `frame chunks of frame ${frameId} carry frame ${frame.frameId}`);
    return frame;
  }

  /** Starts a frame from its first chunk, whose piece holds the frame header that bounds the frame's size. */
  #begin(piece: Uint8Array, count: number, frameId: number, total: number): void {
    this.#buffer = null;
    const { truth, end } = readHeader(piece, MAGIC_FRAME, "frame chunk 1");
    const max = encodedFrameByteLength(truth.width, truth.height, end - HEADER_BYTES);
    if (count < 2 || total > max || total < piece.length) {
      throw new ProtocolError("bad_request", `frame chunk 1 of ${count}: ${total} bytes for a ${truth.width}x${truth.height} frame of at most ${max}`);
    }
    this.#buffer = new Uint8Array(total);
    this.#frameId = frameId;
    this.#count = count;
    this.#next = 0;
    this.#filled = 0;
  }
}

/** The physics state a truth describes, to ask where the ball is at another time (see `ballAt`). */
export function ballStateOf(t: FrameTruth): BallState {
  return { x: t.x, y: t.y, vx: t.vx, vy: t.vy, timeMs: t.captureTimeMs, width: t.width, height: t.height, radius: t.radius };
}

/** Where a session continues after `t` when another generator takes it over: the ball's state at `t`, the next frame id. */
export function resumeAfter(t: FrameTruth): SessionResume {
  return { ball: ballStateOf(t), nextFrameId: (t.frameId + 1) >>> 0 };
}
