import { describe, expect, test } from "bun:test";
import { ProtocolError } from "@ballstream/protocol";
import { ABS_CAPTURE_TIME_URI, PLAYOUT_DELAY_URI, absCaptureTime, chooseH264, h264Codec, narrowOfferToH264, videoHeaderExtensions } from "../src/codec.ts";

/** The shape of a Chromium 156 recvonly video offer (trimmed). */
function offer(videoLines: string[], pts: string, extra: string[] = []): string {
  return [
    "v=0",
    "o=- 1 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0",
    `m=video 9 UDP/TLS/RTP/SAVPF ${pts}`,
    "c=IN IP4 0.0.0.0",
    "a=mid:0",
    "a=recvonly",
    "a=rtcp-mux",
    ...videoLines,
    ...extra,
  ].join("\r\n") + "\r\n";
}

const chromiumVideo = [
  "a=rtpmap:96 VP8/90000",
  "a=rtcp-fb:96 nack",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "a=rtpmap:103 H264/90000",
  "a=rtcp-fb:103 nack",
  "a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
  "a=rtpmap:104 H264/90000",
  "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f",
  "a=rtpmap:109 H264/90000",
  "a=rtcp-fb:109 nack",
  "a=rtcp-fb:109 nack pli",
  "a=fmtp:109 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  "a=rtpmap:112 H264/90000",
  "a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f",
  "a=rtcp-fb:* transport-cc",
];
const chromiumOffer = offer(chromiumVideo, "96 97 103 104 109 112");

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ProtocolError ? err.code : "not a ProtocolError";
  }
  return undefined;
}

describe("chooseH264", () => {
  test("prefers constrained baseline 42e01f with packetization-mode=1", () => {
    expect(chooseH264(chromiumOffer)).toEqual({ payloadType: 109, profileLevelId: "42e01f", mediaIndex: 0 });
  });

  test("falls back to plain baseline with packetization-mode=1; never mode 0 or High profile", () => {
    const noCb = offer(chromiumVideo.filter((l) => !l.includes(":109")), "96 97 103 104 112");
    expect(chooseH264(noCb).payloadType).toBe(103);
    const onlyUnusable = offer(chromiumVideo.filter((l) => !l.includes(":109") && !l.includes(":103")), "96 97 104 112");
    expect(codeOf(() => chooseH264(onlyUnusable))).toBe("unsupported");
  });

  test("an offer without H.264 is unsupported; an inactive or sendonly video section does not count", () => {
    expect(codeOf(() => chooseH264(offer(chromiumVideo.slice(0, 4), "96 97")))).toBe("unsupported");
    expect(codeOf(() => chooseH264(chromiumOffer.replace("a=recvonly", "a=inactive")))).toBe("unsupported");
    expect(codeOf(() => chooseH264(chromiumOffer.replace("a=recvonly", "a=sendonly")))).toBe("unsupported");
  });

  test("something that is not an SDP with media is a bad request, never a crash", () => {
    for (const bad of ["", "hello", "v=0\r\ns=-\r\n", "m=video 9 RTP 96\r\n"]) expect(codeOf(() => chooseH264(bad))).toBe("bad_request");
  });
});

describe("narrowOfferToH264", () => {
  test("keeps only the chosen payload type in the video section, and every other line", () => {
    const narrowed = narrowOfferToH264(chromiumOffer, chooseH264(chromiumOffer));
    const lines = narrowed.trimEnd().split("\r\n");
    expect(lines).toContain("m=video 9 UDP/TLS/RTP/SAVPF 109");
    expect(lines.filter((l) => /^a=(rtpmap|fmtp|rtcp-fb):\d/.test(l)).every((l) => l.includes(":109 "))).toBe(true);
    expect(lines).toContain("a=rtcp-fb:109 nack pli");
    expect(lines).toContain("a=rtcp-fb:* transport-cc");
    expect(lines).toContain("a=mid:0");
    expect(chooseH264(narrowed).payloadType).toBe(109);
  });
});

describe("h264Codec", () => {
  test("constrained baseline, packetization-mode=1, NACK + PLI + REMB feedback", () => {
    const codec = h264Codec();
    expect(codec.mimeType).toBe("video/H264");
    expect(codec.clockRate).toBe(90000);
    expect(codec.parameters).toContain("profile-level-id=42e01f");
    expect(codec.parameters).toContain("packetization-mode=1");
    expect(codec.rtcpFeedback).toEqual([{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "goog-remb" }]);
  });
});

describe("videoHeaderExtensions", () => {
  test("offers playout-delay and abs-capture-time (the zero playout payload: rtp-header.test.ts)", () => {
    expect(videoHeaderExtensions().map((e) => e.uri)).toEqual([PLAYOUT_DELAY_URI, ABS_CAPTURE_TIME_URI]);
  });
});

describe("absCaptureTime", () => {
  test("the capture time as a 64-bit NTP timestamp (Q32.32, seconds since 1900)", () => {
    const b = absCaptureTime(1_700_000_000_250);
    expect(b.length).toBe(8);
    expect(b.readUInt32BE(0)).toBe(1_700_000_000 + 2_208_988_800);
    expect(b.readUInt32BE(4)).toBe(2 ** 30); // 0.25 s
    const back = (x: Buffer) => (x.readUInt32BE(0) - 2_208_988_800) * 1000 + (x.readUInt32BE(4) / 2 ** 32) * 1000;
    expect(back(absCaptureTime(1_764_590_000_123.456))).toBeCloseTo(1_764_590_000_123.456, 3);
    expect(back(absCaptureTime(1_000_999.99999999))).toBeCloseTo(1_000_999.99999999, 3); // a fraction that rounds up to the next second
  });
});
