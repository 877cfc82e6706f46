/**
 * H.264 codec negotiation. The browser offers many payload types; werift answers with every H.264 one and sends
 * with the first, which may be packetization-mode=0 or a profile we do not produce. So the offer's video section
 * is narrowed to the one payload type we choose before werift sees it: packetization-mode=1 and a baseline
 * profile (`42xxxx`), constrained baseline `42e01f` first.
 */
import { ProtocolError } from "@ballstream/protocol";
import { RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters } from "werift";

/** The codec werift is configured with (its payload type is replaced by the browser's). */
export function h264Codec(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: "video/H264",
    clockRate: 90000,
    rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "goog-remb" }],
    parameters: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  });
}

/**
 * RTP header extension asking the receiver to render frames as soon as they are decoded (min = max = 0 ms) instead
 * of building a jitter-buffer delay: on loopback/LAN that is the latency we are here to measure.
 */
export const PLAYOUT_DELAY_URI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";

/**
 * RTP header extension carrying each frame's capture time (NTP, Q32.32): with it the browser's own
 * `requestVideoFrameCallback` `captureTime` and RTCRtpReceiver sources show capture → display without our side channel.
 * Chromium negotiates it only when the page asks (`setHeaderExtensionsToNegotiate`).
 */
export const ABS_CAPTURE_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_EPOCH_OFFSET_S = 2_208_988_800;

/**
 * The abs-capture-time payload of a frame captured at `captureTimeMs` (epoch ms): its 8-byte NTP timestamp (Q32.32),
 * without the optional clock offset (the sender is the capturer: offset 0).
 */
export function absCaptureTime(captureTimeMs: number): Buffer {
  const seconds = Math.floor(captureTimeMs / 1000);
  const fraction = Math.round(((captureTimeMs - seconds * 1000) / 1000) * 2 ** 32);
  const out = Buffer.alloc(8);
  out.writeUInt32BE((seconds + NTP_EPOCH_OFFSET_S + (fraction >= 2 ** 32 ? 1 : 0)) >>> 0, 0);
  out.writeUInt32BE(fraction >= 2 ** 32 ? 0 : fraction, 4);
  return out;
}

/** The header extensions werift may negotiate: playout-delay and abs-capture-time. */
export function videoHeaderExtensions(): RTCRtpHeaderExtensionParameters[] {
  return [new RTCRtpHeaderExtensionParameters({ uri: PLAYOUT_DELAY_URI }), new RTCRtpHeaderExtensionParameters({ uri: ABS_CAPTURE_TIME_URI })];
}

/** The H.264 payload type chosen from an offer. */
export interface ChosenH264 {
  readonly payloadType: number;
  readonly profileLevelId: string;
  /** Index of the chosen `m=video` section among the SDP's media sections. */
  readonly mediaIndex: number;
}

interface Section {
  readonly lines: string[];
}

function splitSdp(sdp: string): { session: string[]; media: Section[] } {
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  const first = lines.findIndex((l) => l.startsWith("m="));
  if (!lines[0]?.startsWith("v=0") || first < 0) throw new ProtocolError("bad_request", "the offer is not an SDP with media sections");
  const media: Section[] = [];
  for (const line of lines.slice(first)) {
    if (line.startsWith("m=")) media.push({ lines: [line] });
    else media.at(-1)!.lines.push(line);
  }
  return { session: lines.slice(0, first), media };
}

function fmtpOf(section: Section, pt: number): Map<string, string> {
  const line = section.lines.find((l) => l.startsWith(`a=fmtp:${pt} `));
  const params = new Map<string, string>();
  for (const part of (line?.slice(line.indexOf(" ") + 1) ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return params;
}

/** 0 for 42e01f, 1 for another constrained baseline, 2 for plain baseline; null if we cannot send it. */
function rank(params: Map<string, string>): number | null {
  if (params.get("packetization-mode") !== "1") return null;
  const plid = (params.get("profile-level-id") ?? "420010").toLowerCase();
  if (!/^42[0-9a-f]{4}$/.test(plid)) return null;
  if (plid === "42e01f") return 0;
  return (parseInt(plid.slice(2, 4), 16) & 0x40) !== 0 ? 1 : 2;
}

/**
 * Picks the H.264 payload type to send from an offer. Throws {@link ProtocolError}: `bad_request` for something
 * that is not an SDP offer with media, `unsupported` when no video section offers usable H.264.
 */
export function chooseH264(sdp: string): ChosenH264 {
  const { media } = splitSdp(sdp);
  let best: (ChosenH264 & { rank: number }) | null = null;
  media.forEach((section, mediaIndex) => {
    const m = section.lines[0]!.split(" ");
    if (m[0] !== "m=video" || m[1] === "0" || section.lines.includes("a=inactive") || section.lines.includes("a=sendonly")) return;
    for (const token of m.slice(3)) {
      const pt = Number(token);
      const rtpmap = section.lines.find((l) => l.startsWith(`a=rtpmap:${pt} `));
      if (!Number.isInteger(pt) || rtpmap?.slice(rtpmap.indexOf(" ") + 1).toLowerCase() !== "h264/90000") continue;
      const params = fmtpOf(section, pt);
      const r = rank(params);
      if (r !== null && (best === null || r < best.rank)) {
        best = { payloadType: pt, profileLevelId: (params.get("profile-level-id") ?? "420010").toLowerCase(), mediaIndex, rank: r };
      }
    }
  });
  const chosen = best as (ChosenH264 & { rank: number }) | null;
  if (chosen === null) {
    throw new ProtocolError("unsupported", "the offer has no receivable H.264 video (need packetization-mode=1, baseline profile 42xxxx)");
  }
  return { payloadType: chosen.payloadType, profileLevelId: chosen.profileLevelId, mediaIndex: chosen.mediaIndex };
}

const PT_ATTRIBUTE = /^a=(rtpmap|fmtp|rtcp-fb):(\d+)[ ]/;

/** The offer with the chosen video section narrowed to the chosen payload type (other sections untouched). */
export function narrowOfferToH264(sdp: string, chosen: ChosenH264): string {
  const { session, media } = splitSdp(sdp);
  const sections = media.map((section, i) => {
    if (i !== chosen.mediaIndex) return section.lines;
    const m = section.lines[0]!.split(" ");
    return [
      [...m.slice(0, 3), String(chosen.payloadType)].join(" "),
      ...section.lines.slice(1).filter((l) => {
        const match = PT_ATTRIBUTE.exec(l);
        return match === null || Number(match[2]) === chosen.payloadType;
      }),
    ];
  });
  return [...session, ...sections.flat()].join("\r\n") + "\r\n";
}
