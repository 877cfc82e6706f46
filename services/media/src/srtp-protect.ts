/**
 * SRTP protection of outgoing RTP (RFC 3711 AES_CM_128_HMAC_SHA1_80, RFC 7714 AEAD_AES_128_GCM) with the session
 * keys werift derived from the DTLS handshake, without werift's per-packet detour: werift serialises the header
 * again, builds the IV through a generic buffer writer and concatenates three buffers per packet; here the header
 * bytes come ready ({@link RtpHeaderTemplate}), the IV is written into one buffer per protector, and the packet is
 * one allocation. node:crypto still makes one cipher (and for AES-CM one HMAC) per packet: it has no way to set a
 * new IV on a live cipher, and one measured 0.5–1 µs.
 */
import { createCipheriv, createHmac } from "node:crypto";

/** werift's numbers for the two SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2). */
export const SRTP_AES128_CM_HMAC_SHA1_80 = 1;
export const SRTP_AEAD_AES_128_GCM = 7;

/** One direction's SRTP session keys (RFC 3711 §4.3), as werift's `SrtpContext` holds them. */
export interface SrtpSessionKeys {
  readonly profile: number;
  /** srtpSessionKey: 16 bytes. */
  readonly key: Buffer;
  /** srtpSessionSalt: 14 bytes (AES-CM) or 12 (GCM; werift may hold 14, the first 12 count). */
  readonly salt: Buffer;
  /** srtpSessionAuthTag: the HMAC key, 20 bytes (AES-CM only). */
  readonly authKey: Buffer;
}

/** Protects RTP packets of one direction of one DTLS session. */
export class SrtpProtector {
  readonly profile: number;
  /** Bytes of authentication tag after the payload. */
  readonly tagLength: number;
  readonly #key: Buffer;
  readonly #salt: Buffer;
  readonly #authKey: Buffer;
  readonly #iv: Buffer;
  readonly #roc = Buffer.alloc(4);

  constructor(keys: SrtpSessionKeys) {
    if (keys.profile !== SRTP_AES128_CM_HMAC_SHA1_80 && keys.profile !== SRTP_AEAD_AES_128_GCM) throw new RangeError(`unknown SRTP profile ${keys.profile}`);
    this.profile = keys.profile;
    this.tagLength = keys.profile === SRTP_AEAD_AES_128_GCM ? 16 : 10;
    this.#key = keys.key;
    this.#salt = keys.salt;
    this.#authKey = keys.authKey;
    this.#iv = Buffer.alloc(keys.profile === SRTP_AEAD_AES_128_GCM ? 12 : 16);
  }

  /**
   * The SRTP packet of one RTP packet: `header` (its bytes, sequence number and SSRC in place), the payload
   * encrypted, the tag; `roc` is the stream's rollover counter for this packet's sequence number.
   */
  protect(header: Buffer, payload: Uint8Array, roc: number): Buffer {
    const ssrc = header.readUInt32BE(8);
    const seq = header.readUInt16BE(2);
    const out = Buffer.allocUnsafe(header.length + payload.length + this.tagLength);
    header.copy(out, 0);
    const iv = this.#iv;
    if (this.profile === SRTP_AEAD_AES_128_GCM) {
      // RFC 7714 §8.1: 00 00 | SSRC | ROC | SEQ, XOR the salt.
      iv.writeUInt16BE(0, 0);
      iv.writeUInt32BE(ssrc, 2);
      iv.writeUInt32BE(roc >>> 0, 6);
      iv.writeUInt16BE(seq, 10);
      for (let i = 0; i < 12; i++) iv[i]! ^= this.#salt[i]!;
      const cipher = createCipheriv("aes-128-gcm", this.#key, iv);
      cipher.setAAD(header);
      cipher.update(payload).copy(out, header.length);
      cipher.final();
      cipher.getAuthTag().copy(out, header.length + payload.length);
      return out;
    }
    // RFC 3711 §4.1.1: (salt << 16) XOR (SSRC << 64) XOR (index << 16).
    iv.fill(0);
    iv.writeUInt32BE(ssrc, 4);
    iv.writeUInt32BE(roc >>> 0, 8);
    iv.writeUInt16BE(seq, 12);
    for (let i = 0; i < 14; i++) iv[i]! ^= this.#salt[i]!;
    createCipheriv("aes-128-ctr", this.#key, iv).update(payload).copy(out, header.length);
    this.#roc.writeUInt32BE(roc >>> 0, 0);
    const end = header.length + payload.length;
    createHmac("sha1", this.#authKey).update(out.subarray(0, end)).update(this.#roc).digest().copy(out, end, 0, this.tagLength);
    return out;
  }
}
