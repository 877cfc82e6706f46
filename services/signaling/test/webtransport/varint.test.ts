import { describe, expect, test } from "bun:test";
import { MAX_VARINT, encodeVarint, readVarint, varintLength, writeVarint } from "../../src/webtransport/varint.ts";

describe("QUIC varints", () => {
  test("RFC 9000 A.1 examples decode", () => {
    expect(readVarint(Uint8Array.from([0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]), 0)).toEqual({ value: 151288809941952652n, bytes: 8 });
    expect(readVarint(Uint8Array.from([0x9d, 0x7f, 0x3e, 0x7d]), 0)).toEqual({ value: 494878333, bytes: 4 });
    expect(readVarint(Uint8Array.from([0x7b, 0xbd]), 0)).toEqual({ value: 15293, bytes: 2 });
    expect(readVarint(Uint8Array.from([0x25]), 0)).toEqual({ value: 37, bytes: 1 });
    expect(readVarint(Uint8Array.from([0x40, 0x25]), 0)).toEqual({ value: 37, bytes: 2 });
  });

  test("round-trips at every length boundary, exactly above 2^53", () => {
    const values: (number | bigint)[] = [0, 63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30, Number.MAX_SAFE_INTEGER, 2n ** 53n + 1n, MAX_VARINT];
    for (const value of values) {
      const encoded = encodeVarint(value);
      expect(encoded.length).toBe(varintLength(value));
      const read = readVarint(encoded, 0);
      expect(read?.bytes).toBe(encoded.length);
      expect(BigInt(read?.value ?? -1)).toBe(BigInt(value));
    }
    expect(typeof readVarint(encodeVarint(2n ** 53n + 1n), 0)?.value).toBe("bigint");
    expect(typeof readVarint(encodeVarint(Number.MAX_SAFE_INTEGER), 0)?.value).toBe("number");
  });

  test("truncated input asks for more bytes instead of guessing", () => {
    const encoded = encodeVarint(2n ** 40n);
    for (let cut = 0; cut < encoded.length; cut++) expect(readVarint(encoded.subarray(0, cut), 0)).toBeNull();
    expect(readVarint(Uint8Array.from([0x40]), 0)).toBeNull();
  });

  test("reads at an offset and writes into a buffer", () => {
    const out = new Uint8Array(10);
    const next = writeVarint(out, 3, 300);
    expect(next).toBe(5);
    expect(readVarint(out, 3)).toEqual({ value: 300, bytes: 2 });
    expect(() => writeVarint(out, 9, 300)).toThrow(RangeError);
  });

  test("rejects values out of range", () => {
    expect(() => encodeVarint(-1)).toThrow(RangeError);
    expect(() => encodeVarint(MAX_VARINT + 1n)).toThrow(RangeError);
    expect(() => encodeVarint(1.5)).toThrow(RangeError);
    expect(() => varintLength(2 ** 60)).toThrow(RangeError); // unsafe number: pass a bigint
  });
});
