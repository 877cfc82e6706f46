/**
 * The shape of the one offer the page sends (web/src/lib/webrtc.ts: one recvonly video transceiver, Chromium
 * bundles it): checked in one cheap pass before anything else happens for a session, and again in media before
 * werift parses it. werift's cost grows with the media sections: 380 unbundled `m=video` sections in 30 KB took
 * 3.2 s of CPU (a real offer: 0.08 s); a real Chromium offer has one section, 175 lines, the longest 145 characters.
 */
import { ProtocolError } from "./errors.ts";

/** Most lines an offer may have (Chromium 156: 175, more with many ICE candidates). */
export const MAX_OFFER_LINES = 512;
/** Longest line an offer may have (Chromium 156: 145; a SHA-512 fingerprint line is about 210). */
export const MAX_OFFER_LINE_CHARS = 1024;

/** An SDP line: one lowercase type letter, `=`, then printable text (no control characters). */
const SDP_LINE = /^[a-z]=[^\x00-\x1f\x7f]*$/;

/**
 * Checks that `sdp` is an offer the page could have sent: `v=0` first, at most {@link MAX_OFFER_LINES} lines of
 * at most {@link MAX_OFFER_LINE_CHARS} characters, exactly one media section, which is `m=video`, with an
 * `a=mid` that a session-level `a=group:BUNDLE` names. Throws {@link ProtocolError} `bad_request` saying what
 * is wrong, never quoting the offer.
 */
export function checkOffer(sdp: string): void {
  const lines = sdp.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  if (lines[0] !== "v=0") throw bad("it does not start with v=0");
  if (lines.length > MAX_OFFER_LINES) throw bad(`it has more than ${MAX_OFFER_LINES} lines`);
  let media = 0;
  let mid: string | undefined;
  let bundle: string[] = [];
  for (const line of lines) {
    if (line.length > MAX_OFFER_LINE_CHARS) throw bad(`it has a line longer than ${MAX_OFFER_LINE_CHARS} characters`);
    if (!SDP_LINE.test(line)) throw bad("it has a line that is not an SDP line");
    if (line.startsWith("m=")) {
      if (++media > 1) throw bad("it has more than one media section (the page sends one video section)");
      if (!line.startsWith("m=video ")) throw bad("its media section is not video");
    } else if (media === 0 && line.startsWith("a=group:BUNDLE ")) {
      bundle = line.slice("a=group:BUNDLE ".length).split(" ");
    } else if (media === 1 && line.startsWith("a=mid:")) {
      mid = line.slice("a=mid:".length);
    }
  }
  if (media === 0) throw bad("it has no video section");
  if (mid === undefined) throw bad("its video section has no a=mid");
  if (!bundle.includes(mid)) throw bad("its video section is not in an a=group:BUNDLE");
}

function bad(why: string): ProtocolError {
  return new ProtocolError("bad_request", `not an offer the page sends: ${why}`);
}
