/** config, json-codec, rtp-time, clock, and the subject helpers of bus.ts. */
import { describe, expect, test } from "bun:test";
import { BusError, checkSubject, subjectMatches, intEnv, listEnv, stringEnv } from "@ballstream/runtime";
import { nowMs } from "../src/clock.ts";
import { ProtocolError } from "../src/errors.ts";
import { MAX_JSON_BYTES, decodeJson, encodeJson } from "../src/json-codec.ts";
import { RTP_VIDEO_CLOCK_HZ, rtpTimestampFromCaptureTime } from "../src/rtp-time.ts";
import { freeUdpPort } from "@ballstream/testing";

describe("config", () => {
  test("intEnv: fallback when unset or blank, value when valid, clear error naming the variable otherwise", () => {
    expect(intEnv({}, "N", 7, 1, 10)).toBe(7);
    expect(intEnv({ N: "  " }, "N", 7, 1, 10)).toBe(7);
    expect(intEnv({ N: "10" }, "N", 7, 1, 10)).toBe(10);
    expect(() => intEnv({ N: "11" }, "N", 7, 1, 10)).toThrow("N=11: expected an integer in 1–10");
    expect(() => intEnv({ N: "2.5" }, "N", 7, 1, 10)).toThrow(/N=2.5/);
    expect(() => intEnv({ N: "abc" }, "N", 7, 1, 10)).toThrow(/N=abc/);
  });

  test("stringEnv trims and falls back", () => {
    expect(stringEnv({ S: " nats://x " }, "S", "d")).toBe("nats://x");
    expect(stringEnv({ S: "" }, "S", "d")).toBe("d");
    expect(stringEnv({}, "S", "d")).toBe("d");
  });

  test("listEnv splits on commas, trims and drops empties; the fallback is copied", () => {
    expect(listEnv({ L: " a, b,,c " }, "L", [])).toEqual(["a", "b", "c"]);
    const fallback = ["x"] as const;
    const got = listEnv({}, "L", fallback);
    expect(got).toEqual(["x"]);
    got.push("y");
    expect(fallback).toEqual(["x"]);
  });
});

describe("json-codec", () => {
  test("round-trips values as UTF-8", () => {
    const v = { a: [1, "ü", null], b: { c: true } };
    expect(decodeJson(encodeJson(v))).toEqual(v);
    expect([...encodeJson("é")]).toEqual([0x22, 0xc3, 0xa9, 0x22]);
  });

  test("rejects oversized, malformed and non-UTF-8 input with codes", () => {
    const err = (data: Uint8Array, max?: number) => {
      try {
        decodeJson(data, max);
      } catch (e) {
        return (e as ProtocolError).code;
      }
      return "none";
    };
    expect(err(new Uint8Array(MAX_JSON_BYTES + 1).fill(0x20))).toBe("too_large");
    expect(err(encodeJson({ a: 1 }), 3)).toBe("too_large");
    expect(err(new TextEncoder().encode("{"))).toBe("bad_request");
    expect(err(new Uint8Array([0x22, 0xff, 0x22]))).toBe("bad_request");
  });
});

describe("rtp-time", () => {
  test("90 kHz ticks of epoch time, modulo 2^32", () => {
    expect(RTP_VIDEO_CLOCK_HZ).toBe(90_000);
    expect(rtpTimestampFromCaptureTime(0)).toBe(0);
    expect(rtpTimestampFromCaptureTime(1000)).toBe(90_000);
    expect(rtpTimestampFromCaptureTime(1000 / 90)).toBe(1000);
    const wrapMs = (2 ** 32 / 90_000) * 1000;
    expect(rtpTimestampFromCaptureTime(wrapMs + 1000)).toBe(90_000);
    const t = 1_764_000_000_000.123;
    const ts = rtpTimestampFromCaptureTime(t);
    expect(Number.isInteger(ts) && ts >= 0 && ts < 2 ** 32).toBe(true);
    expect(rtpTimestampFromCaptureTime(t + 1000 / 60)).toBe((ts + 1500) % 2 ** 32);
  });
});

describe("clock", () => {
  test("is epoch milliseconds with sub-millisecond resolution, agreeing with Date.now and monotonic", () => {
    const a = nowMs();
    expect(Math.abs(a - Date.now())).toBeLessThan(1000);
    let b = nowMs();
    let fractional = false;
    for (let i = 0; i < 1000 && !fractional; i++) {
      const c = nowMs();
      expect(c).toBeGreaterThanOrEqual(b);
      fractional ||= !Number.isInteger(c);
      b = c;
    }
    expect(fractional).toBe(true);
  });
});

describe("subjects matching", () => {
  test("checkSubject accepts tokens and wildcards where allowed", () => {
    expect(() => checkSubject("a.b-c_d.E9", false)).not.toThrow();
    expect(() => checkSubject("a.*.>", true)).not.toThrow();
    for (const [s, wild] of [["a.*", false], ["a.>", false], ["a.>.b", true], ["a..b", true], ["", true], ["a b", true], [".a", true], ["a*b", true]] as const) {
      expect(() => checkSubject(s, wild)).toThrow(BusError);
    }
  });

  test("subjectMatches follows NATS wildcard rules", () => {
    expect(subjectMatches("a.b", "a.b")).toBe(true);
    expect(subjectMatches("a.b", "a.b.c")).toBe(false);
    expect(subjectMatches("a.*", "a.b")).toBe(true);
    expect(subjectMatches("a.*", "a")).toBe(false);
    expect(subjectMatches("a.*", "a.b.c")).toBe(false);
    expect(subjectMatches("a.>", "a.b.c")).toBe(true);
    expect(subjectMatches("a.>", "a")).toBe(false);
    expect(subjectMatches("*.b.>", "x.b.y")).toBe(true);
    expect(subjectMatches("*.b.>", "x.c.y")).toBe(false);
  });

  test("BusError carries its code", () => {
    const e = new BusError("too_large", "big");
    expect([e.code, e.name, e.message]).toEqual(["too_large", "BusError", "big"]);
  });
});

describe("freeUdpPort", () => {
  test("names a UDP port on 127.0.0.1 that can be bound", async () => {
    const port = await freeUdpPort();
    expect(port).toBeGreaterThan(0);
    const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port });
    expect(socket.port).toBe(port);
    socket.close();
  });
});
