/**
 * Capsules (RFC 9297 §3.2) on a WebTransport session's CONNECT stream, carried in HTTP/3 DATA frames, and the
 * WebTransport session capsules: CLOSE_WEBTRANSPORT_SESSION (code + reason) and DRAIN_WEBTRANSPORT_SESSION.
 */
import { concatBytes } from "./bytes.ts";
import { H3_ERROR, Http3Error } from "./errors.ts";
import { encodeVarint, readVarint } from "./varint.ts";
import type { WebTransportCloseInfo } from "./types.ts";

/** Capsule types of WebTransport sessions. */
export const CAPSULE_TYPE = {
  closeSession: 0x2843,
  drainSession: 0x78ae,
} as const;

/** Longest close reason in bytes (WebTransport over HTTP/3). */
export const MAX_CLOSE_REASON_BYTES = 1024;

/** One capsule; `type` is a bigint only for unknown types above 2^53. */
export interface Capsule {
  readonly type: number | bigint;
  readonly value: Uint8Array;
}

/** Reads one capsule at `offset`; null when more bytes are needed. Throws H3_EXCESSIVE_LOAD (session) when longer than `maxValueBytes`. */
export function readCapsule(data: Uint8Array, offset: number, maxValueBytes: number): { capsule: Capsule; bytes: number } | null {
  const type = readVarint(data, offset);
  const length = type && readVarint(data, offset + type.bytes);
  if (!type || !length) return null;
  if (typeof length.value !== "number" || length.value > maxValueBytes) {
    throw new Http3Error(H3_ERROR.excessiveLoad, `capsule of ${length.value} bytes exceeds ${maxValueBytes}`, "session");
  }
  const start = offset + type.bytes + length.bytes;
  if (start + length.value > data.length) return null;
  return { capsule: { type: type.value, value: data.subarray(start, start + length.value) }, bytes: start + length.value - offset };
}

/** Encodes one capsule. */
export function encodeCapsule(type: number, value: Uint8Array): Uint8Array {
  return concatBytes(encodeVarint(type), encodeVarint(value.length), value);
}

/** Encodes CLOSE_WEBTRANSPORT_SESSION; the reason is cut to {@link MAX_CLOSE_REASON_BYTES} on a character boundary. */
export function encodeCloseSession(info: WebTransportCloseInfo): Uint8Array {
  if (!Number.isInteger(info.closeCode) || info.closeCode < 0 || info.closeCode > 0xffffffff) {
    throw new RangeError(`close code must be a 32-bit unsigned integer, got ${info.closeCode}`);
  }
  const reason = truncateUtf8(info.reason, MAX_CLOSE_REASON_BYTES);
  const value = new Uint8Array(4 + reason.length);
  new DataView(value.buffer).setUint32(0, info.closeCode);
  value.set(reason, 4);
  return encodeCapsule(CAPSULE_TYPE.closeSession, value);
}

/** Decodes a CLOSE_WEBTRANSPORT_SESSION value. Throws H3_MESSAGE_ERROR (session) when shorter than 4 bytes or the reason is too long. */
export function decodeCloseSession(value: Uint8Array): WebTransportCloseInfo {
  if (value.length < 4) throw new Http3Error(H3_ERROR.messageError, "CLOSE_WEBTRANSPORT_SESSION shorter than 4 bytes", "session");
  if (value.length - 4 > MAX_CLOSE_REASON_BYTES) throw new Http3Error(H3_ERROR.messageError, "close reason longer than 1024 bytes", "session");
  const closeCode = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0);
  return { closeCode, reason: new TextDecoder().decode(value.subarray(4)) };
}

function truncateUtf8(text: string, maxBytes: number): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--; // do not split a multi-byte character
  return bytes.subarray(0, end);
}
