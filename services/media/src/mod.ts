/**
 * The media service: answers SDP offers on `subjects.mediaOffer` (queue group `media`, so replicas share the
 * sessions), refuses offers the page would not send (`checkOffer`, before werift parses them) and runs one
 * {@link MediaSession} — werift peer connection + ffmpeg/libx264 encoder — per session, or a {@link ChannelViewer}
 * (a peer connection fed by this replica's {@link ChannelFeed} of the channel) per viewer of a channel; a channel's
 * source is an access-units-only MediaSession on whichever replica took it. Each replica says it is
 * alive on `subjects.mediaAlive(instance)` (its instance id travels in every answer), so signaling renegotiates a
 * dead replica's sessions with another; stopping, it says it is leaving and gives its pages that long to move.
 */
import { randomBytes } from "node:crypto";
import type { Bus, Logger, Registry } from "@ballstream/runtime";
import type { MediaAlive, MediaOfferAnswer, MediaOfferRequest } from "@ballstream/protocol";
import { QUEUE, ProtocolError, SESSION_TIMING, checkChannelRoles, checkOffer, encodeJson, parseMediaOfferAnswer, parseMediaOfferRequest, subjects } from "@ballstream/protocol";
import { requestJson } from "@ballstream/runtime";
import { defaultRegistry, netLog, serveJson } from "@ballstream/runtime";
import { createMediaMetrics } from "./metrics.ts";
import { DEFAULT_MEDIA_CONFIG, type MediaConfig } from "./config.ts";
import { chooseEncoderBackend, describeEncoder } from "./encoder-backend.ts";
import { X264Threads } from "./x264-threads.ts";
import { UdpMux, installUdpMux } from "./udp-mux.ts";
import { MediaSession } from "./session.ts";
import { ChannelFeed } from "./channel-feed.ts";
import { ChannelViewer } from "./channel-viewer.ts";

export { createMediaMetrics, type MediaMetrics } from "./metrics.ts";
export { DEFAULT_MEDIA_CONFIG, type MediaConfig, mediaConfigFromEnv } from "./config.ts";
export { type FfmpegBinary, resolveFfmpeg } from "./ffmpeg-path.ts";
export { chooseEncoderBackend, describeEncoder } from "./encoder-backend.ts";
export { dropDefaultStun } from "./ice-stun.ts";

/** Options of {@link startMedia}. */
export interface StartMediaOptions {
  readonly bus: Bus;
  readonly log: Logger;
  readonly config?: Partial<MediaConfig>;
  /** Where the metrics go (default: prom-client's global registry). */
  readonly registry?: Registry;
  /** How long {@link MediaService.stop} waits for the sessions to move to another replica (default {@link MEDIA_HAND_OVER_MS}; 0: close at once). */
  readonly handOverMs?: number;
}

/** A running media service. */
export interface MediaService {
  /** The encoder in use, in a line ({@link describeEncoder}): libx264 in the process, or an ffmpeg binary. */
  readonly encoder: string;
  /** The one UDP port of every session's ICE, when `ICE_UDP_PORT` is set. */
  readonly iceUdpPort?: number;
  /** This replica's instance id (in its answers; the token of its `mediaAlive` subject). */
  readonly instance: string;
  /** Ids of the sessions open now (channel viewers included). */
  sessionIds(): string[];
  /** Viewers of each channel (by its source session id) this replica serves now. */
  channelViewers(): Map<string, number>;
  /**
   * Leaves the queue group, says it is leaving (signaling then moves each page's video to another replica), waits
   * up to `handOverMs` for those sessions to go, closes the rest; does not drain the bus.
   */
  stop(): Promise<void>;
}

/** How long a stopping replica waits for its sessions to move elsewhere, by default (ms). */
export const MEDIA_HAND_OVER_MS = 2000;

/** Starts the media service on `bus`. Throws if the encoder ENCODER asks for cannot be had (no libx264, no ffmpeg). */
export async function startMedia({ bus, log, config: overrides = {}, registry = defaultRegistry, handOverMs = MEDIA_HAND_OVER_MS }: StartMediaOptions): Promise<MediaService> {
  const config: MediaConfig = { ...DEFAULT_MEDIA_CONFIG, ...overrides };
  const udpMux = config.iceUdpPort === undefined ? undefined : await UdpMux.bind(config.iceInterfaceAddress ?? "0.0.0.0", config.iceUdpPort, log);
  const uninstallMux = udpMux && installUdpMux(udpMux);
  const encoder = chooseEncoderBackend(config, log);
  const metrics = createMediaMetrics(registry);
  metrics.net.inForce(config.net);
  const sessions = new Map<string, MediaSession | ChannelViewer>();
  const feeds = new Map<string, ChannelFeed>();
  let stopping = false;
  let opening = 0;
  let openingViewers = 0;
  const instance = randomBytes(9).toString("base64url");
  const sayAlive = (alive: MediaAlive) => {
    try {
      bus.publish(subjects.mediaAlive(instance), encodeJson(alive));
    } catch (err) {
      log.warn({ err }, "mediaAlive not published");
    }
  };
  const aliveTimer = setInterval(() => sayAlive({ leaving: false }), SESSION_TIMING.mediaAliveIntervalMs);

  const onClosed = (session: MediaSession | ChannelViewer) => {
    if (sessions.get(session.sessionId) === session) sessions.delete(session.sessionId);
    if (session instanceof ChannelViewer) metrics.channelViewers.set(countViewers());
  };
  const countViewers = () => [...sessions.values()].filter((s) => s instanceof ChannelViewer).length;
  /** A channel's source went silent: have any replica (this one included) start another; the older of two stays. */
  const restartSource = (source: string) => {
    if (stopping) return;
    const request = { sessionId: source, channelSource: true as const };
    requestJson(bus, subjects.mediaOffer, request, parseMediaOfferAnswer, SESSION_TIMING.requestTimeoutMs).catch((err: unknown) => log.warn({ err, source }, "no replica restarted the channel's source"));
  };
  const feedOf = (source: string): ChannelFeed => {
    let feed = feeds.get(source);
    if (feed === undefined) {
      feed = new ChannelFeed({
        bus,
        log,
        source,
        maxPayloadBytes: config.maxRtpPayloadBytes,
        keyframeGapMs: config.channelKeyframeGapMs,
        onKeyframeRequest: (outcome) => metrics.channelKeyframeRequests.inc({ outcome }),
        onSourceSilent: () => restartSource(source),
      });
      feeds.set(source, feed);
      metrics.channelFeeds.set(feeds.size);
    }
    return feed;
  };
  const leave = (feed: ChannelFeed, viewer: ChannelViewer) => {
    if (feed.detach(viewer) && feeds.get(feed.source) === feed) feeds.delete(feed.source);
    metrics.channelFeeds.set(feeds.size);
  };
  const context = { bus, log, metrics, config, ...(udpMux ? { udpMux } : {}) };

  /** A viewer of a channel: a peer connection fed by this replica's feed of it (no encoder; its own limit). */
  const openViewer = async (request: MediaOfferRequest & { sdp: string; channel: string }): Promise<{ session: ChannelViewer; sdp: string }> => {
    if (countViewers() + openingViewers >= config.maxChannelViewers) throw new ProtocolError("unavailable", `media is at its limit of ${config.maxChannelViewers} channel viewers`);
    openingViewers++;
    return ChannelViewer.open(request, { ...context, feedOf, leave, onClosed }).finally(() => openingViewers--);
  };
  /** A private session or a channel's source (one encoder each; the service's session limit). */
  const openSession = async (request: MediaOfferRequest): Promise<{ session: MediaSession; sdp?: string }> => {
    // Sessions still negotiating count too: offers arriving together must not all pass the check.
    if (countSessions() + opening >= config.maxSessions) throw new ProtocolError("unavailable", `media is at its limit of ${config.maxSessions} sessions`);
    opening++;
    return MediaSession.open(request, { ...context, encoder, instance, onClosed }).finally(() => opening--);
  };
  const countSessions = () => sessions.size - countViewers();

  const subscription = serveJson(
    bus,
    subjects.mediaOffer,
    parseMediaOfferRequest,
    async (request): Promise<MediaOfferAnswer> => {
      if (stopping) throw new ProtocolError("unavailable", "the media service is stopping");
      checkChannelRoles(request);
      if (request.sdp !== undefined) checkOffer(request.sdp); // before werift: it spends seconds on an offer of many media sections
      const running = sessions.get(request.sessionId);
      if (request.channelSource && running instanceof MediaSession) return { instance }; // this replica encodes the channel already
      await running?.close("replaced by a new offer");
      const { session, sdp } =
        request.channel !== undefined && request.sdp !== undefined
          ? await openViewer({ ...request, sdp: request.sdp, channel: request.channel })
          : await openSession(request);
      if (stopping) {
        await session.close("service stopping");
        throw new ProtocolError("unavailable", "the media service is stopping");
      }
      sessions.set(request.sessionId, session);
      if (session instanceof ChannelViewer) metrics.channelViewers.set(countViewers());
      return sdp === undefined ? { instance } : { sdp, instance };
    },
    log,
    { queue: QUEUE.media },
  );
  log.info({ encoder: describeEncoder(encoder), instance, ...(udpMux ? { iceUdpPort: udpMux.address().port } : {}), ...netLog(config.net) }, "media service started");

  return {
    encoder: describeEncoder(encoder),
    instance,
    ...(udpMux ? { iceUdpPort: udpMux.address().port } : {}),
    sessionIds: () => [...sessions.keys()],
    channelViewers: () => {
      const counts = new Map<string, number>();
      for (const s of sessions.values()) if (s instanceof ChannelViewer) counts.set(s.channel, (counts.get(s.channel) ?? 0) + 1);
      return counts;
    },
    stop: async () => {
      stopping = true;
      subscription.unsubscribe(); // out of the queue group first, so the new offers go to other replicas
      clearInterval(aliveTimer);
      if (sessions.size > 0 && handOverMs > 0) {
        sayAlive({ leaving: true });
        const deadline = Date.now() + handOverMs;
        while (sessions.size > 0 && Date.now() < deadline) await Bun.sleep(20);
        log.info({ left: sessions.size }, "media hand-over done");
      }
      await Promise.all([...sessions.values()].map((s) => s.close("service stopping")));
      for (const feed of feeds.values()) feed.close();
      feeds.clear();
      if (encoder instanceof X264Threads) await encoder.close();
      uninstallMux?.();
      await udpMux?.close();
    },
  };
}
