/**
 * The page's session, start to end: `/config.json` → WebTransport → control stream → WebRTC offer (receive-only
 * H.264, complete ICE) and/or `wtVideo` → `session` (+ `answer`) → playing; then each path's frames go through its
 * own {@link FrameFlow} (coordinates out on the {@link ReportChannel} at once, samples when report and
 * presentation are joined): WebRTC's from the detection source, WebTransport's from the {@link WtVideoPlayer}.
 * The reports come back on the one channel and go to the flow of their path. Browser-only wiring of the modules
 * beside it; every state change goes through its {@link SessionStore}, which the UI and the test hook read.
 */
import { nowMs } from "@ballstream/protocol";
import type { VideoPath } from "@ballstream/protocol";
import type { SessionSettings, SessionUpdate, Coordinates, ServerMessage } from "@ballstream/protocol";
import { loadClientConfig } from "./client-config.ts";
import { ControlStream } from "./control-stream.ts";
import { type DetectionSource, browserDetectionPlatform, startDetection } from "./detection-source.ts";
import { errorText, missingBrowserFeature } from "./failures.ts";
import { FrameFlow } from "./frame-flow.ts";
import { iceFailureMessage } from "./ice-failure.ts";
import { summariseInbound } from "./inbound-stats.ts";
import { ReportChannel } from "./report-channel.ts";
import { type ExportedSample, NetworkLog, ReceiverLog, type Sample } from "./samples.ts";
import { type PathsInUse, type SessionState, SessionStore } from "./session-state.ts";
import { type TransportChoice, resolveTransport } from "./transport-choice.ts";
import { webTransportOptions, webTransportUrl } from "./transport-options.ts";
import { canReceiveH264, createReceiveOffer } from "./webrtc.ts";
import { WtVideoPlayer, wtSurfaceKind } from "./wt-video.ts";

/** The element the WebTransport path shows its frames on, for this browser ({@link wtSurfaceKind}). */
function createWtSurface(): HTMLCanvasElement | HTMLVideoElement {
  if (wtSurfaceKind(globalThis as unknown as Record<string, unknown>) === "canvas") return document.createElement("canvas");
  return Object.assign(document.createElement("video"), { muted: true, autoplay: true, playsInline: true });
}

const ICE_GATHERING_TIMEOUT_MS = 2000;
const STATS_INTERVAL_MS = 1000;
const JOIN_EXPIRY_INTERVAL_MS = 100;

/** Reports of the session to the UI. */
export interface SessionListener {
  /** Something in `state` changed. */
  onChange(): void;
  /** A new sample (an error report joined with the page's record of its frame). */
  onSample?(sample: Sample): void;
}

/** The video paths the page was asked for (`?transport=`, and whether it was given). */
export interface TransportRequest {
  readonly choice: TransportChoice;
  readonly explicit: boolean;
}

/** A live session of this page, bound to a `<video>` element (WebRTC) and owning the WebTransport path's picture. */
export class PageSession {
  readonly #store: SessionStore;
  readonly #video: HTMLVideoElement;
  /** The WebTransport path paints here; the view puts it on the page where that path is shown. */
  /** The WebTransport path's picture: a `<video>` of a generated track where the browser can (Chromium), else a canvas. */
  readonly wtSurface: HTMLCanvasElement | HTMLVideoElement = createWtSurface();
  readonly #listener: SessionListener;
  readonly #flow = new FrameFlow({ send: (c) => this.#send(c), sample: (s) => this.#sampled(s) });
  readonly #wtFlow = new FrameFlow({ send: (c) => this.#send(c), sample: (s) => this.#sampled(s, "webtransport") });
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #receiver = new ReceiverLog();
  readonly #network = new NetworkLog();
  #transport: WebTransport | null = null;
  #control: ControlStream | null = null;
  #reports: ReportChannel | null = null;
  #pc: RTCPeerConnection | null = null;
  #detection: DetectionSource | null = null;
  #wtPlayer: WtVideoPlayer | null = null;
  #paths: PathsInUse | null = null;

  constructor(video: HTMLVideoElement, listener: SessionListener) {
    this.#video = video;
    this.#listener = listener;
    this.#store = new SessionStore(() => listener.onChange());
  }

  /** The live state (read only; changed in place by the session). */
  get state(): Readonly<SessionState> {
    return this.#store.state;
  }

  /** The session's samples so far (a copy), each with the receiver's figures and the network setting at its frame: WebRTC's when it plays. */
  samples(): ExportedSample[] {
    return this.#network.annotate(this.#receiver.annotate((this.#paths?.webrtc === false ? this.#wtFlow : this.#flow).samples()));
  }

  /** The WebTransport path's samples so far (a copy). */
  wtSamples(): ExportedSample[] {
    return this.#network.annotate(this.#receiver.annotate(this.#wtFlow.samples()));
  }

  /** Connects and streams until the session ends; failures end in status "error" with a readable message. */
  async start(settings: Partial<SessionSettings>, request: TransportRequest = { choice: "webrtc", explicit: false }): Promise<void> {
    this.#store.connecting();
    try {
      const missing = missingBrowserFeature(globalThis as unknown as Record<string, unknown>);
      if (missing) throw new Error(missing);
      const capabilities = typeof RTCRtpReceiver.getCapabilities === "function" ? RTCRtpReceiver.getCapabilities("video") : null;
      const paths = resolveTransport(request.choice, request.explicit, canReceiveH264(capabilities));
      if (paths.webtransport && typeof VideoDecoder !== "function") throw new Error("This browser has no WebCodecs VideoDecoder for the WebTransport video path; choose WebRTC.");
      this.#paths = paths;
      this.#store.playing(paths);
      const config = await loadClientConfig();
      const url = webTransportUrl(config, location.hostname);
      const transport = new WebTransport(url, webTransportOptions(config));
      this.#transport = transport;
      transport.closed.catch(() => undefined); // a failed handshake is reported through `ready` below
      await transport.ready.catch((e: unknown) => {
        throw new Error(`Cannot open WebTransport to ${url} (${errorText(e)}): is the server running, and is UDP port ${config.wtPort} reachable?`);
      });
      transport.closed.then(
        (info) => this.#end(info.closeCode ?? 0, info.reason ?? ""),
        (e: unknown) => this.#fail(`The WebTransport connection to the server was lost (${errorText(e)}).`),
      );
      this.#reports = new ReportChannel(transport.datagrams);
      this.#control = new ControlStream(await transport.createBidirectionalStream());
      if (paths.webtransport) this.#wtPlayer = this.#playWebTransport(transport);
      const offer = paths.webrtc ? await this.#offerWebRtc() : undefined;
      void this.#readReports(this.#reports);
      if (offer) this.#timers.push(setInterval(() => void this.#pollStats(), STATS_INTERVAL_MS));
      this.#timers.push(setInterval(() => (this.#flow.expire(nowMs()), this.#wtFlow.expire(nowMs())), JOIN_EXPIRY_INTERVAL_MS));
      await this.#control.send({ type: "offer", ...(offer ? { sdp: offer.sdp } : {}), ...(paths.webtransport ? { wtVideo: true } : {}), settings });
      const pc = offer?.pc ?? null;
      for await (const m of this.#control.messages()) await this.#handle(m, pc);
    } catch (e) {
      this.#fail(errorText(e));
    }
  }

  /** Asks the server to change fps, speed and/or the network live; the server answers with the new settings. */
  async control(change: SessionUpdate): Promise<void> {
    await this.#control?.send({ type: "control", ...change });
  }

  /** Ends the session from the page. */
  async stop(): Promise<void> {
    if (this.#store.ended) return;
    await this.#control?.send({ type: "stop" }).catch(() => undefined);
    this.#end(0, "stopped by the viewer");
  }

  /** The WebRTC path: a receive-only H.264 peer connection and its complete offer. */
  async #offerWebRtc(): Promise<{ pc: RTCPeerConnection; sdp: string }> {
    const { pc, sdp } = await createReceiveOffer(ICE_GATHERING_TIMEOUT_MS, { iceServers: [] });
    this.#pc = pc;
    pc.addEventListener("track", (e) => this.#play(e.track));
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed") this.#fail(iceFailureMessage(pc.remoteDescription?.sdp, location.hostname));
    });
    return { pc, sdp };
  }

  /** The WebTransport path: streams → WebCodecs → its picture + detection worker, into its own frame flow. */
  #playWebTransport(transport: WebTransport): WtVideoPlayer {
    const store = this.#store;
    const flow = this.#wtFlow;
    let { unitsReceived, unitsDecoded, framesPainted } = store.state.wt;
    return new WtVideoPlayer(
      transport,
      this.wtSurface,
      {
        received: (decoding) => store.wtVideo({ unitsReceived: ++unitsReceived, unitsDecoded: decoding ? ++unitsDecoded : unitsDecoded }),
        painted: (rtp, paintedAtMs) => {
          store.wtVideo({ framesPainted: ++framesPainted });
          flow.presented(rtp, paintedAtMs, nowMs());
        },
        detected(c) {
          flow.detected(c, nowMs());
          store.detected(c);
        },
        configured: (codec) => store.wtVideo({ codec }),
        event: (message) => store.event(`WebTransport video: ${message}`),
      },
      browserDetectionPlatform().createWorker,
    );
  }

  async #handle(m: ServerMessage, pc: RTCPeerConnection | null): Promise<void> {
    switch (m.type) {
      case "session":
        this.#network.add(nowMs(), m.settings.network);
        this.#store.opened(m.sessionId, m.settings);
        if (!pc) this.#store.streaming(); // WebTransport only: the frames come on the session's streams
        return;
      case "answer":
        if (!pc) throw new Error("The server answered a WebRTC offer the page did not make.");
        await pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
        return this.#store.streaming();
      case "settings":
        this.#network.add(nowMs(), m.settings.network);
        return this.#store.settingsChanged(m.settings);
      case "event":
        this.#store.event(`${m.source}: ${m.message}`);
        if (m.fatal) this.#fail(`The ${m.source} service ended the session: ${m.message}`);
        return;
      case "error":
        return this.#fail(this.state.status === "streaming" ? `Server error (${m.code}): ${m.message}` : `The server rejected the offer (${m.code}): ${m.message}`);
    }
  }

  async #readReports(channel: ReportChannel): Promise<void> {
    for await (const report of channel.reports()) {
      this.#store.reported(report);
      (report.path === "webtransport" ? this.#wtFlow : this.#flow).report(report, nowMs());
    }
  }

  #play(track: MediaStreamTrack): void {
    this.#video.srcObject = new MediaStream([track]);
    void this.#video.play().catch(() => undefined);
    const flow = this.#flow;
    const store = this.#store;
    try {
      this.#detection = startDetection(this.#video, track, {
        detected(c) {
          flow.detected(c, nowMs());
          store.detected(c);
        },
        presented: (rtp, presentedAtMs) => flow.presented(rtp, presentedAtMs, nowMs()),
        detectedAtPresentation(c, presentedAtMs) {
          flow.detectedAtPresentation(c, presentedAtMs, nowMs());
          store.detected(c);
        },
        event: (message) => store.event(`detector: ${message}`),
      });
      this.#store.detecting(this.#detection.path);
    } catch (e) {
      this.#fail(errorText(e));
    }
  }

  #send(c: Coordinates): void {
    if (!this.#reports) return;
    this.#reports.send(c);
    this.#store.sent(c.path);
  }

  /** A sample of a path; the chart follows WebRTC's, or WebTransport's when WebRTC does not play. */
  #sampled(s: Sample, path?: VideoPath): void {
    this.#store.glassToGlass(s.glassToGlassMs, path);
    if ((path === "webtransport") === (this.#paths?.webrtc === false)) this.#listener.onSample?.(s);
  }

  async #pollStats(): Promise<void> {
    const pc = this.#pc;
    if (!pc || this.#store.ended) return;
    const report = await pc.getStats().catch(() => null);
    if (!report) return;
    const inbound = summariseInbound(report.values() as Iterable<Record<string, unknown>>, this.#store.state.inbound);
    this.#receiver.add(inbound);
    this.#store.inbound(inbound);
  }

  #fail(message: string): void {
    if (this.#store.failed(message)) this.#teardown(0, message);
  }

  #end(code: number, reason: string): void {
    if (this.#store.closed(code, reason)) this.#teardown(code, reason);
  }

  #teardown(code: number, reason: string): void {
    for (const t of this.#timers) clearInterval(t);
    this.#detection?.stop();
    this.#wtPlayer?.stop();
    this.#pc?.close();
    void this.#control?.close();
    try {
      this.#transport?.close({ closeCode: code, reason: reason.slice(0, 100) });
    } catch {
      // already closed
    }
  }
}
