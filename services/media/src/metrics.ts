/** The media service's metrics, registered in the registry its owner passes in. */
import { ENCODE_BUCKETS_S, type Counter, type Gauge, type Histogram, type LinkMetrics, type Registry, counter, createLinkMetrics, defaultRegistry, gauge, histogram, once } from "@ballstream/runtime";

/** The media service's metrics. */
export interface MediaMetrics {
  /** Seconds from handing a raw frame to the encoder until its H.264 access unit comes out. */
  readonly encodeSeconds: Histogram;
  /** Encoded frames written to a WebRTC track. */
  readonly framesSent: Counter;
  /** Frames received from the generator but never sent (encoder busy, no peer yet, queue full, …). */
  readonly framesDropped: Counter;
  /** RTCP NACKs received from viewers. */
  readonly nacks: Counter;
  /** RTCP PLIs (picture loss indications) received from viewers. */
  readonly plis: Counter;
  /** Keyframes (IDR access units) sent. */
  readonly keyframes: Counter;
  /** Peer connections currently open. */
  readonly activePeers: Gauge;
  /** Encoders restarted: a new size or fps, a failure; with ffmpeg also a keyframe or bitrate change. */
  readonly encoderRestarts: Counter;
  /** Access units sent to channel viewers (one per viewer per frame). */
  readonly channelFramesSent: Counter;
  /** Channel viewers served by this replica now. */
  readonly channelViewers: Gauge;
  /** Channels this replica subscribes to now (it has a viewer of each). */
  readonly channelFeeds: Gauge;
  /** Viewers' keyframe requests (new viewer, PLI, FIR): passed to the channel's source, or coalesced into one already asked. */
  readonly channelKeyframeRequests: Counter<"outcome">;
  /** The emulated link on the ICE sockets: conditions in force, packets by outcome, queue delay (`media_net_*`). */
  readonly net: LinkMetrics;
  /** Records the encode time of one frame given in milliseconds. */
  observeEncodeMs(ms: number): void;
}

/** Registers (once) and returns the media service's metrics. */
export function createMediaMetrics(registry: Registry = defaultRegistry): MediaMetrics {
  return once(registry, "media", () => {
    const encodeSeconds = histogram(registry, "media_encode_seconds", "Time to encode one frame to H.264.", ENCODE_BUCKETS_S);
    return {
      encodeSeconds,
      framesSent: counter(registry, "media_frames_sent_total", "Encoded frames written to a WebRTC track."),
      framesDropped: counter(registry, "media_frames_dropped_total", "Frames received from the generator but not sent."),
      nacks: counter(registry, "media_nacks_total", "RTCP NACKs received from viewers."),
      plis: counter(registry, "media_plis_total", "RTCP picture loss indications received from viewers."),
      keyframes: counter(registry, "media_keyframes_total", "Keyframes (IDR) sent."),
      activePeers: gauge(registry, "media_active_peers", "Open WebRTC peer connections."),
      encoderRestarts: counter(registry, "media_encoder_restarts_total", "Encoders restarted (new size or fps, died, stalled; with ffmpeg also keyframes and bitrate changes)."),
      channelFramesSent: counter(registry, "media_channel_frames_sent_total", "Access units sent to channel viewers (one per viewer per frame)."),
      channelViewers: gauge(registry, "media_channel_viewers", "Channel viewers served by this replica."),
      channelFeeds: gauge(registry, "media_channel_feeds", "Channels this replica subscribes to (it has a viewer of each)."),
      channelKeyframeRequests: counter(registry, "media_channel_keyframe_requests_total", "Channel viewers' keyframe requests, by outcome (sent to the source, coalesced).", ["outcome"]),
      net: createLinkMetrics(registry, "media"),
      observeEncodeMs: (ms: number) => {
        if (Number.isFinite(ms) && ms >= 0) encodeSeconds.observe(ms / 1000);
      },
    };
  });
}

