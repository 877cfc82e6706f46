/** Reading the extended CONNECT of WebTransport from decoded header fields (pure). */
import { describe, expect, test } from "bun:test";
import { parseConnectRequest } from "../../src/webtransport/connect-request.ts";
import type { HeaderField } from "../../src/webtransport/qpack.ts";

const CONNECT: HeaderField[] = [
  [":method", "CONNECT"],
  [":protocol", "webtransport"],
  [":scheme", "https"],
  [":authority", "example.com:4433"],
  [":path", "/wt"],
  ["origin", "https://example.com"],
  ["sec-webtransport-http3-draft02", "1"],
];
const without = (name: string) => CONNECT.filter(([n]) => n !== name);
const replaced = (name: string, value: string) => CONNECT.map(([n, v]): HeaderField => [n, n === name ? value : v]);

describe("parseConnectRequest", () => {
  test("a WebTransport CONNECT gives path, origin, authority and every field", () => {
    expect(parseConnectRequest(CONNECT)).toEqual({ path: "/wt", origin: "https://example.com", authority: "example.com:4433", headers: CONNECT });
    expect(parseConnectRequest(without("origin"))).toMatchObject({ origin: "" });
  });

  test("anything else says why (answered 400)", () => {
    expect(parseConnectRequest([...CONNECT, [":path", "/x"]])).toBe("duplicate pseudo-header");
    expect(parseConnectRequest(replaced(":method", "GET"))).toBe("not a WebTransport CONNECT");
    expect(parseConnectRequest(without(":protocol"))).toBe("not a WebTransport CONNECT");
    expect(parseConnectRequest(replaced(":scheme", "http"))).toBe("bad :scheme, :authority or :path");
    expect(parseConnectRequest(without(":authority"))).toBe("bad :scheme, :authority or :path");
    expect(parseConnectRequest(replaced(":path", "wt"))).toBe("bad :scheme, :authority or :path");
    expect(parseConnectRequest([])).toBe("not a WebTransport CONNECT");
  });
});
