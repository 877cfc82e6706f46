/** HTTP/3 frames (RFC 9114 §7): type varint, length varint, payload. */
import { concatBytes } from "./bytes.ts";
import { H3_ERROR, Http3Error } from "./errors.ts";
import { encodeVarint, readVarint } from "./varint.ts";

/** HTTP/3 frame types this server knows. */
export const FRAME_TYPE = {
  data: 0x00,
  headers: 0x01,
  cancelPush: 0x03,
  settings: 0x04,
  pushPromise: 0x05,
  goaway: 0x07,
  maxPushId: 0x0d,
} as const;

/** Frame types reserved from HTTP/2 whose receipt is a connection error (RFC 9114 §7.2.8). */
const HTTP2_ONLY_TYPES: ReadonlySet<number> = new Set([0x02, 0x06, 0x08, 0x09]);

/** One frame; `type` is a bigint only for (unknown, ignorable) types above 2^53. */
export interface Frame {
  readonly type: number | bigint;
  readonly payload: Uint8Array;
}

/** A frame and the bytes it took. */
export interface FrameRead {
  readonly frame: Frame;
  readonly bytes: number;
}

/**
 * Reads one frame at `offset`; null when more bytes are needed. Throws {@link Http3Error}: H3_EXCESSIVE_LOAD when
 * the declared payload exceeds `maxPayloadBytes` (checked before it arrives), H3_FRAME_UNEXPECTED for HTTP/2-only types.
 */
export function readFrame(data: Uint8Array, offset: number, maxPayloadBytes: number): FrameRead | null {
  const type = readVarint(data, offset);
  if (!type) return null;
  if (typeof type.value === "number" && HTTP2_ONLY_TYPES.has(type.value)) {
    throw new Http3Error(H3_ERROR.frameUnexpected, `HTTP/2 frame type 0x${type.value.toString(16)} received`);
  }
  const length = readVarint(data, offset + type.bytes);
  if (!length) return null;
  if (typeof length.value !== "number" || length.value > maxPayloadBytes) {
    throw new Http3Error(H3_ERROR.excessiveLoad, `frame of ${length.value} bytes exceeds the limit of ${maxPayloadBytes}`);
  }
  const start = offset + type.bytes + length.bytes;
  if (start + length.value > data.length) return null;
  return { frame: { type: type.value, payload: data.subarray(start, start + length.value) }, bytes: start + length.value - offset };
}

/** Encodes one frame. */
export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  return concatBytes(encodeVarint(type), encodeVarint(payload.length), payload);
}
