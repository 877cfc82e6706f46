import { describe, expect, test } from "bun:test";
import { H3_ERROR, Http3Error } from "../../src/webtransport/errors.ts";
import { http3ErrorCodeOf } from "./http3-error-code.ts";
import { huffmanEncode } from "../../src/webtransport/huffman.ts";
import { decodeFieldSection, encodeFieldSection, encodePrefixedInt, readPrefixedInt } from "../../src/webtransport/qpack.ts";

const text = (s: string) => new TextEncoder().encode(s);


describe("QPACK prefixed integers", () => {
  test("RFC 7541 C.1 examples", () => {
    expect(Array.from(encodePrefixedInt(10, 5, 0))).toEqual([0x0a]);
    expect(Array.from(encodePrefixedInt(1337, 5, 0))).toEqual([0x1f, 0x9a, 0x0a]);
    expect(readPrefixedInt(Uint8Array.from([0x1f, 0x9a, 0x0a]), 0, 5)).toEqual({ value: 1337, bytes: 3 });
    expect(readPrefixedInt(Uint8Array.from([0xea]), 0, 5)).toEqual({ value: 10, bytes: 1 }); // flag bits ignored
  });

  test("truncated or huge integers are decompression failures", () => {
    expect(http3ErrorCodeOf(() => readPrefixedInt(Uint8Array.from([0x1f, 0x9a]), 0, 5))).toBe(H3_ERROR.qpackDecompressionFailed);
    expect(http3ErrorCodeOf(() => readPrefixedInt(new Uint8Array(0), 0, 5))).toBe(H3_ERROR.qpackDecompressionFailed);
    expect(http3ErrorCodeOf(() => readPrefixedInt(Uint8Array.from([0x1f, ...new Array(12).fill(0xff), 0x01]), 0, 5))).toBe(H3_ERROR.qpackDecompressionFailed);
  });
});

describe("QPACK field sections", () => {
  test("encode/decode round-trip: static, name-reference and literal-name lines", () => {
    const fields = [
      [":status", "200"],
      [":status", "403"],
      [":status", "429"],
      ["sec-webtransport-http3-draft", "draft02"],
    ] as const;
    const block = encodeFieldSection(fields);
    expect(Array.from(block.subarray(0, 3))).toEqual([0x00, 0x00, 0xd9]); // prefix, then indexed static 25
    expect(decodeFieldSection(block, 4096)).toEqual(fields.map(([n, v]) => [n, v]));
  });

  test("decodes a Chromium-style CONNECT with Huffman literals", () => {
    const huff = (s: string) => {
      const h = huffmanEncode(text(s));
      return [...encodePrefixedInt(h.length, 7, 0x80), ...h];
    };
    const block = Uint8Array.from([
      0x00, 0x00,
      0xc0 | 15, // :method CONNECT
      0xc0 | 23, // :scheme https
      0x50 | 0, ...huff("127.0.0.1:4433"), // :authority
      0x50 | 1, ...huff("/wt"), // :path
      ...encodePrefixedInt(huffmanEncode(text(":protocol")).length, 3, 0x28), ...huffmanEncode(text(":protocol")), ...huff("webtransport"), // literal Huffman name
      0x5f, 90 - 15, ...huff("http://127.0.0.1:8080"), // origin: name index 90 needs the 4-bit prefix continuation
      ...encodePrefixedInt(30, 3, 0x20), ...text("sec-webtransport-http3-draft02"), 0x01, ...text("1"),
    ]);
    expect(decodeFieldSection(block, 4096)).toEqual([
      [":method", "CONNECT"],
      [":scheme", "https"],
      [":authority", "127.0.0.1:4433"],
      [":path", "/wt"],
      [":protocol", "webtransport"],
      ["origin", "http://127.0.0.1:8080"],
      ["sec-webtransport-http3-draft02", "1"],
    ]);
  });

  test("dynamic table use is a decompression failure", () => {
    const failures = [
      Uint8Array.from([0x01, 0x00]), // Required Insert Count 1
      Uint8Array.from([0x00, 0x00, 0x80]), // indexed, dynamic
      Uint8Array.from([0x00, 0x00, 0x40, 0x00]), // name reference, dynamic
      Uint8Array.from([0x00, 0x00, 0x10]), // post-base index
      Uint8Array.from([0x00, 0x00, 0x00, 0x00]), // post-base name reference
    ];
    for (const block of failures) expect(http3ErrorCodeOf(() => decodeFieldSection(block, 4096))).toBe(H3_ERROR.qpackDecompressionFailed);
  });

  test("bad indices, truncation and bad Huffman are decompression failures", () => {
    const failures = [
      Uint8Array.from([0x00, 0x00, 0xff, 0x30]), // static index 63 + 48 = 111: out of range
      Uint8Array.from([0x00, 0x00, 0x51, 0x05, 0x61]), // value declares 5 bytes, has 1
      Uint8Array.from([0x00, 0x00, 0x51, 0x81, 0x00]), // Huffman value with bad padding
      Uint8Array.from([0x00]), // missing Delta Base
      new Uint8Array(0),
    ];
    for (const block of failures) expect(http3ErrorCodeOf(() => decodeFieldSection(block, 4096))).toBe(H3_ERROR.qpackDecompressionFailed);
  });

  test("oversized sections are a stream-scoped excessive-load error", () => {
    const block = encodeFieldSection([["x-big", "v".repeat(5000)]]);
    try {
      decodeFieldSection(block, 4096);
      throw new Error("expected an error");
    } catch (error) {
      expect(error).toBeInstanceOf(Http3Error);
      expect((error as Http3Error).code).toBe(H3_ERROR.excessiveLoad);
      expect((error as Http3Error).scope).toBe("stream");
    }
    const many = encodeFieldSection(Array.from({ length: 200 }, () => ["cookie", "abc"] as const));
    expect(http3ErrorCodeOf(() => decodeFieldSection(many, 4096))).toBe(H3_ERROR.excessiveLoad);
  });
});
