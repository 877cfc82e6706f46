/**
 * QUIC variable-length integers (RFC 9000 §16): 1, 2, 4 or 8 bytes, values up to 2^62 - 1. Values that fit a
 * JavaScript number exactly (≤ 2^53 - 1) decode as numbers, larger ones as bigints, so nothing loses precision.
 */

/** Largest value a QUIC varint holds. */
export const MAX_VARINT = (1n << 62n) - 1n;

/** A decoded varint and how many bytes it took. */
export interface VarintRead {
  /** A number when ≤ `Number.MAX_SAFE_INTEGER`, else a bigint. */
  readonly value: number | bigint;
  readonly bytes: number;
}

/** Bytes needed to encode `value`. Throws RangeError outside 0..2^62-1. */
export function varintLength(value: number | bigint): 1 | 2 | 4 | 8 {
  const v = toBigInt(value);
  if (v < 0n || v > MAX_VARINT) throw new RangeError(`varint out of range: ${value}`);
  if (v < 0x40n) return 1;
  if (v < 0x4000n) return 2;
  if (v < 0x4000_0000n) return 4;
  return 8;
}

/** Writes `value` at `offset` of `out` and returns the offset after it. Throws RangeError when out of range or room. */
export function writeVarint(out: Uint8Array, offset: number, value: number | bigint): number {
  const length = varintLength(value);
  if (offset < 0 || offset + length > out.length) throw new RangeError("varint does not fit the buffer");
  if (length === 8) {
    new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(offset, toBigInt(value) | (3n << 62n));
    return offset + 8;
  }
  let v = Number(value);
  for (let i = length - 1; i >= 0; i--) {
    out[offset + i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  out[offset] = (out[offset] ?? 0) | (Math.log2(length) << 6);
  return offset + length;
}

/** Encodes one varint into a new array. */
export function encodeVarint(value: number | bigint): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/** Reads a varint at `offset`; null when `data` ends before it does (wait for more bytes). */
export function readVarint(data: Uint8Array, offset: number): VarintRead | null {
  if (offset >= data.length) return null;
  const first = data[offset] ?? 0;
  const bytes = 1 << (first >> 6);
  if (offset + bytes > data.length) return null;
  if (bytes === 8) {
    const big = new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(offset) & MAX_VARINT;
    return { value: big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big, bytes };
  }
  let value = first & 0x3f;
  for (let i = 1; i < bytes; i++) value = value * 256 + (data[offset + i] ?? 0);
  return { value, bytes };
}

function toBigInt(value: number | bigint): bigint {
  if (typeof value === "bigint") return value;
  if (!Number.isSafeInteger(value)) throw new RangeError(`varint must be a safe integer or a bigint: ${value}`);
  return BigInt(value);
}
