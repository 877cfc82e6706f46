/** The media service's settings, their defaults, and reading them from the environment. */
import { SESSION_TIMING } from "@ballstream/protocol";
import { type NetConditions, intEnv, listEnv, netConditionsFromEnv, stringEnv } from "@ballstream/runtime";
import { availableParallelism } from "node:os";
import type { RTCIceServer } from "werift";
import { DEFAULT_ENCODER_OPTIONS } from "./encoder.ts";
import { DEFAULT_RTP_PAYLOAD_BYTES } from "./rtp-packetizer.ts";

/** Settings of {@link startMedia}. Every field has a default. */
export interface MediaConfig {
  /**
   * ENCODER: where sessions' frames are encoded: "x264" (libx264 in the process, on encoder threads), "ffmpeg" (a
   * process per session), or "auto" (x264 where libx264 loads, else ffmpeg). docs/media.md "x264 in the process".
   */
  readonly encoder: EncoderChoice;
  /** ENCODER_THREADS: the worker threads libx264 runs on (each holds some sessions' encoders). */
  readonly encoderThreads: number;
  /** ffmpeg binary (ENCODER=ffmpeg); default resolved by `resolveFfmpeg` (FFMPEG_PATH, ffmpeg-static, @ffmpeg-installer, PATH). */
  readonly ffmpegPath?: string;
  /** End a session with no heartbeat for this long. */
  readonly heartbeatTimeoutMs: number;
  /** STUN/TURN servers; none by default (host candidates only). */
  readonly iceServers: readonly RTCIceServer[];
  /** UDP ports for ICE, inclusive; undefined lets the OS pick. */
  readonly icePortRange?: readonly [number, number];
  /** One UDP port for every session's ICE (udp-mux.ts; 0: any free one); undefined: a socket per candidate per session. */
  readonly iceUdpPort?: number;
  /** Bind ICE sockets to this local address only (e.g. 127.0.0.1), and offer only candidates on it. */
  readonly iceInterfaceAddress?: string;
  /** Extra host candidate addresses to advertise (the address browsers reach us at behind NAT/Docker). */
  readonly iceAdvertiseAddresses: readonly string[];
  /** How long to wait for ICE gathering before answering with what was gathered. */
  readonly iceGatherTimeoutMs: number;
  /** Largest RTP payload in bytes. */
  readonly maxRtpPayloadBytes: number;
  /** Seconds between periodic keyframes. */
  readonly keyframeIntervalS: number;
  /** Target bitrate in kbit/s (x264 maxrate, VBV of one frame); the ceiling congestion response climbs back to. */
  readonly videoBitrateKbps: number;
  /** Congestion response never sets the target below this (kbit/s). */
  readonly videoMinBitrateKbps: number;
  /** Follow the browser's REMB estimate (true) or keep the configured target whatever it says. */
  readonly congestionResponse: boolean;
  /** x264 periodic intra refresh instead of periodic IDRs. */
  readonly intraRefresh: boolean;
  /**
   * MAX_SESSIONS, as in every service: the most sessions this process runs at once (one ffmpeg each); an offer
   * beyond it is refused (`unavailable`). The generator's 16 by default: media sessions follow generator sessions.
   */
  readonly maxSessions: number;
  /** MAX_CHANNEL_VIEWERS: the most channel viewers this process serves at once (no encoder each: a peer connection). */
  readonly maxChannelViewers: number;
  /**
   * CHANNEL_KEYFRAME_GAP_MS: at most one keyframe per this many ms for a channel, whatever number of new viewers and
   * PLIs ask (a keyframe costs every viewer its bits); a new viewer waits up to this long for its first picture.
   */
  readonly channelKeyframeGapMs: number;
  /** Emulated link conditions on every session's ICE sockets, each direction; none by default (docs/network-lab.md). */
  readonly net: NetConditions;
}

/** The values of ENCODER. */
export type EncoderChoice = "auto" | "x264" | "ffmpeg";

/** Encoder threads by default: one per core, at most 4 (a 30 fps 640×480 session keeps one ~1.5 % busy). */
export const DEFAULT_ENCODER_THREADS = Math.max(1, Math.min(4, availableParallelism()));

/** The defaults. */
export const DEFAULT_MEDIA_CONFIG: MediaConfig = {
  encoder: "auto",
  encoderThreads: DEFAULT_ENCODER_THREADS,
  heartbeatTimeoutMs: SESSION_TIMING.heartbeatTimeoutMs,
  iceServers: [],
  iceAdvertiseAddresses: [],
  iceGatherTimeoutMs: 3000,
  maxRtpPayloadBytes: DEFAULT_RTP_PAYLOAD_BYTES,
  keyframeIntervalS: DEFAULT_ENCODER_OPTIONS.keyframeIntervalS,
  videoBitrateKbps: DEFAULT_ENCODER_OPTIONS.bitrateKbps,
  videoMinBitrateKbps: 150,
  congestionResponse: true,
  intraRefresh: DEFAULT_ENCODER_OPTIONS.intraRefresh,
  maxSessions: 16,
  maxChannelViewers: 500,
  channelKeyframeGapMs: 500,
  net: {},
};

/**
 * ICE_UDP_PORT_BASE + the ordinal that ends POD_NAME (a StatefulSet pod's name, `media-2` → base + 2): each pod of a
 * StatefulSet its own one ICE port, the one its per-pod Service publishes (docs/deploy.md). Throws naming the
 * variable when POD_NAME has no ordinal or the port leaves 1–65535.
 */
export function podIceUdpPort(env: Record<string, string | undefined>): number {
  const base = intEnv(env, "ICE_UDP_PORT_BASE", 0, 1, 65535);
  const podName = stringEnv(env, "POD_NAME", "");
  const ordinal = /-(\d+)$/.exec(podName)?.[1];
  if (ordinal === undefined) throw new Error(`ICE_UDP_PORT_BASE needs POD_NAME ending in a StatefulSet ordinal (e.g. media-0), got "${podName.slice(0, 64)}"`);
  const port = base + Number(ordinal);
  if (port > 65535) throw new Error(`ICE_UDP_PORT_BASE=${base} + the ordinal of POD_NAME=${podName} is ${port}, above 65535`);
  return port;
}

/**
 * Reads HEARTBEAT_TIMEOUT_MS, ICE_PORT_MIN + ICE_PORT_MAX, ICE_UDP_PORT or ICE_UDP_PORT_BASE + POD_NAME ({@link podIceUdpPort}) (one of the three), ICE_INTERFACE_ADDRESS, ICE_ADVERTISE_ADDRESS (comma
 * list), ICE_SERVERS (comma list of stun:/turn: URLs) with ICE_USERNAME + ICE_CREDENTIAL, KEYFRAME_INTERVAL_S,
 * VIDEO_BITRATE_KBPS, VIDEO_MIN_BITRATE_KBPS, CONGESTION_RESPONSE (1/0), INTRA_REFRESH (1/0), RTP_MAX_PAYLOAD,
 * MAX_SESSIONS, ENCODER (auto/x264/ffmpeg), ENCODER_THREADS, FFMPEG_PATH and the ICE sockets' emulated link MEDIA_NET_EGRESS / MEDIA_NET_INGRESS (default
 * NET_EGRESS / NET_INGRESS). Throws an Error naming the variable on a bad value.
 */
export function mediaConfigFromEnv(env: Record<string, string | undefined>): MediaConfig {
  const portMin = intEnv(env, "ICE_PORT_MIN", 0, 1, 65535);
  const portMax = intEnv(env, "ICE_PORT_MAX", 0, 1, 65535);
  if ((portMin === 0) !== (portMax === 0) || portMax < portMin || (portMin !== 0 && portMin === portMax)) {
    throw new Error(`ICE_PORT_MIN=${env.ICE_PORT_MIN ?? ""} ICE_PORT_MAX=${env.ICE_PORT_MAX ?? ""}: set both, with MIN < MAX`);
  }
  const udpPort = stringEnv(env, "ICE_UDP_PORT", "");
  const udpPortBase = stringEnv(env, "ICE_UDP_PORT_BASE", "");
  if ([udpPort !== "", udpPortBase !== "", portMin !== 0].filter(Boolean).length > 1) {
    throw new Error("ICE_UDP_PORT, ICE_UDP_PORT_BASE and ICE_PORT_MIN/ICE_PORT_MAX exclude each other: one port for all, one per pod, or a range");
  }
  const username = stringEnv(env, "ICE_USERNAME", "");
  const credential = stringEnv(env, "ICE_CREDENTIAL", "");
  const iceServers = listEnv(env, "ICE_SERVERS", []).map((url) => {
    if (!/^(stun|turns?):/.test(url)) throw new Error(`ICE_SERVERS: "${url}" is not a stun:/turn:/turns: URL`);
    return url.startsWith("stun:") || username === "" ? { urls: url } : { urls: url, username, credential };
  });
  const ffmpegPath = stringEnv(env, "FFMPEG_PATH", "");
  const encoder = stringEnv(env, "ENCODER", DEFAULT_MEDIA_CONFIG.encoder);
  if (encoder !== "auto" && encoder !== "x264" && encoder !== "ffmpeg") throw new Error(`ENCODER: "${encoder.slice(0, 32)}" is not auto, x264 or ffmpeg`);
  const interfaceAddress = stringEnv(env, "ICE_INTERFACE_ADDRESS", "");
  return {
    ...DEFAULT_MEDIA_CONFIG,
    ...(ffmpegPath === "" ? {} : { ffmpegPath }),
    ...(portMin === 0 ? {} : { icePortRange: [portMin, portMax] as const }),
    ...(udpPort === "" ? {} : { iceUdpPort: intEnv(env, "ICE_UDP_PORT", 0, 0, 65535) }),
    ...(udpPortBase === "" ? {} : { iceUdpPort: podIceUdpPort(env) }),
    ...(interfaceAddress === "" ? {} : { iceInterfaceAddress: interfaceAddress }),
    encoder,
    encoderThreads: intEnv(env, "ENCODER_THREADS", DEFAULT_MEDIA_CONFIG.encoderThreads, 1, 64),
    heartbeatTimeoutMs: intEnv(env, "HEARTBEAT_TIMEOUT_MS", DEFAULT_MEDIA_CONFIG.heartbeatTimeoutMs, 100, 600_000),
    iceServers,
    iceAdvertiseAddresses: listEnv(env, "ICE_ADVERTISE_ADDRESS", []),
    keyframeIntervalS: intEnv(env, "KEYFRAME_INTERVAL_S", DEFAULT_MEDIA_CONFIG.keyframeIntervalS, 1, 60),
    videoBitrateKbps: intEnv(env, "VIDEO_BITRATE_KBPS", DEFAULT_MEDIA_CONFIG.videoBitrateKbps, 50, 100_000),
    videoMinBitrateKbps: intEnv(env, "VIDEO_MIN_BITRATE_KBPS", DEFAULT_MEDIA_CONFIG.videoMinBitrateKbps, 10, 100_000),
    congestionResponse: intEnv(env, "CONGESTION_RESPONSE", DEFAULT_MEDIA_CONFIG.congestionResponse ? 1 : 0, 0, 1) === 1,
    intraRefresh: intEnv(env, "INTRA_REFRESH", DEFAULT_MEDIA_CONFIG.intraRefresh ? 1 : 0, 0, 1) === 1,
    maxRtpPayloadBytes: intEnv(env, "RTP_MAX_PAYLOAD", DEFAULT_MEDIA_CONFIG.maxRtpPayloadBytes, 200, 1400),
    maxSessions: intEnv(env, "MAX_SESSIONS", DEFAULT_MEDIA_CONFIG.maxSessions, 1, 10_000),
    maxChannelViewers: intEnv(env, "MAX_CHANNEL_VIEWERS", DEFAULT_MEDIA_CONFIG.maxChannelViewers, 0, 100_000),
    channelKeyframeGapMs: intEnv(env, "CHANNEL_KEYFRAME_GAP_MS", DEFAULT_MEDIA_CONFIG.channelKeyframeGapMs, 0, 60_000),
    net: netConditionsFromEnv(env, "MEDIA"),
  };
}
