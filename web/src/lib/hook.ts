/**
 * `window.ballstream`: a stable read-only view of the session and a few actions, for e2e tests and benchmarks
 * (documented in docs/web.md). Getters read the live state, so a test can poll it.
 */
import type { ChannelInfo, SessionSettings, SessionUpdate, ErrorReport } from "@ballstream/protocol";
import type { InboundStats } from "./inbound-stats.ts";
import type { ExportedSample } from "./samples.ts";
import type { BrowserCaptureCheck, PathsInUse, ReconnectState, SessionState, SessionStatus, WtPathState } from "./session-state.ts";

/** What the hook exposes. */
export interface BallstreamHook {
  readonly status: SessionStatus;
  readonly sessionId: string | null;
  readonly error: string | null;
  readonly settings: SessionSettings | null;
  /** The channel the session watches (name, whether this page owns it, the owner token to its owner), null: private. */
  readonly channel: ChannelInfo | null;
  readonly detectionPath: string | null;
  /** Who sends the coordinates: "detection worker" (its own connection) or "page". */
  readonly coordinatesSender: string | null;
  readonly framesDetected: number;
  readonly framesSent: number;
  readonly reportsReceived: number;
  readonly lastReport: ErrorReport | null;
  /** The page's glass-to-glass figures (WebRTC): to the compositor, to the expected display, and from the browser's capture time beside ours. */
  readonly glassToGlassMs: number | null;
  readonly glassToGlassExpectedMs: number | null;
  readonly browserCapture: BrowserCaptureCheck | null;
  readonly inbound: InboundStats;
  /** The paths the session plays, and the notice when WebRTC cannot. */
  readonly paths: PathsInUse | null;
  /** The WebTransport path's figures (its streams, decoder, detections, reports). */
  readonly wt: WtPathState;
  /** Set while the page waits to reconnect (status reconnecting). */
  readonly reconnect: ReconnectState | null;
  /** How many times the session came back by itself. */
  readonly resumes: number;
  samples(): ExportedSample[];
  /** The WebTransport path's samples. */
  wtSamples(): ExportedSample[];
  control(change: SessionUpdate): Promise<void>;
  stop(): Promise<void>;
}

/** The session side the hook reads. */
export interface HookSource {
  readonly state: Readonly<SessionState>;
  samples(): ExportedSample[];
  wtSamples(): ExportedSample[];
  control(change: SessionUpdate): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the hook over a live session. */
export function createHook(source: HookSource): BallstreamHook {
  const s = source.state;
  return Object.freeze({
    get status() { return s.status; },
    get sessionId() { return s.sessionId; },
    get error() { return s.error; },
    get settings() { return s.settings; },
    get channel() { return s.channel; },
    get detectionPath() { return s.detectionPath; },
    get coordinatesSender() { return s.coordinatesSender; },
    get framesDetected() { return s.framesDetected; },
    get framesSent() { return s.framesSent; },
    get reportsReceived() { return s.reportsReceived; },
    get lastReport() { return s.lastReport; },
    get glassToGlassMs() { return s.glassToGlassMs; },
    get glassToGlassExpectedMs() { return s.glassToGlassExpectedMs; },
    get browserCapture() { return s.browserCapture; },
    get inbound() { return s.inbound; },
    get paths() { return s.paths; },
    get wt() { return s.wt; },
    get reconnect() { return s.reconnect; },
    get resumes() { return s.resumes; },
    samples: () => source.samples(),
    wtSamples: () => source.wtSamples(),
    control: (change: SessionUpdate) => source.control(change),
    stop: () => source.stop(),
  });
}
