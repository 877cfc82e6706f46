/**
 * The page session's state and the one place it changes: {@link SessionStore} turns what happened (opened,
 * streaming, a detection, a report, a failure…) into the new state and tells its listener. The session only calls
 * these; the view and the test hook only read {@link SessionStore.state}. Status moves forward only:
 * idle → connecting → streaming, and from any of those to closed or error, where it stays; the one way back is
 * reconnecting (the connection ended for a reason worth another try), from which it goes forward again.
 */
import type { ChannelInfo, SessionSettings, Coordinates, ErrorReport, VideoPath } from "@ballstream/protocol";
import { describeClose } from "./failures.ts";
import { type InboundStats, NO_INBOUND_STATS } from "./inbound-stats.ts";
import type { Sample } from "./samples.ts";

/** Lifecycle of the page's session. */
export type SessionStatus = "idle" | "connecting" | "streaming" | "reconnecting" | "closed" | "error";

/**
 * While the page waits to reconnect: which try in a row comes next, why the last try ended (`reason`), what ended
 * the connection that streamed (`since`: the same on the first try), and the wait.
 */
export interface ReconnectState {
  readonly attempt: number;
  readonly reason: string;
  readonly since: string;
  readonly delayMs: number;
}

/** How frames reach the detector: exact decoded frames in a worker, or the video element on the main thread. */
export type DetectionPath = "worker-videoframe" | "main-thread-canvas";
/** Who sends the coordinates datagrams (web/src/lib/coordinates-link.ts). */
export type CoordinatesSender = "detection worker" | "page";

/** One video path's figures: what the detector did, what went out, what came back. */
export interface PathFigures {
  framesDetected: number;
  framesSent: number;
  reportsReceived: number;
  lastReport: ErrorReport | null;
  lastDetection: Coordinates | null;
  /** Presentation (WebTransport: paint) minus capture of the newest sample whose frame's presentation is known. */
  glassToGlassMs: number | null;
  /** The browser's expected display time minus capture of the newest such sample that has one. */
  glassToGlassExpectedMs: number | null;
  /** Of the newest such sample whose capture time the browser also knows: glass-to-glass from either capture time. */
  browserCapture: BrowserCaptureCheck | null;
}

/** One frame's glass-to-glass from the browser's capture time (rVFC `captureTime` or abs-capture-time) and from ours. */
export interface BrowserCaptureCheck {
  readonly browserMs: number;
  readonly oursMs: number;
}

/** The WebTransport video path's figures, and what its decoder did. */
export interface WtPathState extends PathFigures {
  /** Units that arrived on the streams, and those the gate passed to the decoder. */
  unitsReceived: number;
  unitsDecoded: number;
  /** Frames the decoder put out (painted). */
  framesPainted: number;
  /** The decoder's codec string (`avc1.42c01f`…), once configured. */
  codec: string | null;
}

/** Which paths the session plays (after any fallback), and why WebRTC is not among them when it is not. */
export interface PathsInUse {
  webrtc: boolean;
  webtransport: boolean;
  /** Shown beside the pictures: the WebRTC path cannot play here, and what the page did instead. */
  notice: string | null;
}

/** Everything the UI and the test hook show (the top-level figures are the WebRTC path's). */
export interface SessionState extends PathFigures {
  status: SessionStatus;
  sessionId: string | null;
  error: string | null;
  closeCode: number | null;
  closeReason: string | null;
  settings: SessionSettings | null;
  /** The broadcast channel the session watches, as the server's `session` message named it (null: a private session). */
  channel: ChannelInfo | null;
  detectionPath: DetectionPath | null;
  /** Who sends the coordinates: the detection worker on its own connection, or the page (null: none sent yet). */
  coordinatesSender: CoordinatesSender | null;
  paths: PathsInUse | null;
  wt: WtPathState;
  inbound: InboundStats;
  events: string[];
  /** Set while reconnecting, null otherwise. */
  reconnect: ReconnectState | null;
  /** How many times the session came back by itself (a reconnection that streamed again, a renegotiation with another media replica). */
  resumes: number;
}

/** Events kept for the view (oldest dropped). */
export const MAX_EVENTS = 20;

const NO_FIGURES: PathFigures = {
  framesDetected: 0, framesSent: 0, reportsReceived: 0, lastReport: null, lastDetection: null, glassToGlassMs: null, glassToGlassExpectedMs: null, browserCapture: null,
};

/** How far along each status is; closed and error are both the end. */
const ORDER: Record<SessionStatus, number> = { idle: 0, connecting: 1, reconnecting: 1, streaming: 2, closed: 3, error: 3 };

/** Holds one session's state; every change goes through one of its methods, which then calls `onChange`. */
export class SessionStore {
  readonly #state: SessionState = {
    status: "idle",
    sessionId: null,
    error: null,
    closeCode: null,
    closeReason: null,
    settings: null,
    channel: null,
    detectionPath: null,
    coordinatesSender: null,
    paths: null,
    wt: { ...NO_FIGURES, unitsReceived: 0, unitsDecoded: 0, framesPainted: 0, codec: null },
    ...NO_FIGURES,
    inbound: NO_INBOUND_STATS,
    events: [],
    reconnect: null,
    resumes: 0,
  };
  readonly #onChange: () => void;

  /** `onChange`: called after every change (the view throttles what it does with it). */
  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  /** The live state (one object, changed in place; read it, never write it). */
  get state(): Readonly<SessionState> {
    return this.#state;
  }

  /** Whether the session has ended. */
  get ended(): boolean {
    return ORDER[this.#state.status] === ORDER.closed;
  }

  /** Started connecting. */
  connecting(): void {
    this.#update({}, "connecting");
  }

  /** The server opened the session (watching `channel`, if any). */
  opened(sessionId: string, settings: SessionSettings, channel: ChannelInfo | null = null): void {
    this.#update({ sessionId, settings, channel });
  }

  /** The answer is applied: the video is on its way (again, after a reconnection). */
  streaming(): void {
    if (this.#state.status === "streaming") return;
    this.#update({ reconnect: null, resumes: this.#state.resumes + (this.#state.reconnect ? 1 : 0) }, "streaming");
  }

  /** The video moved to another media replica within the same connection. */
  resumed(): void {
    this.#update({ resumes: this.#state.resumes + 1 });
  }

  /**
   * The connection ended for a reason worth another try: status reconnecting (the only step back) with why and
   * the wait, until a new connection streams.
   */
  reconnecting(reconnect: ReconnectState): void {
    if (this.ended) return;
    this.#state.status = "reconnecting";
    this.#update({ reconnect });
  }

  /** The server's effective settings after a change. */
  settingsChanged(settings: SessionSettings): void {
    this.#update({ settings });
  }

  /** An event for the view's list ("source: message"). */
  event(text: string): void {
    this.#update({ events: [...this.#state.events, text].slice(-MAX_EVENTS) });
  }

  /** How frames reach the detector. */
  detecting(detectionPath: DetectionPath): void {
    this.#update({ detectionPath });
  }

  /** Who sends the coordinates from now on. */
  coordinatesSender(sender: CoordinatesSender): void {
    this.#update({ coordinatesSender: sender });
  }

  /** The paths the session plays. */
  playing(paths: PathsInUse): void {
    this.#update({ paths });
  }

  /** The detector finished a frame (of the WebRTC path, or of `coordinates.path`). */
  detected(coordinates: Coordinates): void {
    this.#figures(coordinates.path, (f) => ({ framesDetected: f.framesDetected + 1, lastDetection: coordinates }));
  }

  /** A Coordinates datagram went out. */
  sent(path?: VideoPath): void {
    this.#figures(path, (f) => ({ framesSent: f.framesSent + 1 }));
  }

  /** An error report arrived. */
  reported(report: ErrorReport): void {
    this.#figures(report.path, (f) => ({ reportsReceived: f.reportsReceived + 1, lastReport: report }));
  }

  /**
   * A sample's glass-to-glass figures; one without a presentation (or truth) changes nothing, one without an
   * expected display or browser capture time keeps the last of those.
   */
  glassToGlass(sample: Pick<Sample, "glassToGlassMs" | "glassToGlassExpectedMs" | "glassToGlassBrowserMs">, path?: VideoPath): void {
    const { glassToGlassMs, glassToGlassExpectedMs, glassToGlassBrowserMs } = sample;
    if (glassToGlassMs === null) return;
    this.#figures(path, () => ({
      glassToGlassMs,
      ...(glassToGlassExpectedMs === null ? {} : { glassToGlassExpectedMs }),
      ...(glassToGlassBrowserMs === null ? {} : { browserCapture: { browserMs: glassToGlassBrowserMs, oursMs: glassToGlassMs } }),
    }));
  }

  /** What the WebTransport path's streams and decoder did. */
  wtVideo(change: Partial<Pick<WtPathState, "unitsReceived" | "unitsDecoded" | "framesPainted" | "codec">>): void {
    this.#update({ wt: { ...this.#state.wt, ...change } });
  }

  /** Changes the figures of one path (the top level for WebRTC, `wt` for WebTransport). */
  #figures(path: VideoPath | undefined, change: (f: PathFigures) => Partial<PathFigures>): void {
    if (path === "webtransport") this.#update({ wt: { ...this.#state.wt, ...change(this.#state.wt) } });
    else this.#update(change(this.#state));
  }

  /** The receiver's newest `getStats()` summary. */
  inbound(inbound: InboundStats): void {
    this.#update({ inbound });
  }

  /** Ends the session with `message` (status error); false if it had already ended. */
  failed(message: string): boolean {
    return this.#end({ error: message }, "error");
  }

  /** Ends the session with the transport's close code and reason (status closed; a non-zero code is an error). */
  closed(closeCode: number, closeReason: string): boolean {
    return this.#end({ closeCode, closeReason, error: closeCode === 0 ? null : describeClose(closeCode, closeReason) }, "closed");
  }

  #end(change: Partial<SessionState>, status: "closed" | "error"): boolean {
    if (this.ended) return false;
    this.#update({ ...change, reconnect: null }, status);
    return true;
  }

  /** The one place the state changes; `status` only moves forward and never leaves an end. */
  #update(change: Partial<SessionState>, status?: SessionStatus): void {
    if (this.ended) return;
    Object.assign(this.#state, change);
    if (status && ORDER[status] > ORDER[this.#state.status]) this.#state.status = status;
    this.#onChange();
  }
}
