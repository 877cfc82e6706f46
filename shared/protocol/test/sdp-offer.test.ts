import { describe, expect, test } from "bun:test";
import { ProtocolError } from "../src/errors.ts";
import { MAX_OFFER_LINES, MAX_OFFER_LINE_CHARS, checkOffer } from "../src/sdp-offer.ts";
import { CHROMIUM_OFFER, mSectionBomb } from "@ballstream/testing";

/** The message of the ProtocolError `checkOffer` throws, or "accepted". */
function verdict(sdp: string): string {
  try {
    checkOffer(sdp);
    return "accepted";
  } catch (err) {
    if (!(err instanceof ProtocolError) || err.code !== "bad_request") throw err;
    return err.message;
  }
}

const lines = CHROMIUM_OFFER.split("\r\n");
const videoAt = lines.findIndex((l) => l.startsWith("m=video"));
/** The offer with `extra` lines inserted before its media section (session level) or at its end. */
const withLines = (extra: string[], where: "session" | "end") =>
  (where === "session" ? [...lines.slice(0, videoAt), ...extra, ...lines.slice(videoAt)] : [...lines.slice(0, -1), ...extra, ""]).join("\r\n");

describe("checkOffer", () => {
  test("accepts the page's real Chromium offer, with CRLF or LF line ends", () => {
    expect(verdict(CHROMIUM_OFFER)).toBe("accepted");
    expect(verdict(CHROMIUM_OFFER.replaceAll("\r\n", "\n"))).toBe("accepted");
  });

  test("the m-section bomb (380 unbundled video sections, 30 KB) is refused in well under a millisecond", () => {
    const bomb = mSectionBomb();
    expect(bomb.length).toBeGreaterThan(28_000);
    const t0 = performance.now();
    expect(verdict(bomb)).toStartWith("not an offer the page sends: ");
    expect(performance.now() - t0).toBeLessThan(5);
    expect(verdict(mSectionBomb(2))).toContain("more than one media section");
    const bundledPair = withLines(["m=video 9 UDP/TLS/RTP/SAVPF 108", "a=mid:1"], "end").replace("a=group:BUNDLE 0", "a=group:BUNDLE 0 1");
    expect(verdict(bundledPair)).toContain("more than one media section");
  });

  test("audio or data sections instead of video, no section, no mid or no BUNDLE naming it are refused", () => {
    expect(verdict(CHROMIUM_OFFER.replace("m=video 9", "m=audio 9"))).toContain("not video");
    expect(verdict(CHROMIUM_OFFER.replace("m=video 9 UDP/TLS/RTP/SAVPF", "m=application 9 UDP/DTLS/SCTP"))).toContain("not video");
    expect(verdict(lines.slice(0, videoAt).join("\r\n"))).toContain("no video section");
    expect(verdict(CHROMIUM_OFFER.replace("a=mid:0\r\n", ""))).toContain("no a=mid");
    expect(verdict(CHROMIUM_OFFER.replace("a=group:BUNDLE 0\r\n", ""))).toContain("BUNDLE");
    expect(verdict(CHROMIUM_OFFER.replace("a=group:BUNDLE 0", "a=group:BUNDLE 1"))).toContain("BUNDLE");
    expect(verdict(CHROMIUM_OFFER.replace("a=mid:0", "a=mid:1"))).toContain("BUNDLE");
  });

  test("line count and line length are bounded at exactly the limits", () => {
    const fill = (n: number) => Array.from({ length: n }, () => "a=x-filler");
    expect(verdict(withLines(fill(MAX_OFFER_LINES - lines.length + 1), "end"))).toBe("accepted");
    expect(verdict(withLines(fill(MAX_OFFER_LINES - lines.length + 2), "end"))).toContain(`more than ${MAX_OFFER_LINES} lines`);
    const long = (n: number) => `a=x-${"y".repeat(n - 4)}`;
    expect(verdict(withLines([long(MAX_OFFER_LINE_CHARS)], "end"))).toBe("accepted");
    expect(verdict(withLines([long(MAX_OFFER_LINE_CHARS + 1)], "end"))).toContain(`longer than ${MAX_OFFER_LINE_CHARS}`);
  });

  test("what is not SDP is refused, and the message never quotes the offer", () => {
    for (const bad of ["", "hello", "v=1\r\n", "v=0 this is not SDP", `v=0\r\nm=video 9 RTP 96\r\n\u0000`, withLines(["garbage line"], "session"), withLines(["a=ok\u0007"], "end")]) {
      expect(verdict(bad)).toStartWith("not an offer the page sends: ");
    }
    expect(verdict(CHROMIUM_OFFER.replace("m=video 9", "m=audio SECRET"))).not.toContain("SECRET");
  });
});
