import { describe, expect, test } from "bun:test";
import { DEFAULT_RTP_PAYLOAD_BYTES, h264Payloads } from "../src/rtp-packetizer.ts";

const sps = Uint8Array.from([0x67, 0x42, 0xc0, 0x1f, 0xda]);
const pps = Uint8Array.from([0x68, 0xce, 0x3c, 0x80]);
const aud = Uint8Array.from([0x09, 0xf0]);
function nal(header: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i === 0 ? header : (i * 7) & 0xff));
}

describe("h264Payloads", () => {
  test("a small NAL is one payload, the NAL itself, sharing its bytes", () => {
    const slice = nal(0x41, 100);
    const payloads = h264Payloads([slice], 1200);
    expect(payloads).toHaveLength(1);
    expect([...payloads[0]!]).toEqual([...slice]);
    expect(payloads[0]!.buffer).toBe(slice.buffer);
  });

  test("SPS + PPS go as one STAP-A; AUD and empty NALs are not sent", () => {
    const slice = nal(0x65, 50);
    const payloads = h264Payloads([aud, new Uint8Array(0), sps, pps, slice], 1200);
    expect(payloads).toHaveLength(2);
    const stap = payloads[0]!;
    expect(stap[0]! & 0x1f).toBe(24);
    expect((stap[0]! & 0x60) >> 5).toBe(3);
    expect([...stap]).toEqual([stap[0]!, 0, sps.length, ...sps, 0, pps.length, ...pps]);
    expect([...payloads[1]!]).toEqual([...slice]);
  });

  test("without aggregation, or when the STAP-A would not fit, SPS and PPS are single NAL payloads", () => {
    expect(h264Payloads([sps, pps, nal(0x65, 10)], 1200, false).map((p) => p[0]! & 0x1f)).toEqual([7, 8, 5]);
    expect(h264Payloads([sps, pps, nal(0x65, 5)], 10).map((p) => p[0]! & 0x1f)).toEqual([7, 8, 5]);
  });

  test("a NAL above the budget becomes FU-A fragments: sizes, S/E bits, and they reassemble to the NAL", () => {
    const big = nal(0x65, 5000);
    const payloads = h264Payloads([big], 1200);
    expect(payloads).toHaveLength(Math.ceil((5000 - 1) / 1198));
    for (const [i, p] of payloads.entries()) {
      expect(p.length).toBeLessThanOrEqual(1200);
      expect(p[0]).toBe((0x65 & 0xe0) | 28);
      expect(p[1]! & 0x1f).toBe(5);
      expect(Boolean(p[1]! & 0x80)).toBe(i === 0);
      expect(Boolean(p[1]! & 0x40)).toBe(i === payloads.length - 1);
    }
    const body = payloads.flatMap((p) => [...p.subarray(2)]);
    expect([0x65, ...body]).toEqual([...big]);
  });

  test("a NAL exactly at the budget is not fragmented; one byte more is; the default budget is 1200", () => {
    expect(h264Payloads([nal(0x41, 100)], 100)).toHaveLength(1);
    expect(h264Payloads([nal(0x41, 101)], 100)).toHaveLength(2);
    expect(DEFAULT_RTP_PAYLOAD_BYTES).toBe(1200);
    expect(h264Payloads([nal(0x41, 1201)])).toHaveLength(2);
  });

  test("rejects a budget too small for FU-A", () => {
    expect(() => h264Payloads([nal(0x41, 10)], 3)).toThrow(RangeError);
    expect(() => h264Payloads([nal(0x41, 10)], 100.5)).toThrow(RangeError);
  });
});
