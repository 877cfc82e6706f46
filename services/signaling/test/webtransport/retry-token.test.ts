import { describe, expect, test } from "bun:test";
import { mintRetryToken, newRetryKey, openRetryToken } from "../../src/webtransport/retry-token.ts";

const odcid = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
const address = "127.0.0.1:5000";

describe("Retry tokens", () => {
  test("a fresh key is 32 random bytes, different each time", () => {
    const a = newRetryKey();
    expect(a.length).toBe(32);
    expect(a).not.toEqual(newRetryKey());
  });

  test("a token opens to the original connection id for the same address within its age", () => {
    const key = newRetryKey();
    const token = mintRetryToken(key, address, odcid, 1_000_000);
    expect(openRetryToken(key, token, address, 1_000_000, 10_000)).toEqual(odcid);
    expect(openRetryToken(key, token, address, 1_010_000, 10_000)).toEqual(odcid);
  });

  test("expired, future, foreign-address, foreign-key, altered and truncated tokens are refused", () => {
    const key = newRetryKey();
    const token = mintRetryToken(key, address, odcid, 1_000_000);
    expect(openRetryToken(key, token, address, 1_010_001, 10_000)).toBeNull();
    expect(openRetryToken(key, token, address, 998_000, 10_000)).toBeNull();
    expect(openRetryToken(key, token, "127.0.0.1:5001", 1_000_000, 10_000)).toBeNull();
    expect(openRetryToken(newRetryKey(), token, address, 1_000_000, 10_000)).toBeNull();
    for (let i = 0; i < token.length; i++) {
      const altered = token.slice();
      altered[i]! ^= 0x01;
      expect(openRetryToken(key, altered, address, 1_000_000, 10_000)).toBeNull();
    }
    expect(openRetryToken(key, token.subarray(0, token.length - 1), address, 1_000_000, 10_000)).toBeNull();
    expect(openRetryToken(key, new Uint8Array(0), address, 1_000_000, 10_000)).toBeNull();
  });

  test("connection ids longer than QUIC allows are not minted", () => {
    expect(() => mintRetryToken(newRetryKey(), address, new Uint8Array(21), 0)).toThrow(RangeError);
  });
});
