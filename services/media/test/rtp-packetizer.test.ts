import { describe, expect, test } from "bun:test";
import { H264Packetizer, RtpSequencer, h264Payloads } from "../src/rtp-packetizer.ts";

const sps = Uint8Array.from([0x67, 0x42, 0xc0, 0x1f, 0xda]);
const pps = Uint8Array.from([0x68, 0xce, 0x3c, 0x80]);
const aud = Uint8Array.from([0x09, 0xf0]);
function nal(header: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i === 0 ? header : (i * 7) & 0xff));
}

describe("H264Packetizer", () => {
  test("a small NAL is one packet with the marker and the frame's timestamp", () => {
    const packets = new H264Packetizer({ initialSequenceNumber: 10 }).packetize([nal(0x41, 100)], 123456);
    expect(packets).toHaveLength(1);
    expect(packets[0]!.header).toMatchObject({ marker: true, timestamp: 123456, sequenceNumber: 10 });
    expect([...packets[0]!.payload]).toEqual([...nal(0x41, 100)]);
  });

  test("SPS + PPS go as one STAP-A; AUD is not sent; only the last packet has the marker", () => {
    const slice = nal(0x65, 50);
    const packets = new H264Packetizer({ initialSequenceNumber: 0 }).packetize([aud, sps, pps, slice], 90);
    expect(packets).toHaveLength(2);
    const stap = packets[0]!.payload;
    expect(stap[0]! & 0x1f).toBe(24);
    expect((stap[0]! & 0x60) >> 5).toBe(3);
    expect([...stap]).toEqual([stap[0]!, 0, sps.length, ...sps, 0, pps.length, ...pps]);
    expect(packets.map((p) => p.header.marker)).toEqual([false, true]);
    expect(packets.map((p) => p.header.sequenceNumber)).toEqual([0, 1]);
  });

  test("without aggregation SPS and PPS are single NAL packets", () => {
    const packets = new H264Packetizer({ aggregateParameterSets: false }).packetize([sps, pps, nal(0x65, 10)], 1);
    expect(packets.map((p) => p.payload[0]! & 0x1f)).toEqual([7, 8, 5]);
  });

  test("a NAL above the budget becomes FU-A fragments: sizes, S/E bits, and they reassemble to the NAL", () => {
    const big = nal(0x65, 5000);
    const packets = new H264Packetizer({ maxPayloadBytes: 1200 }).packetize([big], 7);
    expect(packets).toHaveLength(Math.ceil((5000 - 1) / 1198));
    for (const [i, p] of packets.entries()) {
      expect(p.payload.length).toBeLessThanOrEqual(1200);
      expect(p.payload[0]).toBe((0x65 & 0xe0) | 28);
      expect(p.payload[1]! & 0x1f).toBe(5);
      expect(Boolean(p.payload[1]! & 0x80)).toBe(i === 0);
      expect(Boolean(p.payload[1]! & 0x40)).toBe(i === packets.length - 1);
      expect(p.header.marker).toBe(i === packets.length - 1);
      expect(p.header.timestamp).toBe(7);
    }
    const body = packets.flatMap((p) => [...p.payload.subarray(2)]);
    expect([0x65, ...body]).toEqual([...big]);
  });

  test("a NAL exactly at the budget is not fragmented; one byte more is", () => {
    const packetizer = new H264Packetizer({ maxPayloadBytes: 100 });
    expect(packetizer.packetize([nal(0x41, 100)], 0)).toHaveLength(1);
    expect(packetizer.packetize([nal(0x41, 101)], 0)).toHaveLength(2);
  });

  test("sequence numbers wrap from 65535 to 0 and continue across frames; timestamps are 32-bit", () => {
    const packetizer = new H264Packetizer({ initialSequenceNumber: 65534, maxPayloadBytes: 100 });
    const first = packetizer.packetize([nal(0x41, 150)], 2 ** 32 + 5);
    const second = packetizer.packetize([nal(0x41, 10)], 3000);
    expect([...first, ...second].map((p) => p.header.sequenceNumber)).toEqual([65534, 65535, 0]);
    expect(first[0]!.header.timestamp).toBe(5);
    expect(packetizer.nextSequenceNumber).toBe(1);
  });

  test("rejects a budget too small for FU-A", () => {
    expect(() => new H264Packetizer({ maxPayloadBytes: 3 })).toThrow(RangeError);
  });
});

describe("h264Payloads and RtpSequencer (a channel's shared payloads, each viewer's numbers)", () => {
  test("payloads are cut once; two sequencers number the same payloads independently and share their bytes", () => {
    const payloads = h264Payloads([nal(0x67, 10), nal(0x68, 4), nal(0x65, 2500)], 1200);
    expect(payloads.length).toBe(4); // STAP-A + three FU-A fragments
    const a = new RtpSequencer(100).packets(payloads, 9000);
    const b = new RtpSequencer(65535).packets(payloads, 9000);
    expect(a.map((p) => p.header.sequenceNumber)).toEqual([100, 101, 102, 103]);
    expect(b.map((p) => p.header.sequenceNumber)).toEqual([65535, 0, 1, 2]);
    expect(a.map((p) => p.header.marker)).toEqual([false, false, false, true]);
    for (let i = 0; i < payloads.length; i++) {
      expect(a[i]!.payload).toBe(payloads[i]!);
      expect(b[i]!.payload).toBe(payloads[i]!);
    }
    expect(b.every((p) => p.header.timestamp === 9000)).toBe(true);
  });

  test("a sequencer goes on across frames", () => {
    const s = new RtpSequencer(7);
    s.packets(h264Payloads([nal(0x41, 50)], 1200), 1);
    expect(s.nextSequenceNumber).toBe(8);
    expect(s.packets(h264Payloads([nal(0x41, 50)], 1200), 2)[0]!.header.sequenceNumber).toBe(8);
  });
});
