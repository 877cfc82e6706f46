/**
 * One encoded H.264 access unit as it travels media → signaling (bus subject `video`) and signaling → page (a
 * WebTransport unidirectional stream, one per GOP: docs/web.md "Video over WebTransport"). The unit is a 16-byte
 * little-endian header — version u8 (1), flags u8 (bit 0: keyframe), 2 bytes zero, frame id u32, capture time f64
 * (epoch ms) — then the Annex-B bytes (SPS and PPS repeat before every IDR, so a decoder needs no description).
 * On a stream each unit is a record: a 4-byte big-endian length, then the unit.
 */
import { ProtocolError } from "./errors.ts";

/** One encoded frame with what names it: the generator's frame id and capture time. */
export interface VideoUnit {
  readonly frameId: number;
  readonly captureTimeMs: number;
  readonly keyframe: boolean;
  /** Annex-B byte stream of the access unit (start codes included). */
  readonly data: Uint8Array;
}

/** Header bytes before the Annex-B data. */
export const VIDEO_UNIT_HEADER_BYTES = 16;
/** Largest unit either end accepts (a 640×480 keyframe at 2 Mbit/s is ~10–40 KB). */
export const MAX_VIDEO_UNIT_BYTES = 1024 * 1024;
const VERSION = 1;

/** Encodes a {@link VideoUnit}: header + Annex B. */
export function encodeVideoUnit(unit: VideoUnit): Uint8Array {
  const out = new Uint8Array(VIDEO_UNIT_HEADER_BYTES + unit.data.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, VERSION);
  v.setUint8(1, unit.keyframe ? 1 : 0);
  v.setUint32(4, unit.frameId >>> 0, true);
  v.setFloat64(8, unit.captureTimeMs, true);
  out.set(unit.data, VIDEO_UNIT_HEADER_BYTES);
  return out;
}

/** Decodes a unit (`data` is a view into `bytes`); throws {@link ProtocolError} on a bad header or size. */
export function decodeVideoUnit(bytes: Uint8Array): VideoUnit {
  if (bytes.length <= VIDEO_UNIT_HEADER_BYTES || bytes.length > MAX_VIDEO_UNIT_BYTES) throw new ProtocolError("bad_request", `video unit of ${bytes.length} bytes`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint8(0) !== VERSION) throw new ProtocolError("bad_request", `video unit version ${v.getUint8(0)}`);
  const captureTimeMs = v.getFloat64(8, true);
  if (!Number.isFinite(captureTimeMs)) throw new ProtocolError("bad_request", "video unit capture time");
  return { frameId: v.getUint32(4, true), captureTimeMs, keyframe: (v.getUint8(1) & 1) === 1, data: bytes.subarray(VIDEO_UNIT_HEADER_BYTES) };
}

/** An encoded unit as one stream record: 4-byte big-endian length, then the unit. */
export function frameVideoRecord(encodedUnit: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + encodedUnit.length);
  new DataView(out.buffer).setUint32(0, encodedUnit.length);
  out.set(encodedUnit, 4);
  return out;
}

/**
 * Reassembles {@link VideoUnit}s from the chunks of one stream. `push` returns the complete units and throws
 * {@link ProtocolError} on an oversized or malformed one; chunks wait in a list, joined once a record is whole.
 */
export class VideoStreamReader {
  #chunks: Uint8Array[] = [];
  #length = 0;

  /** Adds one chunk of the stream; returns the units it completed, in order. */
  push(chunk: Uint8Array): VideoUnit[] {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    const units: VideoUnit[] = [];
    for (;;) {
      if (this.#length < 4) return units;
      const head = this.#take(4, false);
      const size = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (size > MAX_VIDEO_UNIT_BYTES) throw new ProtocolError("too_large", `video unit of ${size} bytes exceeds ${MAX_VIDEO_UNIT_BYTES}`);
      if (this.#length < 4 + size) return units;
      units.push(decodeVideoUnit(this.#take(4 + size, true).subarray(4)));
    }
  }

  /** Bytes received but not yet part of a complete unit. */
  get buffered(): number {
    return this.#length;
  }

  /** The first `n` buffered bytes as one array (joining chunks only when the first is shorter); removed when `consume`. */
  #take(n: number, consume: boolean): Uint8Array {
    if (this.#chunks[0]!.length < n) this.#chunks = [concat(this.#chunks, this.#length)];
    const first = this.#chunks[0]!;
    if (!consume) return first.subarray(0, n);
    if (first.length > n) this.#chunks[0] = first.subarray(n);
    else this.#chunks.shift();
    this.#length -= n;
    return first.subarray(0, n);
  }
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
