import { describe, expect, test } from "bun:test";
import { controlFuzzCases, datagramFuzzCases, framed } from "../src/control-fuzz.ts";
import { decodeCoordinates } from "@ballstream/protocol";

describe("the control fuzzer's generators", () => {
  test("framed puts the (possibly lying) length before the body", () => {
    expect(Array.from(framed(Uint8Array.of(9, 9)))).toEqual([0, 0, 0, 2, 9, 9]);
    expect(Array.from(framed(new Uint8Array(0), 0x01020304))).toEqual([1, 2, 3, 4]);
  });

  test("control cases are reproducible, labelled and as many as asked for beyond the fixed ones", () => {
    const cases = controlFuzzCases(100, 1);
    expect(controlFuzzCases(100, 1)).toEqual(cases);
    expect(controlFuzzCases(0, 1).length + 100).toBe(cases.length);
    expect(new Set(cases.map((c) => c.label)).size).toBe(cases.length);
    expect(cases.some((c) => c.fin)).toBe(true);
  });

  test("no datagram case is a valid coordinates datagram", () => {
    const datagrams = datagramFuzzCases(400, 3);
    expect(datagrams).toHaveLength(400);
    for (const d of datagrams) expect(() => decodeCoordinates(d)).toThrow();
  });
});
