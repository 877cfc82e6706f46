import { describe, expect, test } from "bun:test";
import { RtcpPacketConverter, RtcpSenderInfo, RtcpSourceDescriptionPacket, RtcpSrPacket, SourceDescriptionChunk, SourceDescriptionItem, ntpTime } from "werift";
import { senderReport, weriftNtpTime } from "../src/rtp-stream.ts";

describe("weriftNtpTime", () => {
  test("is werift's ntpTime() at the instant given", () => {
    const now = performance.now;
    try {
      for (const at of [1000, 1234.5678, 98_765.4321]) {
        performance.now = () => at;
        expect(weriftNtpTime(at)).toBe(ntpTime());
      }
    } finally {
      performance.now = now;
    }
  });

  test("its high word is the NTP seconds of that instant", () => {
    const at = performance.now();
    const unixSeconds = (performance.timeOrigin + at) / 1000;
    expect(Number(weriftNtpTime(at) >> 32n)).toBe(Math.floor(unixSeconds) + 2_208_988_800);
  });
});

describe("senderReport", () => {
  const ntp = (3_973_000_000n << 32n) | 1234567n;
  test("byte for byte werift's sender report and CNAME, read back by werift", () => {
    for (const cname of ["a", "ab", "abc", "abcd", "2b7d6f0e-5c1a-4f7e-9d3b-0a1b2c3d4e5f"]) {
      const ours = senderReport(0xdeadbeef, ntp, 0xfffffff0, 4242, 123_456, cname);
      const theirs = Buffer.concat([
        new RtcpSrPacket({ ssrc: 0xdeadbeef, senderInfo: new RtcpSenderInfo({ ntpTimestamp: ntp, rtpTimestamp: 0xfffffff0, packetCount: 4242, octetCount: 123_456 }) }).serialize(),
        new RtcpSourceDescriptionPacket({ chunks: [new SourceDescriptionChunk({ source: 0xdeadbeef, items: [new SourceDescriptionItem({ type: 1, text: cname })] })] }).serialize(),
      ]);
      expect(ours.toString("hex")).toBe(theirs.toString("hex"));
      const [sr, sdes] = RtcpPacketConverter.deSerialize(ours) as [RtcpSrPacket, RtcpSourceDescriptionPacket];
      expect(sr.senderInfo).toMatchObject({ ntpTimestamp: ntp, rtpTimestamp: 0xfffffff0, packetCount: 4242, octetCount: 123_456 });
      expect(sdes.chunks[0]!.items[0]!.text).toBe(cname);
    }
  });

  test("without a CNAME, the sender report alone", () => {
    const sr = senderReport(1, ntp, 2, 3, 4);
    expect(sr.length).toBe(28);
    expect(RtcpPacketConverter.deSerialize(sr)).toHaveLength(1);
  });
});
