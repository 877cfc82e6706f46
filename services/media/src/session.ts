/**
 * One viewer's media session, read top to bottom like a player: negotiate H.264 from the offer, open a werift
 * peer connection with one video track, answer once ICE gathering is done; then for every frame on the bus:
 * encode → pace (packetize, RTP timestamp from the frame's capture time, write to the track at a byte rate). PLI
 * and FIR ask the encoder for a keyframe (coalesced); the lower of a delay-based target (the browser's REMB) and a
 * loss-based one (its receiver reports) is the encoder's target bitrate; raw frames are dropped while the pacer holds
 * more than a frame; NACKs are answered by werift's sender from its history of the last 128 packets. While signaling
 * says `videoWanted` (a viewer takes the video over WebTransport), each encoded access unit is also published on
 * `video` as a {@link VideoUnit}; a request without an SDP offer opens a session with no peer connection at all, for
 * that path only. The session ends on `ended`, heartbeat timeout, a failed/closed connection, a dead encoder, or
 * {@link MediaSession.close}.
 */
import type { Bus, BusSubscription, Logger } from "@ballstream/runtime";
import type { MediaMetrics } from "./metrics.ts";
import { FrameAssembler, SessionLink, netConditionsOf, netLog, publishSessionEvent } from "@ballstream/runtime";
import { type MediaOfferRequest, type NetworkSettings, ProtocolError, decodeJson, encodeVideoUnit, nowMs, parseNetworkSettings, parseVideoWanted, rtpTimestampFromCaptureTime, subjects } from "@ballstream/protocol";
import {
  MediaStreamTrack,
  PictureLossIndication,
  RTCPeerConnection,
  type RTCPeerConnectionConfig,
  ReceiverEstimatedMaxBitrate,
  RtcpPayloadSpecificFeedback,
  RtcpRrPacket,
  type RtpPacket,
} from "werift";
import { PLAYOUT_DELAY_URI, ZERO_PLAYOUT_DELAY, chooseH264, h264Codec, narrowOfferToH264, videoHeaderExtensions } from "./codec.ts";
import type { MediaConfig } from "./config.ts";
import { DEFAULT_ENCODER_OPTIONS, type EncodedFrame, SessionEncoder } from "./encoder.ts";
import { H264Packetizer } from "./rtp-packetizer.ts";
import { PACING_FACTOR, Pacer } from "./pacer.ts";
import { LossBasedEstimate, targetFromRemb } from "./rate-control.ts";
import { dropDefaultStun } from "./ice-stun.ts";
import { guardIceSockets } from "./ice-socket-errors.ts";
import { toAnnexB } from "./annexb.ts";
import { impairIceSockets } from "./ice-link.ts";
import type { UdpMux } from "./udp-mux.ts";

/** What a session needs from its service. */
export interface SessionContext {
  readonly bus: Bus;
  readonly log: Logger;
  readonly metrics: MediaMetrics;
  readonly config: MediaConfig;
  readonly ffmpegPath: string;
  /** Called once when the session has ended and released everything. */
  readonly onClosed: (session: MediaSession) => void;
  /** The service's one ICE port, when it has one: the session's ICE agent registers its ufrag there. */
  readonly udpMux?: UdpMux;
}

/** werift settings from the service config: no STUN/TURN by default, host candidates as configured. */
export function peerConnectionConfig(config: MediaConfig): RTCPeerConnectionConfig {
  const only = config.iceInterfaceAddress;
  const allowed = new Set([...(only === undefined ? [] : [only]), ...config.iceAdvertiseAddresses]);
  return {
    codecs: { video: [h264Codec()] },
    headerExtensions: { video: videoHeaderExtensions(), audio: [] },
    iceServers: [...config.iceServers],
    iceUseIpv4: true,
    iceUseIpv6: false,
    ...(config.icePortRange === undefined ? {} : { icePortRange: [config.icePortRange[0], config.icePortRange[1]] }),
    ...(only === undefined ? {} : { iceInterfaceAddresses: { udp4: only } }),
    ...(config.iceAdvertiseAddresses.length === 0 && only === undefined ? {} : { iceAdditionalHostAddresses: [...allowed] }),
    // With a fixed interface, candidates werift finds on other interfaces would not work: pair only the allowed ones.
    ...(only === undefined ? {} : { iceFilterCandidatePair: (pair) => allowed.has(pair.localCandidate.host) }),
  };
}

/** How long one `videoWanted` keeps the access units coming (signaling repeats it with every 1 s heartbeat). */
export const VIDEO_WANTED_FOR_MS = 3000;

/** A live session: one encoder, one frame subscription, a peer connection when the viewer offered WebRTC. */
export class MediaSession {
  readonly sessionId: string;
  readonly #ctx: SessionContext;
  readonly #log: Logger;
  readonly #pc: RTCPeerConnection | null;
  /** Until when (nowMs) signaling wants the access units on the bus. */
  #videoWantedUntilMs = 0;
  readonly #track = new MediaStreamTrack({ kind: "video" });
  readonly #packetizer: H264Packetizer;
  readonly #encoder: SessionEncoder;
  readonly #pacer: Pacer<EncodedFrame, RtpPacket>;
  /** Payload bytes sent since `#sentSinceMs` (from the first packet), and the rate over the last such window (for REMB). */
  #sentBytes = 0;
  #sentSinceMs: number | undefined;
  #sentKbps = 0;
  /** The delay-based target (from REMB) and the loss-based estimate (from receiver reports); the encoder follows the lower. */
  #rembTargetKbps: number;
  readonly #lossBased: LossBasedEstimate;
  readonly #subscriptions: BusSubscription[] = [];
  #lastHeartbeatMs = nowMs();
  #heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  #connected = false;
  /** Negotiated id of the playout-delay extension, if the browser offered it. */
  #playoutDelayId: number | undefined;
  /** Frames larger than the bus's max payload arrive in chunks. */
  readonly #frames = new FrameAssembler();
  /** The viewer's own emulated link (the page's network setting), in series with the service's. */
  readonly #link: SessionLink;
  #closed: Promise<void> | null = null;

  private constructor(request: MediaOfferRequest, ctx: SessionContext) {
    this.sessionId = request.sessionId;
    this.#ctx = ctx;
    this.#log = ctx.log.child({ sessionId: request.sessionId });
    this.#pc = request.sdp === undefined ? null : new RTCPeerConnection(peerConnectionConfig(ctx.config));
    this.#link = new SessionLink(ctx.metrics.net);
    this.#rembTargetKbps = ctx.config.videoBitrateKbps;
    this.#lossBased = new LossBasedEstimate({ maxKbps: ctx.config.videoBitrateKbps, minKbps: ctx.config.videoMinBitrateKbps });
    if (request.network !== undefined) this.#setNetwork(request.network);
    this.#packetizer = new H264Packetizer({ maxPayloadBytes: ctx.config.maxRtpPayloadBytes });
    const { keyframeIntervalS, videoBitrateKbps: bitrateKbps, intraRefresh } = ctx.config;
    this.#encoder = new SessionEncoder(
      { ...DEFAULT_ENCODER_OPTIONS, ffmpegPath: ctx.ffmpegPath, keyframeIntervalS, bitrateKbps, intraRefresh },
      this.#log,
      { onFrame: (frame) => this.#send(frame), onRestart: () => ctx.metrics.encoderRestarts.inc(), onFatal: (message) => this.#fail(message) },
    );
    this.#pacer = new Pacer({
      packetize: (frame) => this.#packetize(frame),
      bytes: (packet) => packet.payload.length,
      send: (packet) => {
        this.#sentSinceMs ??= nowMs();
        this.#sentBytes += packet.payload.length;
        this.#track.writeRtp(packet);
      },
      bytesPerMs: () => (PACING_FACTOR * this.#encoder.bitrateKbps) / 8,
      now: nowMs,
    });
  }

  /**
   * Negotiates a session from an offer and returns it with its answer SDP (all candidates included). Throws
   * {@link ProtocolError} for an offer we cannot serve; nothing is left running then.
   */
  static async open(request: MediaOfferRequest, ctx: SessionContext): Promise<{ session: MediaSession; sdp?: string }> {
    if (request.sdp === undefined) {
      const session = new MediaSession(request, ctx);
      session.#listen();
      session.#log.info("media session open (access units only, no WebRTC)");
      return { session };
    }
    const chosen = chooseH264(request.sdp);
    const session = new MediaSession(request, ctx);
    try {
      const sdp = await session.#negotiate(session.#pc!, narrowOfferToH264(request.sdp, chosen));
      session.#listen();
      session.#log.info({ payloadType: chosen.payloadType, profileLevelId: chosen.profileLevelId }, "media session open");
      return { session, sdp };
    } catch (err) {
      await session.close("negotiation failed");
      if (err instanceof ProtocolError) throw err;
      throw new ProtocolError("bad_request", `cannot answer the offer: ${(err as Error).message}`);
    }
  }

  async #negotiate(pc: RTCPeerConnection, offer: string): Promise<string> {
    await pc.setRemoteDescription({ type: "offer", sdp: offer });
    dropDefaultStun(pc, this.#ctx.config.iceServers);
    const transceiver = pc.getTransceivers().find((t) => t.kind === "video");
    if (transceiver === undefined) throw new ProtocolError("unsupported", "the offer has no video section");
    transceiver.setDirection("sendonly");
    this.#playoutDelayId = transceiver.headerExtensions.find((e) => e.uri === PLAYOUT_DELAY_URI)?.id;
    await transceiver.sender.replaceTrack(this.#track);
    transceiver.sender.onPictureLossIndication.subscribe(() => {
      this.#ctx.metrics.plis.inc();
      this.#encoder.requestKeyframe();
    });
    transceiver.sender.onGenericNack.subscribe(() => this.#ctx.metrics.nacks.inc());
    transceiver.sender.onRtcp.subscribe((packet) => {
      if (packet instanceof RtcpPayloadSpecificFeedback && packet.feedback instanceof ReceiverEstimatedMaxBitrate) this.#onRemb(Number(packet.feedback.bitrate) / 1000);
      if (packet instanceof RtcpRrPacket) {
        const report = packet.reports.find((r) => r.ssrc === transceiver.sender.ssrc);
        if (report !== undefined) this.#onLoss(report.fractionLost / 256, report.highestSequence);
      }
    });
    // werift routes a PSFB to a sender by its sender or media SSRC; an RFC 5104 FIR carries 0 there and names the
    // stream in its FCI entries, so FIRs are taken from the transport's RTCP before routing.
    transceiver.sender.dtlsTransport.onRtcp.subscribe((packet) => {
      if (!(packet instanceof RtcpPayloadSpecificFeedback) || packet.feedback instanceof ReceiverEstimatedMaxBitrate || packet.feedback instanceof PictureLossIndication) return;
      if (packet.feedback.fir.some((entry) => entry.ssrc === transceiver.sender.ssrc)) this.#encoder.requestKeyframe();
    });
    await pc.setLocalDescription(await pc.createAnswer());
    await this.#gathered(pc);
    this.#registerWithMux(pc);
    guardIceSockets(pc, this.#log);
    impairIceSockets(pc, this.#ctx.config.net, this.#ctx.metrics.net, this.#link);
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new Error("werift produced no answer");
    return sdp;
  }

  /** Tells the service's one ICE port which requests are this session's (by its ICE ufrag); nothing without one. */
  #registerWithMux(pc: RTCPeerConnection): void {
    const mux = this.#ctx.udpMux;
    if (mux === undefined) return;
    for (const transport of pc.iceTransports) {
      const agent = transport.connection as unknown as { localUsername: string; protocols?: Array<{ transport?: { socket?: unknown } }> };
      mux.register(agent.localUsername, (agent.protocols ?? []).map((p) => p.transport ?? {}));
    }
  }

  /** Resolves when ICE gathering is complete or after `iceGatherTimeoutMs` (answering with what is there). */
  async #gathered(pc: RTCPeerConnection): Promise<void> {
    if (pc.iceGatheringState === "complete") return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#ctx.config.iceGatherTimeoutMs)));
    const complete = pc.iceGatheringStateChange.watch((state) => state === "complete").then(() => undefined);
    await Promise.race([complete, timeout]);
    clearTimeout(timer);
  }

  #listen(): void {
    const { bus } = this.#ctx;
    this.#subscriptions.push(
      bus.subscribe(subjects.frames(this.sessionId), (msg) => this.#onFrame(msg.data)),
      bus.subscribe(subjects.heartbeat(this.sessionId), () => (this.#lastHeartbeatMs = nowMs())),
      bus.subscribe(subjects.ended(this.sessionId), () => void this.close("session ended")),
      bus.subscribe(subjects.network(this.sessionId), (msg) => this.#onNetwork(msg.data)),
      bus.subscribe(subjects.videoWanted(this.sessionId), (msg) => this.#onVideoWanted(msg.data)),
    );
    const timeoutMs = this.#ctx.config.heartbeatTimeoutMs;
    this.#heartbeatTimer = setInterval(() => {
      if (nowMs() - this.#lastHeartbeatMs > timeoutMs) void this.close("heartbeat timeout");
    }, Math.min(1000, timeoutMs / 2));
    this.#pc?.connectionStateChange.subscribe((state) => {
      this.#log.debug({ state }, "connection state");
      if (state === "connected" && !this.#connected) {
        this.#connected = true;
        this.#ctx.metrics.activePeers.inc();
      }
      if (state === "failed") this.#fail("the WebRTC connection failed");
      if (state === "closed") void this.close("connection closed");
    });
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
    const consumer = this.#connected || this.#videoWanted;
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

  /** A change of the viewer's network setting from signaling. */
  #onNetwork(data: Uint8Array): void {
    try {
      this.#setNetwork(parseNetworkSettings(decodeJson(data)));
    } catch (err) {
      this.#log.warn({ err }, "malformed network setting dropped");
    }
  }

  #setNetwork(network: NetworkSettings): void {
    const net = netConditionsOf(network);
    this.#link.set(net);
    this.#log.info(netLog(net), "session network set");
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

  #packetize(frame: EncodedFrame): RtpPacket[] {
    const packets = this.#packetizer.packetize(frame.nals, rtpTimestampFromCaptureTime(frame.captureTimeMs));
    if (this.#playoutDelayId !== undefined) for (const p of packets) p.header.extensions = [{ id: this.#playoutDelayId, payload: ZERO_PLAYOUT_DELAY }];
    return packets;
  }

  #send(frame: EncodedFrame): void {
    if (this.#closed !== null) return;
    if (this.#connected) this.#pacer.push(frame);
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
      if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer);
      if (this.#connected) this.#ctx.metrics.activePeers.dec();
      this.#pacer.stop();
      this.#link.close();
      await this.#encoder.stop();
      await this.#pc?.close().catch((err: unknown) => this.#log.debug({ err }, "peer connection close failed"));
      this.#ctx.onClosed(this);
    })();
    return this.#closed;
  }
}
