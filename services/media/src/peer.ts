/**
 * The WebRTC side of one viewer, shared by a private session (its own encoder) and a channel viewer (the channel's
 * access units): a werift peer connection with one send-only H.264 track, answered from the page's offer once ICE
 * gathering is done, on the service's one ICE port when it has one, behind the service's and the viewer's emulated
 * links. What the viewer asks for (keyframes: PLI and FIR; bitrate: REMB and receiver reports) and how the
 * connection goes reach the owner as {@link PeerEvents}. Video goes out on the peer's own lean {@link RtpStream}
 * beside werift's sender (header extensions: the zero playout delay and the frame's capture time, each when the
 * browser offered it): a private session's paced packets one by one ({@link MediaPeer.writePacket}), a channel's
 * frames, made once for many viewers, a frame at a time ({@link MediaPeer.writeFrame}).
 */
import type { Logger } from "@ballstream/runtime";
import type { SessionLink } from "@ballstream/runtime";
import { ProtocolError } from "@ballstream/protocol";
import {
  MediaStreamTrack,
  PictureLossIndication,
  RTCPeerConnection,
  type RTCPeerConnectionConfig,
  ReceiverEstimatedMaxBitrate,
  RtcpPayloadSpecificFeedback,
  RtcpRrPacket,
} from "werift";
import { ABS_CAPTURE_TIME_URI, PLAYOUT_DELAY_URI, chooseH264, h264Codec, narrowOfferToH264, videoHeaderExtensions } from "./codec.ts";
import type { MediaConfig } from "./config.ts";
import type { MediaMetrics } from "./metrics.ts";
import { type RtpPayload, RtpStream } from "./rtp-stream.ts";
import { dropDefaultStun } from "./ice-stun.ts";
import { guardIceSockets } from "./ice-socket-errors.ts";
import { impairIceSockets } from "./ice-link.ts";
import type { UdpMux } from "./udp-mux.ts";

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

/** What a peer needs from its service. */
export interface PeerContext {
  readonly log: Logger;
  readonly metrics: MediaMetrics;
  readonly config: MediaConfig;
  /** The service's one ICE port, when it has one: the peer's ICE agent registers its ufrag there. */
  readonly udpMux?: UdpMux;
}

/** What a peer tells its owner. */
export interface PeerEvents {
  /** The viewer's picture is broken (PLI, or an RFC 5104 FIR naming this stream). */
  onKeyframeRequest(): void;
  /** The browser's estimate of what the link carries, kbit/s (REMB). */
  onRemb?(kbps: number): void;
  /** A receiver report on this stream: fraction lost (0–1) and the highest sequence number received. */
  onLoss?(fractionLost: number, highestSequence: number): void;
  /** ICE and DTLS are up: packets reach the viewer from now on (once). */
  onConnected(): void;
  /** The connection failed or was closed by the other side. */
  onGone(reason: string): void;
}

/** One viewer's negotiated peer connection. */
export class MediaPeer {
  readonly pc: RTCPeerConnection;
  readonly #track = new MediaStreamTrack({ kind: "video" });
  /** The lean send path of {@link MediaPeer.writePacket} and {@link MediaPeer.writeFrame} (made once the offer is answered). */
  #stream: RtpStream | undefined;
  #connected = false;

  private constructor(pc: RTCPeerConnection) {
    this.pc = pc;
  }

  /**
   * Answers `offer` (narrowed to one H.264 codec) and returns the peer with its answer SDP, all candidates
   * included; `link` is the viewer's own emulated link. Throws {@link ProtocolError} for an offer we cannot serve;
   * the peer connection is closed then.
   */
  static async answer(offer: string, ctx: PeerContext, link: SessionLink, events: PeerEvents): Promise<{ peer: MediaPeer; sdp: string }> {
    const chosen = chooseH264(offer);
    const peer = new MediaPeer(new RTCPeerConnection(peerConnectionConfig(ctx.config)));
    try {
      const sdp = await peer.#negotiate(narrowOfferToH264(offer, chosen), ctx, link, events);
      ctx.log.debug({ payloadType: chosen.payloadType, profileLevelId: chosen.profileLevelId }, "peer negotiated");
      return { peer, sdp };
    } catch (err) {
      await peer.close(ctx.log);
      if (err instanceof ProtocolError) throw err;
      throw new ProtocolError("bad_request", `cannot answer the offer: ${(err as Error).message}`);
    }
  }

  /** Whether ICE and DTLS are up. */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Sends one packet of this peer's own frames (a private session's pacer, packet by packet) on its {@link RtpStream};
   * false while DTLS is not up (nothing sent).
   */
  writePacket(packet: RtpPayload): boolean {
    return this.#stream?.send(packet) ?? false;
  }

  /**
   * Sends one frame made once for many viewers (payloads at RTP `timestamp`, its abs-capture-time payload) on this
   * peer's own {@link RtpStream} beside werift's sender: its own numbers, SSRC, keys and NACK history. Returns false
   * while DTLS is not up (nothing sent).
   */
  writeFrame(payloads: readonly Buffer[], timestamp: number, absCaptureTime: Uint8Array): boolean {
    return this.#stream?.sendFrame(payloads, timestamp, absCaptureTime) ?? false;
  }

  /** Closes the peer connection; a failure to close is logged, never thrown. */
  async close(log: Logger): Promise<void> {
    await this.pc.close().catch((err: unknown) => log.debug({ err }, "peer connection close failed"));
  }

  async #negotiate(offer: string, ctx: PeerContext, link: SessionLink, events: PeerEvents): Promise<string> {
    const pc = this.pc;
    await pc.setRemoteDescription({ type: "offer", sdp: offer });
    dropDefaultStun(pc, ctx.config.iceServers);
    const transceiver = pc.getTransceivers().find((t) => t.kind === "video");
    if (transceiver === undefined) throw new ProtocolError("unsupported", "the offer has no video section");
    transceiver.setDirection("sendonly");
    const playoutDelayId = transceiver.headerExtensions.find((e) => e.uri === PLAYOUT_DELAY_URI)?.id;
    const absCaptureTimeId = transceiver.headerExtensions.find((e) => e.uri === ABS_CAPTURE_TIME_URI)?.id;
    await transceiver.sender.replaceTrack(this.#track);
    const sender = transceiver.sender;
    const stream = new RtpStream(sender, { playoutDelayId, absCaptureTimeId });
    this.#stream = stream;
    sender.onPictureLossIndication.subscribe(() => {
      ctx.metrics.plis.inc();
      events.onKeyframeRequest();
    });
    sender.onGenericNack.subscribe((nack) => {
      ctx.metrics.nacks.inc();
      stream.resend(nack.lost); // all video goes through the stream; werift's own cache stays empty
    });
    sender.onRtcp.subscribe((packet) => {
      if (packet instanceof RtcpPayloadSpecificFeedback && packet.feedback instanceof ReceiverEstimatedMaxBitrate) events.onRemb?.(Number(packet.feedback.bitrate) / 1000);
      if (packet instanceof RtcpRrPacket) {
        const report = packet.reports.find((r) => r.ssrc === sender.ssrc);
        if (report !== undefined) events.onLoss?.(report.fractionLost / 256, report.highestSequence);
      }
    });
    // werift routes a PSFB to a sender by its sender or media SSRC; an RFC 5104 FIR carries 0 there and names the
    // stream in its FCI entries, so FIRs are taken from the transport's RTCP before routing.
    sender.dtlsTransport.onRtcp.subscribe((packet) => {
      if (!(packet instanceof RtcpPayloadSpecificFeedback) || packet.feedback instanceof ReceiverEstimatedMaxBitrate || packet.feedback instanceof PictureLossIndication) return;
      if (packet.feedback.fir.some((entry) => entry.ssrc === sender.ssrc)) events.onKeyframeRequest();
    });
    pc.connectionStateChange.subscribe((state) => {
      ctx.log.debug({ state }, "connection state");
      if (state === "connected" && !this.#connected) {
        this.#connected = true;
        events.onConnected();
      }
      if (state === "failed") events.onGone("the WebRTC connection failed");
      if (state === "closed") events.onGone("connection closed");
    });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc, ctx.config.iceGatherTimeoutMs);
    registerWithMux(pc, ctx.udpMux);
    guardIceSockets(pc, ctx.log);
    impairIceSockets(pc, ctx.config.net, ctx.metrics.net, link);
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new Error("werift produced no answer");
    return sdp;
  }
}

/** Resolves when ICE gathering is complete or after `timeoutMs` (answering with what is there). */
async function gathered(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === "complete") return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  const complete = pc.iceGatheringStateChange.watch((state) => state === "complete").then(() => undefined);
  await Promise.race([complete, timeout]);
  clearTimeout(timer);
}

/** Tells the service's one ICE port which requests are this peer's (by its ICE ufrag); nothing without one. */
function registerWithMux(pc: RTCPeerConnection, mux: UdpMux | undefined): void {
  if (mux === undefined) return;
  for (const transport of pc.iceTransports) {
    const agent = transport.connection as unknown as { localUsername: string; protocols?: Array<{ transport?: { socket?: unknown } }> };
    mux.register(agent.localUsername, (agent.protocols ?? []).map((p) => p.transport ?? {}));
  }
}
