import { describe, expect, test } from "bun:test";
import { H3_ERROR, Http3Error } from "../../src/webtransport/errors.ts";
import { huffmanDecode, huffmanEncode } from "../../src/webtransport/huffman.ts";

const text = (s: string) => new TextEncoder().encode(s);
const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));

describe("Huffman code", () => {
  test("RFC 7541 C.4 examples", () => {
    expect(huffmanDecode(hex("f1e3c2e5f23a6ba0ab90f4ff"))).toEqual(text("www.example.com"));
    expect(huffmanDecode(hex("a8eb10649cbf"))).toEqual(text("no-cache"));
    expect(huffmanDecode(hex("25a849e95bb8e8b4bf"))).toEqual(text("custom-value"));
    expect(huffmanEncode(text("www.example.com"))).toEqual(hex("f1e3c2e5f23a6ba0ab90f4ff"));
  });

  test("every byte value round-trips", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(huffmanDecode(huffmanEncode(all))).toEqual(all);
    expect(huffmanDecode(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });

  test("bad padding and EOS are QPACK decompression failures", () => {
    const failures = [
      Uint8Array.from([0x00]), // '0' (00000) then padding 000: not all ones
      Uint8Array.from([0xff, 0xff, 0xff, 0xff]), // 32 ones: EOS inside
      Uint8Array.from([0xf1, 0xff]), // 'w' then 9 bits of padding
    ];
    for (const input of failures) {
      expect(() => huffmanDecode(input)).toThrow(Http3Error);
      try {
        huffmanDecode(input);
      } catch (error) {
        expect((error as Http3Error).code).toBe(H3_ERROR.qpackDecompressionFailed);
      }
    }
  });
});
