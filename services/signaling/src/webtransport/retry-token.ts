/**
 * QUIC Retry tokens (RFC 9000 §8.1.2): stateless address validation. The server answers an Initial without a token
 * with a Retry carrying one; only a client that really receives packets at its source address can send it back, so
 * a flood of Initials (spoofed or not) costs one HMAC and one small packet each, and no connection-table slot.
 *
 * Layout: issued-at ms (u64 BE) | original destination connection id length (u8) | odcid | HMAC-SHA256 over
 * (issued-at, odcid, the client's address and port).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

const MAC_BYTES = 32;
const HEADER_BYTES = 9;
/** Longest connection id QUIC v1 allows (RFC 9000 §17.2). */
const MAX_CID_BYTES = 20;

/** A secret for minting tokens; a fresh one per server start (tokens live seconds, not across restarts). */
export function newRetryKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

function mac(key: Uint8Array, issuedAt: Uint8Array, odcid: Uint8Array, address: string): Buffer {
  return createHmac("sha256", key).update(issuedAt).update(odcid).update(address).digest();
}

/** Mints a token binding the client's `address` (`host:port`) to the connection id it first used. */
export function mintRetryToken(key: Uint8Array, address: string, odcid: Uint8Array, nowMs: number): Uint8Array {
  if (odcid.length > MAX_CID_BYTES) throw new RangeError(`connection id of ${odcid.length} bytes`);
  const header = new Uint8Array(HEADER_BYTES + odcid.length);
  const view = new DataView(header.buffer);
  view.setBigUint64(0, BigInt(Math.floor(nowMs)));
  view.setUint8(8, odcid.length);
  header.set(odcid, HEADER_BYTES);
  const token = new Uint8Array(header.length + MAC_BYTES);
  token.set(header);
  token.set(mac(key, header.subarray(0, 8), odcid, address), header.length);
  return token;
}

/**
 * The original destination connection id of a token minted by {@link mintRetryToken} for this `address` at most
 * `maxAgeMs` ago; null for any other token (forged, truncated, expired, from another address, from the future).
 */
export function openRetryToken(key: Uint8Array, token: Uint8Array, address: string, nowMs: number, maxAgeMs: number): Uint8Array | null {
  if (token.length < HEADER_BYTES + MAC_BYTES) return null;
  const view = new DataView(token.buffer, token.byteOffset, token.byteLength);
  const cidLength = view.getUint8(8);
  if (cidLength > MAX_CID_BYTES || token.length !== HEADER_BYTES + cidLength + MAC_BYTES) return null;
  const odcid = token.subarray(HEADER_BYTES, HEADER_BYTES + cidLength);
  const expected = mac(key, token.subarray(0, 8), odcid, address);
  if (!timingSafeEqual(expected, token.subarray(HEADER_BYTES + cidLength))) return null;
  const age = nowMs - Number(view.getBigUint64(0));
  if (age < -1000 || age > maxAgeMs) return null;
  return odcid.slice();
}
