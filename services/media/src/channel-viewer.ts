/**
 * One viewer of a channel on this replica: its own peer connection (ICE, DTLS, SRTP, SSRC), its own sequence
 * numbers over the channel's shared payloads ({@link ChannelFeed}) on its peer's lean send path
 * ({@link MediaPeer.writeFrame}, rtp-stream.ts), no encoder. It starts on a keyframe (asked for when it connects; it
 * waits up to the channel's keyframe gap) and then gets every access unit, so its sequence numbers have no gaps of
 * ours: a lost packet is the link's, and the NACK is answered from the history of this viewer's last 128 packets,
 * whose payloads are the channel's (shared, not copied). A PLI or FIR asks the feed for a keyframe; the session
 * ends like a private one (ended, heartbeat timeout, a failed connection, {@link ChannelViewer.close}).
 */
import type { Bus, Logger } from "@ballstream/runtime";
import { SessionLink } from "@ballstream/runtime";
import type { MediaOfferRequest } from "@ballstream/protocol";
import type { ChannelFeed, ChannelFrame, FeedViewer } from "./channel-feed.ts";
import type { MediaConfig } from "./config.ts";
import type { MediaMetrics } from "./metrics.ts";
import { MediaPeer } from "./peer.ts";
import { SessionLease, setSessionNetwork } from "./session-lease.ts";
import type { UdpMux } from "./udp-mux.ts";

/** What a channel viewer needs from its service. */
export interface ChannelViewerContext {
  readonly bus: Bus;
  readonly log: Logger;
  readonly metrics: MediaMetrics;
  readonly config: MediaConfig;
  readonly udpMux?: UdpMux;
  /** This replica's feed of the viewer's channel (made when it has none). */
  readonly feedOf: (source: string) => ChannelFeed;
  /** The viewer leaves its feed (the replica drops a feed with no viewers). */
  readonly leave: (feed: ChannelFeed, viewer: ChannelViewer) => void;
  /** Called once when the viewer has ended and released everything. */
  readonly onClosed: (viewer: ChannelViewer) => void;
}

/** Counters of one viewer. */
export interface ChannelViewerStats {
  framesSent: number;
  /** Frames before its first keyframe, not sent. */
  framesSkipped: number;
}

/** A live viewer of a channel. */
export class ChannelViewer implements FeedViewer {
  readonly sessionId: string;
  /** The channel's source session id. */
  readonly channel: string;
  readonly stats: ChannelViewerStats = { framesSent: 0, framesSkipped: 0 };
  readonly #ctx: ChannelViewerContext;
  readonly #log: Logger;
  readonly #link: SessionLink;
  #peer: MediaPeer | undefined;
  #feed: ChannelFeed | undefined;
  #lease: SessionLease | undefined;
  #waitingForKeyframe = true;
  /** When it connected (performance ms), for the log's wait for the first keyframe. */
  #connectedMs = 0;
  #closed: Promise<void> | null = null;

  private constructor(sessionId: string, channel: string, ctx: ChannelViewerContext) {
    this.sessionId = sessionId;
    this.channel = channel;
    this.#ctx = ctx;
    this.#log = ctx.log.child({ sessionId, channel });
    this.#link = new SessionLink(ctx.metrics.net);
  }

  /** Answers the viewer's offer and returns the viewer with its answer SDP; throws {@link ProtocolError} for an offer we cannot serve. */
  static async open(request: MediaOfferRequest & { readonly sdp: string; readonly channel: string }, ctx: ChannelViewerContext): Promise<{ session: ChannelViewer; sdp: string }> {
    const viewer = new ChannelViewer(request.sessionId, request.channel, ctx);
    if (request.network !== undefined) setSessionNetwork(viewer.#link, request.network, viewer.#log);
    try {
      const { peer, sdp } = await MediaPeer.answer(request.sdp, ctx, viewer.#link, {
        onKeyframeRequest: () => viewer.#feed?.requestKeyframe(),
        onConnected: () => viewer.#onConnected(),
        onGone: (reason) => void viewer.close(reason),
      });
      viewer.#peer = peer;
      viewer.#lease = new SessionLease(ctx.bus, viewer.sessionId, ctx.config.heartbeatTimeoutMs, viewer.#link, viewer.#log, { onEnd: (reason) => void viewer.close(reason) });
      viewer.#log.info("channel viewer open");
      return { session: viewer, sdp };
    } catch (err) {
      await viewer.close("negotiation failed");
      throw err;
    }
  }

  /** Sends one access unit of the channel: from the first keyframe on, every one. */
  deliver(frame: ChannelFrame): void {
    const peer = this.#peer;
    if (peer === undefined || this.#closed !== null) return;
    if (this.#waitingForKeyframe) {
      if (!frame.keyframe) {
        this.stats.framesSkipped++;
        return;
      }
      this.#waitingForKeyframe = false;
      this.#log.info({ waitedMs: Math.round(performance.now() - this.#connectedMs), skipped: this.stats.framesSkipped }, "first keyframe to the viewer");
    }
    if (!peer.writeFrame(frame.payloads, frame.timestamp, frame.absCaptureTime)) return;
    this.stats.framesSent++;
    this.#ctx.metrics.channelFramesSent.inc();
  }

  #onConnected(): void {
    if (this.#closed !== null) return;
    this.#connectedMs = performance.now();
    this.#ctx.metrics.activePeers.inc();
    this.#feed = this.#ctx.feedOf(this.channel);
    this.#feed.attach(this);
  }

  /** Releases everything (lease, feed, link, peer connection); idempotent. */
  close(reason: string): Promise<void> {
    this.#closed ??= (async () => {
      this.#log.info({ reason, ...this.stats }, "channel viewer closing");
      this.#lease?.release();
      if (this.#feed !== undefined) this.#ctx.leave(this.#feed, this);
      if (this.#peer?.connected) this.#ctx.metrics.activePeers.dec();
      this.#link.close();
      await this.#peer?.close(this.#log);
      this.#ctx.onClosed(this);
    })();
    return this.#closed;
  }
}
