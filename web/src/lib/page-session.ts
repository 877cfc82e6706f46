/**
 * The page's session, start to end: `/config.json` → WebTransport → control stream → WebRTC offer (receive-only
 * H.264, complete ICE) and/or `wtVideo` → `session` (+ `answer`) → playing; then each path's frames go through its
 * own {@link FrameFlow} (coordinates out on the {@link ReportChannel} at once, samples when report and
 * presentation are joined): WebRTC's from the detection source, WebTransport's from the {@link WtVideoPlayer}.
 * The reports come back on the one channel and go to the flow of their path. A connection that ends for a reason
 * worth another try ({@link retries}) is followed by a new one with the session's current settings after a
 * jittered backoff: the page resumes by itself, and its samples name their connection. Browser-only wiring of the
 * modules beside it; every state change goes through its {@link SessionStore}, which the UI and the test hook read.
 */
import { CLOSE_CODES, nowMs } from "@ballstream/protocol";
import type { VideoPath } from "@ballstream/protocol";
import type { SessionSettings, SessionUpdate, Coordinates, ServerMessage } from "@ballstream/protocol";
import { type ChannelRequest, channelFields, networkToRestore, nextJoin, refusedChange } from "./channel.ts";
import { loadClientConfig } from "./client-config.ts";
import type { AttachTarget } from "./coordinates-link.ts";
import { ControlStream } from "./control-stream.ts";
import { type DetectionSource, browserDetectionPlatform, startDetection } from "./detection-source.ts";
import { type Presentation, absCaptureMsOf, paintedAt } from "./display-times.ts";
import { describeClose, errorText, missingBrowserFeature } from "./failures.ts";
import { FrameFlow } from "./frame-flow.ts";
import { iceFailureMessage } from "./ice-failure.ts";
import { NO_INBOUND_STATS, summariseInbound } from "./inbound-stats.ts";
import { type EndCause, RECONNECT, ReportWatch, backoffMs, retries } from "./reconnect.ts";
import { ReportChannel } from "./report-channel.ts";
import { ConnectionLog, type ExportedSample, NetworkLog, ReceiverLog, type Sample, withChannel } from "./samples.ts";
import { type PathsInUse, type SessionState, SessionStore } from "./session-state.ts";
import { NO_WEBRTC_H264, type TransportChoice, resolveTransport } from "./transport-choice.ts";
import { webTransportOptions, webTransportUrl } from "./transport-options.ts";
import { canReceiveH264, createReceiveOffer } from "./webrtc.ts";
import { WtVideoPlayer, wtSurfaceKind } from "./wt-video.ts";

/** How long a replacing peer connection may take to decode its first frame before the page switches to it anyway. */
const FIRST_FRAME_TIMEOUT_MS = 5000;
const FIRST_FRAME_POLL_MS = 20;

/** Resolves once `pc` has decoded a video frame (or after {@link FIRST_FRAME_TIMEOUT_MS}, or when it closes). */
async function firstFrameDecoded(pc: RTCPeerConnection): Promise<void> {
  const deadline = performance.now() + FIRST_FRAME_TIMEOUT_MS;
  while (performance.now() < deadline && pc.connectionState !== "closed") {
    const stats = await pc.getStats().catch(() => null);
    for (const s of stats?.values() ?? []) if (s.type === "inbound-rtp" && s.kind === "video" && (s.framesDecoded ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, FIRST_FRAME_POLL_MS));
  }
}

/** The element the WebTransport path shows its frames on, for this browser ({@link wtSurfaceKind}). */
function createWtSurface(): HTMLCanvasElement | HTMLVideoElement {
  if (wtSurfaceKind(globalThis as unknown as Record<string, unknown>) === "canvas") return document.createElement("canvas");
  return Object.assign(document.createElement("video"), { muted: true, autoplay: true, playsInline: true });
}

const ICE_GATHERING_TIMEOUT_MS = 2000;
const STATS_INTERVAL_MS = 1000;
const JOIN_EXPIRY_INTERVAL_MS = 100;
/** How often the page checks that signaling still answers its coordinates ({@link ReportWatch}). */
const REPORT_WATCH_INTERVAL_MS = 250;
/** How long a close waits for the server's `error` message that preceded it. */
const CLOSE_AFTER_ERROR_MS = 100;

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

/** An error that ends a connection with its {@link EndCause}. */
class ConnectionEnded extends Error {
  readonly end: EndCause;
  constructor(end: EndCause) {
    super(end.message);
    this.end = end;
  }
}

/** Throws a {@link ConnectionEnded} of `kind` with `message`. */
function endWith(kind: "page" | "unreachable" | "lost" | "service", message: string): never {
  throw new ConnectionEnded({ kind, message });
}

/** What one connection holds: torn down as a whole when it ends. */
interface Connection {
  readonly number: number;
  transport: WebTransport | null;
  control: ControlStream | null;
  reports: ReportChannel | null;
  pc: RTCPeerConnection | null;
  detection: DetectionSource | null;
  wtPlayer: WtVideoPlayer | null;
  /** Where this connection's WebTransport goes, and, once the server named the session, what detection attaches to. */
  endpoint: { readonly url: string; readonly options: WebTransportOptions } | null;
  attach: AttachTarget | null;
  readonly timers: ReturnType<typeof setInterval>[];
  /** A renegotiation's offer is out: its answer counts as a resume. */
  renegotiating: boolean;
  /** Whether signaling still answers the coordinates sent. */
  readonly watch: ReportWatch;
  /** This connection resumes the session (its `resume` is out; `resumed` once the server took it). */
  resuming: boolean;
  resumed: boolean;
  /** The peer connection being replaced and its detection, playing until the new one decodes its first frame. */
  previous: { pc: RTCPeerConnection | null; detection: DetectionSource | null } | null;
  /** Ends this connection (once) with why; null: the viewer stopped it. */
  end(cause: EndCause | null): void;
}

/** A live session of this page, bound to a `<video>` element (WebRTC) and owning the WebTransport path's picture. */
export class PageSession {
  readonly #store: SessionStore;
  readonly #video: HTMLVideoElement;
  /** The WebTransport path's picture: a `<video>` of a generated track where the browser can (Chromium), else a canvas. */
  readonly wtSurface: HTMLCanvasElement | HTMLVideoElement = createWtSurface();
  readonly #listener: SessionListener;
  readonly #flow = new FrameFlow({ send: (c, byWorker) => this.#send(c, byWorker), sample: (s) => this.#sampled(s) });
  readonly #wtFlow = new FrameFlow({ send: (c, byWorker) => this.#send(c, byWorker), sample: (s) => this.#sampled(s, "webtransport") });
  readonly #receiver = new ReceiverLog();
  readonly #network = new NetworkLog();
  readonly #connections = new ConnectionLog();
  #connection: Connection | null = null;
  #paths: PathsInUse | null = null;
  #stopped = false;
  /** Some connection of this page got through to the server (its WebTransport opened). */
  #reached = false;
  /** What a new connection needs to resume the session instead of starting one (from the `session` message). */
  #resume: { readonly sessionId: string; readonly token: string } | null = null;
  /** The WebRTC picture kept playing across a reconnection that resumes the session. */
  #carried: { readonly pc: RTCPeerConnection | null; readonly detection: DetectionSource | null } | null = null;
  /** The broadcast channel every offer and resume names (null: a private session), with the owner token once the page has one. */
  #join: ChannelRequest | null = null;
  /** Wakes the wait before a reconnection when the viewer stops. */
  #wake: (() => void) | null = null;

  constructor(video: HTMLVideoElement, listener: SessionListener) {
    this.#video = video;
    this.#listener = listener;
    this.#store = new SessionStore(() => listener.onChange());
  }

  /** The live state (read only; changed in place by the session). */
  get state(): Readonly<SessionState> {
    return this.#store.state;
  }

  /**
   * The session's samples so far (a copy), each with the receiver's figures, the network setting at its frame and
   * its connection: WebRTC's when it plays.
   */
  samples(): ExportedSample[] {
    return this.#annotate(this.#paths?.webrtc === false ? this.#wtFlow : this.#flow);
  }

  /** The WebTransport path's samples so far (a copy). */
  wtSamples(): ExportedSample[] {
    return this.#annotate(this.#wtFlow);
  }

  #annotate(flow: FrameFlow): ExportedSample[] {
    return withChannel(this.#network.annotate(this.#receiver.annotate(this.#connections.annotate(flow.samples()))), this.#join?.channel ?? null);
  }

  /**
   * Connects and streams until the session ends, reconnecting by itself (same settings, capped jittered backoff)
   * after an end worth another try; other ends, and giving up, end in status closed or error with a readable message.
   * With `join` the page watches that broadcast channel instead of a session of its own.
   */
  async start(settings: Partial<SessionSettings>, request: TransportRequest = { choice: "webrtc", explicit: false }, join: ChannelRequest | null = null): Promise<void> {
    this.#join = join;
    this.#store.connecting();
    let hasStreamed = false;
    let since = "";
    for (let number = 1, failures = 0; ; number++) {
      const reachedBefore = this.#reached; // by an earlier connection: this one's failure to reach it is not a misconfiguration
      const { cause, streamed } = await this.#connect(number, this.#store.state.settings ?? settings, request);
      hasStreamed ||= streamed;
      failures = streamed ? 1 : failures + 1;
      if (failures === 1 && cause) since = cause.message; // what ended the last connection that streamed
      if (cause === null || this.#stopped) return void (this.#dropCarried(), this.#store.closed(0, "stopped by the viewer"));
      if (!retries(cause, hasStreamed, reachedBefore)) return void (this.#dropCarried(), this.#endWith(cause, ""));
      if (failures > RECONNECT.maxAttempts) return void (this.#dropCarried(), this.#endWith(cause, ` (gave up after ${RECONNECT.maxAttempts} tries to reconnect)`));
      const delayMs = backoffMs(failures);
      this.#store.reconnecting({ attempt: failures, reason: cause.message, since, delayMs });
      this.#store.event(`page: reconnecting in ${delayMs} ms (try ${failures} of ${RECONNECT.maxAttempts}): ${cause.message}`);
      await new Promise<void>((resume) => {
        const timer = setTimeout(resume, delayMs);
        this.#wake = () => (clearTimeout(timer), resume());
      });
      this.#wake = null;
      if (this.#stopped) return void (this.#dropCarried(), this.#store.closed(0, "stopped by the viewer"));
    }
  }

  /**
   * Asks the server to change fps, speed and/or the network live; the server answers with the new settings. A change
   * of fps or speed of a channel this page does not own is refused here (the server would end the session for it).
   */
  async control(change: SessionUpdate): Promise<void> {
    const refused = refusedChange(change, this.#store.state.channel);
    if (refused) throw new Error(refused);
    await this.#connection?.control?.send({ type: "control", ...change });
  }

  /** Ends the page's session before it connects, with `message` (status error): the address asks for something impossible. */
  refuse(message: string): void {
    this.#store.failed(message);
  }

  /** Ends the session from the page (also while it waits to reconnect). */
  async stop(): Promise<void> {
    if (this.#store.ended || this.#stopped) return;
    this.#stopped = true;
    await this.#connection?.control?.send({ type: "stop" }).catch(() => undefined);
    this.#store.closed(0, "stopped by the viewer");
    this.#connection?.end(null);
    this.#wake?.();
  }

  /** The end the page shows: a server's close keeps its code; anything else is an error message. */
  #endWith(cause: EndCause, suffix: string): void {
    if (cause.kind === "closed" && !suffix) this.#store.closed(cause.code, cause.reason);
    else this.#store.failed(`${cause.message}${suffix}`);
  }

  /** Error reports received on both paths, all connections. */
  #reportsSoFar(): number {
    return this.#store.state.reportsReceived + this.#store.state.wt.reportsReceived;
  }

  /** One connection, from `/config.json` to its end: resolves with why it ended and whether it streamed (had reports back). */
  #connect(number: number, settings: Partial<SessionSettings>, request: TransportRequest): Promise<{ cause: EndCause | null; streamed: boolean }> {
    this.#connections.add(nowMs(), number);
    const reportsBefore = this.#reportsSoFar();
    return new Promise((resolve) => {
      let ended = false;
      const connection: Connection = {
        number, transport: null, control: null, reports: null, pc: null, detection: null, wtPlayer: null, endpoint: null, attach: null, timers: [], renegotiating: false, previous: null, watch: new ReportWatch(nowMs()), resuming: false, resumed: false,
        end: (why) => {
          if (ended) return;
          ended = true;
          const streamed = this.#reportsSoFar() > reportsBefore;
          const refused = connection.resuming && !connection.resumed && why !== null;
          // a resume the server refused (or that failed on the way) is followed by a new session at once
          const cause: EndCause | null = refused ? { kind: "lost", message: `The session could not be resumed (${why.message}); starting a new one.` } : why;
          if (refused) this.#resume = null;
          this.#teardown(connection, cause, !refused && this.#resumable(connection, cause));
          if (this.#connection === connection) this.#connection = null;
          resolve({ cause, streamed });
        },
      };
      this.#connection = connection;
      this.#run(connection, settings, request).catch((e: unknown) => {
        if (e instanceof ConnectionEnded) return connection.end(e.end);
        if (!connection.transport) return connection.end({ kind: "page", message: errorText(e) });
        // A stream failing under a closing transport ("The session is closed."): the close, with its code, says why.
        setTimeout(() => connection.end({ kind: "lost", message: errorText(e) }), 2 * CLOSE_AFTER_ERROR_MS);
      });
    });
  }

  /** Runs one connection until its control stream ends; every failure throws. */
  async #run(c: Connection, settings: Partial<SessionSettings>, request: TransportRequest): Promise<void> {
    const missing = missingBrowserFeature(globalThis as unknown as Record<string, unknown>);
    if (missing) endWith("page", missing);
    const capabilities = typeof RTCRtpReceiver.getCapabilities === "function" ? RTCRtpReceiver.getCapabilities("video") : null;
    const paths = resolveTransport(request.choice, request.explicit, canReceiveH264(capabilities));
    // WebRTC asked for by name where it has no H.264: no retry can help (it was retried, ~27 s of attempts, before)
    if (paths.webrtc && !canReceiveH264(capabilities)) endWith("page", `${NO_WEBRTC_H264}.`);
    if (paths.webtransport && typeof VideoDecoder !== "function") endWith("page", "This browser has no WebCodecs VideoDecoder for the WebTransport video path; choose WebRTC.");
    this.#paths = paths;
    this.#store.playing(paths);
    const config = await loadClientConfig().catch((e: unknown) => endWith("unreachable", errorText(e)));
    const url = webTransportUrl(config, location.hostname);
    c.endpoint = { url, options: webTransportOptions(config) };
    const transport = new WebTransport(url, c.endpoint.options);
    transport.closed.catch(() => undefined); // a failed handshake is reported through `ready` below
    await transport.ready.catch((e: unknown) =>
      endWith("unreachable", `Cannot open WebTransport to ${url} (${errorText(e)}): is the server running, and is UDP port ${config.wtPort} reachable?`),
    );
    c.transport = transport;
    this.#reached = true;
    transport.closed.then(
      (info) => {
        const code = info.closeCode ?? 0;
        const reason = info.reason ?? "";
        // The server sends its `error` before such a close, but the close may be seen first: the error, which says
        // whether another try can help, gets a moment to be handled (a shutdown or a normal end has none).
        const end = () => c.end({ kind: "closed", code, reason, message: describeClose(code, reason) });
        if (code === CLOSE_CODES.serverShutdown || code === CLOSE_CODES.normal) end();
        else setTimeout(end, CLOSE_AFTER_ERROR_MS);
      },
      (e: unknown) => c.end({ kind: "lost", message: `The WebTransport connection to the server was lost (${errorText(e)}).` }),
    );
    c.reports = new ReportChannel(transport.datagrams);
    c.control = new ControlStream(await transport.createBidirectionalStream());
    if (paths.webtransport) c.wtPlayer = this.#playWebTransport(transport);
    const carried = this.#carried;
    this.#carried = null;
    const resume = carried ? this.#resume : null;
    if (carried && resume) {
      // the picture never stopped: this connection takes over its peer connection and detection
      c.pc = carried.pc;
      c.detection = carried.detection;
      c.resuming = true;
    } else this.#dropCarried(carried);
    const offer = paths.webrtc && !resume ? await this.#offerWebRtc(c) : undefined;
    void this.#readReports(c, c.reports);
    if (c.pc) c.timers.push(setInterval(() => void this.#pollStats(c), STATS_INTERVAL_MS));
    c.timers.push(setInterval(() => {
      const silence = c.watch.silence(nowMs());
      if (silence) c.end({ kind: "lost", message: silence });
    }, REPORT_WATCH_INTERVAL_MS));
    c.timers.push(setInterval(() => (this.#flow.expire(nowMs()), this.#wtFlow.expire(nowMs())), JOIN_EXPIRY_INTERVAL_MS));
    const wtVideo = paths.webtransport ? { wtVideo: true } : {};
    const channel = channelFields(this.#join);
    if (resume) await c.control.send({ type: "resume", sessionId: resume.sessionId, token: resume.token, ...wtVideo, ...channel });
    else await c.control.send({ type: "offer", ...(offer ? { sdp: offer.sdp } : {}), ...wtVideo, settings, ...channel });
    for await (const m of c.control.messages()) await this.#handle(c, m);
  }

  /**
   * The WebRTC path: a receive-only H.264 peer connection and its complete offer. Its track plays at once, or, when
   * it replaces a peer connection (`c.previous`), once it has decoded its first frame: the old picture plays on until
   * then (a leaving media replica still sends), and the old peer connection and detection stop at the switch.
   */
  async #offerWebRtc(c: Connection): Promise<{ pc: RTCPeerConnection; sdp: string }> {
    const { pc, sdp } = await createReceiveOffer(ICE_GATHERING_TIMEOUT_MS, { iceServers: [] });
    c.pc = pc;
    if (!c.previous) this.#store.inbound(NO_INBOUND_STATS); // a new receiver counts from zero (a replacing one at the switch)
    pc.addEventListener("track", (e) => {
      if (!c.previous) return this.#play(c, e.track);
      void firstFrameDecoded(pc).then(() => {
        if (c.pc !== pc) return;
        this.#retirePrevious(c);
        this.#store.inbound(NO_INBOUND_STATS); // the new receiver counts from zero
        this.#play(c, e.track);
      });
    });
    pc.addEventListener("connectionstatechange", () => {
      const current = this.#connection; // a resumed connection carries this peer connection on
      if (pc.connectionState === "failed" && current?.pc === pc) current.end({ kind: "unreachable", message: iceFailureMessage(pc.remoteDescription?.sdp, location.hostname) });
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
          flow.presented(rtp, paintedAt(paintedAtMs), nowMs());
        },
        detected(c, sentAtMs) {
          flow.detected(c, nowMs(), sentAtMs);
          store.detected(c);
        },
        link: (attached, message) => this.#linked(attached, message),
        configured: (codec) => store.wtVideo({ codec }),
        event: (message) => store.event(`WebTransport video: ${message}`),
      },
      browserDetectionPlatform().createWorker,
    );
  }

  async #handle(c: Connection, m: ServerMessage): Promise<void> {
    switch (m.type) {
      case "session":
        this.#network.add(nowMs(), m.settings.network);
        this.#resume = m.resumeToken === undefined ? null : { sessionId: m.sessionId, token: m.resumeToken };
        this.#join = nextJoin(this.#join, m.channel); // an owner reconnecting stays the owner
        const networkBefore = this.#store.state.settings?.network;
        this.#store.opened(m.sessionId, m.settings, m.channel ?? null);
        c.resumed = c.resuming;
        this.#attachDetection(c, m.sessionId, m.resumeToken);
        // a channel viewer's own network does not survive a resume at the server: the page sends it again
        const restore = c.resumed ? networkToRestore(m.channel, networkBefore, m.settings.network) : null;
        if (restore) await c.control?.send({ type: "control", network: restore });
        // WebTransport only: the frames come on the session's streams; resumed: the picture never stopped
        if (!c.pc || c.resumed) this.#store.streaming();
        return;
      case "answer":
        if (!c.pc) endWith("page", "The server answered a WebRTC offer the page did not make.");
        await c.pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
        if (c.renegotiating) this.#store.resumed();
        c.renegotiating = false;
        return this.#store.streaming();
      case "renegotiate":
        return this.#renegotiate(c, m.reason);
      case "settings":
        this.#network.add(nowMs(), m.settings.network);
        return this.#store.settingsChanged(m.settings);
      case "event":
        this.#store.event(`${m.source}: ${m.message}`);
        if (m.fatal) endWith("service", `The ${m.source} service ended the session: ${m.message}`);
        return;
      case "error": {
        const message = this.state.status === "streaming" ? `Server error (${m.code}): ${m.message}` : `The server rejected the offer (${m.code}): ${m.message}`;
        throw new ConnectionEnded({ kind: "server-error", code: m.code, message });
      }
    }
  }

  /**
   * Signaling moves the video to another media replica (the old one died or is leaving): a new peer connection and
   * offer on the same control stream, made before the old one is broken; the session, its generator and the
   * WebTransport path go on.
   */
  async #renegotiate(c: Connection, reason: string): Promise<void> {
    this.#store.event(`signaling: ${reason}`);
    const webrtc = this.#paths?.webrtc === true;
    if (webrtc) {
      this.#retirePrevious(c); // a renegotiation that had not switched yet
      c.previous = { pc: c.pc, detection: c.detection };
    }
    const offer = webrtc ? await this.#offerWebRtc(c) : undefined;
    c.renegotiating = webrtc;
    await c.control?.send({ type: "offer", ...(offer ? { sdp: offer.sdp } : {}), ...(this.#paths?.webtransport ? { wtVideo: true } : {}), ...channelFields(this.#join) });
    if (!webrtc) this.#store.resumed(); // WebTransport only: no answer comes, the units do
  }

  /** Stops a picture kept for a resume that will not happen. */
  #dropCarried(carried = this.#carried): void {
    carried?.detection?.stop();
    carried?.pc?.close();
    if (carried === this.#carried) this.#carried = null;
  }

  /** Stops the peer connection a renegotiation replaced, and its detection. */
  #retirePrevious(c: Connection): void {
    c.previous?.detection?.stop();
    c.previous?.pc?.close();
    c.previous = null;
  }

  async #readReports(c: Connection, channel: ReportChannel): Promise<void> {
    for await (const report of channel.reports()) {
      c.watch.reported(nowMs());
      this.#store.reported(report);
      (report.path === "webtransport" ? this.#wtFlow : this.#flow).report(report, nowMs());
    }
  }

  #play(c: Connection, track: MediaStreamTrack): void {
    this.#video.srcObject = new MediaStream([track]);
    void this.#video.play().catch(() => undefined);
    const flow = this.#flow;
    const store = this.#store;
    const receiver = c.pc?.getReceivers().find((r) => r.track === track);
    /** The frame's abs-capture-time, read in its frame callback: the receiver's sources hold only the newest frame. */
    const withAbsCapture = (rtp: number, p: Presentation): Presentation => ({ ...p, absCaptureMs: receiver ? absCaptureMsOf(receiver.getSynchronizationSources(), rtp) : null });
    try {
      c.detection = startDetection(this.#video, track, {
        detected(d, sentAtMs) {
          flow.detected(d, nowMs(), sentAtMs);
          store.detected(d);
        },
        link: (attached, message) => this.#linked(attached, message),
        presented: (rtp, p) => flow.presented(rtp, withAbsCapture(rtp, p), nowMs()),
        detectedAtPresentation(d, p) {
          flow.detectedAtPresentation(d, withAbsCapture(d.rtpTimestamp, p), nowMs());
          store.detected(d);
        },
        event: (message) => store.event(`detector: ${message}`),
      });
      this.#store.detecting(c.detection.path);
      if (c.attach) c.detection.attach(c.attach);
    } catch (e) {
      c.end({ kind: "page", message: errorText(e) });
    }
  }

  /**
   * Lets the detection workers of `c` send the session's coordinates on their own connection (a session without a
   * resumption token cannot be attached to: the page sends them).
   */
  #attachDetection(c: Connection, sessionId: string, token: string | undefined): void {
    if (token === undefined || !c.endpoint) return;
    c.attach = { ...c.endpoint, sessionId, token };
    c.detection?.attach(c.attach);
    c.wtPlayer?.attach(c.attach);
  }

  /** The detection worker's own connection took, or ended (the page sends the coordinates again). */
  #linked(attached: boolean, message: string): void {
    this.#store.coordinatesSender(attached ? "detection worker" : "page");
    this.#store.event(`detector: ${message}`);
  }

  #send(coordinates: Coordinates, sentByWorker: boolean): void {
    const c = this.#connection;
    if (!c?.reports) return;
    if (!sentByWorker) c.reports.send(coordinates);
    c.watch.sent();
    this.#store.sent(coordinates.path);
  }

  /** A sample of a path; the chart follows WebRTC's, or WebTransport's when WebRTC does not play. */
  #sampled(s: Sample, path?: VideoPath): void {
    this.#store.glassToGlass(s, path);
    if ((path === "webtransport") === (this.#paths?.webrtc === false)) this.#listener.onSample?.(s);
  }

  async #pollStats(c: Connection): Promise<void> {
    const pc = c.pc;
    if (!pc || this.#connection !== c) return;
    const report = await pc.getStats().catch(() => null);
    if (!report || this.#connection !== c) return;
    const inbound = summariseInbound(report.values() as Iterable<Record<string, unknown>>, this.#store.state.inbound);
    this.#receiver.add(inbound);
    this.#store.inbound(inbound);
  }

  /** Stops everything of one connection; its pending frame joins are released as they are. */
  /**
   * Whether the session may be resumed on a new connection, its picture kept: signaling went away (lost, or shut
   * down) while media's peer connection still plays, and the server gave a token.
   */
  #resumable(c: Connection, cause: EndCause | null): boolean {
    if (cause === null || this.#resume === null) return false;
    const signalingGone = cause.kind === "lost" || (cause.kind === "closed" && cause.code === CLOSE_CODES.serverShutdown);
    return signalingGone && (c.pc === null ? this.#paths?.webrtc === false : c.pc.connectionState === "connected");
  }

  /** Stops everything of one connection but, when `keepPicture`, its peer connection and detection (for the next). */
  #teardown(c: Connection, cause: EndCause | null, keepPicture = false): void {
    for (const t of c.timers) clearInterval(t);
    this.#retirePrevious(c);
    c.wtPlayer?.stop();
    if (keepPicture) this.#carried = { pc: c.pc, detection: c.detection };
    else {
      c.detection?.stop();
      c.pc?.close();
    }
    void c.control?.close();
    const reason = cause === null ? "stopped by the viewer" : cause.message;
    try {
      c.transport?.close({ closeCode: keepPicture ? CLOSE_CODES.resuming : CLOSE_CODES.normal, reason: reason.slice(0, 100) });
    } catch {
      // already closed
    }
    this.#flow.expire(Number.POSITIVE_INFINITY);
    this.#wtFlow.expire(Number.POSITIVE_INFINITY);
  }
}
