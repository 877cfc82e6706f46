import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { RtpHeader, SrtpSession } from "werift";
import { SRTP_AEAD_AES_128_GCM, SRTP_AES128_CM_HMAC_SHA1_80, SrtpProtector } from "../src/srtp-protect.ts";

/** werift's SRTP sessions of both ends of one DTLS association: `send` protects, `receive` checks and decrypts. */
function ends(profile: number) {
  const key = randomBytes(16);
  const salt = randomBytes(profile === SRTP_AEAD_AES_128_GCM ? 12 : 14);
  const other = { key: randomBytes(16), salt: randomBytes(salt.length) };
  const send = new SrtpSession({ keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: other.key, remoteMasterSalt: other.salt }, profile });
  const receive = new SrtpSession({ keys: { localMasterKey: other.key, localMasterSalt: other.salt, remoteMasterKey: key, remoteMasterSalt: salt }, profile });
  const k = send.localContext;
  const protector = new SrtpProtector({ profile, key: k.srtpSessionKey, salt: k.srtpSessionSalt, authKey: k.srtpSessionAuthTag });
  return { send, receive, protector };
}

const header = (sequenceNumber: number) =>
  new RtpHeader({ sequenceNumber, timestamp: 0x12345678, ssrc: 0xcafebabe, payloadType: 102, marker: true, extensions: [{ id: 3, payload: Buffer.from([0, 0, 0]) }, { id: 5, payload: Buffer.alloc(8, 7) }] });
const bytesOf = (h: RtpHeader) => h.serialize(h.serializeSize);

describe("SrtpProtector", () => {
  for (const [name, profile] of [["AES_CM_128_HMAC_SHA1_80", SRTP_AES128_CM_HMAC_SHA1_80], ["AEAD_AES_128_GCM", SRTP_AEAD_AES_128_GCM]] as const) {
    test(`${name}: the same bytes as werift's encryption, and werift's other end decrypts them`, () => {
      const { send, receive, protector } = ends(profile);
      const payload = randomBytes(1000);
      const ours = protector.protect(bytesOf(header(4000)), payload, 0);
      expect(Buffer.compare(ours, send.encrypt(payload, header(4000)))).toBe(0);
      expect(ours.length).toBe(bytesOf(header(4000)).length + payload.length + protector.tagLength);
      const plain = receive.decrypt(ours);
      expect(Buffer.compare(plain, Buffer.concat([bytesOf(header(4000)), payload]))).toBe(0);
    });

    test(`${name}: after the sequence number wraps, the rollover counter goes into the packet's protection, as werift counts it`, () => {
      const { send, protector } = ends(profile);
      const payload = randomBytes(300);
      for (const seq of [65534, 65535]) expect(Buffer.compare(protector.protect(bytesOf(header(seq)), payload, 0), send.encrypt(payload, header(seq)))).toBe(0);
      const wrapped = send.encrypt(payload, header(0)); // werift's rollover counter is now 1
      expect(Buffer.compare(protector.protect(bytesOf(header(0)), payload, 1), wrapped)).toBe(0);
      expect(Buffer.compare(protector.protect(bytesOf(header(0)), payload, 0), wrapped)).not.toBe(0);
    });
  }

  test("an unknown profile is refused", () => {
    expect(() => new SrtpProtector({ profile: 2, key: randomBytes(16), salt: randomBytes(14), authKey: randomBytes(20) })).toThrow(RangeError);
  });
});
