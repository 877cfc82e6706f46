import { describe, expect, test } from "bun:test";
import { CAPSULE_TYPE, MAX_CLOSE_REASON_BYTES, decodeCloseSession, encodeCapsule, encodeCloseSession, readCapsule } from "../../src/webtransport/capsule.ts";
import { H3_ERROR, Http3Error } from "../../src/webtransport/errors.ts";
import { encodeVarint } from "../../src/webtransport/varint.ts";

describe("capsules", () => {
  test("CLOSE_WEBTRANSPORT_SESSION round-trips code and reason", () => {
    const bytes = encodeCloseSession({ closeCode: 0xdeadbeef, reason: "bye ✓" });
    const read = readCapsule(bytes, 0, 4096);
    expect(read?.bytes).toBe(bytes.length);
    expect(read?.capsule.type).toBe(CAPSULE_TYPE.closeSession);
    expect(decodeCloseSession(read!.capsule.value)).toEqual({ closeCode: 0xdeadbeef, reason: "bye ✓" });
  });

  test("long reasons are cut to 1024 bytes on a character boundary", () => {
    const bytes = encodeCloseSession({ closeCode: 1, reason: "é".repeat(600) });
    const info = decodeCloseSession(readCapsule(bytes, 0, 4096)!.capsule.value);
    expect(new TextEncoder().encode(info.reason).length).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    expect(info.reason).toBe("é".repeat(512));
    expect(() => encodeCloseSession({ closeCode: -1, reason: "" })).toThrow(RangeError);
    expect(() => encodeCloseSession({ closeCode: 2 ** 32, reason: "" })).toThrow(RangeError);
  });

  test("truncated capsules wait for more bytes; unknown types are returned for skipping", () => {
    const unknown = encodeCapsule(0x1234, Uint8Array.from([9, 9]));
    for (let cut = 0; cut < unknown.length; cut++) expect(readCapsule(unknown.subarray(0, cut), 0, 100)).toBeNull();
    expect(readCapsule(unknown, 0, 100)?.capsule.type).toBe(0x1234);
  });

  test("malformed or oversized capsules are typed session errors", () => {
    const short = () => decodeCloseSession(Uint8Array.from([0, 0, 1]));
    expect(short).toThrow(Http3Error);
    try {
      short();
    } catch (error) {
      expect((error as Http3Error).code).toBe(H3_ERROR.messageError);
      expect((error as Http3Error).scope).toBe("session");
    }
    expect(() => decodeCloseSession(new Uint8Array(4 + 1025))).toThrow(Http3Error);
    const huge = Uint8Array.from([...encodeVarint(CAPSULE_TYPE.closeSession), ...encodeVarint(1_000_000)]);
    expect(() => readCapsule(huge, 0, 65536)).toThrow(Http3Error);
  });
});
