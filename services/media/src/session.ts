/**
 * One viewer's media session, read top to bottom like a player: negotiate H.264 from the offer, open a werift
 * peer connection with one video track, answer once ICE gathering is done; then for every frame on the bus:
 * encode → pace (RTP payloads, RTP timestamp from the frame's capture time, each packet on the peer's own lean
 * stream at a byte rate: rtp-stream.ts, as a channel viewer's). PLI
 * and FIR ask the encoder for a keyframe (coalesced); the lower of a delay-based target (the browser's REMB) and a
 * loss-based one (its receiver reports) is the encoder's target bitrate; raw frames are dropped while the pacer holds
 * more than a frame; NACKs are answered by the stream from its history of the last 128 packets. While signaling
 * says `videoWanted` (a viewer takes the video over WebTransport), each encoded access unit is also published on
 * `video` as a {@link VideoUnit}; a request without an SDP offer opens a session with no peer connection at all, for
 * that path only — or for a channel's source, whose units every replica's viewers of the channel take
 * (channel-feed.ts; its keyframes at most one per `channelKeyframeGapMs`, and the younger of two sources of one
 * channel closes). The session ends on `ended`, heartbeat timeout, a failed/closed connection, a dead encoder, or
 * {@link MediaSession.close}.
 */
import type { Bus, BusSubscription, Logger } from "@ballstream/runtime";
import type { MediaMetrics } from "./metrics.ts";
import { FrameAssembler, SessionClaim, SessionLink, publishSessionEvent } from "@ballstream/runtime";
import { type MediaOfferRequest, decodeJson, encodeVideoUnit, nowMs, parseVideoWanted, rtpTimestampFromCaptureTime, subjects } from "@ballstream/protocol";
import type { MediaConfig } from "./config.ts";
import { DEFAULT_ENCODER_OPTIONS, type EncodedFrame, type EncoderBackend, SessionEncoder } from "./encoder.ts";
import { absCaptureTime } from "./codec.ts";
import { h264Payloads } from "./rtp-packetizer.ts";
import type { RtpPayload } from "./rtp-stream.ts";
import { PACING_FACTOR, Pacer } from "./pacer.ts";
import { LossBasedEstimate, targetFromRemb } from "./rate-control.ts";
import { toAnnexB } from "./annexb.ts";
import { MediaPeer } from "./peer.ts";
import { SessionLease, setSessionNetwork } from "./session-lease.ts";
import type { UdpMux } from "./udp-mux.ts";

/** What a session needs from its service. */
export interface SessionContext {
  readonly bus: Bus;
  readonly log: Logger;
  readonly metrics: MediaMetrics;
  readonly config: MediaConfig;
  /** Where the session's frames are encoded (the service's one backend). */
  readonly encoder: EncoderBackend;
  /** This replica's instance id (a channel source's claim names it). */
  readonly instance: string;
  /** Called once when the session has ended and released everything. */
  readonly onClosed: (session: MediaSession) => void;
  /** The service's one ICE port, when it has one: the session's ICE agent registers its ufrag there. */
  readonly udpMux?: UdpMux;
}

/** How long one `videoWanted` keeps the access units coming (signaling repeats it with every 1 s heartbeat). */
export const VIDEO_WANTED_FOR_MS = 3000;

/** A live session: one encoder, one frame subscription, a peer connection when the viewer offered WebRTC. */
export class MediaSession {
  readonly sessionId: string;
  readonly #ctx: SessionContext;
  readonly #log: Logger;
  #peer: MediaPeer | null = null;
  /** Until when (nowMs) signaling wants the access units on the bus. */
  #videoWantedUntilMs = 0;
  readonly #encoder: SessionEncoder;
  readonly #pacer: Pacer<EncodedFrame, RtpPayload>;
  /** Payload bytes sent since `#sentSinceMs` (from the first packet), and the rate over the last such window (for REMB). */
  #sentBytes = 0;
  #sentSinceMs: number | undefined;
  #sentKbps = 0;
  /** The delay-based target (from REMB) and the loss-based estimate (from receiver reports); the encoder follows the lower. */
  #rembTargetKbps: number;
  readonly #lossBased: LossBasedEstimate;
  readonly #subscriptions: BusSubscription[] = [];
  #lease: SessionLease | undefined;
  /** A channel source's claim (the younger of two sources of one channel closes). */
  #claim: SessionClaim | undefined;
  /** Frames larger than the bus's max payload arrive in chunks. */
  readonly #frames = new FrameAssembler();
  /** The viewer's own emulated link (the page's network setting), in series with the service's. */
  readonly #link: SessionLink;
  #closed: Promise<void> | null = null;

  private constructor(request: MediaOfferRequest, ctx: SessionContext) {
    this.sessionId = request.sessionId;
    this.#ctx = ctx;
    this.#log = ctx.log.child({ sessionId: request.sessionId, ...(request.channelSource ? { channelSource: true } : {}) });
    this.#link = new SessionLink(ctx.metrics.net);
    this.#rembTargetKbps = ctx.config.videoBitrateKbps;
    this.#lossBased = new LossBasedEstimate({ maxKbps: ctx.config.videoBitrateKbps, minKbps: ctx.config.videoMinBitrateKbps });
    if (request.network !== undefined) setSessionNetwork(this.#link, request.network, this.#log);
    const { keyframeIntervalS, videoBitrateKbps: bitrateKbps, intraRefresh } = ctx.config;
    // A channel's keyframes serve every viewer: new viewers and their PLIs share one per channelKeyframeGapMs.
    const minKeyframeGapMs = request.channelSource ? ctx.config.channelKeyframeGapMs : DEFAULT_ENCODER_OPTIONS.minKeyframeGapMs;
    this.#encoder = new SessionEncoder(
      { ...DEFAULT_ENCODER_OPTIONS, backend: ctx.encoder, keyframeIntervalS, bitrateKbps, intraRefresh, minKeyframeGapMs },
      this.#log,
      { onFrame: (frame) => this.#send(frame), onRestart: () => ctx.metrics.encoderRestarts.inc(), onFatal: (message) => this.#fail(message) },
    );
    const { maxRtpPayloadBytes } = ctx.config;
    this.#pacer = new Pacer<EncodedFrame, RtpPayload>({
      packetize: (frame) => {
        const payloads = h264Payloads(frame.nals, maxRtpPayloadBytes);
        const timestamp = rtpTimestampFromCaptureTime(frame.captureTimeMs);
        const capture = absCaptureTime(frame.captureTimeMs);
        return payloads.map((payload, i) => ({ payload, timestamp, marker: i === payloads.length - 1, absCaptureTime: capture }));
      },
      bytes: (packet) => packet.payload.length,
      send: (packet) => {
        this.#sentSinceMs ??= nowMs();
        this.#sentBytes += packet.payload.length;
        this.#peer?.writePacket(packet);
      },
      bytesPerMs: () => (PACING_FACTOR * this.#encoder.bitrateKbps) / 8,
      now: nowMs,
    });
  }

  /**
   * Negotiates a session from an offer and returns it with its answer SDP (all candidates included). Throws
   * {@link ProtocolError} for an offer we cannot serve; nothing is left running then. A request without an offer
   * (WebTransport video, or a channel's source) opens a session with no peer connection.
   */
  static async open(request: MediaOfferRequest, ctx: SessionContext): Promise<{ session: MediaSession; sdp?: string }> {
    const session = new MediaSession(request, ctx);
    if (request.sdp === undefined) {
      session.#listen();
      if (request.channelSource) session.#claim = new SessionClaim(ctx.bus, request.sessionId, "media", ctx.instance, session.#log, () => void session.close("another replica encodes this channel"));
      session.#log.info("media session open (access units only, no WebRTC)");
      return { session };
    }
    try {
      const { peer, sdp } = await MediaPeer.answer(request.sdp, ctx, session.#link, {
        onKeyframeRequest: () => session.#encoder.requestKeyframe(),
        onRemb: (kbps) => session.#onRemb(kbps),
        onLoss: (fractionLost, highestSequence) => session.#onLoss(fractionLost, highestSequence),
        onConnected: () => ctx.metrics.activePeers.inc(),
        onGone: (reason) => (reason === "connection closed" ? void session.close(reason) : session.#fail(reason)),
      });
      session.#peer = peer;
      session.#listen();
      session.#log.info("media session open");
      return { session, sdp };
    } catch (err) {
      await session.close("negotiation failed");
      throw err;
    }
  }

  #listen(): void {
    const { bus, config, log } = this.#ctx;
    this.#subscriptions.push(
      bus.subscribe(subjects.frames(this.sessionId), (msg) => this.#onFrame(msg.data)),
      bus.subscribe(subjects.videoWanted(this.sessionId), (msg) => this.#onVideoWanted(msg.data)),
    );
    this.#lease = new SessionLease(bus, this.sessionId, config.heartbeatTimeoutMs, this.#link, this.#log, { onEnd: (reason) => void this.close(reason) });
  }

  /** Decodes a frame from the bus and hands it to the encoder, or counts it as dropped. */
  #onFrame(data: Uint8Array): void {
    let frame;
    try {
      frame = this.#frames.push(data);
      if (frame === undefined) return;
    } catch (err) {
      this.#log.warn({ err }, "dropping a malformed frame");
      this.#ctx.metrics.framesDropped.inc();
      return;
    }
    // Nothing to send to before the connection is up or the access units are wanted; the first frame after that
    // will be a keyframe. A pacer that holds more than a frame means the link is slower than the frames: drop here,
    // before the encoder.
    const consumer = this.#peer?.connected === true || this.#videoWanted;
    if (!consumer || this.#closed !== null || this.#pacer.backlogged || !this.#encoder.encode(frame)) this.#ctx.metrics.framesDropped.inc();
  }

  get #videoWanted(): boolean {
    return nowMs() < this.#videoWantedUntilMs;
  }

  /** Signaling wants the access units (again): publish them for {@link VIDEO_WANTED_FOR_MS}, from a keyframe if asked. */
  #onVideoWanted(data: Uint8Array): void {
    let wanted;
    try {
      wanted = parseVideoWanted(decodeJson(data));
    } catch (err) {
      this.#log.warn({ err }, "malformed videoWanted dropped");
      return;
    }
    const fresh = !this.#videoWanted;
    this.#videoWantedUntilMs = nowMs() + VIDEO_WANTED_FOR_MS;
    if (wanted.keyframe || fresh) this.#encoder.requestKeyframe();
  }

  /** Publishes an access unit for the WebTransport path; one larger than the bus takes is dropped (and a keyframe asked). */
  #publishUnit(frame: EncodedFrame): void {
    const unit = encodeVideoUnit({ frameId: frame.frameId, captureTimeMs: frame.captureTimeMs, keyframe: frame.keyframe, data: toAnnexB(frame.nals) });
    try {
      this.#ctx.bus.publish(subjects.video(this.sessionId), unit);
    } catch (err) {
      this.#log.warn({ err, bytes: unit.length }, "access unit not published");
      this.#encoder.requestKeyframe();
    }
  }

  /** The browser's estimate of what the link carries (kbit/s) sets the delay-based target, unless switched off. */
  #onRemb(rembKbps: number): void {
    const { congestionResponse, videoBitrateKbps: maxKbps, videoMinBitrateKbps: minKbps } = this.#ctx.config;
    const now = nowMs();
    if (this.#sentSinceMs !== undefined && now - this.#sentSinceMs >= 1000) {
      this.#sentKbps = (this.#sentBytes * 8) / (now - this.#sentSinceMs);
      this.#sentBytes = 0;
      this.#sentSinceMs = now;
    }
    if (!congestionResponse) return;
    this.#rembTargetKbps = targetFromRemb(this.#encoder.bitrateKbps, rembKbps, this.#sentKbps, { maxKbps, minKbps });
    this.#log.debug({ rembKbps, sentKbps: this.#sentKbps, rembTargetKbps: this.#rembTargetKbps, lossKbps: this.#lossBased.kbps }, "REMB");
    this.#encoder.setTargetBitrate(Math.min(this.#rembTargetKbps, this.#lossBased.kbps));
  }

  /** A receiver report's fraction lost (0–1) moves the loss-based estimate, unless congestion response is off. */
  #onLoss(fractionLost: number, highestSequence: number): void {
    if (!this.#ctx.config.congestionResponse) return;
    const lossKbps = this.#lossBased.report(fractionLost, highestSequence, nowMs());
    this.#log.debug({ fractionLost, lossKbps }, "receiver report");
    this.#encoder.setTargetBitrate(Math.min(this.#rembTargetKbps, lossKbps));
  }

  #send(frame: EncodedFrame): void {
    if (this.#closed !== null) return;
    if (this.#peer?.connected) this.#pacer.push(frame);
    if (this.#videoWanted) this.#publishUnit(frame);
    this.#ctx.metrics.framesSent.inc();
    this.#ctx.metrics.observeEncodeMs(frame.encodeMs);
    if (frame.keyframe) this.#ctx.metrics.keyframes.inc();
  }

  /** Tells the viewer (through signaling) that this session cannot go on, then closes it. */
  #fail(message: string): void {
    if (this.#closed !== null) return;
    publishSessionEvent(this.#ctx.bus, this.sessionId, { source: "media", message, fatal: true }, this.#log);
    void this.close(message);
  }

  /** Counters of this session's encoder. */
  get encoderStats() {
    return this.#encoder.stats;
  }

  /** Releases everything (subscriptions, timer, encoder process, peer connection); idempotent. */
  close(reason: string): Promise<void> {
    this.#closed ??= (async () => {
      this.#log.info({ reason, encoder: this.#encoder.stats }, "media session closing");
      for (const s of this.#subscriptions.splice(0)) s.unsubscribe();
      this.#lease?.release();
      this.#claim?.release();
      if (this.#peer?.connected) this.#ctx.metrics.activePeers.dec();
      this.#pacer.stop();
      this.#link.close();
      await this.#encoder.stop();
      await this.#peer?.close(this.#log);
      this.#ctx.onClosed(this);
    })();
    return this.#closed;
  }
}
