import { describe, expect, test } from "bun:test";
import { rtpTimestampFromCaptureTime } from "@ballstream/protocol";
import { FrameCounter, captureTimeFromRtp, rtpFields } from "../bench/frame-counter.ts";

describe("captureTimeFromRtp", () => {
  test("inverts rtpTimestampFromCaptureTime to 1/90 ms, across the 32-bit wrap", () => {
    for (const t of [1_764_000_000_000.25, 1_764_047_721_984.4, 1_700_000_000_123.7]) {
      const rtp = rtpTimestampFromCaptureTime(t);
      expect(Math.abs(captureTimeFromRtp(rtp, t + 40) - t)).toBeLessThan(1 / 90);
      expect(Math.abs(captureTimeFromRtp(rtp, t - 2000) - t)).toBeLessThan(1 / 90);
    }
  });
  test("a timestamp just before the wrap, read just after it, is in the previous cycle", () => {
    const wrapMs = (2 ** 32 * 1000 * 18_000) / 90_000; // the 18 000th wrap
    const before = wrapMs - 5;
    expect(captureTimeFromRtp(rtpTimestampFromCaptureTime(before), wrapMs + 5)).toBeCloseTo(before, 1);
  });
});

describe("FrameCounter", () => {
  const base = 1_764_000_000_000;
  const ts = (i: number) => rtpTimestampFromCaptureTime(base + i * 33.3);
  test("a frame counts once, when its marker packet arrives, with its latency", () => {
    const c = new FrameCounter();
    c.truth();
    c.truth();
    c.packet(ts(0), false, 100, base + 3);
    c.packet(ts(0), true, 101, base + 4);
    c.packet(ts(0), true, 101, base + 9); // a retransmitted duplicate
    c.packet(ts(1), false, 102, base + 36);
    const r = c.read();
    expect(r).toMatchObject({ framesSent: 2, framesComplete: 1, packets: 4, sequenceGaps: 0 });
    expect(r.latenciesMs[0]).toBeCloseTo(4, 1);
  });
  test("sequence gaps count missing packets across the 16-bit wrap, not reordering", () => {
    const c = new FrameCounter();
    c.packet(ts(0), false, 65534, base);
    c.packet(ts(0), true, 1, base + 1); // 65535 and 0 missing
    c.packet(ts(1), false, 0, base + 2); // late, reordered: no gap
    c.packet(ts(1), true, 2, base + 3);
    expect(c.read().sequenceGaps).toBe(2);
  });
  test("reset starts a new window", () => {
    const c = new FrameCounter();
    c.truth();
    c.packet(ts(0), true, 1, base + 5);
    c.reset();
    expect(c.read()).toEqual({ framesSent: 0, framesComplete: 0, packets: 0, sequenceGaps: 0, latenciesMs: [] });
    c.packet(ts(1), true, 3, base + 40);
    expect(c.read().sequenceGaps).toBe(1);
  });
});

describe("rtpFields", () => {
  /** An RTP header (version 2, payload type 96) with `marker`, `seq` and `ts`, then a payload. */
  const rtp = (marker: boolean, seq: number, ts: number) =>
    Uint8Array.of(0x80, (marker ? 0x80 : 0) | 96, seq >> 8, seq & 0xff, ts >>> 24, (ts >>> 16) & 0xff, (ts >>> 8) & 0xff, ts & 0xff, 1, 2, 3, 4, 0xaa, 0xbb);
  test("reads timestamp, marker and sequence number from the header in the clear", () => {
    expect(rtpFields(rtp(true, 0xfffe, 0xfedcba98))).toEqual({ timestamp: 0xfedcba98, marker: true, sequenceNumber: 0xfffe });
    expect(rtpFields(rtp(false, 7, 90_000))).toEqual({ timestamp: 90_000, marker: false, sequenceNumber: 7 });
  });
  test("RTCP, STUN, DTLS and short packets are not RTP", () => {
    expect(rtpFields(Uint8Array.of(0x80, 200, 0, 6, ...new Uint8Array(24)))).toBeNull(); // sender report
    expect(rtpFields(Uint8Array.of(0x81, 205, 0, 4, ...new Uint8Array(16)))).toBeNull(); // NACK
    expect(rtpFields(Uint8Array.of(0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, ...new Uint8Array(12)))).toBeNull(); // STUN binding request
    expect(rtpFields(Uint8Array.of(22, 0xfe, 0xfd, ...new Uint8Array(20)))).toBeNull(); // DTLS handshake
    expect(rtpFields(rtp(true, 1, 2).subarray(0, 11))).toBeNull();
  });
});
