import { describe, expect, test } from "bun:test";
import { DEFAULT_MEDIA_CONFIG, mediaConfigFromEnv, podIceUdpPort } from "../src/config.ts";
import { ABS_CAPTURE_TIME_URI, PLAYOUT_DELAY_URI } from "../src/codec.ts";
import { peerConnectionConfig } from "../src/peer.ts";

describe("mediaConfigFromEnv", () => {
  test("defaults: no STUN/TURN, any port, every interface", () => {
    expect(mediaConfigFromEnv({})).toEqual(DEFAULT_MEDIA_CONFIG);
    expect(DEFAULT_MEDIA_CONFIG.iceServers).toEqual([]);
  });

  test("reads ICE ports, addresses, servers with credentials, and the encoder settings", () => {
    const c = mediaConfigFromEnv({
      ICE_PORT_MIN: "40000",
      ICE_PORT_MAX: "40100",
      ICE_INTERFACE_ADDRESS: "10.0.0.5",
      ICE_ADVERTISE_ADDRESS: "203.0.113.7, 198.51.100.1",
      ICE_SERVERS: "stun:stun.example:3478,turn:turn.example:3478",
      ICE_USERNAME: "u",
      ICE_CREDENTIAL: "p",
      KEYFRAME_INTERVAL_S: "4",
      FFMPEG_PATH: "/opt/ffmpeg",
      ENCODER: "ffmpeg",
      ENCODER_THREADS: "3",
      HEARTBEAT_TIMEOUT_MS: "9000",
      MAX_SESSIONS: "3",
      VIDEO_BITRATE_KBPS: "800",
      VIDEO_MIN_BITRATE_KBPS: "200",
      CONGESTION_RESPONSE: "0",
      INTRA_REFRESH: "1",
      MAX_CHANNEL_VIEWERS: "250",
      CHANNEL_KEYFRAME_GAP_MS: "800",
    });
    expect(c.icePortRange).toEqual([40000, 40100]);
    expect(c.iceInterfaceAddress).toBe("10.0.0.5");
    expect(c.iceAdvertiseAddresses).toEqual(["203.0.113.7", "198.51.100.1"]);
    expect(c.iceServers).toEqual([{ urls: "stun:stun.example:3478" }, { urls: "turn:turn.example:3478", username: "u", credential: "p" }]);
    expect(c.keyframeIntervalS).toBe(4);
    expect(c).toMatchObject({ ffmpegPath: "/opt/ffmpeg", encoder: "ffmpeg", encoderThreads: 3 });
    expect(DEFAULT_MEDIA_CONFIG.encoder).toBe("auto");
    expect(DEFAULT_MEDIA_CONFIG.encoderThreads).toBeGreaterThanOrEqual(1);
    expect(DEFAULT_MEDIA_CONFIG.encoderThreads).toBeLessThanOrEqual(4);
    expect(c.heartbeatTimeoutMs).toBe(9000);
    expect(c.maxSessions).toBe(3);
    expect(c).toMatchObject({ maxChannelViewers: 250, channelKeyframeGapMs: 800 });
    expect(DEFAULT_MEDIA_CONFIG).toMatchObject({ maxChannelViewers: 500, channelKeyframeGapMs: 500 });
    expect(c).toMatchObject({ videoBitrateKbps: 800, videoMinBitrateKbps: 200, congestionResponse: false, intraRefresh: true });
    expect(DEFAULT_MEDIA_CONFIG).toMatchObject({ videoBitrateKbps: 2000, videoMinBitrateKbps: 150, congestionResponse: true, intraRefresh: false });
  });

  test("bad values name their variable", () => {
    expect(() => mediaConfigFromEnv({ ICE_PORT_MIN: "40000" })).toThrow("ICE_PORT_MIN");
    expect(mediaConfigFromEnv({ ICE_UDP_PORT: "40000" }).iceUdpPort).toBe(40000);
    expect(mediaConfigFromEnv({ ICE_UDP_PORT: "0" }).iceUdpPort).toBe(0);
    expect(mediaConfigFromEnv({}).iceUdpPort).toBeUndefined();
    expect(() => mediaConfigFromEnv({ ICE_UDP_PORT: "70000" })).toThrow("ICE_UDP_PORT");
    expect(() => mediaConfigFromEnv({ ICE_UDP_PORT: "40000", ICE_PORT_MIN: "40000", ICE_PORT_MAX: "40010" })).toThrow("exclude each other");
    expect(() => mediaConfigFromEnv({ ICE_PORT_MIN: "5000", ICE_PORT_MAX: "4000" })).toThrow("ICE_PORT_MIN");
    expect(() => mediaConfigFromEnv({ ICE_SERVERS: "http://x" })).toThrow("ICE_SERVERS");
    expect(() => mediaConfigFromEnv({ KEYFRAME_INTERVAL_S: "0" })).toThrow("KEYFRAME_INTERVAL_S");
    expect(() => mediaConfigFromEnv({ MAX_SESSIONS: "0" })).toThrow("MAX_SESSIONS");
    expect(() => mediaConfigFromEnv({ CHANNEL_KEYFRAME_GAP_MS: "-1" })).toThrow("CHANNEL_KEYFRAME_GAP_MS");
    expect(() => mediaConfigFromEnv({ VIDEO_BITRATE_KBPS: "fast" })).toThrow("VIDEO_BITRATE_KBPS");
    expect(() => mediaConfigFromEnv({ CONGESTION_RESPONSE: "2" })).toThrow("CONGESTION_RESPONSE");
    expect(() => mediaConfigFromEnv({ ENCODER: "x265" })).toThrow('ENCODER: "x265" is not auto, x264 or ffmpeg');
    expect(() => mediaConfigFromEnv({ ENCODER_THREADS: "0" })).toThrow("ENCODER_THREADS");
  });
});

describe("podIceUdpPort (ICE_UDP_PORT_BASE + the StatefulSet ordinal of POD_NAME)", () => {
  test("each pod its own port: base + the ordinal ending its name", () => {
    expect(podIceUdpPort({ ICE_UDP_PORT_BASE: "31000", POD_NAME: "media-0" })).toBe(31000);
    expect(podIceUdpPort({ ICE_UDP_PORT_BASE: "31000", POD_NAME: "media-3" })).toBe(31003);
    expect(podIceUdpPort({ ICE_UDP_PORT_BASE: "31000", POD_NAME: "my-media-12" })).toBe(31012);
    expect(mediaConfigFromEnv({ ICE_UDP_PORT_BASE: "31000", POD_NAME: "media-1" }).iceUdpPort).toBe(31001);
  });

  test("a name without an ordinal, a bad base or a port past 65535 name their variable", () => {
    expect(() => podIceUdpPort({ ICE_UDP_PORT_BASE: "31000" })).toThrow("POD_NAME");
    expect(() => podIceUdpPort({ ICE_UDP_PORT_BASE: "31000", POD_NAME: "media-5d8f9c-x2kqz" })).toThrow("POD_NAME");
    expect(() => podIceUdpPort({ ICE_UDP_PORT_BASE: "port", POD_NAME: "media-0" })).toThrow("ICE_UDP_PORT_BASE");
    expect(() => podIceUdpPort({ ICE_UDP_PORT_BASE: "65535", POD_NAME: "media-1" })).toThrow("above 65535");
  });

  test("excludes ICE_UDP_PORT and the range", () => {
    expect(() => mediaConfigFromEnv({ ICE_UDP_PORT_BASE: "31000", POD_NAME: "media-0", ICE_UDP_PORT: "40000" })).toThrow("exclude each other");
    expect(() => mediaConfigFromEnv({ ICE_UDP_PORT_BASE: "31000", POD_NAME: "media-0", ICE_PORT_MIN: "40000", ICE_PORT_MAX: "40010" })).toThrow("exclude each other");
  });
});

describe("peerConnectionConfig", () => {
  test("default: only H.264, the playout-delay and abs-capture-time extensions, no ICE servers, IPv4 host candidates", () => {
    const c = peerConnectionConfig(DEFAULT_MEDIA_CONFIG);
    expect(c.codecs?.video?.map((v) => v.mimeType)).toEqual(["video/H264"]);
    expect(c.headerExtensions?.video?.map((e) => e.uri)).toEqual([PLAYOUT_DELAY_URI, ABS_CAPTURE_TIME_URI]);
    expect(c.iceServers).toEqual([]);
    expect(c.iceInterfaceAddresses).toBeUndefined();
    expect(c.iceFilterCandidatePair).toBeUndefined();
  });

  test("a fixed interface binds there, advertises the extra addresses and pairs only those", () => {
    const c = peerConnectionConfig({ ...DEFAULT_MEDIA_CONFIG, iceInterfaceAddress: "127.0.0.1", iceAdvertiseAddresses: ["192.0.2.1"], icePortRange: [41000, 41010] });
    expect(c.iceInterfaceAddresses).toEqual({ udp4: "127.0.0.1" });
    expect(c.iceAdditionalHostAddresses).toEqual(["127.0.0.1", "192.0.2.1"]);
    expect(c.icePortRange).toEqual([41000, 41010]);
    const filter = c.iceFilterCandidatePair!;
    expect(filter({ localCandidate: { host: "192.0.2.1" } } as never)).toBe(true);
    expect(filter({ localCandidate: { host: "10.1.1.1" } } as never)).toBe(false);
  });
});
