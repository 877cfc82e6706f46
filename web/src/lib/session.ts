/**
 * One viewer session, start to end: `/config.json` → WebTransport → control stream → WebRTC offer (receive-only
 * H.264, complete ICE) → `session` + `answer` → playing; then per frame detection → Coordinates datagram at once,
 * and per ErrorReport datagram a {@link Sample} (joined with the frame's presentation when that is known).
 * Browser-only glue over the pure modules beside it; the UI reads {@link ViewerSession.state} after each `onChange`.
 */
import { nowMs } from "@ballstream/shared/clock";
import type { SessionSettings } from "@ballstream/shared/messages";
import { type Coordinates, type ErrorReport, decodeErrorReport, encodeCoordinates } from "@ballstream/shared/wt-protocol";
import { parseClientConfig } from "./client-config.ts";
import { ControlStream } from "./control-stream.ts";
import type { WorkerDetection, WorkerRequest } from "./detect-worker.ts";
import { detectBallRgba } from "./detect.ts";
import { describeClose, describeConfigFailure, errorText, missingBrowserFeature } from "./failures.ts";
import { FrameFlow, coordinatesOf } from "./frame-flow.ts";
import { type InboundStats, NO_INBOUND_STATS, summariseInbound } from "./inbound-stats.ts";
import type { Sample } from "./samples.ts";
import { webTransportOptions, webTransportUrl } from "./transport-options.ts";
import { createReceiveOffer } from "./webrtc.ts";

/** Lifecycle of the page's session. */
export type SessionStatus = "idle" | "connecting" | "streaming" | "closed" | "error";

/** How frames reach the detector: exact decoded frames in a worker, or the video element on the main thread. */
export type DetectionPath = "worker-videoframe" | "main-thread-canvas";

/** Everything the UI and the test hook show. */
export interface SessionState {
  status: SessionStatus;
  sessionId: string | null;
  error: string | null;
  closeCode: number | null;
  closeReason: string | null;
  settings: SessionSettings | null;
  detectionPath: DetectionPath | null;
  framesDetected: number;
  framesSent: number;
  reportsReceived: number;
  lastReport: ErrorReport | null;
  lastDetection: Coordinates | null;
  /** Presentation minus capture of the newest sample whose frame's presentation is known. */
  glassToGlassMs: number | null;
  inbound: InboundStats;
  events: string[];
}

const ICE_GATHERING_TIMEOUT_MS = 2000;
const STATS_INTERVAL_MS = 1000;
const JOIN_EXPIRY_INTERVAL_MS = 100;
const MAX_EVENTS = 20;

/** Reports of the session to the UI. */
export interface SessionListener {
  /** Something in `state` changed. */
  onChange(): void;
  /** A new sample (an error report joined with the page's record of its frame). */
  onSample?(sample: Sample): void;
}

/** A live viewer session bound to a `<video>` element. */
export class ViewerSession {
  readonly state: SessionState = {
    status: "idle",
    sessionId: null,
    error: null,
    closeCode: null,
    closeReason: null,
    settings: null,
    detectionPath: null,
    framesDetected: 0,
    framesSent: 0,
    reportsReceived: 0,
    lastReport: null,
    lastDetection: null,
    glassToGlassMs: null,
    inbound: NO_INBOUND_STATS,
    events: [],
  };
  readonly #video: HTMLVideoElement;
  readonly #listener: SessionListener;
  readonly #flow = new FrameFlow({ send: (c) => this.#send(c), sample: (s) => this.#sampled(s) });
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #transport: WebTransport | null = null;
  #control: ControlStream | null = null;
  #datagrams: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #pc: RTCPeerConnection | null = null;
  #worker: Worker | null = null;
  #ended = false;

  constructor(video: HTMLVideoElement, listener: SessionListener) {
    this.#video = video;
    this.#listener = listener;
  }

  /** The session's samples so far (a copy). */
  samples(): Sample[] {
    return this.#flow.samples();
  }

  /** Connects and streams until the session ends; failures end in status "error" with a readable message. */
  async start(settings: Partial<SessionSettings>): Promise<void> {
    this.#set({ status: "connecting" });
    try {
      const missing = missingBrowserFeature(globalThis as unknown as Record<string, unknown>);
      if (missing) throw new Error(missing);
      const config = await this.#fetchConfig();
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
      this.#datagrams = datagramWriter(transport);
      this.#control = new ControlStream(await transport.createBidirectionalStream());
      const { pc, sdp } = await createReceiveOffer(ICE_GATHERING_TIMEOUT_MS, { iceServers: [] });
      this.#pc = pc;
      pc.addEventListener("track", (e) => this.#play(e.track));
      pc.addEventListener("connectionstatechange", () => {
        if (pc.connectionState === "failed") this.#fail("The WebRTC connection failed (no ICE path to the media server).");
      });
      void this.#readReports(transport);
      this.#timers.push(setInterval(() => void this.#pollStats(), STATS_INTERVAL_MS));
      this.#timers.push(setInterval(() => this.#flow.expire(nowMs()), JOIN_EXPIRY_INTERVAL_MS));
      await this.#control.send({ type: "offer", sdp, settings });
      await this.#readControl(this.#control, pc);
    } catch (e) {
      this.#fail(errorText(e));
    }
  }

  /** Asks the server to change fps and/or speed live; the server answers with the new settings. */
  async control(change: { fps?: number; speed?: number }): Promise<void> {
    await this.#control?.send({ type: "control", ...change });
  }

  /** Ends the session from the page. */
  async stop(): Promise<void> {
    if (this.#ended) return;
    await this.#control?.send({ type: "stop" }).catch(() => undefined);
    this.#end(0, "stopped by the viewer");
  }

  async #fetchConfig() {
    let response: Response;
    try {
      response = await fetch("/config.json", { cache: "no-store" });
    } catch (e) {
      throw new Error(describeConfigFailure(e));
    }
    if (!response.ok) throw new Error(describeConfigFailure(undefined, response.status));
    try {
      return parseClientConfig(await response.json());
    } catch (e) {
      throw new Error(`The server's /config.json is invalid: ${errorText(e)}`);
    }
  }

  async #readControl(control: ControlStream, pc: RTCPeerConnection): Promise<void> {
    for await (const m of control.messages()) {
      switch (m.type) {
        case "session":
          this.#set({ sessionId: m.sessionId, settings: m.settings });
          break;
        case "answer":
          await pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
          this.#set({ status: "streaming" });
          break;
        case "settings":
          this.#set({ settings: m.settings });
          break;
        case "event":
          this.#set({ events: [...this.state.events, `${m.source}: ${m.message}`].slice(-MAX_EVENTS) });
          if (m.fatal) this.#fail(`The ${m.source} service ended the session: ${m.message}`);
          break;
        case "error":
          this.#fail(this.state.status === "streaming" ? `Server error (${m.code}): ${m.message}` : `The server rejected the offer (${m.code}): ${m.message}`);
          break;
      }
    }
  }

  async #readReports(transport: WebTransport): Promise<void> {
    const reader = transport.datagrams.readable.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        let report: ErrorReport;
        try {
          report = decodeErrorReport(value);
        } catch {
          continue; // a malformed datagram is dropped; the next one counts
        }
        this.state.reportsReceived++;
        this.state.lastReport = report;
        this.#flow.report(report, nowMs());
        this.#listener.onChange();
      }
    } catch {
      // the transport closed; `closed` reports why
    }
  }

  #play(track: MediaStreamTrack): void {
    this.#video.srcObject = new MediaStream([track]);
    void this.#video.play().catch(() => undefined);
    const Processor = (globalThis as { MediaStreamTrackProcessor?: new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> } })
      .MediaStreamTrackProcessor;
    if (Processor && typeof Worker === "function") {
      const worker = new Worker(new URL("./detect-worker.ts", import.meta.url), { type: "module" });
      this.#worker = worker;
      worker.addEventListener("message", (e: MessageEvent<WorkerDetection>) => {
        if (e.data.type === "detection") this.#detected(e.data.coordinates);
        else this.#set({ events: [...this.state.events, `detector: ${e.data.message}`].slice(-MAX_EVENTS) });
      });
      const frames = new Processor({ track: track.clone() }).readable;
      worker.postMessage({ type: "start", frames } satisfies WorkerRequest, [frames]);
      this.#set({ detectionPath: "worker-videoframe" });
      this.#onPresented((rtp, presentedAtMs) => this.#flow.presented(rtp, presentedAtMs, nowMs()));
    } else {
      this.#set({ detectionPath: "main-thread-canvas" });
      this.#detectOnMainThread();
    }
  }

  /** Calls `f` with the RTP timestamp and epoch presentation time of every frame the compositor shows. */
  #onPresented(f: (rtp: number, presentedAtMs: number, metadata: VideoFrameCallbackMetadata) => void): void {
    const video = this.#video;
    const callback = (_now: number, metadata: VideoFrameCallbackMetadata) => {
      if (this.#ended) return;
      if (metadata.rtpTimestamp !== undefined) f(metadata.rtpTimestamp, performance.timeOrigin + metadata.presentationTime, metadata);
      video.requestVideoFrameCallback(callback);
    };
    video.requestVideoFrameCallback(callback);
  }

  /** Fallback without MediaStreamTrackProcessor: draws the video in rVFC (may be one frame newer than named). */
  #detectOnMainThread(): void {
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    if (!context) return this.#fail("No 2D canvas for detection.");
    this.#onPresented((rtp, presentedAtMs, metadata) => {
      const { width, height } = metadata;
      if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
      const t0 = performance.now();
      context.drawImage(this.#video, 0, 0, width, height);
      const ball = detectBallRgba(context.getImageData(0, 0, width, height).data, width, height);
      const detection = coordinatesOf(rtp, ball, presentedAtMs, performance.now() - t0);
      this.#flow.detectedAtPresentation(detection, presentedAtMs, nowMs());
      this.#detection(detection);
    });
  }

  /** A detection from the worker: its coordinates leave now (see {@link FrameFlow}). */
  #detected(d: Coordinates): void {
    this.#flow.detected(d, nowMs());
    this.#detection(d);
  }

  #detection(d: Coordinates): void {
    this.state.framesDetected++;
    this.state.lastDetection = d;
    this.#listener.onChange();
  }

  #send(c: Coordinates): void {
    if (!this.#datagrams) return;
    this.#datagrams.write(encodeCoordinates(c)).catch(() => undefined);
    this.state.framesSent++;
  }

  #sampled(s: Sample): void {
    if (s.glassToGlassMs !== null) {
      this.state.glassToGlassMs = s.glassToGlassMs;
      this.#listener.onChange();
    }
    this.#listener.onSample?.(s);
  }

  async #pollStats(): Promise<void> {
    const pc = this.#pc;
    if (!pc || this.#ended) return;
    const report = await pc.getStats().catch(() => null);
    if (report) this.#set({ inbound: summariseInbound(report.values() as Iterable<Record<string, unknown>>) });
  }

  #set(change: Partial<SessionState>): void {
    Object.assign(this.state, change);
    this.#listener.onChange();
  }

  #fail(message: string): void {
    if (this.#ended) return;
    this.#set({ error: message });
    this.#teardown("error", 0, message);
  }

  #end(code: number, reason: string): void {
    if (this.#ended) return;
    this.#set({ closeCode: code, closeReason: reason, error: code === 0 ? null : describeClose(code, reason) });
    this.#teardown("closed", code, reason);
  }

  #teardown(status: SessionStatus, code: number, reason: string): void {
    this.#ended = true;
    for (const t of this.#timers) clearInterval(t);
    this.#worker?.terminate();
    this.#pc?.close();
    void this.#control?.close();
    try {
      this.#transport?.close({ closeCode: code, reason: reason.slice(0, 100) });
    } catch {
      // already closed
    }
    this.#set({ status });
  }
}

/** The datagram writer (`createWritable()` where the browser has it, else the older `writable`). */
function datagramWriter(transport: WebTransport): WritableStreamDefaultWriter<Uint8Array> {
  const duplex = transport.datagrams as WebTransportDatagramDuplexStream & { createWritable?: () => WritableStream<Uint8Array> };
  return (duplex.createWritable ? duplex.createWritable() : duplex.writable).getWriter();
}
