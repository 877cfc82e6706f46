/** The page's WebRTC side: a receive-only H.264 video transceiver and a complete (non-trickle) offer. */
import { NO_WEBRTC_H264 } from "./transport-choice.ts";

/** Minimal codec shape of `RTCRtpCodec` (what `setCodecPreferences` takes). */
export interface CodecLike {
  readonly mimeType: string;
  readonly sdpFmtpLine?: string;
}

/**
 * H.264 first: packetization-mode=1 constrained-baseline (42e01f, what the media service sends) ahead of other
 * H.264 profiles; then the rest in their original order (so RTX/RED/FEC stay available). Stable.
 */
export function preferH264<T extends CodecLike>(codecs: readonly T[]): T[] {
  const rank = (c: T): number => {
    if (c.mimeType.toLowerCase() !== "video/h264") return 3;
    const fmtp = c.sdpFmtpLine ?? "";
    if (!fmtp.includes("packetization-mode=1")) return 2;
    return fmtp.includes("profile-level-id=42e01f") ? 0 : 1;
  };
  return codecs.map((c, i) => [c, i] as const).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([c]) => c);
}

/** Whether the receiver's video codecs (`RTCRtpReceiver.getCapabilities("video")`) include H.264. */
export function canReceiveH264(capabilities: { readonly codecs: readonly CodecLike[] } | null): boolean {
  return capabilities?.codecs.some((c) => c.mimeType.toLowerCase() === "video/h264") ?? false;
}

/** The RTP header extension with each frame's capture time (NTP); media stamps every packet with it when offered. */
export const ABS_CAPTURE_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";

/** One entry of `RTCRtpTransceiver.getHeaderExtensionsToNegotiate()` (not yet in TypeScript's DOM types). */
export interface HeaderExtensionChoice {
  readonly uri: string;
  readonly direction: RTCRtpTransceiverDirection;
}

/** The part of a transceiver that {@link negotiateAbsCaptureTime} needs; both methods are missing where the browser lacks them. */
export interface HeaderExtensionControl {
  getHeaderExtensionsToNegotiate?(): HeaderExtensionChoice[];
  setHeaderExtensionsToNegotiate?(extensions: HeaderExtensionChoice[]): void;
}

/**
 * The list with abs-capture-time received (`recvonly`, what Chromium 156 accepts on a receive-only transceiver; it
 * lists the extension `stopped`), the rest unchanged; null when the browser does not offer it at all.
 */
export function withAbsCaptureTime(extensions: readonly HeaderExtensionChoice[]): HeaderExtensionChoice[] | null {
  if (!extensions.some((e) => e.uri === ABS_CAPTURE_TIME_URI)) return null;
  return extensions.map((e) => (e.uri === ABS_CAPTURE_TIME_URI ? { ...e, direction: "recvonly" } : e));
}

/** Asks the transceiver to negotiate abs-capture-time where the browser can; returns whether the offer will carry it. */
export function negotiateAbsCaptureTime(transceiver: HeaderExtensionControl): boolean {
  if (!transceiver.getHeaderExtensionsToNegotiate || !transceiver.setHeaderExtensionsToNegotiate) return false;
  const extensions = withAbsCaptureTime(transceiver.getHeaderExtensionsToNegotiate());
  if (!extensions) return false;
  transceiver.setHeaderExtensionsToNegotiate(extensions);
  return true;
}

/** The part of RTCPeerConnection that {@link waitForIceGathering} needs. */
export interface IceGatheringSource {
  readonly iceGatheringState: RTCIceGatheringState;
  addEventListener(type: "icegatheringstatechange", listener: () => void): void;
  removeEventListener(type: "icegatheringstatechange", listener: () => void): void;
}

/**
 * Resolves when ICE gathering is complete, or after `timeoutMs` (host candidates come at once on loopback; a
 * slow STUN server must not hold the offer back). Resolves `true` if complete, `false` on timeout.
 */
export function waitForIceGathering(pc: IceGatheringSource, timeoutMs: number): Promise<boolean> {
  if (pc.iceGatheringState === "complete") return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (complete: boolean) => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", onChange);
      resolve(complete);
    };
    const onChange = () => {
      if (pc.iceGatheringState === "complete") done(true);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    pc.addEventListener("icegatheringstatechange", onChange);
  });
}

/**
 * A peer connection with one receive-only video transceiver preferring H.264 and asking for abs-capture-time where
 * the browser can, and its complete offer SDP (gathering bounded by `iceTimeoutMs`). Throws if the browser cannot
 * receive H.264.
 */
export async function createReceiveOffer(iceTimeoutMs: number, config: RTCConfiguration = {}): Promise<{ pc: RTCPeerConnection; sdp: string }> {
  const pc = new RTCPeerConnection(config);
  try {
    const transceiver = pc.addTransceiver("video", { direction: "recvonly" });
    const codecs = RTCRtpReceiver.getCapabilities("video")?.codecs ?? [];
    if (!canReceiveH264({ codecs })) throw new Error(`${NO_WEBRTC_H264}.`);
    transceiver.setCodecPreferences(preferH264(codecs));
    negotiateAbsCaptureTime(transceiver as HeaderExtensionControl);
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIceGathering(pc, iceTimeoutMs);
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new Error("the browser produced no SDP offer");
    return { pc, sdp };
  } catch (e) {
    pc.close();
    throw e;
  }
}
