import { describe, expect, test } from "bun:test";
import { Http3Error, WebTransportError, http3CodeToWebTransport, webTransportCodeToHttp3 } from "../../src/webtransport/errors.ts";

describe("WebTransport ↔ HTTP/3 error codes", () => {
  test("known points of the mapping", () => {
    expect(webTransportCodeToHttp3(0)).toBe(0x52e4a40fa8db);
    expect(webTransportCodeToHttp3(0x1d)).toBe(0x52e4a40fa8db + 0x1d);
    expect(webTransportCodeToHttp3(0x1e)).toBe(0x52e4a40fa8db + 0x1f); // skips the GREASE code point
    expect(webTransportCodeToHttp3(0xffffffff)).toBe(0x52e5ac983162);
  });

  test("round-trips across the whole 32-bit range and skips GREASE", () => {
    for (const code of [0, 1, 29, 30, 31, 59, 60, 61, 1000, 123456789, 0xfffffffe, 0xffffffff]) {
      const h3 = webTransportCodeToHttp3(code);
      expect((h3 - 0x21) % 0x1f).not.toBe(0);
      expect(http3CodeToWebTransport(h3)).toBe(code);
    }
    for (let code = 0; code < 5000; code += 7) expect(http3CodeToWebTransport(webTransportCodeToHttp3(code))).toBe(code);
  });

  test("codes outside the range or GREASE map to null; bad input throws", () => {
    expect(http3CodeToWebTransport(0x100)).toBeNull();
    expect(http3CodeToWebTransport(0x52e4a40fa8db - 1)).toBeNull();
    expect(http3CodeToWebTransport(0x52e5ac983162 + 1)).toBeNull();
    expect(http3CodeToWebTransport(0x52e4a40fa8db + 0x1e)).toBeNull(); // a GREASE point: (h - 0x21) % 0x1f === 0
    expect(() => webTransportCodeToHttp3(-1)).toThrow(RangeError);
    expect(() => webTransportCodeToHttp3(2 ** 32)).toThrow(RangeError);
  });

  test("typed errors carry their code, scope and source", () => {
    const h3 = new Http3Error(0x106, "bad frame");
    expect([h3.name, h3.code, h3.scope]).toEqual(["Http3Error", 0x106, "connection"]);
    const wt = new WebTransportError("reset", "stream", 7);
    expect([wt.name, wt.source, wt.streamErrorCode]).toEqual(["WebTransportError", "stream", 7]);
  });
});
